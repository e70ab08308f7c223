#pragma once

#include "telemetry/RunDigest.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::quality {

// Pipeline reliability figures (telemetry-contract.md §6) over a set of scenes.
struct PipelineFigures
{
    int scenes = 0;    // scenes in the input
    int scenesRun = 0; // scenes with at least one attempt (AttemptsRun > 0): the rates' denominator
    int doneMarkers = 0;
    int forcedCopies = 0;
    int zeroFrameScenes = 0;
    int executionSuccesses = 0;
    std::optional<double> doneMarkerRate;
    std::optional<double> forcedCopyRate;
    std::optional<double> zeroFrameRate;
    std::optional<double> executionSuccessRate;
    std::optional<double> durationP50Seconds; // nearest rank over Telemetry.DurationSeconds
    std::optional<double> durationP95Seconds;
    std::optional<double> vramDeltaAbsMaxMB;  // over non-null |Telemetry.GPU.VramDeltaMB|
    std::optional<double> vramDeltaAbsP95MB;
    std::optional<double> vramPeakUsedMaxMB;  // max Telemetry.GPU.VramPeakUsedMB
    int telemetryFieldsPresent = 0;
    int telemetryFieldsExpected = 0;
    std::optional<double> telemetryCompleteness; // present / expected over every scene of the input
    QStringList missingTelemetryFields;          // "<SceneId>: <field>" (first 50)
    QStringList zeroFrameSceneIds;
    QStringList noMarkerSceneIds;
    QStringList forcedCopySceneIds;
    QStringList failedExecutionSceneIds;
};

// Computes the pipeline KPIs' inputs from the artifact's Scenes[*] (kept-attempt telemetry). Used
// for one run (QualityCalculator) and over the scenes of many runs (KpiEvaluator), so both agree.
class PipelineStats
{
public:
    // The §3.3 fields counted by telemetry completeness: Telemetry's own keys, then GPU.<key>,
    // then System.<key>. A field counts as present when its key exists and it is not null, or
    // when it is null and the contract allows null there (ExecutionSuccessAt, DoneMarkerPath,
    // ForcedCopyDebugPath, GPU numbers — "unavailable" — and System.Before/After).
    static const QStringList& contractFields(); // = telemetry::RunDigest::contractFields()
    // `labels`: an id per scene for the lists (e.g. "scene-002" or "<RunId>/scene-002"); when
    // shorter than scenes, the scene's SceneId is used.
    static PipelineFigures compute(const QVector<QJsonObject>& scenes, const QStringList& labels = {});
    // The same from digested scenes (the field checks were made when the scene was digested).
    static PipelineFigures compute(const QVector<telemetry::SceneDigest>& scenes, const QStringList& labels = {});
};

} // namespace gd::quality
