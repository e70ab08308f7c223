// The storyboard in the assembled desktop app (--sandbox): the "Storyboard" dock tabified with the
// story, File > New storyboard from the story panel's story, the sandbox image profiles, and the
// scene watcher following the render run of a stage, and the close guard while a stage runs.
#include "../common/AnswerQuestion.h"
#include "MainWindow.h"
#include "Studio.h"

#include "pipeline/RunController.h"
#include "pipeline/SceneTableModel.h"
#include "pipeline/Settings.h"
#include "sandbox/SandboxStandIns.h"
#include "story/StoryPanel.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardPanel.h"
#include "storyboard/StoryboardState.h"
#include "storyboard/StoryboardTile.h"
#include "watcher/SceneWatcherPanel.h"

#include <QAction>
#include <QDockWidget>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using gd::pipeline::Settings;
using Key = gd::pipeline::Settings::Key;
using gd::storyboard::StoryboardController;
using gd::storyboard::StoryboardStage;

using gdtest::answerNextQuestion;

class TestStoryboardStudio : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    gd::sandbox::SandboxStandIns m_standIns;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QDir().mkpath(m_dir.filePath(QStringLiteral("runs")));
        gd::sandbox::SandboxLlmConfig llm;
        llm.visionModel = true;
        QString error;
        QVERIFY2(m_standIns.start(m_dir.filePath(QStringLiteral("runs")), gd::sandbox::SandboxConfig{}, llm, &error),
                 qPrintable(error));
    }

    void storyboardDockRendersThroughTheSandboxAndFeedsTheWatcher()
    {
        Settings settings(m_dir.filePath(QStringLiteral("studio.ini")));
        settings.set(Key::RunsRoot, m_dir.filePath(QStringLiteral("runs")));
        settings.set(Key::HistoryDb, m_dir.filePath(QStringLiteral("history.sqlite")));
        settings.set(Key::QueuePreset, QStringLiteral("fastIteration"));
        settings.set(Key::SceneMaxWaitSeconds, 20);
        settings.set(Key::SceneHistoryPollIntervalSeconds, 0.2);
        settings.set(Key::ScenePostExecutionTimeoutSeconds, 3);
        settings.set(Key::SceneDoneMarkerTimeoutSeconds, 1);
        settings.set(Key::StabilityWindowSeconds, 0.3);
        settings.set(Key::StabilityRetries, 2);
        gd::studio::Studio::useStandIns(settings, m_standIns);
        gd::studio::Studio studio(settings, nullptr);
        studio.window()->resize(1600, 1000);
        studio.window()->show();

        // The dock sits as a tab beside the story panel; File offers New / Open storyboard.
        QDockWidget* dock = studio.window()->dock(QStringLiteral("storyboardDock"));
        QVERIFY(dock);
        QCOMPARE(dock->widget(), studio.storyboardPanel());
        QVERIFY(studio.window()->tabifiedDockWidgets(dock).contains(studio.window()->dock(QStringLiteral("storyDock"))));
        QVERIFY(studio.window()->menuBar()->findChild<QAction*>(QStringLiteral("actionNewStoryboard")));
        QVERIFY(studio.window()->menuBar()->findChild<QAction*>(QStringLiteral("actionOpenStoryboard")));
        // --sandbox: the stand-in's image profiles.
        QCOMPARE(studio.storyboard()->options().keyframeProfile, QStringLiteral("sandbox-keyframe"));
        QCOMPARE(studio.storyboard()->options().sheetProfile, QStringLiteral("sandbox-reference-sheet"));
        QCOMPARE(studio.storyboard()->options().videoProfile, QStringLiteral("sandbox-i2v"));

        // No story yet: nothing is made, the status bar says why.
        QVERIFY(!studio.newStoryboard(m_dir.filePath(QStringLiteral("board-empty"))));

        studio.storyPanel()->openStory(QStringLiteral(GD_TEST_DATA_DIR "/storyboardpanel/story.json"));
        QTRY_COMPARE_WITH_TIMEOUT(studio.storyPanel()->story().scenes.size(), 2, 10000); // read off the GUI thread
        const QString dir = m_dir.filePath(QStringLiteral("board"));
        QVERIFY(studio.newStoryboard(dir));
        QVERIFY(studio.storyboardPanel()->referenceTile(QStringLiteral("character:Mara Voss#default")));
        QVERIFY(studio.storyboardPanel()->shotTile(QStringLiteral("scene-002/shot-01")));

        // A stage's render run is what the scene watcher shows.
        QSignalSpy finished(studio.storyboard(), &StoryboardController::stageFinished);
        QSignalSpy runs(studio.storyboard(), &StoryboardController::runStarted);
        QTest::mouseClick(studio.storyboardPanel()->stageButton(StoryboardStage::References), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(runs.count(), 1, 20000);
        auto* run = runs.first().at(0).value<gd::pipeline::RunController*>();
        QCOMPARE(studio.watcherPanel()->controller(), run);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(finished.first().at(1).toInt(), 0);
        // Two sheets × three candidates: one watcher row per candidate render.
        QCOMPARE(studio.watcherPanel()->model()->rowCount(), 6);
        QCOMPARE(studio.storyboardPanel()->referenceTile(QStringLiteral("character:Tom Reed#default"))->data().candidates.size(), 3);
    }

    // Closing the window while a storyboard stage renders asks first, like a running render run: "No"
    // keeps the window and the stage; "Yes" cancels the stage, and the window closes once it has
    // stopped, leaving a storyboard.json that loads.
    void closingDuringAStageAsksAndCancelsIt()
    {
        Settings settings(m_dir.filePath(QStringLiteral("studio-close.ini")));
        settings.set(Key::RunsRoot, m_dir.filePath(QStringLiteral("runs")));
        settings.set(Key::HistoryDb, m_dir.filePath(QStringLiteral("history-close.sqlite")));
        settings.set(Key::QueuePreset, QStringLiteral("fastIteration"));
        gd::studio::Studio::useStandIns(settings, m_standIns);
        gd::studio::Studio studio(settings, nullptr);
        studio.window()->show();
        studio.storyPanel()->openStory(QStringLiteral(GD_TEST_DATA_DIR "/storyboardpanel/story.json"));
        QTRY_COMPARE_WITH_TIMEOUT(studio.storyPanel()->story().scenes.size(), 2, 10000);
        const QString dir = m_dir.filePath(QStringLiteral("board-close"));
        QVERIFY(studio.newStoryboard(dir));

        QSignalSpy finished(studio.storyboard(), &StoryboardController::stageFinished);
        QSignalSpy runs(studio.storyboard(), &StoryboardController::runStarted);
        studio.storyboard()->start(StoryboardStage::References);
        QTRY_COMPARE_WITH_TIMEOUT(runs.count(), 1, 20000);
        QVERIFY(studio.storyboard()->isBusy());

        bool asked = false;
        answerNextQuestion(QMessageBox::No, &asked);
        studio.window()->close();
        QVERIFY(asked);
        QVERIFY(studio.window()->isVisible());
        QVERIFY(studio.storyboard()->isBusy());

        asked = false;
        answerNextQuestion(QMessageBox::Yes, &asked);
        studio.window()->close();
        QVERIFY(asked);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
        QCOMPARE(finished.first().at(1).toInt(), 130);
        QTRY_VERIFY(!studio.window()->isVisible());
        gd::storyboard::StoryboardState state;
        const gd::Error e = gd::storyboard::StoryboardState::load(dir, state);
        QVERIFY2(e.isNull(), qPrintable(e.message));
    }
};

QTEST_MAIN(TestStoryboardStudio)
#include "tst_storyboardstudio.moc"
