#include "telemetry/ArtifactWriter.h"

#include "common/AtomicFile.h"
#include "telemetry/SummaryCalculator.h"
#include "telemetry/TelemetryFormat.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>

namespace gd::telemetry {

namespace {

QJsonValue isoOrNull(const QDateTime& time)
{
    const QString iso = TelemetryFormat::isoUtc(time);
    return iso.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(iso);
}

QJsonValue stringOrNull(const QString& s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

QJsonValue pathOrNull(const QString& runDir, const QString& path)
{
    return stringOrNull(TelemetryFormat::relativePath(runDir, path));
}

template <typename T> QJsonValue optionalNumber(const std::optional<T>& v)
{
    return v ? QJsonValue(static_cast<double>(*v)) : QJsonValue(QJsonValue::Null);
}

QJsonArray strings(const QStringList& list)
{
    return QJsonArray::fromStringList(list);
}

// Scene-level lists plus the kept attempt's, without repeating a message logged at both levels.
QStringList merged(const QStringList& a, const QStringList& b)
{
    QStringList out = a;
    for (const QString& s : b) {
        if (!out.contains(s))
            out.append(s);
    }
    return out;
}

QJsonObject gpuToJson(const GpuTelemetry& gpu)
{
    const std::optional<double> beforeMB = TelemetryFormat::bytesToMB(gpu.vramFreeBeforeBytes);
    const std::optional<double> afterMB = TelemetryFormat::bytesToMB(gpu.vramFreeAfterBytes);
    // The delta is taken from the rounded MB values so that the written numbers satisfy
    // VramDeltaMB = After − Before exactly (the validator allows 0.1 for legacy files).
    std::optional<double> deltaMB;
    if (beforeMB && afterMB)
        deltaMB = TelemetryFormat::round1(*afterMB - *beforeMB);
    std::optional<double> peakMB;
    if (gpu.vramPeakUsedMB)
        peakMB = TelemetryFormat::round1(*gpu.vramPeakUsedMB);
    return QJsonObject{
        {QStringLiteral("Name"), gpu.name},
        {QStringLiteral("Type"), gpu.type},
        {QStringLiteral("Index"), optionalNumber(gpu.index)},
        {QStringLiteral("VramTotal"), optionalNumber(gpu.vramTotalBytes)},
        {QStringLiteral("VramFreeBefore"), optionalNumber(gpu.vramFreeBeforeBytes)},
        {QStringLiteral("VramFreeAfter"), optionalNumber(gpu.vramFreeAfterBytes)},
        {QStringLiteral("VramBeforeMB"), optionalNumber(beforeMB)},
        {QStringLiteral("VramAfterMB"), optionalNumber(afterMB)},
        {QStringLiteral("VramDeltaMB"), optionalNumber(deltaMB)},
        {QStringLiteral("VramPeakUsedMB"), optionalNumber(peakMB)},
        {QStringLiteral("Source"), gpu.source.isEmpty() ? QStringLiteral("missing") : gpu.source},
    };
}

// What a scene that has not run yet reports: no measurements, but the knobs that will apply.
AttemptTelemetry telemetryForUnstartedScene(const QueueConfig& config)
{
    AttemptTelemetry t;
    t.maxWaitSeconds = config.historyMaxWaitSeconds;
    t.pollIntervalSeconds = config.historyPollIntervalSeconds;
    t.historyAttemptLimit = config.historyMaxAttempts;
    t.postExecutionTimeoutSeconds = config.postExecutionTimeoutSeconds;
    t.sceneRetryBudget = config.sceneRetryBudget;
    return t;
}

QJsonObject attemptSummary(const QString& runDir, const AttemptRecord& a)
{
    return QJsonObject{
        {QStringLiteral("Attempt"), a.attempt},
        {QStringLiteral("Timestamp"), isoOrNull(a.timestamp)},
        {QStringLiteral("FrameCount"), a.frameCount},
        {QStringLiteral("DurationSeconds"), TelemetryFormat::round1(a.durationSeconds)},
        {QStringLiteral("Success"), a.success},
        {QStringLiteral("MeetsFrameFloor"), a.meetsFrameFloor},
        {QStringLiteral("HistoryRetrieved"), a.historyRetrieved},
        {QStringLiteral("Warnings"), strings(a.warnings)},
        {QStringLiteral("Errors"), strings(a.errors)},
        {QStringLiteral("Status"), a.status},
        {QStringLiteral("PromptId"), a.promptId},
        {QStringLiteral("Backend"), a.backend},
        {QStringLiteral("FramePrefix"), a.framePrefix},
        {QStringLiteral("FramesDir"), pathOrNull(runDir, a.framesDir)},
        {QStringLiteral("HistoryAttempts"), a.historyAttempts},
        {QStringLiteral("Seed"), static_cast<double>(a.seed)},
    };
}

QJsonObject queueConfigToJson(const QueueConfig& c)
{
    return QJsonObject{
        {QStringLiteral("SceneRetryBudget"), c.sceneRetryBudget},
        {QStringLiteral("HistoryMaxWaitSeconds"), c.historyMaxWaitSeconds},
        {QStringLiteral("HistoryMaxAttempts"), c.historyMaxAttempts},
        {QStringLiteral("HistoryPollIntervalSeconds"), c.historyPollIntervalSeconds},
        {QStringLiteral("PostExecutionTimeoutSeconds"), c.postExecutionTimeoutSeconds},
    };
}

QJsonObject llmHealthToJson(const LlmHealthInfo& h)
{
    return QJsonObject{
        {QStringLiteral("Url"), h.url},
        {QStringLiteral("Status"), h.status},
        {QStringLiteral("Models"), h.models},
        {QStringLiteral("Skipped"), h.skipped},
        {QStringLiteral("SkipReason"), stringOrNull(h.skipReason)},
        {QStringLiteral("Override"), stringOrNull(h.overrideUrl)},
        {QStringLiteral("Error"), stringOrNull(h.error)},
        {QStringLiteral("Timestamp"), isoOrNull(h.timestamp)},
    };
}

QJsonObject storyToJson(const QString& runDir, const StoryInfo& s)
{
    return QJsonObject{
        {QStringLiteral("Id"), s.id},
        {QStringLiteral("Title"), s.title},
        {QStringLiteral("Logline"), s.logline},
        {QStringLiteral("DirectorsVision"), s.directorsVision},
        {QStringLiteral("Genre"), s.genre},
        {QStringLiteral("TemplateId"), s.templateId},
        {QStringLiteral("TemplateVersion"), s.templateVersion},
        {QStringLiteral("Generator"), s.generator},
        {QStringLiteral("File"), pathOrNull(runDir, s.file)},
        {QStringLiteral("SceneCount"), s.sceneCount},
        // A story read from a file had no LLM: null rather than an object full of blanks.
        {QStringLiteral("LLM"), s.llm.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s.llm)},
        {QStringLiteral("Warnings"), strings(s.warnings)},
        // Per scene render-prompt sizes ({SceneId, TokenCount}) when an LLM wrote the prompts.
        {QStringLiteral("Prompts"), s.prompts},
    };
}

QJsonObject summaryToJson(const RunSummaryStats& s)
{
    std::optional<double> p50;
    std::optional<double> p95;
    if (s.durationP50Seconds)
        p50 = TelemetryFormat::round1(*s.durationP50Seconds);
    if (s.durationP95Seconds)
        p95 = TelemetryFormat::round1(*s.durationP95Seconds);
    return QJsonObject{
        {QStringLiteral("ScenesSucceeded"), s.scenesSucceeded},
        {QStringLiteral("ScenesTotal"), s.scenesTotal},
        {QStringLiteral("TotalFrames"), s.totalFrames},
        {QStringLiteral("Requeues"), s.requeues},
        {QStringLiteral("ForcedCopies"), s.forcedCopies},
        {QStringLiteral("DoneMarkersDetected"), s.doneMarkersDetected},
        {QStringLiteral("DurationP50Seconds"), optionalNumber(p50)},
        {QStringLiteral("DurationP95Seconds"), optionalNumber(p95)},
    };
}

} // namespace

namespace {
// null without a marker; a detected marker with no recorded writer is the node's (the marker rule:
// no `writer` field = node), so the two fields never contradict each other.
QJsonValue doneMarkerSource(const AttemptTelemetry& t)
{
    if (!t.doneMarkerDetected)
        return QJsonValue::Null;
    return t.doneMarkerSource.isEmpty() ? QStringLiteral("node") : t.doneMarkerSource;
}
} // namespace

QJsonObject ArtifactWriter::telemetryToJson(const QString& runDir, const AttemptTelemetry& t)
{
    QJsonObject o = t.extra;
    const QJsonObject fields{
        {QStringLiteral("DurationSeconds"), TelemetryFormat::round1(t.durationSeconds)},
        // Never null (§3.3): an attempt that has not started yet writes an empty string.
        {QStringLiteral("QueueStart"), TelemetryFormat::isoUtc(t.queueStart)},
        {QStringLiteral("QueueEnd"), TelemetryFormat::isoUtc(t.queueEnd)},
        {QStringLiteral("MaxWaitSeconds"), t.maxWaitSeconds},
        {QStringLiteral("PollIntervalSeconds"), t.pollIntervalSeconds},
        {QStringLiteral("HistoryAttempts"), t.historyAttempts},
        {QStringLiteral("HistoryAttemptLimit"), t.historyAttemptLimit},
        {QStringLiteral("HistoryExitReason"), t.historyExitReason},
        {QStringLiteral("ExecutionSuccessDetected"), t.executionSuccessDetected},
        {QStringLiteral("ExecutionSuccessAt"), isoOrNull(t.executionSuccessAt)},
        {QStringLiteral("PostExecutionTimeoutSeconds"), t.postExecutionTimeoutSeconds},
        {QStringLiteral("HistoryPostExecutionTimeoutReached"), t.historyPostExecutionTimeoutReached},
        {QStringLiteral("SceneRetryBudget"), t.sceneRetryBudget},
        {QStringLiteral("CompletionSignal"), t.completionSignal},
        {QStringLiteral("DoneMarkerDetected"), t.doneMarkerDetected},
        {QStringLiteral("DoneMarkerWaitSeconds"), TelemetryFormat::round1(t.doneMarkerWaitSeconds)},
        {QStringLiteral("DoneMarkerPath"), pathOrNull(runDir, t.doneMarkerPath)},
        {QStringLiteral("DoneMarkerSource"), doneMarkerSource(t)},
        {QStringLiteral("ForcedCopyTriggered"), t.forcedCopyTriggered},
        {QStringLiteral("ForcedCopyDebugPath"), pathOrNull(runDir, t.forcedCopyDebugPath)},
        {QStringLiteral("GPU"), gpuToJson(t.gpu)},
        {QStringLiteral("System"),
         QJsonObject{
             {QStringLiteral("Before"),
              t.systemBefore.isObject() ? t.systemBefore : QJsonValue(QJsonValue::Null)},
             {QStringLiteral("After"),
              t.systemAfter.isObject() ? t.systemAfter : QJsonValue(QJsonValue::Null)},
             {QStringLiteral("FallbackNotes"), strings(t.fallbackNotes)},
         }},
    };
    for (auto it = fields.begin(); it != fields.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

QJsonObject ArtifactWriter::sceneToJson(const RunRecord& run, const SceneRecord& scene)
{
    const AttemptRecord* kept = scene.kept();
    const AttemptRecord none;
    const AttemptRecord& a = kept ? *kept : none;
    const AttemptTelemetry t = kept ? kept->telemetry : telemetryForUnstartedScene(run.queueConfig);

    QJsonArray summaries;
    for (const AttemptRecord& attempt : scene.attempts)
        summaries.append(attemptSummary(run.runDir, attempt));

    // Extras first, so that a contract key can never be overwritten by an addition.
    QJsonObject o = scene.extra;
    const QJsonObject fields{
        {QStringLiteral("SceneId"), scene.sceneId},
        {QStringLiteral("Title"), scene.title},
        {QStringLiteral("Prompt"), scene.prompt},
        {QStringLiteral("NegativePrompt"), scene.negativePrompt},
        {QStringLiteral("FrameFloor"), scene.frameFloor},
        {QStringLiteral("FrameCount"), kept ? a.frameCount : 0},
        {QStringLiteral("DurationSeconds"), TelemetryFormat::round1(a.durationSeconds)},
        {QStringLiteral("FramePrefix"), a.framePrefix},
        {QStringLiteral("Success"), kept ? a.frameCount > 0 : false},
        {QStringLiteral("MeetsFrameFloor"), kept ? a.meetsFrameFloor : false},
        {QStringLiteral("HistoryRetrieved"), a.historyRetrieved},
        {QStringLiteral("HistoryAttempts"), a.historyAttempts},
        {QStringLiteral("HistoryErrors"), strings(a.historyErrors)},
        {QStringLiteral("Warnings"), strings(merged(scene.warnings, a.warnings))},
        {QStringLiteral("Errors"), strings(merged(scene.errors, a.errors))},
        {QStringLiteral("AttemptsRun"), static_cast<int>(scene.attempts.size())},
        {QStringLiteral("Requeued"), scene.requeued || scene.attempts.size() > 1},
        {QStringLiteral("AttemptSummaries"), summaries},
        {QStringLiteral("GeneratedFramesDir"), pathOrNull(run.runDir, a.framesDir)},
        {QStringLiteral("HistoryPath"), pathOrNull(run.runDir, scene.historyPath)},
        {QStringLiteral("SceneRetryBudget"), t.sceneRetryBudget},
        {QStringLiteral("HistoryAttemptLimit"), t.historyAttemptLimit},
        {QStringLiteral("HistoryConfig"),
         QJsonObject{
             {QStringLiteral("MaxWaitSeconds"), t.maxWaitSeconds},
             {QStringLiteral("MaxAttempts"), t.historyAttemptLimit},
             {QStringLiteral("PollIntervalSeconds"), t.pollIntervalSeconds},
             {QStringLiteral("PostExecutionTimeoutSeconds"), t.postExecutionTimeoutSeconds},
         }},
        {QStringLiteral("Backend"), a.backend},
        {QStringLiteral("PromptId"), a.promptId},
        {QStringLiteral("Telemetry"), telemetryToJson(run.runDir, t)},
        {QStringLiteral("Status"), scene.status},
        {QStringLiteral("Workflow"), scene.workflow},
        {QStringLiteral("Seed"), static_cast<double>(a.seed)},
        {QStringLiteral("VideoFile"), pathOrNull(run.runDir, a.videoFile)},
    };
    for (auto it = fields.begin(); it != fields.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

QJsonObject ArtifactWriter::toJson(const RunRecord& run)
{
    QJsonArray scenes;
    for (const SceneRecord& scene : run.scenes)
        scenes.append(sceneToJson(run, scene));

    QJsonObject o = run.extra;
    const QJsonObject fields{
        {QStringLiteral("RunId"), run.runId},
        {QStringLiteral("Timestamp"), isoOrNull(run.timestamp)},
        {QStringLiteral("RunDir"), QDir::fromNativeSeparators(run.runDir)},
        {QStringLiteral("AppVersion"), run.appVersion},
        {QStringLiteral("QueueConfig"), queueConfigToJson(run.queueConfig)},
        {QStringLiteral("LLMHealthInfo"), llmHealthToJson(run.llmHealth)},
        {QStringLiteral("Story"), storyToJson(run.runDir, run.story)},
        {QStringLiteral("Scenes"), scenes},
        {QStringLiteral("QualityMetrics"), run.qualityMetrics},
        {QStringLiteral("Feedback"), run.feedback},
        {QStringLiteral("Summary"), summaryToJson(SummaryCalculator::compute(run))},
        {QStringLiteral("Warnings"), strings(run.warnings)},
        {QStringLiteral("Workflow"), run.workflow},
        {QStringLiteral("Backends"), strings(run.backends)},
    };
    for (auto it = fields.begin(); it != fields.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

Error ArtifactWriter::write(const RunRecord& run)
{
    if (run.runDir.isEmpty())
        return {QStringLiteral("io"),
                QStringLiteral("Cannot write %1: the run has no directory").arg(fileName()),
                {}};
    const QByteArray bytes = QJsonDocument(toJson(run)).toJson(QJsonDocument::Indented);
    return AtomicFile::write(QDir(run.runDir).filePath(fileName()), bytes);
}

} // namespace gd::telemetry
