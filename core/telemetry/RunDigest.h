#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::telemetry {

// One element of an artifact's Scenes[], reduced to what the sweep report and the KPI pass read.
// Each field keeps the reading those passes always made of the JSON (a number that is not a whole
// number reads as 0, FrameFloor defaults to 25, a missing bool is false), so that computing from
// a digest gives the same figures as computing from the artifact.
struct SceneDigest
{
    QString sceneId;
    bool isObject = true; // false for a Scenes[] entry that is not an object (counted, never read)
    int frameCount = 0;
    int frameFloor = 25;
    int attemptsRun = 0;
    bool requeued = false;
    // Kept-attempt Telemetry (telemetry-contract.md §3.3)
    bool doneMarkerDetected = false;
    bool forcedCopyTriggered = false;
    bool executionSuccessDetected = false;
    std::optional<double> durationSeconds; // Telemetry.DurationSeconds when it is a number
    std::optional<double> vramDeltaMB;     // Telemetry.GPU.VramDeltaMB when it is a number
    std::optional<double> vramPeakUsedMB;  // Telemetry.GPU.VramPeakUsedMB when it is a number
    QStringList fallbackNotes;             // Telemetry.System.FallbackNotes
    QStringList missingTelemetryFields;    // RunDigest::contractFields() the telemetry lacks
    // Scene QualityMetrics (quality-kpis.md)
    std::optional<double> entityLinkageScore;
    std::optional<double> promptTokenCount;
    std::optional<double> promptAlignmentJudgeMean; // PromptAlignmentJudge.Mean
    std::optional<double> blankFrameRatio;
    // Storyboard metrics of the scene's shots (docs/QUALITY_METRICS.md)
    std::optional<double> keyframeAlignmentJudgeMin; // KeyframeAlignmentJudgeMin
    std::optional<double> characterIdentityMean;     // CharacterIdentityMean
    std::optional<double> characterCountMatch;       // CharacterCountMatch
    int framesChecked = 0;
    int blankFrames = 0;

    bool operator==(const SceneDigest&) const = default;
};

// What the sweep report (contract §6) and the KPI pass (quality-kpis.md) need of one run, taken
// from its artifact-metadata.json. The history database stores it per run when the run is
// recorded, so a sweep over a thousand runs reads a few kilobytes per run instead of parsing every
// artifact; the run directory stays the source of truth it is rebuilt from.
class RunDigest
{
public:
    // Bumped whenever a field is added or its reading changes: stored digests of another version
    // are rebuilt from their run directories.
    static constexpr int kVersion = 2; // 2: storyboard metrics

    // The §3.3 fields counted by telemetry completeness: Telemetry's own keys, then GPU.<key>,
    // then System.<key>. A field counts as present when its key exists and it is not null, or
    // when it is null and the contract allows null there (ExecutionSuccessAt, DoneMarkerPath,
    // ForcedCopyDebugPath, GPU numbers — "unavailable" — and System.Before/After).
    static const QStringList& contractFields();

    static RunDigest fromArtifact(const QJsonObject& artifact);
    // One element of Scenes[] (the kept attempt's Telemetry and the scene's QualityMetrics).
    static SceneDigest sceneOf(const QJsonValue& scene);
    // Compact JSON for the database; fromJson() reads it back exactly. fromJson returns
    // std::nullopt for an object that is not a digest of kVersion.
    QJsonObject toJson() const;
    static std::optional<RunDigest> fromJson(const QJsonObject& json);

    QJsonValue runId;     // as the artifact wrote them (a string in every recorded run)
    QJsonValue timestamp;
    QVector<SceneDigest> scenes;
    // Run QualityMetrics
    std::optional<double> entityLinkageScore;
    std::optional<double> coherenceJudgeScore;
    std::optional<double> humanCoherenceScore;
    std::optional<double> sceneDiversityEntropy;
    std::optional<double> sceneDiversityMaxPossible;
    std::optional<double> sceneDiversityNormalized;
    std::optional<double> sceneDiversityMaxRepetitionRatio;
    std::optional<double> llmGenerationSeconds;
    std::optional<double> promptAlignmentJudgeMean;
    std::optional<double> semanticAlignmentMargin;
    std::optional<double> semanticAlignmentRetrievalTop1;
    std::optional<double> semanticAlignmentMean;
    std::optional<double> keyframeAlignmentJudgeMean;
    std::optional<double> characterIdentityMean;
    std::optional<double> characterCountMatch;
    std::optional<double> samenessFlaggedPairs;
    std::optional<double> samenessPairsJudged;
    QStringList samenessFlagged; // QualityMetrics.SamenessFlagged[], "<shot key> ~ <shot key>"
    bool promptTruncated = false;
    std::optional<bool> plannerFirstTryValid;
    bool plannerValidAfterRetry = false;
    QString llmModel;
    QStringList unmeasured; // QualityMetrics.Unmeasured[], "<Metric>: <reason>"

    bool operator==(const RunDigest&) const = default;
};

} // namespace gd::telemetry
