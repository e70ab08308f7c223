#include "RunHarness.h"
#include "pipeline/RunSession.h"
#include "pipeline/Settings.h"

#include <QFile>
#include <QSignalSpy>

using namespace gd;

// The desktop app's path to resume: RunSession::resume on a run directory a crash left behind,
// with the token, history database and profile folders from the settings.
class TestRunSessionResume : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void resumesWhatTheCrashLeft()
    {
        RunHarness h;
        h.config.stepDelayMs = 5;
        QVERIFY(h.startServer());
        pipeline::RunOptions opt;
        opt.story = makeStory(3, 8);
        opt.runsRoot = h.root.filePath(QStringLiteral("runs"));
        opt.comfyUrl = h.host.url();
        opt.comfyOutputDir = h.config.outputDir;
        opt.workflow = QStringLiteral("sandbox");
        opt.policy = testPolicy();

        // The app goes down with scene-001 done and scene-002 on the server.
        auto* first = new pipeline::RunController(opt, nullptr);
        QEventLoop loop;
        int done = 0;
        bool secondOnServer = false;
        // Scene-002 can reach the server's queue just before or just after scene-001's record is
        // final (the next submission may race the finishing signal): stop once both have happened.
        const auto crashWhenReady = [&] {
            if (done >= 1 && secondOnServer)
                QTimer::singleShot(0, &loop, &QEventLoop::quit);
        };
        QObject::connect(first, &pipeline::RunController::sceneFinished, [&](const telemetry::SceneRecord&) {
            ++done;
            crashWhenReady();
        });
        QObject::connect(first, &pipeline::RunController::attemptState,
                         [&](const QString& sceneId, pipeline::SceneAttempt::State s) {
                             // Queued, or straight to Running when the server starts it at once.
                             if (sceneId != opt.story.scenes.first().id &&
                                 (s == pipeline::SceneAttempt::State::Queued || s == pipeline::SceneAttempt::State::Running))
                                 secondOnServer = true;
                             crashWhenReady();
                         });
        QTimer::singleShot(0, first, &pipeline::RunController::start);
        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
        loop.exec();
        const QString runDir = first->runDir();
        delete first;
        QCOMPARE(done, 1);

        pipeline::Settings settings(h.root.filePath(QStringLiteral("studio.ini")));
        settings.set(pipeline::Settings::Key::ComfyUrl, h.host.url().toString());
        settings.set(pipeline::Settings::Key::HistoryDb, h.root.filePath(QStringLiteral("history.sqlite")));
        pipeline::RunSession session(settings, nullptr);
        QSignalSpy finished(&session, &pipeline::RunSession::runFinished);
        QString error;
        QVERIFY2(session.resume(runDir, &error), qPrintable(error));
        QVERIFY(session.isRunning());
        QString again;
        QVERIFY(!session.resume(runDir, &again)); // one run at a time
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(finished.at(0).at(0).toInt(), 0);
        QCOMPARE(finished.at(0).at(2).toString(), runDir);
        const auto& rec = session.controller()->record();
        QCOMPARE(rec.scenes.size(), 3);
        for (const auto& s : rec.scenes) {
            QCOMPARE(s.status, QStringLiteral("succeeded"));
            QCOMPARE(s.attempts.size(), 1); // nothing rendered twice
        }
        QVERIFY(telemetry::RunValidator::validate(runDir).passed());

        // Finished now: nothing left to resume.
        QVERIFY(!session.resume(runDir, &error));
        QVERIFY2(error.contains(QStringLiteral("already finished")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestRunSessionResume)
#include "tst_runsessionresume.moc"
