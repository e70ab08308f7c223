#pragma once

// A complete three-scene run for the telemetry tests, and a run-summary.txt written the way the
// pipeline writes it, so that the validator has a known-valid run to mutate.

#include "telemetry/ArtifactWriter.h"
#include "telemetry/RunModel.h"
#include "telemetry/RunSummaryLog.h"
#include "telemetry/SummaryCalculator.h"

#include <QDir>
#include <QTimeZone>

namespace sample {

using namespace gd::telemetry;

inline QDateTime utc(const char* iso)
{
    QDateTime t = QDateTime::fromString(QString::fromLatin1(iso), Qt::ISODateWithMs);
    return t.toUTC();
}

inline const QString kForcedNote =
    QStringLiteral("Forced copy after stability retries; see scene-002/forced-copy-debug-20251112120105.txt");
inline const QString kGpuNote =
    QStringLiteral("/system_stats unavailable before execution; used nvidia-smi fallback");
inline const QString kMarkerNote =
    QStringLiteral("Done marker not found after 60 seconds (waited 60.2 seconds)");

inline AttemptTelemetry knobs(const QueueConfig& c)
{
    AttemptTelemetry t;
    t.maxWaitSeconds = c.historyMaxWaitSeconds;
    t.pollIntervalSeconds = c.historyPollIntervalSeconds;
    t.historyAttemptLimit = c.historyMaxAttempts;
    t.postExecutionTimeoutSeconds = c.postExecutionTimeoutSeconds;
    t.sceneRetryBudget = c.sceneRetryBudget;
    return t;
}

inline RunRecord run(const QString& runDir)
{
    RunRecord r;
    r.runId = QStringLiteral("20251112-120000");
    r.timestamp = utc("2025-11-12T12:00:00.000Z");
    r.runDir = runDir;
    r.appVersion = QStringLiteral("0.1.0");
    r.workflow = QStringLiteral("wan-t2v");
    r.backends = {QStringLiteral("http://127.0.0.1:8188")};
    r.llmHealth.url = QStringLiteral("http://127.0.0.1:1234/v1");
    r.llmHealth.status = QStringLiteral("success");
    r.llmHealth.models = 3;
    r.llmHealth.skipped = false;
    r.llmHealth.timestamp = utc("2025-11-12T12:00:00.500Z");
    r.story.id = QStringLiteral("story-123");
    r.story.title = QStringLiteral("The Lighthouse");
    r.story.logline = QStringLiteral("A keeper finds a signal in the fog.");
    r.story.directorsVision = QStringLiteral("Muted blues, slow pushes.");
    r.story.sceneCount = 3;

    // scene-001: clean run, producer marker seen, push events.
    {
        SceneRecord s;
        s.sceneId = QStringLiteral("scene-001");
        s.title = QStringLiteral("Fog");
        s.prompt = QStringLiteral("a lighthouse in fog");
        s.negativePrompt = QStringLiteral("blurry");
        s.workflow = r.workflow;
        s.status = QStringLiteral("succeeded");
        s.historyPath = runDir + QStringLiteral("/scene-001/history.json");
        AttemptRecord a;
        a.attempt = 1;
        a.timestamp = utc("2025-11-12T12:00:02.000Z");
        a.status = QStringLiteral("succeeded");
        a.frameCount = 30;
        a.durationSeconds = 12.34;
        a.success = true;
        a.meetsFrameFloor = true;
        a.historyRetrieved = true;
        a.historyAttempts = 2;
        a.framePrefix = QStringLiteral("gemdirect_scene-001_a1");
        a.framesDir = runDir + QStringLiteral("/scene-001/attempt-1");
        a.promptId = QStringLiteral("p-001-1");
        a.backend = QStringLiteral("http://127.0.0.1:8188");
        a.seed = 42;
        AttemptTelemetry& t = a.telemetry = knobs(r.queueConfig);
        t.queueStart = a.timestamp;
        t.queueEnd = utc("2025-11-12T12:00:14.340Z");
        t.durationSeconds = 12.34;
        t.historyAttempts = 2;
        t.historyExitReason = QStringLiteral("success");
        t.executionSuccessDetected = true;
        t.executionSuccessAt = utc("2025-11-12T12:00:13.000Z");
        t.completionSignal = QStringLiteral("websocket");
        t.doneMarkerDetected = true;
        t.doneMarkerWaitSeconds = 0.42;
        t.doneMarkerPath = QStringLiteral("/comfy/output/gemdirect_scene-001_a1.done");
        t.gpu.name = QStringLiteral("NVIDIA GeForce RTX 3090");
        t.gpu.type = QStringLiteral("cuda");
        t.gpu.index = 0;
        t.gpu.vramTotalBytes = Q_INT64_C(25769803776);
        t.gpu.vramFreeBeforeBytes = Q_INT64_C(10737418240); // 10240.0 MB
        t.gpu.vramFreeAfterBytes = Q_INT64_C(10133438464);  //  9664.0 MB
        t.gpu.vramPeakUsedMB = 15012.34;
        t.gpu.source = QStringLiteral("nvml");
        t.systemBefore = QJsonObject{{QStringLiteral("os"), QStringLiteral("posix")}};
        t.systemAfter = QJsonObject{{QStringLiteral("os"), QStringLiteral("posix")}};
        s.attempts = {a};
        s.keptAttempt = 0;
        r.scenes.append(s);
    }
    // scene-002: attempt 1 below the floor, requeued; attempt 2 kept after a forced copy.
    {
        SceneRecord s;
        s.sceneId = QStringLiteral("scene-002");
        s.title = QStringLiteral("Signal");
        s.prompt = QStringLiteral("a blinking light");
        s.workflow = r.workflow;
        s.status = QStringLiteral("succeeded");
        s.requeued = true;
        AttemptRecord a1;
        a1.attempt = 1;
        a1.timestamp = utc("2025-11-12T12:00:20.000Z");
        a1.status = QStringLiteral("failed");
        a1.frameCount = 10;
        a1.durationSeconds = 20.0;
        a1.success = true;
        a1.warnings = {RunSummaryLog::belowFloorWarning(10, 25)};
        a1.framePrefix = QStringLiteral("gemdirect_scene-002_a1");
        a1.framesDir = QStringLiteral("scene-002/attempt-1");
        a1.promptId = QStringLiteral("p-002-1");
        a1.backend = QStringLiteral("http://127.0.0.1:8188");
        a1.telemetry = knobs(r.queueConfig);
        AttemptRecord a2;
        a2.attempt = 2;
        a2.timestamp = utc("2025-11-12T12:00:45.000Z");
        a2.status = QStringLiteral("succeeded");
        a2.frameCount = 26;
        a2.durationSeconds = 75.36;
        a2.success = true;
        a2.meetsFrameFloor = true;
        a2.historyRetrieved = true;
        a2.historyAttempts = 7;
        a2.framePrefix = QStringLiteral("gemdirect_scene-002_a2");
        a2.framesDir = QStringLiteral("scene-002\\attempt-2"); // Windows separators from a legacy path
        a2.promptId = QStringLiteral("p-002-2");
        a2.backend = QStringLiteral("http://10.0.0.5:8188");
        AttemptTelemetry& t = a2.telemetry = knobs(r.queueConfig);
        t.historyAttemptLimit = 5;
        t.maxWaitSeconds = 0.5;
        t.queueStart = a2.timestamp;
        t.queueEnd = utc("2025-11-12T12:02:00.360Z");
        t.durationSeconds = 75.36;
        t.historyAttempts = 7;
        t.historyExitReason = QStringLiteral("postExecution");
        t.executionSuccessDetected = true;
        t.executionSuccessAt = utc("2025-11-12T12:00:59.000Z");
        t.historyPostExecutionTimeoutReached = true;
        t.completionSignal = QStringLiteral("history");
        t.doneMarkerWaitSeconds = 60.24;
        t.forcedCopyTriggered = true;
        t.forcedCopyDebugPath = runDir + QStringLiteral("/scene-002/forced-copy-debug-20251112120105.txt");
        t.gpu.name = QStringLiteral("NVIDIA GeForce RTX 3090");
        t.gpu.type = QStringLiteral("cuda");
        t.gpu.index = 0;
        t.gpu.vramTotalBytes = Q_INT64_C(25769803776);
        t.gpu.vramFreeBeforeBytes = Q_INT64_C(1000000000); // 953.7 MB
        t.gpu.vramFreeAfterBytes = Q_INT64_C(900000000);   // 858.3 MB
        t.gpu.source = QStringLiteral("nvidia-smi");
        t.fallbackNotes = {kGpuNote, kMarkerNote, kForcedNote};
        s.attempts = {a1, a2};
        s.keptAttempt = 1;
        r.scenes.append(s);
    }
    // scene-003: execution error, no frames, no GPU numbers at all.
    {
        SceneRecord s;
        s.sceneId = QStringLiteral("scene-003");
        s.title = QStringLiteral("Storm");
        s.prompt = QStringLiteral("waves crash");
        s.workflow = r.workflow;
        s.status = QStringLiteral("failed");
        s.errors = {QStringLiteral("execution_error: CUDA out of memory (node 3)")};
        AttemptRecord a;
        a.attempt = 1;
        a.timestamp = utc("2025-11-12T12:02:10.000Z");
        a.status = QStringLiteral("failed");
        a.durationSeconds = 3.0;
        a.historyErrors = {QStringLiteral("history entry missing")};
        a.warnings = {RunSummaryLog::belowFloorWarning(0, 25)};
        a.errors = {QStringLiteral("execution_error: CUDA out of memory (node 3)")};
        a.framePrefix = QStringLiteral("gemdirect_scene-003_a1");
        a.framesDir = QStringLiteral("scene-003/attempt-1");
        a.promptId = QStringLiteral("p-003-1");
        a.backend = QStringLiteral("http://127.0.0.1:8188");
        AttemptTelemetry& t = a.telemetry = knobs(r.queueConfig);
        t.queueStart = a.timestamp;
        t.queueEnd = utc("2025-11-12T12:02:13.000Z");
        t.durationSeconds = 3.0;
        t.historyExitReason = QStringLiteral("unknown");
        t.completionSignal = QStringLiteral("websocket");
        s.attempts = {a};
        s.keptAttempt = 0;
        r.scenes.append(s);
    }
    return r;
}

// The run-summary.txt lines the pipeline logs for a run, in order.
inline gd::Error writeSummary(const RunRecord& r)
{
    RunSummaryLog log;
    if (gd::Error e = log.open(r.runDir, r.runId); !e.isNull())
        return e;
    log.append(RunSummaryLog::storyReady(r.story.id, r.story.sceneCount));
    log.append(RunSummaryLog::storyLogline(r.story.logline));
    log.append(RunSummaryLog::directorsVision(r.story.directorsVision));
    log.append(RunSummaryLog::llmHealthSuccess(r.llmHealth.url, r.llmHealth.models, r.llmHealth.overrideUrl));
    log.append(RunSummaryLog::queuePolicy(r.queueConfig));
    for (const SceneRecord& s : r.scenes) {
        for (const AttemptRecord& a : s.attempts) {
            log.append(RunSummaryLog::attemptLine(s.sceneId, a));
            for (const QString& w : a.warnings)
                log.append(RunSummaryLog::warning(s.sceneId, w));
            if (&a != &s.attempts.last())
                log.append(
                    RunSummaryLog::requeue(s.sceneId, a.attempt + 1, r.queueConfig.sceneRetryBudget + 1,
                                           RunSummaryLog::belowFloorWarning(a.frameCount, s.frameFloor)));
        }
        for (const QString& e : s.errors)
            log.append(RunSummaryLog::error(s.sceneId, e));
        if (const AttemptRecord* kept = s.kept()) {
            if (!kept->historyRetrieved)
                log.append(RunSummaryLog::historyWarning(s.sceneId, QStringLiteral("history not retrieved")));
            log.append(RunSummaryLog::telemetryLine(s.sceneId, kept->telemetry));
        }
    }
    const RunSummaryStats stats = SummaryCalculator::compute(r);
    log.append(RunSummaryLog::sceneSummary(stats.scenesSucceeded, stats.scenesTotal, stats.totalFrames,
                                           stats.requeues));
    return log.appendRaw(
        RunSummaryLog::artifactIndex(QStringLiteral("story"), stats.scenesSucceeded, stats.totalFrames));
}

} // namespace sample
