#include "pipeline/QueuePolicy.h"

namespace gd::pipeline {

QueuePolicy QueuePolicy::standard()
{
    return QueuePolicy{};
}

QueuePolicy QueuePolicy::fastIteration()
{
    QueuePolicy p;
    p.maxWaitSeconds = 30;
    p.historyMaxAttempts = 0;
    p.pollIntervalSeconds = 1;
    p.postExecutionTimeoutSeconds = 15;
    p.sceneRetryBudget = 1;
    p.doneMarkerTimeoutSeconds = 15;
    p.stabilityWindowSeconds = 1;
    p.stabilityRetries = 2;
    p.requeuePauseSeconds = 0.5;
    p.presetName = QStringLiteral("FastIteration");
    return p;
}

void QueuePolicy::applyEnvironment(const QProcessEnvironment& env, QStringList* errors)
{
    auto number = [&](const char* name, double* target) {
        const QString key = QLatin1String(name);
        if (!env.contains(key) || env.value(key).trimmed().isEmpty())
            return;
        bool ok = false;
        const double v = env.value(key).trimmed().toDouble(&ok);
        if (!ok)
            errors->append(QStringLiteral("%1: '%2' is not a number").arg(key, env.value(key)));
        else
            *target = v;
    };
    auto integer = [&](const char* name, int* target) {
        const QString key = QLatin1String(name);
        if (!env.contains(key) || env.value(key).trimmed().isEmpty())
            return;
        bool ok = false;
        const int v = env.value(key).trimmed().toInt(&ok);
        if (!ok)
            errors->append(QStringLiteral("%1: '%2' is not a whole number").arg(key, env.value(key)));
        else
            *target = v;
    };
    number("SCENE_MAX_WAIT_SECONDS", &maxWaitSeconds);
    integer("SCENE_HISTORY_MAX_ATTEMPTS", &historyMaxAttempts);
    number("SCENE_HISTORY_POLL_INTERVAL_SECONDS", &pollIntervalSeconds);
    number("SCENE_POST_EXECUTION_TIMEOUT_SECONDS", &postExecutionTimeoutSeconds);
    integer("SCENE_RETRY_BUDGET", &sceneRetryBudget);
    integer("SCENE_FRAME_FLOOR", &frameFloor);
    number("SCENE_DONE_MARKER_TIMEOUT_SECONDS", &doneMarkerTimeoutSeconds);
}

QStringList QueuePolicy::validate() const
{
    QStringList e;
    if (!(maxWaitSeconds > 0))
        e << QStringLiteral(
                 "scene max wait (--scene-max-wait / SCENE_MAX_WAIT_SECONDS) must be greater than 0, got %1")
                 .arg(maxWaitSeconds);
    if (historyMaxAttempts < 0)
        e << QStringLiteral("history max attempts (--scene-history-max-attempts / "
                            "SCENE_HISTORY_MAX_ATTEMPTS) must not be negative, got %1")
                 .arg(historyMaxAttempts);
    if (pollIntervalSeconds < 0.1)
        e << QStringLiteral("history poll interval (--scene-history-poll-interval / "
                            "SCENE_HISTORY_POLL_INTERVAL_SECONDS) must be at least 0.1 s, got %1")
                 .arg(pollIntervalSeconds);
    if (postExecutionTimeoutSeconds < 0)
        e << QStringLiteral("post-execution timeout (--scene-post-execution-timeout / "
                            "SCENE_POST_EXECUTION_TIMEOUT_SECONDS) must not be negative, got %1")
                 .arg(postExecutionTimeoutSeconds);
    if (sceneRetryBudget < 0)
        e << QStringLiteral("scene retry budget (--scene-retry-budget / SCENE_RETRY_BUDGET) must not be "
                            "negative, got %1")
                 .arg(sceneRetryBudget);
    if (frameFloor < 0)
        e << QStringLiteral("frame floor (--frame-floor / SCENE_FRAME_FLOOR) must not be negative, got %1")
                 .arg(frameFloor);
    if (doneMarkerTimeoutSeconds < 0)
        e << QStringLiteral("done-marker timeout (--done-marker-timeout / SCENE_DONE_MARKER_TIMEOUT_SECONDS) "
                            "must not be negative, got %1")
                 .arg(doneMarkerTimeoutSeconds);
    if (stabilityWindowSeconds < 0)
        e << QStringLiteral("stability window (--stability-window) must not be negative, got %1")
                 .arg(stabilityWindowSeconds);
    if (stabilityRetries < 0)
        e << QStringLiteral("stability retries (--stability-retries) must not be negative, got %1")
                 .arg(stabilityRetries);
    return e;
}

int QueuePolicy::frameFloorFor(int expectedFrames) const
{
    if (frameFloor > 0)
        return frameFloor;
    return expectedFrames > 0 ? expectedFrames : 25;
}

telemetry::QueueConfig QueuePolicy::queueConfig() const
{
    telemetry::QueueConfig c;
    c.sceneRetryBudget = sceneRetryBudget;
    c.historyMaxWaitSeconds = maxWaitSeconds;
    c.historyMaxAttempts = historyMaxAttempts;
    c.historyPollIntervalSeconds = pollIntervalSeconds;
    c.postExecutionTimeoutSeconds = postExecutionTimeoutSeconds;
    return c;
}

QJsonObject QueuePolicy::toJson() const
{
    return QJsonObject{{QStringLiteral("MaxWaitSeconds"), maxWaitSeconds},
                       {QStringLiteral("HistoryMaxAttempts"), historyMaxAttempts},
                       {QStringLiteral("PollIntervalSeconds"), pollIntervalSeconds},
                       {QStringLiteral("PostExecutionTimeoutSeconds"), postExecutionTimeoutSeconds},
                       {QStringLiteral("SceneRetryBudget"), sceneRetryBudget},
                       {QStringLiteral("FrameFloor"), frameFloor},
                       {QStringLiteral("DoneMarkerTimeoutSeconds"), doneMarkerTimeoutSeconds},
                       {QStringLiteral("StabilityWindowSeconds"), stabilityWindowSeconds},
                       {QStringLiteral("StabilityRetries"), stabilityRetries},
                       {QStringLiteral("SocketSilenceSeconds"), socketSilenceSeconds},
                       {QStringLiteral("RequeuePauseSeconds"), requeuePauseSeconds},
                       {QStringLiteral("Preset"), presetName}};
}

QueuePolicy QueuePolicy::fromJson(const QJsonObject& o)
{
    QueuePolicy p;
    p.maxWaitSeconds = o.value(QStringLiteral("MaxWaitSeconds")).toDouble(p.maxWaitSeconds);
    p.historyMaxAttempts = o.value(QStringLiteral("HistoryMaxAttempts")).toInt(p.historyMaxAttempts);
    p.pollIntervalSeconds = o.value(QStringLiteral("PollIntervalSeconds")).toDouble(p.pollIntervalSeconds);
    p.postExecutionTimeoutSeconds =
        o.value(QStringLiteral("PostExecutionTimeoutSeconds")).toDouble(p.postExecutionTimeoutSeconds);
    p.sceneRetryBudget = o.value(QStringLiteral("SceneRetryBudget")).toInt(p.sceneRetryBudget);
    p.frameFloor = o.value(QStringLiteral("FrameFloor")).toInt(p.frameFloor);
    p.doneMarkerTimeoutSeconds = o.value(QStringLiteral("DoneMarkerTimeoutSeconds")).toDouble(p.doneMarkerTimeoutSeconds);
    p.stabilityWindowSeconds = o.value(QStringLiteral("StabilityWindowSeconds")).toDouble(p.stabilityWindowSeconds);
    p.stabilityRetries = o.value(QStringLiteral("StabilityRetries")).toInt(p.stabilityRetries);
    p.socketSilenceSeconds = o.value(QStringLiteral("SocketSilenceSeconds")).toDouble(p.socketSilenceSeconds);
    p.requeuePauseSeconds = o.value(QStringLiteral("RequeuePauseSeconds")).toDouble(p.requeuePauseSeconds);
    p.presetName = o.value(QStringLiteral("Preset")).toString(p.presetName);
    return p;
}

} // namespace gd::pipeline
