#include "pipeline/ResumePlanner.h"
#include "pipeline/RunController.h"
#include "pipeline/RunJournal.h"
#include "telemetry/RecordCodec.h"
#include "telemetry/RunSummaryLog.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace gd;
using namespace gd::pipeline;
using Phase = ResumeScene::Phase;

// A run directory rebuilt from its journal: what a resumed run re-attaches, decides, renders and
// leaves alone — the promise "a finished scene is never rendered twice" starts here.
class TestResumePlanner : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_dir;
    int m_n = 0;

    // A fresh run directory with a two-scene story, a run-summary header and the run entry.
    QString makeRun(const QStringList& summaryLines = {})
    {
        m_dir = m_tmp.filePath(QStringLiteral("run-%1").arg(++m_n));
        QDir().mkpath(m_dir + QStringLiteral("/story"));
        const QJsonObject story{
            {QStringLiteral("storyId"), QStringLiteral("s")},
            {QStringLiteral("title"), QStringLiteral("T")},
            {QStringLiteral("logline"), QStringLiteral("L")},
            {QStringLiteral("directorsVision"), QStringLiteral("V")},
            {QStringLiteral("scenes"),
             QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-001")},
                                    {QStringLiteral("title"), QStringLiteral("One")},
                                    {QStringLiteral("prompt"), QStringLiteral("a lighthouse")}},
                        QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-002")},
                                    {QStringLiteral("title"), QStringLiteral("Two")},
                                    {QStringLiteral("prompt"), QStringLiteral("a storm")}}}}};
        QFile sf(m_dir + QStringLiteral("/story/story.json"));
        sf.open(QIODevice::WriteOnly);
        sf.write(QJsonDocument(story).toJson());
        sf.close();
        QFile log(QDir(m_dir).filePath(telemetry::RunSummaryLog::fileName()));
        log.open(QIODevice::WriteOnly);
        log.write("E2E Story-to-Video Run: r\n[10:00:00] Queue policy: sceneRetries=1, historyMaxWait=30s, "
                  "historyPollInterval=1s, historyMaxAttempts=unbounded, postExecutionTimeout=15s\n");
        for (const QString& l : summaryLines)
            log.write(l.toUtf8() + '\n');
        log.close();
        QueuePolicy policy = QueuePolicy::fastIteration();
        policy.sceneRetryBudget = 2;
        append(
            RunJournal::run(), QString(),
            {{QStringLiteral("Run"), QJsonObject{{QStringLiteral("RunId"), QStringLiteral("r")},
                                                 {QStringLiteral("Workflow"), QStringLiteral("sandbox")}}},
             {QStringLiteral("Scenes"), QJsonArray{QStringLiteral("scene-001"), QStringLiteral("scene-002")}},
             {QStringLiteral("ClientId"), QStringLiteral("client-1")},
             {QStringLiteral("ComfyUrl"), QStringLiteral("http://127.0.0.1:8188")},
             {QStringLiteral("Workflow"), QStringLiteral("sandbox")},
             {QStringLiteral("Policy"), policy.toJson()}});
        return m_dir;
    }
    void append(const QString& type, const QString& scene, const QJsonObject& fields)
    {
        RunJournal j;
        QVERIFY(j.open(m_dir).isNull());
        QVERIFY(j.append(type, scene, fields, false).isNull());
    }
    static QJsonObject submittedFields(int attempt, const QString& promptId)
    {
        return {{QStringLiteral("Attempt"), attempt},
                {QStringLiteral("PromptId"), promptId},
                {QStringLiteral("ClientId"), QStringLiteral("client-1")},
                {QStringLiteral("Backend"), QStringLiteral("http://127.0.0.1:8188")},
                {QStringLiteral("Seed"), 4242.0},
                {QStringLiteral("FramePrefix"), QStringLiteral("gemdirect/r/scene-001_a%1").arg(attempt)}};
    }
    static QJsonObject collectedFields(int attempt, int frames)
    {
        telemetry::AttemptRecord a;
        a.attempt = attempt;
        a.status = frames > 0 ? QStringLiteral("succeeded") : QStringLiteral("failed");
        a.frameCount = frames;
        a.success = frames > 0;
        a.framesDir = QStringLiteral("scene-001/attempt-%1").arg(attempt);
        for (int i = 0; i < frames; ++i)
            a.frames << QStringLiteral("f_%1.png").arg(i);
        a.telemetry.gpu.vramFreeBeforeBytes = 1024LL * 1024 * 1024;
        a.telemetry.fallbackNotes << QStringLiteral("/system_stats unavailable after execution");
        a.telemetry.executionSuccessDetected = true;
        a.telemetry.executionSuccessAt = QDateTime::fromMSecsSinceEpoch(1700000000123LL, Qt::UTC);
        return {{QStringLiteral("Attempt"), attempt},
                {QStringLiteral("Record"), telemetry::RecordCodec::attemptToJson(QString(), a)},
                {QStringLiteral("ExecutionFailed"), frames == 0}};
    }
    static const ResumeScene& first(const ResumePlan& p) { return p.scenes.at(0); }

private Q_SLOTS:
    void noJournalIsNotResumable()
    {
        makeRun();
        QFile::remove(QDir(m_dir).filePath(RunJournal::fileName()));
        QString error;
        QVERIFY(!ResumePlanner::plan(m_dir, &error));
        QVERIFY2(error.contains(QStringLiteral("before its first scene")), qPrintable(error));
    }

    void finishedRunIsReportedAsSuch()
    {
        makeRun({QStringLiteral("## Artifact Index")});
        QString error;
        bool finished = false;
        QVERIFY(!ResumePlanner::plan(m_dir, &error, &finished));
        QVERIFY(finished);
    }

    void untouchedScenesArePending()
    {
        makeRun();
        QString error;
        const auto plan = ResumePlanner::plan(m_dir, &error);
        QVERIFY2(plan, qPrintable(error));
        QCOMPARE(plan->scenes.size(), 2);
        QCOMPARE(plan->count(Phase::Pending), 2);
        QVERIFY(!plan->headerLinesMissing);
        QCOMPARE(plan->header.runId, QStringLiteral("r"));
    }

    void submittedPromptIsReattachedByItsId_data()
    {
        QTest::addColumn<QStringList>("after");
        QTest::newRow("submitted") << QStringList{};
        QTest::newRow("running") << QStringList{RunJournal::running()};
        QTest::newRow("executed") << QStringList{RunJournal::running(), RunJournal::executed()};
        QTest::newRow("collecting") << QStringList{RunJournal::executed(), RunJournal::collecting()};
    }
    void submittedPromptIsReattachedByItsId()
    {
        QFETCH(QStringList, after);
        makeRun();
        append(RunJournal::submitted(), QStringLiteral("scene-001"),
               submittedFields(1, QStringLiteral("p-1")));
        for (const QString& t : after)
            append(t, QStringLiteral("scene-001"),
                   {{QStringLiteral("Attempt"), 1}, {QStringLiteral("PromptId"), QStringLiteral("p-1")}});
        QString error;
        const auto plan = ResumePlanner::plan(m_dir, &error);
        QVERIFY2(plan, qPrintable(error));
        const ResumeScene& s = first(*plan);
        QCOMPARE(s.phase, Phase::Reattach);
        QCOMPARE(s.attach.promptId, QStringLiteral("p-1"));
        QCOMPARE(s.attach.clientId, QStringLiteral("client-1"));
        QCOMPARE(s.attach.seed, qint64(4242));
        QCOMPARE(s.attach.framePrefix, QStringLiteral("gemdirect/r/scene-001_a1"));
        QCOMPARE(s.attach.lastState, after.isEmpty() ? RunJournal::submitted() : after.last());
        QCOMPARE(plan->scenes.at(1).phase, Phase::Pending);
    }

    void collectedAttemptWaitsForItsDecisionWithItsRecord()
    {
        makeRun();
        append(RunJournal::submitted(), QStringLiteral("scene-001"),
               submittedFields(1, QStringLiteral("p-1")));
        append(RunJournal::collected(), QStringLiteral("scene-001"), collectedFields(1, 25));
        QString error;
        const auto plan = ResumePlanner::plan(m_dir, &error);
        QVERIFY2(plan, qPrintable(error));
        const ResumeScene& s = first(*plan);
        QCOMPARE(s.phase, Phase::Decide);
        QVERIFY(s.attemptLineMissing);
        QCOMPARE(s.attempts.size(), 1);
        const auto& a = s.attempts.first();
        QCOMPARE(a.frameCount, 25);
        QCOMPARE(a.frames.size(), 25);
        QCOMPARE(a.telemetry.gpu.vramFreeBeforeBytes, std::optional<qint64>(1024LL * 1024 * 1024));
        QCOMPARE(a.telemetry.fallbackNotes,
                 QStringList{QStringLiteral("/system_stats unavailable after execution")});
        QCOMPARE(a.telemetry.executionSuccessAt, QDateTime::fromMSecsSinceEpoch(1700000000123LL, Qt::UTC));
    }

    void requeuedSceneRendersItsNextAttempt()
    {
        makeRun();
        append(RunJournal::submitted(), QStringLiteral("scene-001"),
               submittedFields(1, QStringLiteral("p-1")));
        append(RunJournal::collected(), QStringLiteral("scene-001"), collectedFields(1, 0));
        append(RunJournal::requeued(), QStringLiteral("scene-001"), {{QStringLiteral("NextAttempt"), 2}});
        QString error;
        const auto plan = ResumePlanner::plan(m_dir, &error);
        QVERIFY2(plan, qPrintable(error));
        QCOMPARE(first(*plan).phase, Phase::Pending);
        QCOMPARE(first(*plan).attempts.size(), 1);
        QVERIFY(first(*plan).requeued);
    }

    void finishedSceneIsNeverRenderedAgain_data()
    {
        QTest::addColumn<bool>("telemetryLineWritten");
        QTest::newRow("lines written") << true;
        QTest::newRow("killed before its lines") << false;
    }
    void finishedSceneIsNeverRenderedAgain()
    {
        QFETCH(bool, telemetryLineWritten);
        makeRun(telemetryLineWritten ? QStringList{QStringLiteral(
                                           "[10:00:05] [Scene scene-001] Telemetry: DurationSeconds=1.0s")}
                                     : QStringList{});
        append(RunJournal::submitted(), QStringLiteral("scene-001"),
               submittedFields(1, QStringLiteral("p-1")));
        append(RunJournal::collected(), QStringLiteral("scene-001"), collectedFields(1, 25));
        append(RunJournal::finalState(), QStringLiteral("scene-001"),
               {{QStringLiteral("Status"), QStringLiteral("succeeded")},
                {QStringLiteral("KeptAttempt"), 0},
                {QStringLiteral("HistoryPath"), QStringLiteral("scene-001/history.json")},
                {QStringLiteral("Warnings"), QJsonArray{QStringLiteral("w")}}});
        QString error;
        const auto plan = ResumePlanner::plan(m_dir, &error);
        QVERIFY2(plan, qPrintable(error));
        const ResumeScene& s = first(*plan);
        QCOMPARE(s.phase, Phase::Done);
        QCOMPARE(s.status, QStringLiteral("succeeded"));
        QCOMPARE(s.keptAttempt, 0);
        QCOMPARE(s.warnings, QStringList{QStringLiteral("w")});
        QCOMPARE(s.finalLinesMissing, !telemetryLineWritten);
    }

    void operatorRequeueAfterTheEndRunsAgainLast()
    {
        makeRun();
        append(RunJournal::collected(), QStringLiteral("scene-001"), collectedFields(1, 0));
        append(RunJournal::finalState(), QStringLiteral("scene-001"),
               {{QStringLiteral("Status"), QStringLiteral("failed")}});
        append(RunJournal::requeued(), QStringLiteral("scene-001"),
               {{QStringLiteral("Operator"), true}, {QStringLiteral("AttemptBase"), 1}});
        QString error;
        const auto plan = ResumePlanner::plan(m_dir, &error);
        QVERIFY2(plan, qPrintable(error));
        QCOMPARE(first(*plan).phase, Phase::Pending);
        QVERIFY(first(*plan).operatorRequeuePending);
        QCOMPARE(first(*plan).attemptBase, 1);
    }

    void tornLastLineIsSkipped()
    {
        makeRun();
        append(RunJournal::submitted(), QStringLiteral("scene-001"),
               submittedFields(1, QStringLiteral("p-1")));
        QFile f(QDir(m_dir).filePath(RunJournal::fileName()));
        QVERIFY(f.open(QIODevice::Append));
        f.write("{\"Type\":\"collected\",\"Scene\":\"scene-0");
        f.close();
        QString error;
        const auto plan = ResumePlanner::plan(m_dir, &error);
        QVERIFY2(plan, qPrintable(error));
        QCOMPARE(plan->problems.size(), 1);
        QCOMPARE(first(*plan).phase, Phase::Reattach);
    }

    void optionsComeFromTheJournalAndTheRunsOwnStory()
    {
        makeRun();
        QString error;
        const auto plan = ResumePlanner::plan(m_dir, &error);
        QVERIFY2(plan, qPrintable(error));
        RunOptions o;
        QVERIFY2(ResumePlanner::applyTo(*plan, &o, &error), qPrintable(error));
        QCOMPARE(o.story.scenes.size(), 2);
        QCOMPARE(o.workflow, QStringLiteral("sandbox"));
        QCOMPARE(o.policy.sceneRetryBudget, 2);
        QCOMPARE(o.policy.maxWaitSeconds, QueuePolicy::fastIteration().maxWaitSeconds);
        QCOMPARE(o.comfyUrl, QUrl(QStringLiteral("http://127.0.0.1:8188")));
        QCOMPARE(o.existingRunDir, QFileInfo(m_dir).absoluteFilePath());
        QVERIFY(o.resume);
    }

    void storyThatNoLongerMatchesIsRefused()
    {
        makeRun();
        QFile sf(m_dir + QStringLiteral("/story/story.json"));
        QVERIFY(sf.open(QIODevice::WriteOnly));
        sf.write(
            R"({"storyId":"s","title":"T","logline":"L","directorsVision":"V","scenes":[{"id":"scene-009","prompt":"x"}]})");
        sf.close();
        QString error;
        const auto plan = ResumePlanner::plan(m_dir, &error);
        QVERIFY(plan);
        RunOptions o;
        QVERIFY(!ResumePlanner::applyTo(*plan, &o, &error));
        QVERIFY2(error.contains(QStringLiteral("no longer matches")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestResumePlanner)
#include "tst_resumeplanner.moc"
