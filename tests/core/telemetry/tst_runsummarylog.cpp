#include "SampleRun.h"
#include "telemetry/RunSummaryLog.h"
#include "telemetry/TelemetryFormat.h"

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace gd::telemetry;

namespace {

QStringList readLines(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'));
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    return lines;
}

} // namespace

// run-summary.txt: the human log whose lines the legacy validators parse (contract §4).
class TestRunSummaryLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void formatters_data();
    void formatters();
    void knobFormatting_data();
    void knobFormatting();
    void telemetryLineWithoutOptionalParts();
    void telemetryLineWithOptionalParts();
    void artifactIndexBlock();
    void newFileStartsWithHeader();
    void resumedRunAppends();
    void multiLineMessagesStayOneLine();
    void ioFailureIsReturnedNotFatal();
    void diskFullIsReturnedNotFatal();
};

void TestRunSummaryLog::formatters_data()
{
    QTest::addColumn<QString>("actual");
    QTest::addColumn<QString>("expected");

    QueueConfig defaults;
    QueueConfig bounded;
    bounded.sceneRetryBudget = 2;
    bounded.historyMaxWaitSeconds = 30;
    bounded.historyMaxAttempts = 12;
    bounded.historyPollIntervalSeconds = 0.5;
    bounded.postExecutionTimeoutSeconds = 15;

    AttemptRecord attempt;
    attempt.attempt = 2;
    attempt.frameCount = 25;
    attempt.durationSeconds = 10;
    attempt.framePrefix = QStringLiteral("gemdirect1_scene-001");

    QTest::newRow("story ready") << RunSummaryLog::storyReady(QStringLiteral("story-123"), 1)
                                 << QStringLiteral("Story ready: story-123 (scenes=1)");
    QTest::newRow("logline") << RunSummaryLog::storyLogline(QStringLiteral("Logline"))
                             << QStringLiteral("Story logline: Logline");
    QTest::newRow("vision") << RunSummaryLog::directorsVision(QStringLiteral("Vision"))
                            << QStringLiteral("Director's vision: Vision");
    QTest::newRow("llm success default")
        << RunSummaryLog::llmHealthSuccess(QStringLiteral("http://127.0.0.1:1234/v1"), 3, QString())
        << QStringLiteral(
               "[LLM] Health check: success (url=http://127.0.0.1:1234/v1, models=3, override=default)");
    QTest::newRow("llm success override")
        << RunSummaryLog::llmHealthSuccess(QStringLiteral("http://a:1/v1"), 1,
                                           QStringLiteral("http://b:2/v1"))
        << QStringLiteral(
               "[LLM] Health check: success (url=http://a:1/v1, models=1, override=http://b:2/v1)");
    QTest::newRow("llm failed")
        << RunSummaryLog::llmHealthFailed(QStringLiteral("Connection refused %1"),
                                          QStringLiteral("http://a:1/v1"), QString())
        << QStringLiteral(
               "[LLM] Health check failed: Connection refused %1 (url=http://a:1/v1, override=default)");
    QTest::newRow("llm skipped") << RunSummaryLog::llmHealthSkipped()
                                 << QStringLiteral("[LLM] Health check skipped by operator request");
    QTest::newRow("queue policy defaults")
        << RunSummaryLog::queuePolicy(defaults)
        << QStringLiteral("Queue policy: sceneRetries=1, historyMaxWait=600s, historyPollInterval=2s, "
                          "historyMaxAttempts=unbounded, postExecutionTimeout=30s");
    QTest::newRow("queue policy bounded")
        << RunSummaryLog::queuePolicy(bounded)
        << QStringLiteral("Queue policy: sceneRetries=2, historyMaxWait=30s, historyPollInterval=0.5s, "
                          "historyMaxAttempts=12, postExecutionTimeout=15s");
    QTest::newRow("attempt")
        << RunSummaryLog::attemptLine(QStringLiteral("scene-001"), attempt)
        << QStringLiteral(
               "[Scene scene-001][Attempt 2] Frames=25 Duration=10.0s Prefix=gemdirect1_scene-001");
    QTest::newRow("warning") << RunSummaryLog::warning(QStringLiteral("scene-001"), QStringLiteral("slow"))
                             << QStringLiteral("[Scene scene-001] WARNING: slow");
    QTest::newRow("below floor") << RunSummaryLog::warning(QStringLiteral("scene-002"),
                                                           RunSummaryLog::belowFloorWarning(10, 25))
                                 << QStringLiteral(
                                        "[Scene scene-002] WARNING: Frame count below floor (10/25)");
    QTest::newRow("error") << RunSummaryLog::error(QStringLiteral("scene-003"),
                                                   QStringLiteral("CUDA out of memory"))
                           << QStringLiteral("[Scene scene-003] ERROR: CUDA out of memory");
    QTest::newRow("history warning") << RunSummaryLog::historyWarning(QStringLiteral("scene-003"),
                                                                      QStringLiteral("history not retrieved"))
                                     << QStringLiteral(
                                            "[Scene scene-003] HISTORY WARNING: history not retrieved");
    QTest::newRow("requeue")
        << RunSummaryLog::requeue(QStringLiteral("scene-002"), 2, 2, QStringLiteral("no frames"))
        << QStringLiteral("[Scene scene-002] Requeue requested (next attempt 2/2) reason: no frames");
    QTest::newRow("scene summary") << RunSummaryLog::sceneSummary(2, 3, 56, 1)
                                   << QStringLiteral(
                                          "Scene summary: 2/3 succeeded | total frames=56 | requeues=1");
}

void TestRunSummaryLog::formatters()
{
    QFETCH(QString, actual);
    QFETCH(QString, expected);
    QCOMPARE(actual, expected);
}

void TestRunSummaryLog::knobFormatting_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("600") << 600.0 << QStringLiteral("600");
    QTest::newRow("2") << 2.0 << QStringLiteral("2");
    QTest::newRow("0") << 0.0 << QStringLiteral("0");
    QTest::newRow("0.5") << 0.5 << QStringLiteral("0.5");
    QTest::newRow("0.1") << 0.1 << QStringLiteral("0.1");
    QTest::newRow("0.1+0.2") << 0.1 + 0.2 << QStringLiteral("0.3");
    QTest::newRow("2.25") << 2.25 << QStringLiteral("2.25");
}

void TestRunSummaryLog::knobFormatting()
{
    QFETCH(double, value);
    QFETCH(QString, expected);
    QCOMPARE(TelemetryFormat::knob(value), expected);
}

void TestRunSummaryLog::telemetryLineWithoutOptionalParts()
{
    const RunRecord run = sample::run(QStringLiteral("/runs/x"));
    QCOMPARE(
        RunSummaryLog::telemetryLine(QStringLiteral("scene-003"), run.scenes[2].attempts[0].telemetry),
        QStringLiteral(
            "[Scene scene-003] Telemetry: DurationSeconds=3.0s | MaxWaitSeconds=600s | "
            "PollIntervalSeconds=2s | "
            "HistoryAttempts=0 | pollLimit=unbounded | SceneRetryBudget=1 | PostExecutionTimeoutSeconds=30s "
            "| "
            "ExecutionSuccessDetected=false | ExecutionSuccessAt=null | HistoryExitReason=unknown | "
            "VRAMBeforeMB=unavailable | VRAMAfterMB=unavailable | VRAMDeltaMB=unavailable | gpu=unknown | "
            "DoneMarkerWaitSeconds=0.0s | DoneMarkerDetected=false | ForcedCopyTriggered=false"));
}

void TestRunSummaryLog::telemetryLineWithOptionalParts()
{
    const RunRecord run = sample::run(QStringLiteral("/runs/x"));
    QCOMPARE(RunSummaryLog::telemetryLine(QStringLiteral("scene-001"), run.scenes[0].attempts[0].telemetry),
             QStringLiteral(
                 "[Scene scene-001] Telemetry: DurationSeconds=12.3s | MaxWaitSeconds=600s | "
                 "PollIntervalSeconds=2s | "
                 "HistoryAttempts=2 | pollLimit=unbounded | SceneRetryBudget=1 | "
                 "PostExecutionTimeoutSeconds=30s | "
                 "ExecutionSuccessDetected=true | ExecutionSuccessAt=2025-11-12T12:00:13.000Z | "
                 "HistoryExitReason=success | "
                 "VRAMBeforeMB=10240.0MB | VRAMAfterMB=9664.0MB | VRAMDeltaMB=-576.0MB | gpu=NVIDIA GeForce "
                 "RTX 3090 | "
                 "DoneMarkerWaitSeconds=0.4s | DoneMarkerDetected=true | "
                 "DoneMarkerPath=/comfy/output/gemdirect_scene-001_a1.done | ForcedCopyTriggered=false"));
    QCOMPARE(RunSummaryLog::telemetryLine(QStringLiteral("scene-002"), run.scenes[1].attempts[1].telemetry),
             QStringLiteral(
                 "[Scene scene-002] Telemetry: DurationSeconds=75.4s | MaxWaitSeconds=0.5s | "
                 "PollIntervalSeconds=2s | "
                 "HistoryAttempts=7 | pollLimit=5 | SceneRetryBudget=1 | PostExecutionTimeoutSeconds=30s | "
                 "ExecutionSuccessDetected=true | ExecutionSuccessAt=2025-11-12T12:00:59.000Z | "
                 "HistoryExitReason=postExecution | VRAMBeforeMB=953.7MB | VRAMAfterMB=858.3MB | "
                 "VRAMDeltaMB=-95.4MB | "
                 "gpu=NVIDIA GeForce RTX 3090 | DoneMarkerWaitSeconds=60.2s | DoneMarkerDetected=false | "
                 "ForcedCopyTriggered=true | "
                 "ForcedCopyDebugPath=/runs/x/scene-002/forced-copy-debug-20251112120105.txt | "
                 "fallback=/system_stats unavailable before execution; used nvidia-smi fallback; "
                 "Done marker not found after 60 seconds (waited 60.2 seconds); "
                 "Forced copy after stability retries; see scene-002/forced-copy-debug-20251112120105.txt"));
}

void TestRunSummaryLog::artifactIndexBlock()
{
    QCOMPARE(RunSummaryLog::artifactIndex(QStringLiteral("story"), 2, 56),
             (QStringList{QStringLiteral("## Artifact Index"), QStringLiteral("Story folder: story"),
                          QStringLiteral("Scenes captured: 2"), QStringLiteral("Total frames copied: 56")}));
}

void TestRunSummaryLog::newFileStartsWithHeader()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    RunSummaryLog log;
    log.setClock([] { return QDateTime(QDate(2025, 11, 12), QTime(9, 5, 7)); });
    QVERIFY(log.open(tmp.path(), QStringLiteral("20251112-090500")).isNull());
    QVERIFY(log.append(RunSummaryLog::storyReady(QStringLiteral("story-1"), 2)).isNull());
    QVERIFY(log.appendRaw(RunSummaryLog::artifactIndex(QStringLiteral("story"), 1, 25)).isNull());
    // Flushed per line: readable while the log is still open.
    const QStringList lines = readLines(tmp.filePath(QStringLiteral("run-summary.txt")));
    QCOMPARE(lines,
             (QStringList{QStringLiteral("E2E Story-to-Video Run: 20251112-090500"),
                          QStringLiteral("[09:05:07] Story ready: story-1 (scenes=2)"),
                          QStringLiteral("## Artifact Index"), QStringLiteral("Story folder: story"),
                          QStringLiteral("Scenes captured: 1"), QStringLiteral("Total frames copied: 25")}));

    RunSummaryLog realClock;
    QVERIFY(realClock.open(tmp.path(), QStringLiteral("20251112-090500")).isNull());
    QVERIFY(realClock.append(QStringLiteral("hello")).isNull());
    const QString last = readLines(tmp.filePath(QStringLiteral("run-summary.txt"))).constLast();
    QVERIFY2(QRegularExpression(QStringLiteral("^\\[\\d{2}:\\d{2}:\\d{2}\\] hello$")).match(last).hasMatch(),
             qPrintable(last));
}

void TestRunSummaryLog::resumedRunAppends()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    {
        RunSummaryLog log;
        QVERIFY(log.open(tmp.path(), QStringLiteral("r1")).isNull());
        QVERIFY(log.append(QStringLiteral("first session")).isNull());
    }
    RunSummaryLog log;
    QVERIFY(log.open(tmp.path(), QStringLiteral("r1")).isNull());
    QVERIFY(log.append(QStringLiteral("resumed")).isNull());
    const QStringList lines = readLines(tmp.filePath(QStringLiteral("run-summary.txt")));
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines.at(0), QStringLiteral("E2E Story-to-Video Run: r1"));
    QVERIFY(lines.at(1).endsWith(QStringLiteral("] first session")));
    QVERIFY(lines.at(2).endsWith(QStringLiteral("] resumed")));
}

void TestRunSummaryLog::multiLineMessagesStayOneLine()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    RunSummaryLog log;
    QVERIFY(log.open(tmp.path(), QStringLiteral("r")).isNull());
    QVERIFY(
        log.append(RunSummaryLog::error(QStringLiteral("scene-001"), QStringLiteral("node 3:\r\nbad input")))
            .isNull());
    const QStringList lines = readLines(tmp.filePath(QStringLiteral("run-summary.txt")));
    QCOMPARE(lines.size(), 2);
    QVERIFY(lines.at(1).endsWith(QStringLiteral("[Scene scene-001] ERROR: node 3:  bad input")));
}

void TestRunSummaryLog::ioFailureIsReturnedNotFatal()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString blocker = tmp.filePath(QStringLiteral("file"));
    {
        QFile f(blocker);
        QVERIFY(f.open(QIODevice::WriteOnly));
    }
    RunSummaryLog log;
    const gd::Error e = log.open(blocker + QStringLiteral("/run"), QStringLiteral("r"));
    QVERIFY(!e.isNull());
    QCOMPARE(log.lastError().message, e.message);
    QVERIFY(!log.isOpen());
    const gd::Error appendError = log.append(QStringLiteral("lost"));
    QVERIFY(!appendError.isNull());
    QCOMPARE(log.lastError().message, appendError.message);

    // Once a later call succeeds, lastError() clears.
    QVERIFY(log.open(tmp.path(), QStringLiteral("r")).isNull());
    QVERIFY(log.lastError().isNull());
}

void TestRunSummaryLog::diskFullIsReturnedNotFatal()
{
    if (!QFileInfo::exists(QStringLiteral("/dev/full")))
        QSKIP("needs /dev/full to simulate a full disk");
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QVERIFY(QFile::link(QStringLiteral("/dev/full"), tmp.filePath(QStringLiteral("run-summary.txt"))));
    RunSummaryLog log;
    const gd::Error e = log.open(tmp.path(), QStringLiteral("r"));
    QVERIFY(!e.isNull());
    QVERIFY2(e.message.contains(QStringLiteral("run-summary.txt")), qPrintable(e.message));
    QVERIFY(!log.lastError().isNull());
    QVERIFY(!log.append(QStringLiteral("still no crash")).isNull());
}

QTEST_GUILESS_MAIN(TestRunSummaryLog)
#include "tst_runsummarylog.moc"
