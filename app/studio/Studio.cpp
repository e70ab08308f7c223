#include "Studio.h"

#include "MainWindow.h"

#include "common/DurableWriter.h"
#include "common/TaskProgress.h"

#include "dashboard/DashboardPanel.h"
#include "feedback/FeedbackPanel.h"
#include "gpu/GpuMonitor.h"
#include "llm/StoryService.h"
#include "pipeline/RunController.h"
#include "pipeline/RunQualityJob.h"
#include "pipeline/RunSession.h"
#include "pipeline/Settings.h"
#include "pipeline/SystemStatsGpuFeed.h"
#include "comfy/ComfyClient.h"
#include "pipeline/UnfinishedRunFinder.h"
#include "sandbox/SandboxStandIns.h"
#include "story/StoryPanel.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardPanel.h"
#include "watcher/SceneWatcherPanel.h"

#include <QAction>
#include <QDesktopServices>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHash>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QTimer>
#include <QUrl>
#include <QtConcurrent>

namespace gd::studio {

namespace {
// Runs the operator dismissed from the resume offer are not offered again (kept with the layout).
const char* const kDismissedKey = "resume/dismissed";
} // namespace

Studio::Studio(pipeline::Settings& settings, std::shared_ptr<log::LogSink> logSink,
               std::unique_ptr<gpu::GpuMonitor> monitor, QObject* parent)
    : QObject(parent), m_settings(settings), m_monitor(std::move(monitor))
{
    if (!m_monitor)
        m_monitor = std::make_unique<gpu::GpuMonitor>();
    m_window = std::make_unique<MainWindow>(settings, std::move(logSink));
    m_session = new pipeline::RunSession(settings, m_monitor.get(), this);
    buildPanels();
    buildRunMenu();
    buildQualityProgress();
    buildStoryboard();
    m_window->setCloseGuard([this] { return confirmClose(); });
    m_monitor->start();
}

Studio::~Studio()
{
    // Views hold QPointers to the controller; the window goes first, then the session's controller.
    m_window.reset();
    m_monitor->stop();
}

void Studio::useStandIns(pipeline::Settings& settings, const sandbox::SandboxStandIns& standIns)
{
    using Key = pipeline::Settings::Key;
    settings.setSessionOverride(Key::LlmUrl, standIns.llmUrl().toString());
    settings.setSessionOverride(Key::LlmApiKey, QString());
    settings.setSessionOverride(Key::ComfyUrl, standIns.comfyUrl().toString());
    settings.setSessionOverride(Key::ComfyToken, QString());
    settings.setSessionOverride(Key::ComfyOutputDir, standIns.comfyOutputDir());
    settings.setSessionOverride(Key::WorkflowProfile, QStringLiteral("sandbox"));
}

void Studio::buildPanels()
{
    using Key = pipeline::Settings::Key;
    const QString historyDb = m_settings.string(Key::HistoryDb);

    m_watcher = new ui::SceneWatcherPanel;
    m_watcher->setObjectName(QStringLiteral("sceneWatcherPanel"));
    m_watcher->setPolicySource([this](const QString& preset) { return m_settings.queuePolicy(preset); });
    m_watcher->setSelectedPreset(m_settings.string(Key::QueuePreset));
    m_window->setCentralWidget(m_watcher);

    // Default arrangement (a saved layout wins): story | watcher on top, feedback | dashboard along the whole
    // bottom, the log as a tab behind the dashboard. Story, watcher, feedback and dashboard side by side would
    // need a window over 1,900 px wide (the sum of their minimum widths); this one fits 1600×900.
    m_window->setCorner(Qt::BottomLeftCorner, Qt::BottomDockWidgetArea);
    m_window->setCorner(Qt::BottomRightCorner, Qt::BottomDockWidgetArea);
    m_story = new ui::StoryPanel;
    m_story->setObjectName(QStringLiteral("storyPanel"));
    m_window->addPanel(QStringLiteral("storyDock"), QStringLiteral("Story"), m_story, Qt::LeftDockWidgetArea);

    m_feedback = new ui::FeedbackPanel(historyDb);
    m_feedback->setObjectName(QStringLiteral("feedbackPanel"));
    m_window->addPanel(QStringLiteral("feedbackDock"), QStringLiteral("Feedback"), m_feedback, Qt::BottomDockWidgetArea);

    m_dashboard = new ui::DashboardPanel(historyDb);
    m_dashboard->setObjectName(QStringLiteral("dashboardPanel"));
    m_dashboard->setGpuMonitor(m_monitor.get());
    // Without a local GPU reading (remote ComfyUI, the sandbox), ComfyUI's /system_stats feeds the chart.
    m_systemStatsFeed = new pipeline::SystemStatsGpuFeed(m_monitor.get(), this);
    const auto pointFeedAtServer = [this] {
        m_systemStatsFeed->setServer(comfy::ComfyClient::normaliseUrl(m_settings.string(Key::ComfyUrl)),
                                     m_settings.string(Key::ComfyToken));
    };
    pointFeedAtServer();
    connect(m_systemStatsFeed, &pipeline::SystemStatsGpuFeed::sampled, m_dashboard, &ui::DashboardPanel::addGpuSample);
    connect(&m_settings, &pipeline::Settings::changed, this, [pointFeedAtServer](Key key) {
        if (key == Key::ComfyUrl || key == Key::ComfyToken)
            pointFeedAtServer();
    });
    m_systemStatsFeed->start();
    m_window->addPanel(QStringLiteral("dashboardDock"), QStringLiteral("Dashboard"), m_dashboard,
                       Qt::BottomDockWidgetArea, m_window->dock(QStringLiteral("logDock")));

    applyLlmSettings();
    connect(&m_settings, &pipeline::Settings::changed, this, [this](Key key) {
        if (key == Key::LlmUrl || key == Key::LlmModel || key == Key::LlmApiKey)
            applyLlmSettings();
        if (pipeline::Settings::isQueueKnob(key) || key == Key::QueuePreset)
            m_watcher->setSelectedPreset(m_settings.string(Key::QueuePreset));
    });
    connect(m_watcher, &ui::SceneWatcherPanel::presetChanged, this, [this](const QString& preset) {
        if (m_settings.string(Key::QueuePreset) != preset)
            m_settings.set(Key::QueuePreset, preset);
    });
    connect(m_watcher, &ui::SceneWatcherPanel::startRequested, this, &Studio::startRun);
    connect(m_watcher, &ui::SceneWatcherPanel::sceneSelected, m_feedback, &ui::FeedbackPanel::showScene);

    connect(m_session, &pipeline::RunSession::runStarted, this, [this](pipeline::RunController* controller) {
        m_watcher->attach(controller);
        m_dashboard->attach(controller);
        status(QStringLiteral("Run started: %1 scenes").arg(m_story->story().scenes.size()));
    });
    connect(m_session, &pipeline::RunSession::message, this, [this](const QString& text) { status(text, 10000); });
    connect(m_session, &pipeline::RunSession::runFinished, this,
            [this](int exitCode, const QString& text, const QString& runDir) {
                QString line = QStringLiteral("Run finished (exit %1): %2").arg(exitCode).arg(text);
                if (!runDir.isEmpty())
                    line += QStringLiteral(" — ") + QDir::toNativeSeparators(runDir);
                status(line);
                if (m_quitAfterRun)
                    m_window->close();
            });
    connect(m_session, &pipeline::RunSession::qualityFinished, this,
            [this](const QString& runDir, const pipeline::RunQualityResult& result) {
                m_qualityProgress->end();
                if (!result.computation.error.isNull())
                    status(QStringLiteral("Quality metrics not computed for %1: %2")
                               .arg(QDir::toNativeSeparators(runDir), result.computation.error.message));
                else if (result.cancelled)
                    status(QStringLiteral("Quality step cancelled by the operator: the judge metrics it had not "
                                          "measured are UNMEASURED; the other metrics were written (%1 KPIs evaluated)")
                               .arg(result.kpis.size()), 15000);
                else
                    status(QStringLiteral("Quality metrics written: %1 KPIs evaluated")
                               .arg(result.kpis.size()), 15000);
                for (const QString& w : result.warnings)
                    m_window->statusBar()->showMessage(QStringLiteral("Warning: ") + w, 15000);
                m_dashboard->refreshHistory();
                m_dashboard->refreshLiveRunFigures(runDir);
                m_feedback->refreshAggregates();
            });
}

void Studio::buildRunMenu()
{
    QMenu* run = m_window->menuBar()->addMenu(QStringLiteral("&Run"));
    QAction* start = run->addAction(QStringLiteral("&Start run"));
    start->setObjectName(QStringLiteral("actionStartRun"));
    start->setShortcut(QKeySequence(Qt::Key_F9));
    connect(start, &QAction::triggered, this, &Studio::startRun);
    QAction* cancel = run->addAction(QStringLiteral("&Cancel run"));
    cancel->setObjectName(QStringLiteral("actionCancelRun"));
    cancel->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F9));
    connect(cancel, &QAction::triggered, this, [this] {
        if (!m_session->isRunning())
            return;
        if (QMessageBox::question(m_window.get(), QStringLiteral("Cancel run"),
                                  QStringLiteral("Cancel the whole run? Finished scenes are kept.")) == QMessageBox::Yes)
            m_session->cancel();
    });
    run->addSeparator();
    QAction* unfinished = run->addAction(QStringLiteral("Show &unfinished runs…"));
    unfinished->setObjectName(QStringLiteral("actionUnfinishedRuns"));
    connect(unfinished, &QAction::triggered, this, [this] {
        QSettings(m_settings.filePath(), QSettings::IniFormat).remove(QLatin1String(kDismissedKey));
        offerUnfinishedRuns();
    });
}

void Studio::buildQualityProgress()
{
    // Left of the connection indicators: the end-of-run quality step can take minutes of LLM calls.
    m_qualityProgress = new ui::TaskProgress(QStringLiteral("qualityProgress"), m_window.get());
    m_qualityProgress->cancelButton()->setObjectName(QStringLiteral("cancelQualityButton"));
    m_window->statusBar()->insertPermanentWidget(0, m_qualityProgress);
    connect(m_session, &pipeline::RunSession::qualityStarted, this,
            [this](const QString& runDir, pipeline::RunQualityJob* job) {
                m_qualityJob = job;
                m_qualityProgress->begin(
                    QStringLiteral("Quality step for %1 ...").arg(QFileInfo(runDir).fileName()), false);
                connect(job, &pipeline::RunQualityJob::progress, m_qualityProgress, &ui::TaskProgress::setText);
                connect(job, &pipeline::RunQualityJob::cancellableChanged, m_qualityProgress, [this](bool on) {
                    m_qualityProgress->setCancellable(
                        on, QStringLiteral("The model judges are done; the local metrics finish in seconds."));
                });
            });
    connect(m_qualityProgress, &ui::TaskProgress::cancelRequested, this, [this] {
        if (m_qualityJob && m_qualityJob->cancel())
            m_qualityProgress->setCancellable(false, QStringLiteral("Cancelled; writing the local metrics ..."));
    });
}

void Studio::applyLlmSettings()
{
    using Key = pipeline::Settings::Key;
    llm::StoryServiceOptions o;
    o.llmUrl = m_settings.string(Key::LlmUrl);
    o.model = m_settings.string(Key::LlmModel);
    o.apiKey = m_settings.string(Key::LlmApiKey);
    // Raw answers are kept for diagnosis; the leading dot keeps the folder out of run listings.
    o.rawDir = QDir(m_settings.string(Key::RunsRoot)).filePath(QStringLiteral(".story-raw"));
    // Written on a writer thread that lives as long as the app (no fsync on the GUI thread, and no
    // wait for one when a finished generation's service is deleted).
    auto* rawWriter = findChild<DurableWriter*>(QStringLiteral("storyRawWriter"), Qt::FindDirectChildrenOnly);
    if (!rawWriter) {
        rawWriter = new DurableWriter(DurableWriter::Mode::Background, this);
        rawWriter->setObjectName(QStringLiteral("storyRawWriter"));
    }
    o.rawWriter = rawWriter;
    m_story->setServiceOptions(o);
}

void Studio::startRun()
{
    if (m_story->isGenerating()) {
        status(QStringLiteral("The story is still being generated: wait for it or cancel it first."), 10000);
        return;
    }
    QString error;
    if (const auto generation = m_story->lastGeneration(); generation.valid)
        m_session->setStoryGeneration(generation.llm, generation.prompts, generation.health);
    if (!m_session->start(m_story->story(), m_story->storyPath(), m_watcher->selectedPolicy(), &error)) {
        status(QStringLiteral("Cannot start the run: ") + error);
        QMessageBox::warning(m_window.get(), QStringLiteral("Cannot start the run"), error);
    }
}

bool Studio::confirmClose()
{
    const bool storyboardBusy = m_storyboard && m_storyboard->isBusy();
    if (m_quitAfterRun)
        return !m_session->isRunning() && !storyboardBusy;
    if (m_session->isRunning() || storyboardBusy) {
        QStringList what;
        if (m_session->isRunning())
            what << QStringLiteral("A run is still rendering. Cancel it and quit? Finished scenes and their telemetry are "
                                   "kept; the run can be found again under Run > Show unfinished runs.");
        if (storyboardBusy)
            what << QStringLiteral("A storyboard stage is still rendering. Cancel it and quit? Sheets and keyframes "
                                   "stored so far stay in storyboard.json; start the stage again to render the rest.");
        const auto answer = QMessageBox::question(
            m_window.get(),
            m_session->isRunning() ? QStringLiteral("A run is in progress") : QStringLiteral("A storyboard stage is running"),
            what.join(QStringLiteral("\n\n")), QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes)
            return false;
        // Quit once the cancelled run has written its artifacts and the stage has stopped.
        m_quitAfterRun = true;
        status(QStringLiteral("Cancelling before quitting ..."));
        if (m_session->isRunning())
            m_session->cancel();
        if (storyboardBusy)
            m_storyboard->cancel();
        return false;
    }
    if (m_story->hasUnsavedChanges()) {
        const auto answer = QMessageBox::question(
            m_window.get(), QStringLiteral("Unsaved story"),
            QStringLiteral("The story has unsaved changes. Save them before quitting?"),
            QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
        if (answer == QMessageBox::Cancel)
            return false;
        if (answer == QMessageBox::Save) {
            if (m_story->storyPath().isEmpty()) {
                status(QStringLiteral("Choose where to save the story (Story panel, Save As…), then quit again."));
                return false;
            }
            m_story->saveStory();
        }
    }
    return true;
}

void Studio::offerUnfinishedRuns()
{
    const QString runsRoot = m_settings.string(pipeline::Settings::Key::RunsRoot);
    auto* watcher = new QFutureWatcher<QVector<pipeline::UnfinishedRun>>(this);
    connect(watcher, &QFutureWatcher<QVector<pipeline::UnfinishedRun>>::finished, this, [this, watcher] {
        watcher->deleteLater();
        QSettings store(m_settings.filePath(), QSettings::IniFormat);
        const QStringList dismissed = store.value(QLatin1String(kDismissedKey)).toStringList();
        QVector<pipeline::UnfinishedRun> runs;
        for (const auto& run : watcher->result())
            if (!dismissed.contains(run.runDir))
                runs.append(run);
        QStringList dirs;
        for (const auto& run : std::as_const(runs))
            dirs << run.runDir;
        Q_EMIT unfinishedRunsOffered(dirs);
        if (runs.isEmpty())
            return;

        QString details;
        for (const auto& run : std::as_const(runs))
            details += QStringLiteral("%1 — %2 (last written %3)\n  %4\n\n")
                           .arg(run.runId, run.storyTitle.isEmpty() ? QStringLiteral("untitled story") : run.storyTitle,
                                run.lastWrite.toString(QStringLiteral("yyyy-MM-dd HH:mm")), run.summary());
        auto* box = new QMessageBox(QMessageBox::Information, QStringLiteral("Unfinished runs"),
                                    (runs.size() == 1 ? QStringLiteral("1 run stopped before its end")
                                                      : QStringLiteral("%1 runs stopped before their end").arg(runs.size())) +
                                        QStringLiteral(" (the app or the machine went down).\n\n") + details.trimmed(),
                                    QMessageBox::NoButton, m_window.get());
        box->setObjectName(QStringLiteral("resumeOffer"));
        box->setInformativeText(QStringLiteral(
            "Finished scenes, their frames and telemetry are kept in each run folder. Resume continues a run in "
            "place: prompts still on ComfyUI are re-attached, those that finished meanwhile are collected, and only "
            "what is missing is rendered — a finished scene is never rendered twice."));
        // One Resume button per run: the operator chooses which one continues (one run at a time).
        QHash<QAbstractButton*, QString> resumeButtons;
        for (const auto& run : std::as_const(runs)) {
            QPushButton* resume = box->addButton(QStringLiteral("Resume %1").arg(run.runId), QMessageBox::AcceptRole);
            resume->setObjectName(QStringLiteral("resumeRun-") + run.runId);
            resumeButtons.insert(resume, run.runDir);
        }
        QPushButton* open = box->addButton(QStringLiteral("Open newest run folder"), QMessageBox::ActionRole);
        open->setObjectName(QStringLiteral("resumeOpenFolder"));
        QPushButton* dismiss = box->addButton(QStringLiteral("Dismiss"), QMessageBox::RejectRole);
        dismiss->setObjectName(QStringLiteral("resumeDismiss"));
        box->setAttribute(Qt::WA_DeleteOnClose);
        const QString newest = runs.first().runDir;
        connect(box, &QMessageBox::buttonClicked, this, [this, open, dirs, newest, resumeButtons](QAbstractButton* button) {
            if (button == open) {
                QDesktopServices::openUrl(QUrl::fromLocalFile(newest));
                return;
            }
            if (resumeButtons.contains(button)) {
                const QString runDir = resumeButtons.value(button);
                QString error;
                if (!m_session->resume(runDir, &error)) {
                    status(QStringLiteral("Cannot resume the run: ") + error);
                    QMessageBox::warning(m_window.get(), QStringLiteral("Cannot resume the run"), error);
                    return;
                }
                status(QStringLiteral("Resuming %1 ...").arg(QFileInfo(runDir).fileName()));
                return;
            }
            QSettings s(m_settings.filePath(), QSettings::IniFormat);
            QStringList all = s.value(QLatin1String(kDismissedKey)).toStringList();
            for (const QString& d : dirs)
                if (!all.contains(d))
                    all << d;
            s.setValue(QLatin1String(kDismissedKey), all);
        });
        box->open();
    });
    watcher->setFuture(QtConcurrent::run([runsRoot] { return pipeline::UnfinishedRunFinder::find(runsRoot, 5); }));
}

storyboard::StoryboardControllerOptions Studio::storyboardOptions() const
{
    using Key = pipeline::Settings::Key;
    storyboard::StoryboardControllerOptions o;
    pipeline::RunOptions& r = o.render;
    r.comfyUrl = comfy::ComfyClient::normaliseUrl(m_settings.string(Key::ComfyUrl));
    r.comfyOutputDir = m_settings.string(Key::ComfyOutputDir);
    r.bearerToken = m_settings.string(Key::ComfyToken);
    if (!pipeline::Settings::listEntries(m_settings.string(Key::ComfyServers)).isEmpty())
        r.backends = m_settings.backends();
    r.profileSearchDirs = pipeline::Settings::profileSearchDirs();
    r.policy = m_watcher->selectedPolicy();
    r.historyDatabase = m_settings.string(Key::HistoryDb);
    r.backgroundWrites = true; // the GUI thread never waits in fsync (DESIGN.md §3)
    // --sandbox points the workflow at the stand-in (useStandIns): its image profiles render every stage.
    if (m_settings.string(Key::WorkflowProfile) == QLatin1String("sandbox")) {
        o.sheetProfile = QStringLiteral("sandbox-reference-sheet");
        o.keyframeProfile = QStringLiteral("sandbox-keyframe");
        o.textKeyframeProfile = QStringLiteral("sandbox-keyframe-text");
        o.videoProfile = QStringLiteral("sandbox-i2v");
    }
    o.llmUrl = QUrl(m_settings.string(Key::LlmUrl));
    o.llmApiKey = m_settings.string(Key::LlmApiKey);
    return o;
}

void Studio::buildStoryboard()
{
    m_storyboard = new storyboard::StoryboardController(storyboardOptions(), m_monitor.get(), this);
    m_storyboardPanel = new ui::StoryboardPanel;
    m_storyboardPanel->setObjectName(QStringLiteral("storyboardPanel"));
    m_storyboardPanel->attach(m_storyboard);
    m_window->addPanel(QStringLiteral("storyboardDock"), QStringLiteral("Storyboard"), m_storyboardPanel,
                       Qt::LeftDockWidgetArea, m_window->dock(QStringLiteral("storyDock")));
    // New settings (servers, sandbox, queue preset) apply from the next stage on.
    connect(&m_settings, &pipeline::Settings::changed, this,
            [this] { m_storyboard->setOptions(storyboardOptions()); });
    // While a stage renders, the scene watcher and the dashboard follow its run like any other.
    connect(m_storyboard, &storyboard::StoryboardController::runStarted, this, [this](pipeline::RunController* run) {
        m_watcher->attach(run);
        m_dashboard->attach(run);
    });
    connect(m_storyboard, &storyboard::StoryboardController::message, this,
            [this](const QString& line) { status(QStringLiteral("Storyboard: ") + line, 10000); });
    // The close guard cancelled this stage to quit: close once it has stopped (the controller saves
    // storyboard.json atomically on this thread, so what is on disk is a whole state).
    connect(m_storyboard, &storyboard::StoryboardController::stageFinished, this, [this] {
        if (m_quitAfterRun)
            QTimer::singleShot(0, m_window.get(), &QWidget::close);
    });

    QMenu* file = nullptr;
    for (QAction* a : m_window->menuBar()->actions())
        if (a->menu() && a->text() == QLatin1String("&File"))
            file = a->menu();
    if (!file)
        return;
    QAction* first = file->actions().value(0);
    QAction* create = new QAction(QStringLiteral("New &storyboard from the current story…"), file);
    create->setObjectName(QStringLiteral("actionNewStoryboard"));
    create->setToolTip(QStringLiteral("Make a storyboard folder from the story panel's story: reference sheets, "
                                      "keyframes and clips are rendered and approved there."));
    connect(create, &QAction::triggered, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            m_window.get(), QStringLiteral("New storyboard: choose an empty folder"), m_settings.string(pipeline::Settings::Key::RunsRoot));
        if (!dir.isEmpty())
            newStoryboard(dir);
    });
    QAction* open = new QAction(QStringLiteral("Open storyboar&d…"), file);
    open->setObjectName(QStringLiteral("actionOpenStoryboard"));
    connect(open, &QAction::triggered, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            m_window.get(), QStringLiteral("Open storyboard folder"), m_settings.string(pipeline::Settings::Key::RunsRoot));
        if (!dir.isEmpty())
            openStoryboard(dir);
    });
    file->insertAction(first, create);
    file->insertAction(first, open);
    file->insertSeparator(first);
}

bool Studio::newStoryboard(const QString& dir)
{
    const story::Story story = m_story->story();
    if (story.scenes.isEmpty()) {
        status(QStringLiteral("Cannot make a storyboard: the story has no scenes (generate or open a story first)"));
        return false;
    }
    const Error e = m_storyboard->create(dir, story);
    if (!e.isNull()) {
        status(QStringLiteral("Cannot make a storyboard in %1: %2").arg(QDir::toNativeSeparators(dir), e.message));
        return false;
    }
    m_window->dock(QStringLiteral("storyboardDock"))->show();
    m_window->dock(QStringLiteral("storyboardDock"))->raise();
    status(QStringLiteral("Storyboard created in %1").arg(QDir::toNativeSeparators(dir)), 10000);
    return true;
}

bool Studio::openStoryboard(const QString& dir)
{
    const Error e = m_storyboard->open(dir);
    if (!e.isNull()) {
        status(QStringLiteral("Cannot open the storyboard %1: %2").arg(QDir::toNativeSeparators(dir), e.message));
        return false;
    }
    m_window->dock(QStringLiteral("storyboardDock"))->show();
    m_window->dock(QStringLiteral("storyboardDock"))->raise();
    status(QStringLiteral("Storyboard opened: %1").arg(QDir::toNativeSeparators(dir)), 10000);
    return true;
}

void Studio::status(const QString& text, int timeoutMs)
{
    m_window->statusBar()->showMessage(text, timeoutMs);
}

} // namespace gd::studio
