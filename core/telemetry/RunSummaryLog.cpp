#include "telemetry/RunSummaryLog.h"

#include "telemetry/TelemetryFormat.h"

#include <QDir>
#include <QFileInfo>

namespace gd::telemetry {

// Free text (ids, URLs, server errors) is concatenated, never passed through QString::arg(): a
// "%1" inside an error message must come out verbatim.
namespace {

QString overrideOrDefault(const QString& overrideUrl)
{
    return overrideUrl.isEmpty() ? QStringLiteral("default") : overrideUrl;
}

QString boolText(bool b)
{
    return b ? QStringLiteral("true") : QStringLiteral("false");
}

QString mbText(const std::optional<double>& mb)
{
    // "Unavailable is shown as such, never as 0" (DESIGN §5).
    return mb ? TelemetryFormat::duration(*mb) + QStringLiteral("MB") : QStringLiteral("unavailable");
}

QString scenePrefix(const QString& sceneId)
{
    return QStringLiteral("[Scene ") + sceneId + QLatin1Char(']');
}

} // namespace

QString RunSummaryLog::headerLine(const QString& runId)
{
    return QStringLiteral("E2E Story-to-Video Run: ") + runId;
}

RunSummaryLog::RunSummaryLog() : m_clock([] { return QDateTime::currentDateTime(); }) {}

RunSummaryLog::~RunSummaryLog() = default;

void RunSummaryLog::setClock(std::function<QDateTime()> clock)
{
    m_clock = std::move(clock);
}

Error RunSummaryLog::fail(Error e)
{
    m_lastError = e;
    return e;
}

Error RunSummaryLog::open(const QString& runDir, const QString& runId)
{
    close();
    if (runDir.isEmpty())
        return fail(
            {QStringLiteral("io"), QStringLiteral("Cannot open %1: no run directory").arg(fileName()), {}});
    if (!QDir().mkpath(runDir))
        return fail({QStringLiteral("io"), QStringLiteral("Cannot create directory %1").arg(runDir), {}});
    m_file.setFileName(QDir(runDir).filePath(fileName()));
    const bool fresh = !m_file.exists() || QFileInfo(m_file.fileName()).size() == 0;
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Append)) {
        return fail({QStringLiteral("io"),
                     QStringLiteral("Cannot open %1: %2").arg(m_file.fileName(), m_file.errorString()),
                     {}});
    }
    m_lastError = {};
    m_writeFailed = false;
    if (fresh)
        return writeLine(headerLine(runId));
    return {};
}

void RunSummaryLog::close()
{
    m_writeFailed = false;
    if (m_file.isOpen())
        m_file.close();
}

Error RunSummaryLog::writeLine(const QString& line)
{
    QByteArray lead;
    if (!m_file.isOpen() && m_writeFailed) {
        // The disk may have space again. A failed write can leave part of a line behind: end it, so
        // the next line starts on its own.
        QFile tail(m_file.fileName());
        if (tail.open(QIODevice::ReadOnly) && tail.size() > 0 && tail.seek(tail.size() - 1) &&
            tail.read(1) != "\n")
            lead = "\n";
        if (m_file.open(QIODevice::WriteOnly | QIODevice::Append))
            m_writeFailed = false;
    }
    if (!m_file.isOpen())
        return fail({QStringLiteral("io"), QStringLiteral("run-summary.txt is not open"), {}});
    // Server errors can span lines; one log entry must stay one line or the validators lose it.
    QString oneLine = line;
    oneLine.replace(QLatin1Char('\r'), QLatin1Char(' ')).replace(QLatin1Char('\n'), QLatin1Char(' '));
    const QByteArray bytes = lead + oneLine.toUtf8() + '\n';
    if (m_file.write(bytes) != bytes.size() || !m_file.flush()) {
        const Error e{QStringLiteral("io"),
                      QStringLiteral("Cannot write %1: %2").arg(m_file.fileName(), m_file.errorString()),
                      {}};
        // Drop whatever is still buffered: retrying a half line on the next append would garble it.
        m_file.close();
        m_writeFailed = true;
        return fail(e);
    }
    m_lastError = {};
    return {};
}

Error RunSummaryLog::append(const QString& message)
{
    const QString time = m_clock().toLocalTime().toString(QStringLiteral("HH:mm:ss"));
    return writeLine(QLatin1Char('[') + time + QStringLiteral("] ") + message);
}

Error RunSummaryLog::appendRaw(const QString& line)
{
    return writeLine(line);
}

Error RunSummaryLog::appendRaw(const QStringList& lines)
{
    for (const QString& line : lines) {
        if (Error e = writeLine(line); !e.isNull())
            return e;
    }
    return {};
}

QString RunSummaryLog::storyReady(const QString& storyId, int sceneCount)
{
    return QStringLiteral("Story ready: ") + storyId + QStringLiteral(" (scenes=") +
           QString::number(sceneCount) + QLatin1Char(')');
}

QString RunSummaryLog::storyLogline(const QString& text)
{
    return QStringLiteral("Story logline: ") + text;
}

QString RunSummaryLog::directorsVision(const QString& text)
{
    return QStringLiteral("Director's vision: ") + text;
}

QString RunSummaryLog::llmHealthSuccess(const QString& url, int models, const QString& overrideUrl)
{
    return QStringLiteral("[LLM] Health check: success (url=") + url + QStringLiteral(", models=") +
           QString::number(models) + QStringLiteral(", override=") + overrideOrDefault(overrideUrl) +
           QLatin1Char(')');
}

QString RunSummaryLog::llmHealthFailed(const QString& error, const QString& url, const QString& overrideUrl)
{
    return QStringLiteral("[LLM] Health check failed: ") + error + QStringLiteral(" (url=") + url +
           QStringLiteral(", override=") + overrideOrDefault(overrideUrl) + QLatin1Char(')');
}

QString RunSummaryLog::llmHealthSkipped()
{
    return QStringLiteral("[LLM] Health check skipped by operator request");
}

QString RunSummaryLog::queuePolicy(const QueueConfig& c)
{
    const QString attempts =
        c.historyMaxAttempts == 0 ? QStringLiteral("unbounded") : QString::number(c.historyMaxAttempts);
    return QStringLiteral("Queue policy: sceneRetries=") + QString::number(c.sceneRetryBudget) +
           QStringLiteral(", historyMaxWait=") + TelemetryFormat::knob(c.historyMaxWaitSeconds) +
           QStringLiteral("s, historyPollInterval=") + TelemetryFormat::knob(c.historyPollIntervalSeconds) +
           QStringLiteral("s, historyMaxAttempts=") + attempts + QStringLiteral(", postExecutionTimeout=") +
           TelemetryFormat::knob(c.postExecutionTimeoutSeconds) + QLatin1Char('s');
}

QString RunSummaryLog::attemptLine(const QString& sceneId, const AttemptRecord& a)
{
    return scenePrefix(sceneId) + QStringLiteral("[Attempt ") + QString::number(a.attempt) +
           QStringLiteral("] Frames=") + QString::number(a.frameCount) + QStringLiteral(" Duration=") +
           TelemetryFormat::duration(a.durationSeconds) + QStringLiteral("s Prefix=") + a.framePrefix;
}

QString RunSummaryLog::telemetryLine(const QString& sceneId, const AttemptTelemetry& t)
{
    const std::optional<double> beforeMB = TelemetryFormat::bytesToMB(t.gpu.vramFreeBeforeBytes);
    const std::optional<double> afterMB = TelemetryFormat::bytesToMB(t.gpu.vramFreeAfterBytes);
    std::optional<double> deltaMB;
    if (beforeMB && afterMB)
        deltaMB = TelemetryFormat::round1(*afterMB - *beforeMB);
    const QString successAt = TelemetryFormat::isoUtc(t.executionSuccessAt);

    QStringList parts{
        QStringLiteral("DurationSeconds=") + TelemetryFormat::duration(t.durationSeconds) + QLatin1Char('s'),
        QStringLiteral("MaxWaitSeconds=") + TelemetryFormat::knob(t.maxWaitSeconds) + QLatin1Char('s'),
        QStringLiteral("PollIntervalSeconds=") + TelemetryFormat::knob(t.pollIntervalSeconds) +
            QLatin1Char('s'),
        QStringLiteral("HistoryAttempts=") + QString::number(t.historyAttempts),
        QStringLiteral("pollLimit=") + (t.historyAttemptLimit == 0 ? QStringLiteral("unbounded")
                                                                   : QString::number(t.historyAttemptLimit)),
        QStringLiteral("SceneRetryBudget=") + QString::number(t.sceneRetryBudget),
        QStringLiteral("PostExecutionTimeoutSeconds=") +
            TelemetryFormat::knob(t.postExecutionTimeoutSeconds) + QLatin1Char('s'),
        QStringLiteral("ExecutionSuccessDetected=") + boolText(t.executionSuccessDetected),
        QStringLiteral("ExecutionSuccessAt=") + (successAt.isEmpty() ? QStringLiteral("null") : successAt),
        QStringLiteral("HistoryExitReason=") + t.historyExitReason,
        QStringLiteral("VRAMBeforeMB=") + mbText(beforeMB),
        QStringLiteral("VRAMAfterMB=") + mbText(afterMB),
        QStringLiteral("VRAMDeltaMB=") + mbText(deltaMB),
        QStringLiteral("gpu=") + (t.gpu.name.isEmpty() ? QStringLiteral("unknown") : t.gpu.name),
        QStringLiteral("DoneMarkerWaitSeconds=") + TelemetryFormat::duration(t.doneMarkerWaitSeconds) +
            QLatin1Char('s'),
        QStringLiteral("DoneMarkerDetected=") + boolText(t.doneMarkerDetected),
    };
    if (!t.doneMarkerPath.isEmpty())
        parts.append(QStringLiteral("DoneMarkerPath=") + QDir::fromNativeSeparators(t.doneMarkerPath));
    parts.append(QStringLiteral("ForcedCopyTriggered=") + boolText(t.forcedCopyTriggered));
    if (!t.forcedCopyDebugPath.isEmpty())
        parts.append(QStringLiteral("ForcedCopyDebugPath=") +
                     QDir::fromNativeSeparators(t.forcedCopyDebugPath));
    if (!t.fallbackNotes.isEmpty())
        parts.append(QStringLiteral("fallback=") + t.fallbackNotes.join(QStringLiteral("; ")));
    return scenePrefix(sceneId) + QStringLiteral(" Telemetry: ") + parts.join(QStringLiteral(" | "));
}

QString RunSummaryLog::warning(const QString& sceneId, const QString& text)
{
    return scenePrefix(sceneId) + QStringLiteral(" WARNING: ") + text;
}

QString RunSummaryLog::error(const QString& sceneId, const QString& text)
{
    return scenePrefix(sceneId) + QStringLiteral(" ERROR: ") + text;
}

QString RunSummaryLog::historyWarning(const QString& sceneId, const QString& text)
{
    return scenePrefix(sceneId) + QStringLiteral(" HISTORY WARNING: ") + text;
}

QString RunSummaryLog::requeue(const QString& sceneId, int nextAttempt, int maxAttempts,
                               const QString& reason)
{
    return scenePrefix(sceneId) + QStringLiteral(" Requeue requested (next attempt ") +
           QString::number(nextAttempt) + QLatin1Char('/') + QString::number(maxAttempts) +
           QStringLiteral(") reason: ") + reason;
}

QString RunSummaryLog::sceneSummary(int succeeded, int total, int totalFrames, int requeues)
{
    return QStringLiteral("Scene summary: %1/%2 succeeded | total frames=%3 | requeues=%4")
        .arg(succeeded)
        .arg(total)
        .arg(totalFrames)
        .arg(requeues);
}

QString RunSummaryLog::belowFloorWarning(int frames, int floor)
{
    return QStringLiteral("Frame count below floor (%1/%2)").arg(frames).arg(floor);
}

QStringList RunSummaryLog::artifactIndex(const QString& storyFolder, int scenesCaptured, int totalFrames)
{
    return {
        QStringLiteral("## Artifact Index"),
        QStringLiteral("Story folder: ") + QDir::fromNativeSeparators(storyFolder),
        QStringLiteral("Scenes captured: ") + QString::number(scenesCaptured),
        QStringLiteral("Total frames copied: ") + QString::number(totalFrames),
    };
}

} // namespace gd::telemetry
