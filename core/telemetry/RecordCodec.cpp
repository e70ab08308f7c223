#include "telemetry/RecordCodec.h"

#include "telemetry/ArtifactWriter.h"
#include "telemetry/TelemetryFormat.h"

#include <QJsonArray>
#include <QSet>

namespace gd::telemetry {

namespace {

QStringList stringsOf(const QJsonValue& v)
{
    QStringList out;
    for (const QJsonValue s : v.toArray())
        if (s.isString())
            out << s.toString();
    return out;
}

QString stringOf(const QJsonValue& v)
{
    return v.isString() ? v.toString() : QString();
}

QDateTime timeOf(const QJsonValue& v)
{
    return v.isString() ? TelemetryFormat::parseIso(v.toString()) : QDateTime();
}

std::optional<qint64> bytesOf(const QJsonValue& v)
{
    if (!v.isDouble())
        return std::nullopt;
    return static_cast<qint64>(v.toDouble());
}

std::optional<double> numberOf(const QJsonValue& v)
{
    if (!v.isDouble())
        return std::nullopt;
    return v.toDouble();
}

GpuTelemetry gpuFromJson(const QJsonObject& o)
{
    GpuTelemetry g;
    g.name = stringOf(o.value(QStringLiteral("Name")));
    g.type = stringOf(o.value(QStringLiteral("Type")));
    if (o.value(QStringLiteral("Index")).isDouble())
        g.index = o.value(QStringLiteral("Index")).toInt();
    g.vramTotalBytes = bytesOf(o.value(QStringLiteral("VramTotal")));
    g.vramFreeBeforeBytes = bytesOf(o.value(QStringLiteral("VramFreeBefore")));
    g.vramFreeAfterBytes = bytesOf(o.value(QStringLiteral("VramFreeAfter")));
    g.vramPeakUsedMB = numberOf(o.value(QStringLiteral("VramPeakUsedMB")));
    const QString source = stringOf(o.value(QStringLiteral("Source")));
    g.source = source.isEmpty() ? QStringLiteral("missing") : source;
    return g;
}

QueueConfig queueConfigFromJson(const QJsonObject& o)
{
    QueueConfig c;
    c.sceneRetryBudget = o.value(QStringLiteral("SceneRetryBudget")).toInt(c.sceneRetryBudget);
    c.historyMaxWaitSeconds =
        o.value(QStringLiteral("HistoryMaxWaitSeconds")).toDouble(c.historyMaxWaitSeconds);
    c.historyMaxAttempts = o.value(QStringLiteral("HistoryMaxAttempts")).toInt(c.historyMaxAttempts);
    c.historyPollIntervalSeconds =
        o.value(QStringLiteral("HistoryPollIntervalSeconds")).toDouble(c.historyPollIntervalSeconds);
    c.postExecutionTimeoutSeconds =
        o.value(QStringLiteral("PostExecutionTimeoutSeconds")).toDouble(c.postExecutionTimeoutSeconds);
    return c;
}

} // namespace

QJsonObject RecordCodec::attemptToJson(const QString& runDir, const AttemptRecord& a)
{
    return QJsonObject{
        {QStringLiteral("Attempt"), a.attempt},
        {QStringLiteral("Timestamp"), TelemetryFormat::isoUtc(a.timestamp)},
        {QStringLiteral("Status"), a.status},
        {QStringLiteral("FrameCount"), a.frameCount},
        {QStringLiteral("DurationSeconds"), a.durationSeconds},
        {QStringLiteral("Success"), a.success},
        {QStringLiteral("MeetsFrameFloor"), a.meetsFrameFloor},
        {QStringLiteral("HistoryRetrieved"), a.historyRetrieved},
        {QStringLiteral("HistoryAttempts"), a.historyAttempts},
        {QStringLiteral("HistoryErrors"), QJsonArray::fromStringList(a.historyErrors)},
        {QStringLiteral("Warnings"), QJsonArray::fromStringList(a.warnings)},
        {QStringLiteral("Errors"), QJsonArray::fromStringList(a.errors)},
        {QStringLiteral("FramePrefix"), a.framePrefix},
        {QStringLiteral("FramesDir"), a.framesDir},
        {QStringLiteral("Frames"), QJsonArray::fromStringList(a.frames)},
        {QStringLiteral("VideoFile"), a.videoFile},
        {QStringLiteral("PromptId"), a.promptId},
        {QStringLiteral("Backend"), a.backend},
        // Seeds stay below 2^53 (comfyui-api.md §1), so a double carries them exactly.
        {QStringLiteral("Seed"), static_cast<double>(a.seed)},
        {QStringLiteral("ServerExecutionSeconds"),
         a.serverExecutionSeconds ? QJsonValue(*a.serverExecutionSeconds) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("Telemetry"), ArtifactWriter::telemetryToJson(runDir, a.telemetry)},
    };
}

AttemptRecord RecordCodec::attemptFromJson(const QJsonObject& o)
{
    AttemptRecord a;
    a.attempt = o.value(QStringLiteral("Attempt")).toInt(1);
    a.timestamp = timeOf(o.value(QStringLiteral("Timestamp")));
    a.status = stringOf(o.value(QStringLiteral("Status")));
    a.frameCount = o.value(QStringLiteral("FrameCount")).toInt();
    a.durationSeconds = o.value(QStringLiteral("DurationSeconds")).toDouble();
    a.success = o.value(QStringLiteral("Success")).toBool();
    a.meetsFrameFloor = o.value(QStringLiteral("MeetsFrameFloor")).toBool();
    a.historyRetrieved = o.value(QStringLiteral("HistoryRetrieved")).toBool();
    a.historyAttempts = o.value(QStringLiteral("HistoryAttempts")).toInt();
    a.historyErrors = stringsOf(o.value(QStringLiteral("HistoryErrors")));
    a.warnings = stringsOf(o.value(QStringLiteral("Warnings")));
    a.errors = stringsOf(o.value(QStringLiteral("Errors")));
    a.framePrefix = stringOf(o.value(QStringLiteral("FramePrefix")));
    a.framesDir = stringOf(o.value(QStringLiteral("FramesDir")));
    a.frames = stringsOf(o.value(QStringLiteral("Frames")));
    a.videoFile = stringOf(o.value(QStringLiteral("VideoFile")));
    a.promptId = stringOf(o.value(QStringLiteral("PromptId")));
    a.backend = stringOf(o.value(QStringLiteral("Backend")));
    a.seed = static_cast<qint64>(o.value(QStringLiteral("Seed")).toDouble());
    a.serverExecutionSeconds = numberOf(o.value(QStringLiteral("ServerExecutionSeconds")));
    a.telemetry = telemetryFromJson(o.value(QStringLiteral("Telemetry")).toObject());
    return a;
}

AttemptTelemetry RecordCodec::telemetryFromJson(const QJsonObject& o)
{
    static const QSet<QString> known{QStringLiteral("DurationSeconds"),
                                     QStringLiteral("QueueStart"),
                                     QStringLiteral("QueueEnd"),
                                     QStringLiteral("MaxWaitSeconds"),
                                     QStringLiteral("PollIntervalSeconds"),
                                     QStringLiteral("HistoryAttempts"),
                                     QStringLiteral("HistoryAttemptLimit"),
                                     QStringLiteral("HistoryExitReason"),
                                     QStringLiteral("ExecutionSuccessDetected"),
                                     QStringLiteral("ExecutionSuccessAt"),
                                     QStringLiteral("PostExecutionTimeoutSeconds"),
                                     QStringLiteral("HistoryPostExecutionTimeoutReached"),
                                     QStringLiteral("SceneRetryBudget"),
                                     QStringLiteral("CompletionSignal"),
                                     QStringLiteral("DoneMarkerDetected"),
                                     QStringLiteral("DoneMarkerWaitSeconds"),
                                     QStringLiteral("DoneMarkerPath"),
                                     QStringLiteral("DoneMarkerSource"),
                                     QStringLiteral("ForcedCopyTriggered"),
                                     QStringLiteral("ForcedCopyDebugPath"),
                                     QStringLiteral("GPU"),
                                     QStringLiteral("System")};
    AttemptTelemetry t;
    t.durationSeconds = o.value(QStringLiteral("DurationSeconds")).toDouble();
    t.queueStart = timeOf(o.value(QStringLiteral("QueueStart")));
    t.queueEnd = timeOf(o.value(QStringLiteral("QueueEnd")));
    t.maxWaitSeconds = o.value(QStringLiteral("MaxWaitSeconds")).toDouble();
    t.pollIntervalSeconds = o.value(QStringLiteral("PollIntervalSeconds")).toDouble();
    t.historyAttempts = o.value(QStringLiteral("HistoryAttempts")).toInt();
    t.historyAttemptLimit = o.value(QStringLiteral("HistoryAttemptLimit")).toInt();
    const QString reason = stringOf(o.value(QStringLiteral("HistoryExitReason")));
    t.historyExitReason = reason.isEmpty() ? QStringLiteral("unknown") : reason;
    t.executionSuccessDetected = o.value(QStringLiteral("ExecutionSuccessDetected")).toBool();
    t.executionSuccessAt = timeOf(o.value(QStringLiteral("ExecutionSuccessAt")));
    t.postExecutionTimeoutSeconds = o.value(QStringLiteral("PostExecutionTimeoutSeconds")).toDouble();
    t.historyPostExecutionTimeoutReached =
        o.value(QStringLiteral("HistoryPostExecutionTimeoutReached")).toBool();
    t.sceneRetryBudget = o.value(QStringLiteral("SceneRetryBudget")).toInt();
    const QString signal = stringOf(o.value(QStringLiteral("CompletionSignal")));
    t.completionSignal = signal.isEmpty() ? QStringLiteral("none") : signal;
    t.doneMarkerDetected = o.value(QStringLiteral("DoneMarkerDetected")).toBool();
    t.doneMarkerWaitSeconds = o.value(QStringLiteral("DoneMarkerWaitSeconds")).toDouble();
    t.doneMarkerPath = stringOf(o.value(QStringLiteral("DoneMarkerPath")));
    t.doneMarkerSource = stringOf(o.value(QStringLiteral("DoneMarkerSource")));
    t.forcedCopyTriggered = o.value(QStringLiteral("ForcedCopyTriggered")).toBool();
    t.forcedCopyDebugPath = stringOf(o.value(QStringLiteral("ForcedCopyDebugPath")));
    t.gpu = gpuFromJson(o.value(QStringLiteral("GPU")).toObject());
    const QJsonObject system = o.value(QStringLiteral("System")).toObject();
    t.systemBefore = system.value(QStringLiteral("Before")).isObject()
                         ? system.value(QStringLiteral("Before"))
                         : QJsonValue(QJsonValue::Null);
    t.systemAfter = system.value(QStringLiteral("After")).isObject() ? system.value(QStringLiteral("After"))
                                                                     : QJsonValue(QJsonValue::Null);
    t.fallbackNotes = stringsOf(system.value(QStringLiteral("FallbackNotes")));
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!known.contains(it.key()))
            t.extra.insert(it.key(), it.value());
    return t;
}

RunRecord RecordCodec::runHeaderFromJson(const QJsonObject& o)
{
    static const QSet<QString> known{
        QStringLiteral("RunId"),      QStringLiteral("Timestamp"),   QStringLiteral("RunDir"),
        QStringLiteral("AppVersion"), QStringLiteral("QueueConfig"), QStringLiteral("LLMHealthInfo"),
        QStringLiteral("Story"),      QStringLiteral("Scenes"),      QStringLiteral("QualityMetrics"),
        QStringLiteral("Feedback"),   QStringLiteral("Summary"),     QStringLiteral("Warnings"),
        QStringLiteral("Workflow"),   QStringLiteral("Backends")};
    RunRecord r;
    r.runId = stringOf(o.value(QStringLiteral("RunId")));
    r.timestamp = timeOf(o.value(QStringLiteral("Timestamp")));
    r.runDir = stringOf(o.value(QStringLiteral("RunDir")));
    r.appVersion = stringOf(o.value(QStringLiteral("AppVersion")));
    r.queueConfig = queueConfigFromJson(o.value(QStringLiteral("QueueConfig")).toObject());

    const QJsonObject h = o.value(QStringLiteral("LLMHealthInfo")).toObject();
    r.llmHealth.url = stringOf(h.value(QStringLiteral("Url")));
    const QString status = stringOf(h.value(QStringLiteral("Status")));
    r.llmHealth.status = status.isEmpty() ? QStringLiteral("skipped") : status;
    r.llmHealth.models = h.value(QStringLiteral("Models")).toInt();
    r.llmHealth.skipped =
        h.value(QStringLiteral("Skipped")).toBool(r.llmHealth.status == QLatin1String("skipped"));
    r.llmHealth.skipReason = stringOf(h.value(QStringLiteral("SkipReason")));
    r.llmHealth.overrideUrl = stringOf(h.value(QStringLiteral("Override")));
    r.llmHealth.error = stringOf(h.value(QStringLiteral("Error")));
    r.llmHealth.timestamp = timeOf(h.value(QStringLiteral("Timestamp")));

    const QJsonObject s = o.value(QStringLiteral("Story")).toObject();
    r.story.id = stringOf(s.value(QStringLiteral("Id")));
    r.story.title = stringOf(s.value(QStringLiteral("Title")));
    r.story.logline = stringOf(s.value(QStringLiteral("Logline")));
    r.story.directorsVision = stringOf(s.value(QStringLiteral("DirectorsVision")));
    r.story.genre = stringOf(s.value(QStringLiteral("Genre")));
    r.story.templateId = stringOf(s.value(QStringLiteral("TemplateId")));
    r.story.templateVersion = stringOf(s.value(QStringLiteral("TemplateVersion")));
    const QString generator = stringOf(s.value(QStringLiteral("Generator")));
    r.story.generator = generator.isEmpty() ? QStringLiteral("file") : generator;
    const QString file = stringOf(s.value(QStringLiteral("File")));
    r.story.file = file.isEmpty() ? QStringLiteral("story/story.json") : file;
    r.story.sceneCount = s.value(QStringLiteral("SceneCount")).toInt();
    r.story.llm = s.value(QStringLiteral("LLM")).toObject();
    r.story.prompts = s.value(QStringLiteral("Prompts")).toArray();
    r.story.warnings = stringsOf(s.value(QStringLiteral("Warnings")));

    r.qualityMetrics = o.value(QStringLiteral("QualityMetrics")).toObject();
    r.feedback = o.value(QStringLiteral("Feedback")).toArray();
    r.warnings = stringsOf(o.value(QStringLiteral("Warnings")));
    r.workflow = stringOf(o.value(QStringLiteral("Workflow")));
    r.backends = stringsOf(o.value(QStringLiteral("Backends")));
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!known.contains(it.key()))
            r.extra.insert(it.key(), it.value());
    return r;
}

} // namespace gd::telemetry
