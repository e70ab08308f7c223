// The whole desktop app in --sandbox mode, driven through its widgets as an operator would: the
// resume offer, generating a story, starting the run, cancelling a scene, trying to close mid-run,
// watching the rows finish, rating a scene, and the dashboard's live GPU data.

#include "MainWindow.h"
#include "Studio.h"
#include "SteadyGpuSource.h"
#include "../common/AnswerQuestion.h"

#include "dashboard/DashboardPanel.h"
#include "feedback/FeedbackPanel.h"
#include "gpu/GpuMonitor.h"
#include "pipeline/RunController.h"
#include "pipeline/RunQualityJob.h"
#include "pipeline/RunSession.h"
#include "pipeline/SceneTableModel.h"
#include "pipeline/Settings.h"
#include "pipeline/UnfinishedRunFinder.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"
#include "sandbox/SandboxStandIns.h"
#include "story/StoryPanel.h"
#include "telemetry/RunValidator.h"
#include "watcher/SceneWatcherPanel.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using gd::pipeline::Settings;
using Key = gd::pipeline::Settings::Key;

namespace {

template <typename T> T* child(QObject* parent, const char* name)
{
    T* w = parent->findChild<T*>(QLatin1String(name));
    if (!w)
        qFatal("no child %s", name);
    return w;
}

using gdtest::answerNextQuestion;

QString statusOf(gd::ui::SceneWatcherPanel* watcher, const QString& sceneId)
{
    auto* model = watcher->model();
    const int row = model->rowOf(sceneId);
    return row < 0 ? QString() : model->index(row, 0).data(gd::pipeline::SceneTableModel::StatusNameRole).toString();
}

} // namespace

class TestStudio : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    gd::sandbox::SandboxStandIns m_standIns;
    QString m_runsRoot;
    QString m_historyDb;
    QString m_crashedRun;

    void fillSettings(Settings& settings)
    {
        settings.set(Key::RunsRoot, m_runsRoot);
        settings.set(Key::HistoryDb, m_historyDb);
        // Short waits so a test run takes seconds (the sandbox renders a scene in well under a second).
        settings.set(Key::QueuePreset, QStringLiteral("fastIteration"));
        settings.set(Key::SceneMaxWaitSeconds, 20);
        settings.set(Key::SceneHistoryPollIntervalSeconds, 0.2);
        settings.set(Key::ScenePostExecutionTimeoutSeconds, 3);
        settings.set(Key::SceneDoneMarkerTimeoutSeconds, 1);
        settings.set(Key::StabilityWindowSeconds, 0.3);
        settings.set(Key::StabilityRetries, 2);
        gd::studio::Studio::useStandIns(settings, m_standIns);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_runsRoot = m_dir.filePath(QStringLiteral("runs"));
        m_historyDb = m_dir.filePath(QStringLiteral("history.sqlite"));
        QDir().mkpath(m_runsRoot);
        gd::sandbox::SandboxLlmConfig llm;
        llm.visionModel = true;
        QString error;
        QVERIFY2(m_standIns.start(m_runsRoot, gd::sandbox::SandboxConfig{}, llm, &error), qPrintable(error));

        // A run the app (or the machine) lost mid-way: story copied, one scene recorded, no end block.
        m_crashedRun = m_dir.filePath(QStringLiteral("runs/20261129-230000"));
        QDir().mkpath(m_crashedRun + QStringLiteral("/story"));
        QVERIFY(QFile::copy(QStringLiteral(GD_SOURCE_DIR "/resources/examples/lighthouse.json"),
                            m_crashedRun + QStringLiteral("/story/story.json")));
        QFile summary(m_crashedRun + QStringLiteral("/run-summary.txt"));
        QVERIFY(summary.open(QIODevice::WriteOnly));
        summary.write("Story ready: lighthouse (scenes=5)\n");
        summary.close();
    }

    void cleanupTestCase() { m_standIns.stop(); }

    void unfinishedRunIsOfferedUntilDismissed()
    {
        Settings settings(m_dir.filePath(QStringLiteral("offer.ini")));
        fillSettings(settings);
        gd::studio::Studio studio(settings, nullptr,
                                  std::make_unique<gd::gpu::GpuMonitor>(std::make_unique<gd::test::SteadyGpuSource>()));
        studio.window()->show();
        QSignalSpy offered(&studio, &gd::studio::Studio::unfinishedRunsOffered);
        studio.offerUnfinishedRuns();
        QTRY_COMPARE(offered.count(), 1);
        QCOMPARE(offered.at(0).at(0).toStringList(), QStringList{QFileInfo(m_crashedRun).absoluteFilePath()});
        QMessageBox* box = nullptr;
        QTRY_VERIFY((box = studio.window()->findChild<QMessageBox*>(QStringLiteral("resumeOffer"))) != nullptr);
        QVERIFY(box->text().contains(QStringLiteral("0 of 5 scenes finished")));
        QVERIFY(box->text().contains(QStringLiteral("The Last Lighthouse")));
        child<QPushButton>(box, "resumeDismiss")->click();

        // Dismissed runs are not offered again, also after a restart of the app.
        gd::studio::Studio again(settings, nullptr,
                                 std::make_unique<gd::gpu::GpuMonitor>(std::make_unique<gd::test::SteadyGpuSource>()));
        QSignalSpy offeredAgain(&again, &gd::studio::Studio::unfinishedRunsOffered);
        again.offerUnfinishedRuns();
        QTRY_COMPARE(offeredAgain.count(), 1);
        QVERIFY(offeredAgain.at(0).at(0).toStringList().isEmpty());
    }

    void gpuChartFallsBackToComfyUiSystemStats()
    {
        // No NVML, no nvidia-smi here: the chart takes ComfyUI's /system_stats readings instead of
        // showing "unavailable" (DESIGN.md §5 order of sources).
        class NoGpu : public gd::gpu::GpuSource
        {
        public:
            gd::gpu::GpuSnapshot sample(int) override
            {
                gd::gpu::GpuSnapshot s;
                s.notes << QStringLiteral("NVML: not found") << QStringLiteral("nvidia-smi: not found");
                s.takenAt = QDateTime::currentDateTimeUtc();
                return s;
            }
        };
        Settings settings(m_dir.filePath(QStringLiteral("nogpu.ini")));
        fillSettings(settings);
        auto monitor = std::make_unique<gd::gpu::GpuMonitor>(std::make_unique<NoGpu>());
        monitor->setIntervalMs(200);
        gd::studio::Studio studio(settings, nullptr, std::move(monitor));
        studio.window()->show();
        auto* label = child<QLabel>(studio.dashboardPanel(), "gpuSourceLabel");
        QTRY_COMPARE_WITH_TIMEOUT(studio.dashboardPanel()->gpuHistory().latestSource(), QStringLiteral("system_stats"), 10000);
        // The monitor's empty readings keep coming; they must not flip the chart back to "unavailable".
        QTest::qWait(1000);
        studio.dashboardPanel()->redrawNow();
        QCOMPARE(studio.dashboardPanel()->gpuHistory().latestSource(), QStringLiteral("system_stats"));
        QVERIFY2(label->text().startsWith(QStringLiteral("Source: ")), qPrintable(label->text()));
        QVERIFY(!studio.dashboardPanel()->gpuHistory().points(gd::gpu::GpuWindow::FiveMinutes).isEmpty());
    }

    void generateRunCancelRateInSandbox()
    {
        Settings settings(m_dir.filePath(QStringLiteral("studio.ini")));
        fillSettings(settings);
        auto source = std::make_unique<gd::test::SteadyGpuSource>();
        auto monitor = std::make_unique<gd::gpu::GpuMonitor>(std::move(source));
        monitor->setIntervalMs(100);
        gd::studio::Studio studio(settings, nullptr, std::move(monitor));
        studio.window()->resize(1400, 900);
        studio.window()->show();
        QVERIFY(QTest::qWaitForWindowExposed(studio.window()));

        // 1. Story: idea, three scenes, Generate; the tokens stream in and the table fills.
        auto* story = studio.storyPanel();
        QTest::keyClicks(child<QPlainTextEdit>(story, "ideaEdit"),
                         QStringLiteral("A lighthouse keeper must relight the beacon before the storm"));
        child<QSpinBox>(story, "sceneCountSpin")->setValue(3);
        child<QPushButton>(story, "generateButton")->click();
        QTRY_VERIFY_WITH_TIMEOUT(!story->isGenerating() && story->story().scenes.size() == 3, 60000);

        // 2. Start from the scene watcher; the rows appear.
        auto* watcher = studio.watcherPanel();
        QSignalSpy started(studio.session(), &gd::pipeline::RunSession::runStarted);
        QSignalSpy finished(studio.session(), &gd::pipeline::RunSession::runFinished);
        QSignalSpy judged(studio.session(), &gd::pipeline::RunSession::qualityFinished);
        child<QPushButton>(watcher, "startButton")->click();
        QCOMPARE(started.count(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(watcher->model()->rowCount(), 3, 20000);

        // 3. Cancel the last scene before it renders.
        const QString last = story->story().scenes.last().id;
        watcher->selectScene(last);
        auto* cancelScene = child<QPushButton>(watcher, "cancelSceneButton");
        QTRY_VERIFY(cancelScene->isEnabled());
        cancelScene->click();

        // 4. Closing mid-run asks first; "No" keeps the window and the run.
        if (studio.session()->isRunning()) {
            bool asked = false;
            answerNextQuestion(QMessageBox::No, &asked);
            studio.window()->close();
            QVERIFY(asked);
            QVERIFY(studio.window()->isVisible());
        }

        // 5. The run ends: two scenes done, one cancelled (exit 1: not every scene succeeded).
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
        QCOMPARE(finished.at(0).at(0).toInt(), 1);
        const QString runDir = finished.at(0).at(2).toString();
        const QStringList ids = {story->story().scenes[0].id, story->story().scenes[1].id};
        for (const QString& id : ids)
            QCOMPARE(statusOf(watcher, id), QStringLiteral("done"));
        QCOMPARE(statusOf(watcher, last), QStringLiteral("cancelled"));
        QVERIFY2(gd::telemetry::RunValidator::validate(runDir).passed(),
                 qPrintable(gd::telemetry::RunValidator::validate(runDir).errors.join(QLatin1Char('\n'))));
        QVERIFY(!gd::pipeline::UnfinishedRunFinder::inspect(runDir).has_value());

        // 6. The end-of-run quality step writes QualityMetrics.
        QTRY_COMPARE_WITH_TIMEOUT(judged.count(), 1, 120000);
        QJsonObject artifact;
        {
            QFile f(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
            QVERIFY(f.open(QIODevice::ReadOnly));
            artifact = QJsonDocument::fromJson(f.readAll()).object();
        }
        QVERIFY(artifact.value(QStringLiteral("QualityMetrics")).isObject());
        // ... and the dashboard following the run picks them up (the judge's KPI tile is no longer grey).
        const auto judgeStatus = [&studio] {
            for (const auto& k : studio.dashboardPanel()->figures().kpis)
                if (k.id == QLatin1String("coherence-judge"))
                    return k.status;
            return QString();
        };
        QTRY_VERIFY_WITH_TIMEOUT(!judgeStatus().isEmpty() && judgeStatus() != QLatin1String("UNMEASURED"), 20000);

        // 7. Rate the first scene in the feedback panel: 4 stars and a comment, saved.
        auto* feedback = studio.feedbackPanel();
        QSignalSpy saved(feedback, &gd::ui::FeedbackPanel::ratingSaved);
        watcher->selectScene(ids[0]);
        auto* stars = feedback->findChild<QWidget*>(QStringLiteral("stars"));
        QVERIFY(stars);
        QTRY_VERIFY(stars->isEnabled());
        stars->setFocus();
        QTest::keyClick(stars, Qt::Key_4);
        QTest::keyClicks(child<QPlainTextEdit>(feedback, "comment"), QStringLiteral("beam sweep looks right"));
        child<QPushButton>(feedback, "saveButton")->click();
        QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 1, 20000);

        // ... in the history database (a fresh connection) ...
        {
            auto db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("check"));
            db.setDatabaseName(m_historyDb);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("SELECT stars, comment FROM feedback WHERE scene_id = '%1'").arg(ids[0])));
            QVERIFY(q.next());
            QCOMPARE(q.value(0).toInt(), 4);
            QCOMPARE(q.value(1).toString(), QStringLiteral("beam sweep looks right"));
        }
        QSqlDatabase::removeDatabase(QStringLiteral("check"));
        // ... and in the run's artifact, which still validates.
        {
            QFile f(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QJsonArray fb = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("Feedback")).toArray();
            QCOMPARE(fb.size(), 1);
            QCOMPARE(fb.at(0).toObject().value(QStringLiteral("SceneId")).toString(), ids[0]);
            QCOMPARE(fb.at(0).toObject().value(QStringLiteral("Stars")).toInt(), 4);
        }
        QVERIFY(gd::telemetry::RunValidator::validate(runDir).passed());

        // 8. The dashboard received live GPU samples and charts this run's scenes.
        QVERIFY(studio.dashboardPanel()->gpuHistory().samplesAdded() > 0);

        // 9. With the run over, closing only asks about the generated story, which was never saved.
        bool asked = false;
        answerNextQuestion(QMessageBox::Discard, &asked);
        studio.window()->close();
        QVERIFY(asked);
        QVERIFY(!studio.window()->isVisible());
    }

    void qualityStepCanBeCancelledFromTheStatusBar()
    {
        // The judges' LLM takes a minute per answer, so the quality step is still judging when Cancel is clicked.
        gd::sandbox::SandboxLlmConfig slow;
        slow.visionModel = true;
        slow.firstTokenDelayMs = 60000;
        gd::sandbox::SandboxLlmHost judge;
        QString error;
        QVERIFY2(judge.start(slow, 0, &error), qPrintable(error));
        Settings settings(m_dir.filePath(QStringLiteral("cancel-quality.ini")));
        fillSettings(settings);
        settings.setSessionOverride(Key::LlmUrl, judge.url().toString());
        gd::studio::Studio studio(settings, nullptr,
                                  std::make_unique<gd::gpu::GpuMonitor>(std::make_unique<gd::test::SteadyGpuSource>()));
        studio.window()->resize(1400, 900);
        studio.window()->show();
        QVERIFY(QTest::qWaitForWindowExposed(studio.window()));
        auto* progress = child<QWidget>(studio.window(), "qualityProgress");
        auto* cancel = child<QPushButton>(studio.window(), "cancelQualityButton");
        QVERIFY(progress->isHidden()); // nothing long going on yet

        studio.storyPanel()->openStory(QStringLiteral(GD_SOURCE_DIR "/resources/examples/lighthouse.json"));
        QTRY_COMPARE_WITH_TIMEOUT(studio.storyPanel()->story().scenes.size(), 5, 20000);
        QSignalSpy finished(studio.session(), &gd::pipeline::RunSession::runFinished);
        QSignalSpy judged(studio.session(), &gd::pipeline::RunSession::qualityFinished);
        child<QPushButton>(studio.watcherPanel(), "startButton")->click();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
        const QString runDir = finished.at(0).at(2).toString();

        // The quality step shows in the status bar with an enabled Cancel while the judges wait on the LLM.
        QTRY_VERIFY_WITH_TIMEOUT(progress->isVisible() && cancel->isEnabled(), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(judge.server()->chatRequestCount() >= 1, 20000);
        QVERIFY(judged.isEmpty());
        QTest::mouseClick(cancel, Qt::LeftButton);

        // It ends long before the LLM's answer would: the request was aborted.
        QTRY_COMPARE_WITH_TIMEOUT(judged.count(), 1, 20000);
        const auto result = judged.at(0).at(1).value<gd::pipeline::RunQualityResult>();
        QVERIFY(result.cancelled);
        QVERIFY(progress->isHidden());
        QVERIFY2(studio.window()->statusBar()->currentMessage().contains(QStringLiteral("cancelled by the operator")),
                 qPrintable(studio.window()->statusBar()->currentMessage()));
        // The artifact keeps valid content: the judge metrics UNMEASURED with the reason, the others written.
        QFile f(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject q = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("QualityMetrics")).toObject();
        QVERIFY(q.value(QStringLiteral("Unmeasured"))
                    .toArray()
                    .contains(QStringLiteral("CoherenceJudgeScore: cancelled by the operator")));
        QCOMPARE(q.value(QStringLiteral("ScenesRun")).toInt(), 5);
        QVERIFY(gd::telemetry::RunValidator::validate(runDir).passed());
    }
};

QTEST_MAIN(TestStudio)
#include "tst_studio.moc"
