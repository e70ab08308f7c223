#include "RunHarness.h"

#include "store/Database.h"
#include "store/FeedbackService.h"

#include <QFile>
#include <QJsonDocument>
#include <QTest>

using gd::pipeline::RunController;

namespace {

gd::sandbox::FaultRule fault(const QString& spec)
{
    QString e;
    auto f = gd::sandbox::FaultRule::parse(spec, &e);
    if (!f)
        qFatal("bad fault spec %s: %s", qPrintable(spec), qPrintable(e));
    return *f;
}

QString summaryOf(const RunOutcome& o)
{
    QFile f(QDir(o.runDir).filePath(QStringLiteral("run-summary.txt")));
    f.open(QIODevice::ReadOnly);
    return QString::fromUtf8(f.readAll());
}

QJsonObject artifactOf(const RunOutcome& o)
{
    QFile f(QDir(o.runDir).filePath(QStringLiteral("artifact-metadata.json")));
    f.open(QIODevice::ReadOnly);
    return QJsonDocument::fromJson(f.readAll()).object();
}

QString validationErrors(const RunOutcome& o)
{
    const auto v = gd::telemetry::RunValidator::validate(o.runDir);
    return v.exitCode == 0 ? QString() : v.errors.join(QLatin1Char('\n'));
}

} // namespace

// The operator's run controls on RunController against the sandbox: pause the queue, cancel one
// scene (running or not started yet), requeue a finished scene, and ratings made while the run
// is still writing its artifact.
class TestRunControls : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pauseHoldsTheNextSceneUntilResumed()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        QStringList started;
        QStringList messages;
        bool resumed = false;
        bool startedWhilePaused = false;
        const RunOutcome o = h.run(makeStory(3, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000,
                                   [&](RunController* c) {
                                       QObject::connect(c, &RunController::message, c,
                                                        [&](const QString& m) { messages << m; });
                                       QObject::connect(c, &RunController::attemptStarted, c,
                                                        [&, c](const QString& id, int, int) {
                                                            started << id;
                                                            if (c->isQueuePaused())
                                                                startedWhilePaused = true;
                                                            if (id == QLatin1String("scene-001"))
                                                                c->setQueuePaused(true);
                                                        });
                                       QObject::connect(c, &RunController::sceneFinished, c,
                                                        [&, c](const gd::telemetry::SceneRecord& s) {
                                                            if (s.sceneId != QLatin1String("scene-001"))
                                                                return;
                                                            QTimer::singleShot(1500, c, [&, c] {
                                                                // Nothing new was submitted while paused.
                                                                QCOMPARE(started.size(), 1);
                                                                resumed = true;
                                                                c->setQueuePaused(false);
                                                            });
                                                        });
                                   });
        QCOMPARE(o.exitCode, 0);
        QVERIFY(resumed);
        QVERIFY(!startedWhilePaused);
        QCOMPARE(started, (QStringList{QStringLiteral("scene-001"), QStringLiteral("scene-002"),
                                       QStringLiteral("scene-003")}));
        QVERIFY2(messages.join(QLatin1Char('\n')).contains(QStringLiteral("Queue paused: scene-002 waits")),
                 qPrintable(messages.join(QLatin1Char('\n'))));
        QVERIFY2(validationErrors(o).isEmpty(), qPrintable(validationErrors(o)));
    }

    void cancelRunningSceneGoesOnWithTheNext()
    {
        RunHarness h;
        h.config.stepDelayMs = 60;
        QVERIFY(h.startServer());
        QStringList cancelled;
        const RunOutcome o = h.run(makeStory(3, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000,
                                   [&](RunController* c) {
                                       QObject::connect(c, &RunController::sceneState, c,
                                                        [c](const QString& id, const QString& state) {
                                                            if (id == QLatin1String("scene-002") &&
                                                                state == QLatin1String("running"))
                                                                QVERIFY(c->cancelScene(id));
                                                        });
                                       QObject::connect(c, &RunController::sceneCancelled, c,
                                                        [&](const QString& id) { cancelled << id; });
                                   });
        QCOMPARE(o.exitCode, 1); // not every scene succeeded
        QCOMPARE(cancelled, QStringList{QStringLiteral("scene-002")});
        QCOMPARE(o.record.scenes.at(0).status, QStringLiteral("succeeded"));
        QCOMPARE(o.record.scenes.at(1).status, QStringLiteral("cancelled"));
        QCOMPARE(o.record.scenes.at(1).attempts.size(), 1); // cancelled is never requeued
        QCOMPARE(o.record.scenes.at(2).status, QStringLiteral("succeeded"));
        QCOMPARE(o.record.scenes.at(2).kept()->frameCount, 4);
        QVERIFY(summaryOf(o).contains(QStringLiteral("[Scene scene-002] ERROR: Cancelled by the operator")));
        QVERIFY2(validationErrors(o).isEmpty(), qPrintable(validationErrors(o)));
    }

    void cancelQueuedSceneSkipsIt()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        QStringList started;
        bool secondCancelRefused = false;
        const RunOutcome o = h.run(makeStory(3, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000,
                                   [&](RunController* c) {
                                       QObject::connect(c, &RunController::attemptStarted, c,
                                                        [&, c](const QString& id, int, int) {
                                                            started << id;
                                                            if (id == QLatin1String("scene-001")) {
                                                                QVERIFY(c->cancelScene(QStringLiteral("scene-003")));
                                                                secondCancelRefused =
                                                                    !c->cancelScene(QStringLiteral("scene-003"));
                                                            }
                                                        });
                                   });
        QCOMPARE(o.exitCode, 1);
        QVERIFY(secondCancelRefused);
        QCOMPARE(started, (QStringList{QStringLiteral("scene-001"), QStringLiteral("scene-002")}));
        QCOMPARE(o.record.scenes.at(2).status, QStringLiteral("cancelled"));
        QVERIFY(o.record.scenes.at(2).attempts.isEmpty());
        QVERIFY(summaryOf(o).contains(QStringLiteral("[Scene scene-003] ERROR: Cancelled before it was rendered")));
        QCOMPARE(h.host.server()->promptPostCount(), 2);
        QVERIFY2(validationErrors(o).isEmpty(), qPrintable(validationErrors(o)));
    }

    void requeueFailedSceneRunsItAgainLast()
    {
        RunHarness h;
        h.config.faults << fault(QStringLiteral("zero-frames:scene-001_a1"));
        QVERIFY(h.startServer());
        gd::pipeline::QueuePolicy policy = testPolicy();
        policy.sceneRetryBudget = 0; // the failure is final until the operator requeues
        QStringList started;
        bool requeueOfSucceededRefused = false;
        const RunOutcome o = h.run(makeStory(2, 4), policy, QStringLiteral("sandbox"), {}, 60000,
                                   [&](RunController* c) {
                                       QObject::connect(c, &RunController::attemptStarted, c,
                                                        [&](const QString& id, int attempt, int max) {
                                                            started << QStringLiteral("%1#%2/%3").arg(id).arg(attempt).arg(max);
                                                        });
                                       QObject::connect(c, &RunController::sceneFinished, c,
                                                        [&, c](const gd::telemetry::SceneRecord& s) {
                                                            if (s.sceneId == QLatin1String("scene-001") &&
                                                                s.status == QLatin1String("failed")) {
                                                                QVERIFY(c->canRequeueScene(s.sceneId));
                                                                QVERIFY(c->requeueScene(s.sceneId));
                                                                QVERIFY(!c->requeueScene(s.sceneId));
                                                            }
                                                            if (s.sceneId == QLatin1String("scene-002"))
                                                                requeueOfSucceededRefused = !c->requeueScene(s.sceneId);
                                                        });
                                   });
        QCOMPARE(o.exitCode, 0);
        QVERIFY(requeueOfSucceededRefused);
        QCOMPARE(started, (QStringList{QStringLiteral("scene-001#1/1"), QStringLiteral("scene-002#1/1"),
                                       QStringLiteral("scene-001#2/2")}));
        const auto& s1 = o.record.scenes.at(0);
        QCOMPARE(s1.status, QStringLiteral("succeeded"));
        QCOMPARE(s1.attempts.size(), 2);
        QCOMPARE(s1.attempts.at(0).frameCount, 0);
        QCOMPARE(s1.kept()->attempt, 2);
        QVERIFY(QFile::exists(QDir(o.runDir).filePath(QStringLiteral("scene-001/attempt-2"))));
        const QString summary = summaryOf(o);
        QVERIFY2(summary.contains(QStringLiteral(
                     "[Scene scene-001] Requeue requested (next attempt 2/2) reason: operator requeue")),
                 qPrintable(summary));
        QVERIFY(summary.contains(QStringLiteral("Scene summary: 2/2 succeeded | total frames=8 | requeues=1")));
        const QJsonObject scene = artifactOf(o).value(QStringLiteral("Scenes")).toArray().at(0).toObject();
        QCOMPARE(scene.value(QStringLiteral("AttemptsRun")).toInt(), 2);
        QCOMPARE(scene.value(QStringLiteral("Requeued")).toBool(), true);
        QCOMPARE(scene.value(QStringLiteral("FrameCount")).toInt(), 4);
        QVERIFY(scene.value(QStringLiteral("Errors")).toArray().isEmpty());
        QVERIFY2(validationErrors(o).isEmpty(), qPrintable(validationErrors(o)));
    }

    void requeueCancelledSceneAfterTheRest()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        QStringList started;
        const RunOutcome o = h.run(makeStory(3, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000,
                                   [&](RunController* c) {
                                       QObject::connect(c, &RunController::attemptStarted, c,
                                                        [&, c](const QString& id, int, int) {
                                                            started << id;
                                                            if (id == QLatin1String("scene-001")) {
                                                                QVERIFY(c->cancelScene(QStringLiteral("scene-002")));
                                                                QVERIFY(c->requeueScene(QStringLiteral("scene-002")));
                                                            }
                                                        });
                                   });
        QCOMPARE(o.exitCode, 0);
        QCOMPARE(started, (QStringList{QStringLiteral("scene-001"), QStringLiteral("scene-003"),
                                       QStringLiteral("scene-002")}));
        QCOMPARE(o.record.scenes.at(1).status, QStringLiteral("succeeded"));
        QVERIFY(o.record.scenes.at(1).requeued);
        QVERIFY(o.record.scenes.at(1).errors.isEmpty());
        QVERIFY2(validationErrors(o).isEmpty(), qPrintable(validationErrors(o)));
    }

    void ratingDuringTheRunSurvivesLaterArtifactWrites()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        const QString dbPath = h.root.filePath(QStringLiteral("history.sqlite"));
        gd::store::Database db;
        QVERIFY(db.open(dbPath).isNull());
        gd::store::FeedbackService feedback(db);
        const RunOutcome o = h.run(
            makeStory(2, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000,
            [&](RunController* c) {
                QObject::connect(c, &RunController::sceneFinished, c, [&, c](const gd::telemetry::SceneRecord& s) {
                    if (s.sceneId == QLatin1String("scene-001")) {
                        const gd::Error e = feedback.rate(c->runDir(), s.sceneId, 4, 3, QStringLiteral("moody"));
                        QVERIFY2(e.isNull(), qPrintable(e.message));
                    }
                });
            },
            [&](gd::pipeline::RunOptions& opt) { opt.historyDatabase = dbPath; });
        QCOMPARE(o.exitCode, 0);
        const QJsonArray ratings = artifactOf(o).value(QStringLiteral("Feedback")).toArray();
        QCOMPARE(ratings.size(), 1);
        QCOMPARE(ratings.at(0).toObject().value(QStringLiteral("Stars")).toInt(), 4);
        QVector<gd::store::Rating> stored;
        QVERIFY(feedback.ratingsOf(o.runDir, stored).isNull());
        QCOMPARE(stored.size(), 1);
        QCOMPARE(stored.at(0).comment, QStringLiteral("moody"));
        QVERIFY2(validationErrors(o).isEmpty(), qPrintable(validationErrors(o)));
    }
};

QTEST_GUILESS_MAIN(TestRunControls)
#include "tst_runcontrols.moc"
