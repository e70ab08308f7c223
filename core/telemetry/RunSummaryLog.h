#pragma once

#include "common/Error.h"
#include "telemetry/RunModel.h"

#include <QDateTime>
#include <QFile>
#include <QString>
#include <QStringList>
#include <functional>

namespace gd::telemetry {

// Appends the human run log run-summary.txt (contract §4), one flushed line at a time, and
// formats each line the validators parse. Not thread-safe: one owner (the run recorder) writes.
class RunSummaryLog
{
public:
    static QString fileName() { return QStringLiteral("run-summary.txt"); }
    static QString headerLine(const QString& runId);

    RunSummaryLog();
    ~RunSummaryLog();
    RunSummaryLog(const RunSummaryLog&) = delete;
    RunSummaryLog& operator=(const RunSummaryLog&) = delete;

    // Opens <runDir>/run-summary.txt. A new (or empty) file gets the first line
    // "E2E Story-to-Video Run: <runId>"; an existing one (a resumed run) is appended to.
    Error open(const QString& runDir, const QString& runId);
    // "[HH:mm:ss] <message>" in local time, flushed at once so a crash loses at most this line. After a
    // failed write (full disk) the next call reopens the file and goes on after the last whole line.
    Error append(const QString& message);
    // A line without the time prefix (the artifact index block).
    Error appendRaw(const QString& line);
    Error appendRaw(const QStringList& lines);
    void close();

    bool isOpen() const { return m_file.isOpen(); }
    QString filePath() const { return m_file.fileName(); }
    // The last IO failure of open/append, null when the most recent call succeeded.
    Error lastError() const { return m_lastError; }
    // Test seam: where the line time comes from (defaults to the local clock).
    void setClock(std::function<QDateTime()> clock);

    // ---- §4 line formatters: the message text, without the "[HH:mm:ss] " prefix ----
    static QString storyReady(const QString& storyId, int sceneCount);
    static QString storyLogline(const QString& text);
    static QString directorsVision(const QString& text);
    static QString llmHealthSuccess(const QString& url, int models, const QString& overrideUrl);
    static QString llmHealthFailed(const QString& error, const QString& url, const QString& overrideUrl);
    static QString llmHealthSkipped();
    static QString queuePolicy(const QueueConfig& config);
    static QString attemptLine(const QString& sceneId, const AttemptRecord& attempt);
    static QString telemetryLine(const QString& sceneId, const AttemptTelemetry& telemetry);
    static QString warning(const QString& sceneId, const QString& text);
    static QString error(const QString& sceneId, const QString& text);
    static QString historyWarning(const QString& sceneId, const QString& text);
    static QString requeue(const QString& sceneId, int nextAttempt, int maxAttempts, const QString& reason);
    static QString sceneSummary(int succeeded, int total, int totalFrames, int requeues);
    static QString belowFloorWarning(int frames, int floor);
    static QStringList artifactIndex(const QString& storyFolder, int scenesCaptured, int totalFrames);

private:
    Error writeLine(const QString& line);
    Error fail(Error e);

    QFile m_file;
    Error m_lastError;
    // A write failed (e.g. full disk) and closed the file: the next line reopens it, so a run whose
    // disk gets space back keeps its summary going.
    bool m_writeFailed = false;
    std::function<QDateTime()> m_clock;
};

} // namespace gd::telemetry
