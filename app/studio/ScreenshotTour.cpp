#include "ScreenshotTour.h"

#include "MainWindow.h"
#include "Studio.h"

#include "common/Log.h"
#include "dashboard/DashboardPanel.h"
#include "feedback/FeedbackPanel.h"
#include "feedback/StarRating.h"
#include "log/LogPanel.h"
#include "pipeline/RunController.h"
#include "pipeline/RunSession.h"
#include "pipeline/Settings.h"
#include "pipeline/SceneTableModel.h"
#include "settings/SettingsDialog.h"
#include "store/RunHistoryModel.h"
#include "story/StoryPanel.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardGridModel.h"
#include "storyboard/StoryboardPanel.h"
#include "storyboard/StoryboardTile.h"
#include "watcher/SceneWatcherPanel.h"

#include <QCheckBox>
#include <QDir>
#include <QDockWidget>
#include <QLabel>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>

namespace gd::studio {

namespace {
// How often the tour looks at the app; also the gap between two shots, so layout changes made for a shot
// (a floated dock, hidden docks) are laid out by the event loop before the grab.
constexpr int kPollMs = 50;
// After a failure mid-run, how long the cancelled run gets to write its artifacts before the app quits.
constexpr int kCancelGraceMs = 30000;
// A rendering scene counts as "mid-way" in this progress range, so the shot shows a partly filled bar.
constexpr double kMinRunningProgress = 0.15;
constexpr double kMaxRunningProgress = 0.8;
// Tall enough for the GPU chart, both run charts and every KPI tile without scrolling.
constexpr QSize kDashboardShot(1300, 1120);

using SceneStatus = pipeline::SceneTableModel::SceneStatus;

template <typename T>
T* child(QWidget* parent, const char* name)
{
    return parent ? parent->findChild<T*>(QLatin1String(name)) : nullptr;
}
} // namespace

ScreenshotTour::ScreenshotTour(Studio& studio, Options options, QObject* parent)
    : QObject(parent), m_studio(studio), m_options(std::move(options)), m_poll(new QTimer(this))
{
    m_poll->setInterval(kPollMs);
    connect(m_poll, &QTimer::timeout, this, &ScreenshotTour::poll);

    pipeline::RunSession* session = m_studio.session();
    connect(session, &pipeline::RunSession::runFinished, this, [this](int exitCode, const QString& text, const QString&) {
        m_runFinished = true;
        m_runExitCode = exitCode;
        m_runMessage = text;
    });
    connect(session, &pipeline::RunSession::qualityFinished, this, [this] { m_qualityFinished = true; });
    connect(m_studio.feedbackPanel(), &ui::FeedbackPanel::ratingSaved, this,
            [this](const QString&, const QString& sceneId) {
                if (sceneId == m_ratedScene)
                    m_ratingSaved = true;
            });
    connect(m_studio.feedbackPanel(), &ui::FeedbackPanel::saveFailed, this,
            [this](const QString& message) { m_saveError = message; });
}

ScreenshotTour::~ScreenshotTour()
{
    closeSettingsDialog();
}

void ScreenshotTour::start()
{
    if (!QDir().mkpath(m_options.outputDir)) {
        // Reported from the event loop, so the caller's connections see it like any other outcome.
        QTimer::singleShot(0, this, [this] {
            finish(1, QStringLiteral("cannot create the screenshot folder %1")
                          .arg(QDir::toNativeSeparators(m_options.outputDir)));
        });
        return;
    }
    m_studio.window()->resize(m_options.windowSize);
    buildSteps();
    m_current = 0;
    m_stepClock.start();
    log::get("app")->info("screenshots: tour started, PNGs go to {}", m_options.outputDir.toStdString());
    m_poll->start();
}

void ScreenshotTour::addStep(const QString& name, std::function<bool()> ready, std::function<void()> act,
                             std::function<QString()> failWhen, int timeoutMs)
{
    m_steps.append(Step{name, std::move(ready), std::move(act), std::move(failWhen),
                        timeoutMs > 0 ? timeoutMs : m_options.stepTimeoutMs});
}

void ScreenshotTour::addAction(const QString& name, std::function<void()> act)
{
    addStep(name, [] { return true; }, std::move(act));
}

void ScreenshotTour::buildSteps()
{
    MainWindow* window = m_studio.window();
    ui::StoryPanel* story = m_studio.storyPanel();
    ui::SceneWatcherPanel* watcher = m_studio.watcherPanel();
    ui::FeedbackPanel* feedback = m_studio.feedbackPanel();
    ui::DashboardPanel* dashboard = m_studio.dashboardPanel();
    pipeline::RunSession* session = m_studio.session();
    const auto runEndedEarly = [this]() -> QString {
        if (!m_runFinished)
            return {};
        return QStringLiteral("the run ended before the shots were taken (exit %1): %2").arg(m_runExitCode).arg(m_runMessage);
    };

    addStep(
        QStringLiteral("story panel ready (prompt templates loaded)"),
        [story] {
            auto* generate = child<QPushButton>(story, "generateButton");
            return generate && generate->isEnabled();
        },
        [this, story] {
            // Filled in as the operator would; generate() is what the Generate button calls.
            auto* idea = child<QPlainTextEdit>(story, "ideaEdit");
            auto* scenes = child<QSpinBox>(story, "sceneCountSpin");
            auto* seedCheck = child<QCheckBox>(story, "seedCheck");
            auto* seed = child<QSpinBox>(story, "seedSpin");
            if (!idea || !scenes || !seedCheck || !seed)
                return fail(QStringLiteral("the story panel lacks its idea, scene count or seed fields"));
            idea->setPlainText(m_options.idea);
            scenes->setValue(m_options.sceneCount);
            seedCheck->setChecked(true);
            seed->setValue(m_options.seed);
            story->generate();
            if (!story->isGenerating()) {
                auto* message = child<QLabel>(story, "messageLabel");
                fail(QStringLiteral("the story panel did not start generating: %1")
                         .arg(message ? message->text() : QString()));
            }
        });

    addStep(QStringLiteral("story generation through the sandbox LLM"), [story] { return !story->isGenerating(); },
            [this, story, session, window] {
                const int scenes = static_cast<int>(story->story().scenes.size());
                if (scenes != m_options.sceneCount) {
                    auto* message = child<QLabel>(story, "messageLabel");
                    return fail(QStringLiteral("the generated story has %1 scenes instead of %2: %3")
                                    .arg(scenes)
                                    .arg(m_options.sceneCount)
                                    .arg(message ? message->text() : QString()));
                }
                m_studio.startRun();
                if (!session->isRunning())
                    fail(QStringLiteral("the run did not start: %1").arg(window->statusBar()->currentMessage()));
            });

    addStep(QStringLiteral("run mid-way (%1 scenes done, the next one rendering)").arg(m_options.scenesDoneMidway),
            [this] { return isMidway(); }, [this] { rateFinishedScene(); }, runEndedEarly);

    addStep(
        QStringLiteral("rating saved"), [this] { return m_ratingSaved; },
        [this, window, dashboard] {
            dashboard->redrawNow();
            // The dashboard's charts get the larger share of the bottom row, as an operator would drag it.
            QDockWidget* dashboardDock = window->dock(QStringLiteral("dashboardDock"));
            QDockWidget* feedbackDock = window->dock(QStringLiteral("feedbackDock"));
            if (dashboardDock && feedbackDock)
                window->resizeDocks({dashboardDock, feedbackDock}, {1090, 510}, Qt::Horizontal);
            m_dockState = window->saveState();
            // The scene watcher is the central widget: with the docks hidden it has the window to itself.
            for (QDockWidget* dock : window->findChildren<QDockWidget*>())
                dock->hide();
        },
        [this]() -> QString {
            return m_saveError.isEmpty() ? QString() : QStringLiteral("the rating was not saved: %1").arg(m_saveError);
        },
        15000);

    addAction(QStringLiteral("scene watcher shot"), [this, watcher] {
        shoot(watcher, QStringLiteral("scene-watcher.png"));
        restoreLayout();
    });
    addAction(QStringLiteral("main window shot"), [this, window] {
        shoot(window, QStringLiteral("main-window.png"));
        floatDock(QStringLiteral("storyDock"), QSize(1100, 760));
    });
    addAction(QStringLiteral("story panel shot"), [this, story] {
        shoot(story, QStringLiteral("story-panel.png"));
        restoreLayout();
        floatDock(QStringLiteral("feedbackDock"), QSize(720, 460));
    });
    addAction(QStringLiteral("feedback panel shot"), [this, feedback, dashboard] {
        shoot(feedback, QStringLiteral("feedback-panel.png"));
        restoreLayout();
        floatDock(QStringLiteral("dashboardDock"), kDashboardShot);
        dashboard->redrawNow();
    });
    addAction(QStringLiteral("dashboard shot (mid-run)"), [this, dashboard] {
        shoot(dashboard, QStringLiteral("dashboard-midrun.png"));
        restoreLayout();
        floatDock(QStringLiteral("logDock"), QSize(1200, 420));
    });
    addAction(QStringLiteral("log panel shot"), [this, window] {
        shoot(window->logPanel(), QStringLiteral("log-panel.png"));
        restoreLayout();
        showSettingsDialog();
    });
    addAction(QStringLiteral("settings dialog shot"), [this] {
        shoot(m_settingsDialog, QStringLiteral("settings-dialog.png"));
        closeSettingsDialog();
    });

    // The run goes on to its end; at most a minute per remaining scene on the stand-in.
    addStep(
        QStringLiteral("run finished"), [this] { return m_runFinished; },
        [this] {
            if (m_runExitCode != 0)
                fail(QStringLiteral("the run ended with exit %1: %2").arg(m_runExitCode).arg(m_runMessage));
        },
        {}, m_options.stepTimeoutMs * std::max(1, m_options.sceneCount));
    // The end-of-run quality step, then the dashboard's figures of all scenes and its history list.
    addStep(
        QStringLiteral("quality step and dashboard figures"),
        [this, dashboard] {
            return m_qualityFinished && !dashboard->property("computingFigures").toBool() &&
                   dashboard->figures().scenes.size() == m_options.sceneCount &&
                   dashboard->historyModel()->rowCount() > 0;
        },
        [this, dashboard] {
            // The live figures come from the controller's record, which the quality step does not touch;
            // selecting the run in the history list (as the operator would) reads the artifact it wrote.
            auto* history = child<QTableView>(dashboard, "historyView");
            if (!history)
                return fail(QStringLiteral("the dashboard has no run history list"));
            history->selectRow(0);
        });
    addStep(
        QStringLiteral("dashboard figures of the recorded run"),
        [this, dashboard] {
            return !dashboard->property("computingFigures").toBool() &&
                   dashboard->figures().scenes.size() == m_options.sceneCount;
        },
        [this, dashboard] {
            floatDock(QStringLiteral("dashboardDock"), kDashboardShot);
            dashboard->redrawNow();
        });
    addAction(QStringLiteral("dashboard shot (run finished)"), [this, dashboard] {
        shoot(dashboard, QStringLiteral("dashboard-final.png"));
        restoreLayout();
        startStoryboard();
    });
    addStoryboardSteps();
}

// The storyboard of the same story: File > New storyboard, render the reference sheets, approve them
// on their tiles, render the keyframes (judged by the LLM stand-in's vision model), approve the first
// shot, and shoot the panel in its own floating dock.
void ScreenshotTour::startStoryboard()
{
    storyboard::StoryboardController* controller = m_studio.storyboard();
    connect(controller, &storyboard::StoryboardController::stageFinished, this,
            [this](storyboard::StoryboardStage, int exitCode, const QString& text) {
                ++m_storyboardStages;
                m_storyboardExit = exitCode;
                m_storyboardText = text;
            });
    const QString dir = QDir(m_studio.window()->settings().string(pipeline::Settings::Key::RunsRoot))
                            .filePath(QStringLiteral("storyboard"));
    if (!m_studio.newStoryboard(dir))
        return fail(QStringLiteral("no storyboard made from the story: %1")
                        .arg(m_studio.window()->statusBar()->currentMessage()));
    // Two candidates per sheet and keyframe keep the tour short on the slowed-down stand-in.
    storyboard::StoryboardControllerOptions options = controller->options();
    options.candidates = 2;
    controller->setOptions(options);
    clickStage(storyboard::StoryboardStage::References);
}

void ScreenshotTour::clickStage(storyboard::StoryboardStage stage)
{
    QPushButton* button = m_studio.storyboardPanel()->stageButton(stage);
    if (!button || !button->isEnabled())
        return fail(QStringLiteral("the storyboard's %1 button is not available: %2")
                        .arg(storyboard::StoryboardController::stageName(stage),
                             button ? button->toolTip() : QString()));
    button->click();
}

void ScreenshotTour::addStoryboardSteps()
{
    ui::StoryboardPanel* panel = m_studio.storyboardPanel();
    const auto stageFailed = [this]() -> QString {
        if (m_storyboardStages == 0 || m_storyboardExit == 0)
            return {};
        return QStringLiteral("a storyboard stage ended with exit %1: %2").arg(m_storyboardExit).arg(m_storyboardText);
    };
    addStep(
        QStringLiteral("storyboard reference sheets"), [this] { return m_storyboardStages >= 1; },
        [this, panel] {
            for (ui::StoryboardTile* tile : panel->findChildren<ui::StoryboardTile*>())
                if (tile->kind() == ui::StoryboardTile::Kind::Reference && tile->approveButton()->isEnabled() &&
                    !tile->data().approved)
                    tile->approveButton()->click();
            // The keyframes of the first two scenes (what "Re-roll" on their tiles starts): the other
            // tiles stay "missing", as in a storyboard being worked through, and the tour stays short.
            QStringList keys;
            for (int r = 0; r < panel->gridModel()->rowCount(); ++r) {
                const QModelIndex i = panel->gridModel()->index(r, 0);
                if (i.data(storyboard::StoryboardGridModel::SceneIndexRole).toInt() < 2)
                    keys << i.data(storyboard::StoryboardGridModel::ShotKeyRole).toString();
            }
            m_studio.storyboard()->start(storyboard::StoryboardStage::Keyframes, keys);
        },
        stageFailed, m_options.stepTimeoutMs * 4);
    addStep(
        QStringLiteral("storyboard keyframes"), [this] { return m_storyboardStages >= 2; },
        [this, panel] {
            const QString first = panel->gridModel()->shotKey(0);
            if (ui::StoryboardTile* tile = panel->shotTile(first); tile && tile->approveButton()->isEnabled())
                tile->approveButton()->click();
            floatDock(QStringLiteral("storyboardDock"), QSize(1500, 1000));
        },
        stageFailed, m_options.stepTimeoutMs * 4);
    // Thumbnails are decoded off the GUI thread: wait until the tiles show them.
    addStep(
        QStringLiteral("storyboard thumbnails"),
        [panel] {
            for (ui::StoryboardTile* tile : panel->findChildren<ui::StoryboardTile*>())
                if (!tile->data().imageFile.isEmpty() || !tile->data().candidates.isEmpty())
                    if (auto* image = tile->findChild<QLabel*>(QStringLiteral("tileThumbnail"));
                        image && image->pixmap().isNull())
                        return false;
            return true;
        },
        [] {}, {}, 15000);
    addAction(QStringLiteral("storyboard panel shot"), [this, panel] {
        shoot(panel, QStringLiteral("storyboard-panel.png"));
        // The same panel in the dark theme: badges, scores and stale text must stay readable on it.
        m_studio.window()->setTheme(QStringLiteral("dark"));
    });
    addAction(QStringLiteral("storyboard panel shot (dark)"), [this, panel] {
        shoot(panel, QStringLiteral("storyboard-panel-dark.png"));
        m_studio.window()->setTheme(QStringLiteral("system"));
        restoreLayout();
        finish(0, QStringLiteral("%1 screenshots written to %2")
                      .arg(m_written.size())
                      .arg(QDir::toNativeSeparators(m_options.outputDir)));
    });
}

void ScreenshotTour::poll()
{
    if (m_done || m_current < 0 || m_current >= m_steps.size())
        return;
    const Step& step = m_steps.at(m_current);
    if (step.failWhen) {
        const QString problem = step.failWhen();
        if (!problem.isEmpty())
            return fail(QStringLiteral("%1: %2").arg(step.name, problem));
    }
    if (!step.ready()) {
        if (m_stepClock.elapsed() > step.timeoutMs)
            fail(QStringLiteral("timed out after %1 s waiting for: %2").arg(step.timeoutMs / 1000).arg(step.name));
        return;
    }
    log::get("app")->info("screenshots: {} ({} ms)", step.name.toStdString(), m_stepClock.elapsed());
    step.act();
    if (m_done)
        return;
    ++m_current;
    m_stepClock.restart();
}

bool ScreenshotTour::isMidway() const
{
    const pipeline::SceneTableModel* model = m_studio.watcherPanel()->model();
    int done = 0;
    bool rendering = false;
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex index = model->index(row, 0);
        const auto status = static_cast<SceneStatus>(index.data(pipeline::SceneTableModel::StatusRole).toInt());
        if (status == SceneStatus::Done)
            ++done;
        const double progress = index.data(pipeline::SceneTableModel::ProgressRole).toDouble();
        if (status == SceneStatus::Running && progress >= kMinRunningProgress && progress <= kMaxRunningProgress)
            rendering = true;
    }
    return done >= m_options.scenesDoneMidway && rendering;
}

void ScreenshotTour::rateFinishedScene()
{
    ui::SceneWatcherPanel* watcher = m_studio.watcherPanel();
    ui::FeedbackPanel* feedback = m_studio.feedbackPanel();
    const pipeline::SceneTableModel* model = watcher->model();
    for (int row = 0; row < model->rowCount() && m_ratedScene.isEmpty(); ++row) {
        const QModelIndex index = model->index(row, 0);
        if (static_cast<SceneStatus>(index.data(pipeline::SceneTableModel::StatusRole).toInt()) == SceneStatus::Done)
            m_ratedScene = index.data(pipeline::SceneTableModel::SceneIdRole).toString();
    }
    // Selecting the row is what the operator's click does; the watcher tells the feedback panel.
    watcher->selectScene(m_ratedScene);
    if (m_ratedScene.isEmpty() || feedback->sceneId() != m_ratedScene)
        return fail(QStringLiteral("selecting finished scene '%1' in the watcher did not show it in the feedback panel")
                        .arg(m_ratedScene));
    auto* stars = child<ui::StarRating>(feedback, "stars");
    auto* coherence = child<ui::StarRating>(feedback, "coherence");
    auto* comment = child<QPlainTextEdit>(feedback, "comment");
    auto* save = child<QPushButton>(feedback, "saveButton");
    if (!stars || !coherence || !comment || !save)
        return fail(QStringLiteral("the feedback panel lacks its stars, coherence, comment or save button"));
    stars->setValue(4);
    coherence->setValue(5);
    comment->setPlainText(QStringLiteral("The beam sweeps through the fog nicely; keep this framing."));
    if (!save->isEnabled())
        return fail(QStringLiteral("the feedback panel's Save button stayed disabled after rating %1").arg(m_ratedScene));
    save->click();
}

void ScreenshotTour::shoot(QWidget* widget, const QString& fileName)
{
    const QString path = QDir(m_options.outputDir).filePath(fileName);
    if (!widget)
        return fail(QStringLiteral("nothing to shoot for %1").arg(fileName));
    const QPixmap pixmap = widget->grab();
    if (pixmap.isNull() || !pixmap.save(path, "PNG"))
        return fail(QStringLiteral("cannot write %1").arg(QDir::toNativeSeparators(path)));
    m_written << path;
    log::get("app")->info("screenshots: wrote {} ({}x{})", path.toStdString(), pixmap.width(), pixmap.height());
}

void ScreenshotTour::floatDock(const QString& dockName, const QSize& size)
{
    QDockWidget* dock = m_studio.window()->dock(dockName);
    if (!dock)
        return fail(QStringLiteral("the main window has no dock '%1'").arg(dockName));
    dock->show();
    dock->setFloating(true);
    dock->resize(size);
}

void ScreenshotTour::restoreLayout()
{
    m_studio.window()->restoreState(m_dockState);
}

void ScreenshotTour::showSettingsDialog()
{
    auto* dialog = new ui::SettingsDialog(m_studio.window()->settings(), m_studio.window());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_settingsDialog = dialog;
    // Tall enough to show every key group at once.
    dialog->resize(760, 940);
    dialog->show();
}

void ScreenshotTour::closeSettingsDialog()
{
    if (m_settingsDialog)
        m_settingsDialog->close();
}

void ScreenshotTour::fail(const QString& message)
{
    if (m_done)
        return;
    m_poll->stop();
    closeSettingsDialog();
    log::get("app")->error("screenshots: {}", message.toStdString());
    pipeline::RunSession* session = m_studio.session();
    if (!session->isRunning())
        return finish(1, message);
    // Quit only once the cancelled run has written its artifacts (bounded).
    connect(session, &pipeline::RunSession::runFinished, this, [this, message] { finish(1, message); });
    QTimer::singleShot(kCancelGraceMs, this, [this, message] { finish(1, message); });
    session->cancel();
}

void ScreenshotTour::finish(int exitCode, const QString& message)
{
    if (m_done)
        return;
    m_done = true;
    m_poll->stop();
    Q_EMIT finished(exitCode, message);
}

} // namespace gd::studio
