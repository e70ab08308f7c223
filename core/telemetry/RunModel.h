#pragma once

// The in-memory shape of one run, as the pipeline records it and the telemetry writers serialise
// it (spec/telemetry-contract.md §3). Plain values only: no Qt objects, cheap to copy between
// threads. Optional numbers are std::optional so "unavailable" is written as null, never as 0.

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::telemetry {

// Contract §2.1 knobs that appear in QueueConfig / HistoryConfig / the Queue policy line.
struct QueueConfig
{
    int sceneRetryBudget = 1;
    double historyMaxWaitSeconds = 600;
    int historyMaxAttempts = 0; // 0 = unbounded
    double historyPollIntervalSeconds = 2;
    double postExecutionTimeoutSeconds = 30;
};

// §3.3 GPU object. Byte values are as measured; MB values are derived (free MB, 1 dp).
struct GpuTelemetry
{
    QString name;
    QString type;
    std::optional<int> index;
    std::optional<qint64> vramTotalBytes;
    std::optional<qint64> vramFreeBeforeBytes;
    std::optional<qint64> vramFreeAfterBytes;
    std::optional<double> vramPeakUsedMB;
    QString source = QStringLiteral("missing"); // nvml | nvidia-smi | system_stats | missing
};

// §3.3 telemetry of one attempt.
struct AttemptTelemetry
{
    QDateTime queueStart;
    QDateTime queueEnd;
    double durationSeconds = 0;
    double maxWaitSeconds = 0;
    double pollIntervalSeconds = 0;
    int historyAttempts = 0;
    int historyAttemptLimit = 0;
    QString historyExitReason =
        QStringLiteral("unknown"); // success|maxWait|attemptLimit|postExecution|unknown
    bool executionSuccessDetected = false;
    QDateTime executionSuccessAt; // invalid = null
    double postExecutionTimeoutSeconds = 0;
    bool historyPostExecutionTimeoutReached = false;
    int sceneRetryBudget = 0;
    QString completionSignal = QStringLiteral("none"); // websocket | history | none
    bool doneMarkerDetected = false;
    double doneMarkerWaitSeconds = 0;
    QString doneMarkerPath; // empty = null
    // Who wrote the detected marker: "node" (GemDirectSaveFrames, or a marker without a `writer`
    // field) or "sentinel" (`gemdirect sentinel`); empty = null (no marker). An addition.
    QString doneMarkerSource;
    bool forcedCopyTriggered = false;
    QString forcedCopyDebugPath; // empty = null; relative to the run directory
    GpuTelemetry gpu;
    QJsonValue systemBefore = QJsonValue::Null; // the `system` block of /system_stats, or null
    QJsonValue systemAfter = QJsonValue::Null;
    QStringList fallbackNotes;
    // Additional fields merged into the Telemetry object (e.g. VramGate from the backend pool).
    QJsonObject extra;
};

// One attempt of one scene (AttemptSummaries[] entry plus what the scene needs when it is kept).
struct AttemptRecord
{
    int attempt = 1;
    QDateTime timestamp;
    QString status; // succeeded | failed | cancelled | running
    int frameCount = 0;
    double durationSeconds = 0;
    bool success = false; // frames > 0
    bool meetsFrameFloor = false;
    bool historyRetrieved = false;
    int historyAttempts = 0;
    QStringList historyErrors;
    QStringList warnings;
    QStringList errors;
    QString framePrefix; // filename prefix sent to ComfyUI
    QString framesDir;   // relative to the run dir, e.g. scene-001/attempt-1
    QStringList frames;  // file names inside framesDir, in order
    QString videoFile;   // relative path when the profile's output is a video
    QString promptId;
    QString backend; // ComfyUI server URL
    qint64 seed = 0;
    QJsonObject historyEntry;                     // the /history entry (not serialised into the artifact)
    std::optional<double> serverExecutionSeconds; // execution_start → execution_success on the server
    AttemptTelemetry telemetry;
};

struct SceneRecord
{
    QString sceneId;
    QString title;
    QString prompt;
    QString negativePrompt;
    QString workflow;
    int frameFloor = 25;
    QString status = QStringLiteral("queued"); // queued|running|succeeded|failed|cancelled
    QVector<AttemptRecord> attempts;
    int keptAttempt = -1; // index into attempts of the best attempt, -1 = none yet
    bool requeued = false;
    QStringList warnings; // scene-level (besides the kept attempt's)
    QStringList errors;
    QString historyPath; // relative, when history.json was written
    QJsonObject extra;   // additional per-scene fields (e.g. QualityMetrics later)

    const AttemptRecord* kept() const
    {
        return keptAttempt >= 0 && keptAttempt < attempts.size() ? &attempts[keptAttempt] : nullptr;
    }
};

struct LlmHealthInfo
{
    QString url;
    QString status = QStringLiteral("skipped"); // success | failed | skipped
    int models = 0;
    bool skipped = true;
    QString skipReason;
    QString overrideUrl; // empty = default
    QString error;
    QDateTime timestamp;
};

struct StoryInfo
{
    QString id;
    QString title;
    QString logline;
    QString directorsVision;
    QString genre;
    QString templateId;
    QString templateVersion;
    QString generator = QStringLiteral("file"); // file | local-llm
    QString file = QStringLiteral("story/story.json");
    int sceneCount = 0;
    QJsonObject llm; // Story.LLM, when an LLM wrote the story
    QJsonArray prompts; // Story.Prompts[]: {SceneId, TokenCount}
    QStringList warnings;
};

struct RunRecord
{
    QString runId;
    QDateTime timestamp; // run start, UTC
    QString runDir;      // absolute
    QString appVersion;
    QueueConfig queueConfig;
    LlmHealthInfo llmHealth;
    StoryInfo story;
    QVector<SceneRecord> scenes;
    QJsonObject qualityMetrics;
    QJsonArray feedback;
    QStringList warnings; // run-level warnings (e.g. marker node not installed)
    QString workflow;
    QStringList backends;
    // Additional top-level fields (e.g. BackendPool, VramHygiene).
    QJsonObject extra;
};

// Contract §3.1 Summary block.
struct RunSummaryStats
{
    int scenesSucceeded = 0;
    int scenesTotal = 0;
    int totalFrames = 0;
    int requeues = 0;
    int forcedCopies = 0;
    int doneMarkersDetected = 0;
    std::optional<double> durationP50Seconds;
    std::optional<double> durationP95Seconds;
};

} // namespace gd::telemetry
