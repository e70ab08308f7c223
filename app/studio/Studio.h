#pragma once

#include "gpu/GpuMonitor.h"

#include <QObject>
#include <QPointer>

#include <memory>
namespace gd::log {
class LogSink;
}
namespace gd::sandbox {
class SandboxStandIns;
}
namespace gd::pipeline {
class RunQualityJob;
class RunSession;
class SystemStatsGpuFeed;
class Settings;
} // namespace gd::pipeline
namespace gd::ui {
class DashboardPanel;
class FeedbackPanel;
class SceneWatcherPanel;
class StoryPanel;
class StoryboardPanel;
class TaskProgress;
} // namespace gd::ui

namespace gd::storyboard {
class StoryboardController;
struct StoryboardControllerOptions;
} // namespace gd::storyboard

namespace gd::studio {

class MainWindow;

// The desktop app assembled: the main window with the story, scene watcher, feedback, dashboard and log
// panels, one GPU monitor and one run session, and the wiring between them (settings → services,
// Start → run session → views, scene selection → feedback, close guard, resume offer). No logic of its
// own beyond that wiring: panels render core objects and forward intent.
class Studio : public QObject
{
    Q_OBJECT
public:
    // `monitor` = null samples the local GPU (NVML → nvidia-smi → unavailable); tests pass a fake source.
    Studio(pipeline::Settings& settings, std::shared_ptr<log::LogSink> logSink,
           std::unique_ptr<gpu::GpuMonitor> monitor = {}, QObject* parent = nullptr);
    ~Studio() override;

    MainWindow* window() const { return m_window.get(); }
    ui::StoryPanel* storyPanel() const { return m_story; }
    ui::SceneWatcherPanel* watcherPanel() const { return m_watcher; }
    ui::FeedbackPanel* feedbackPanel() const { return m_feedback; }
    ui::DashboardPanel* dashboardPanel() const { return m_dashboard; }
    pipeline::RunSession* session() const { return m_session; }
    // The status bar's entry for the end-of-run quality step (busy bar + Cancel).
    ui::TaskProgress* qualityProgress() const { return m_qualityProgress; }
    gpu::GpuMonitor* gpuMonitor() const { return m_monitor.get(); }
    // The storyboard (issue 8): the panel in the "Storyboard" dock and the controller it renders.
    ui::StoryboardPanel* storyboardPanel() const { return m_storyboardPanel; }
    storyboard::StoryboardController* storyboard() const { return m_storyboard; }
    // File > New storyboard from the current story / Open storyboard… end in these (tests call them).
    bool newStoryboard(const QString& dir);
    bool openStoryboard(const QString& dir);

    // Points this session at running stand-ins (session overrides only: the operator's saved URLs stay).
    static void useStandIns(pipeline::Settings& settings, const sandbox::SandboxStandIns& standIns);

    // Starts a run of the story panel's story with the watcher's preset (the Start button and F9).
    void startRun();
    // Looks for runs left unfinished below the runs root (off the GUI thread) and offers them.
    void offerUnfinishedRuns();

Q_SIGNALS:
    // The resume offer found these runs (also emitted when none: an empty list), for tests.
    void unfinishedRunsOffered(const QStringList& runDirs);

private:
    void buildPanels();
    void buildStoryboard();
    storyboard::StoryboardControllerOptions storyboardOptions() const;
    void buildRunMenu();
    void buildQualityProgress();
    void applyLlmSettings();
    bool confirmClose();
    void status(const QString& text, int timeoutMs = 0);

    pipeline::Settings& m_settings;
    std::unique_ptr<gpu::GpuMonitor> m_monitor;
    std::unique_ptr<MainWindow> m_window;
    pipeline::RunSession* m_session = nullptr;
    ui::StoryPanel* m_story = nullptr;
    ui::SceneWatcherPanel* m_watcher = nullptr;
    ui::FeedbackPanel* m_feedback = nullptr;
    ui::DashboardPanel* m_dashboard = nullptr;
    pipeline::SystemStatsGpuFeed* m_systemStatsFeed = nullptr;
    storyboard::StoryboardController* m_storyboard = nullptr;
    ui::StoryboardPanel* m_storyboardPanel = nullptr;
    ui::TaskProgress* m_qualityProgress = nullptr;
    QPointer<pipeline::RunQualityJob> m_qualityJob;
    bool m_quitAfterRun = false;
};

} // namespace gd::studio
