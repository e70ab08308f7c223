#pragma once

#include "pipeline/QueuePolicy.h"
#include "pipeline/RunController.h"
#include "pipeline/RunQualityJob.h"
#include "story/Story.h"

#include <QObject>
#include <QJsonArray>
#include <QJsonObject>
#include <QPointer>

#include <optional>
#include <tuple>

namespace gd::gpu {
class GpuMonitor;
}

namespace gd::pipeline {

class Settings;
struct RunOptions;

// One render at a time for the desktop app: builds the RunOptions from the settings and the story,
// owns the RunController while it runs (and keeps the last one for the views), then runs the
// end-of-run quality step exactly as `gemdirect run` does. Panels only render its signals.
class RunSession : public QObject
{
    Q_OBJECT
public:
    RunSession(Settings& settings, gpu::GpuMonitor* monitor, QObject* parent = nullptr);
    ~RunSession() override;

    // Starts a run of `story` (from `storyPath`, empty when it was generated and not saved) with
    // `policy`. False with `error` set when a run is already going or the input is unusable (a scene
    // image missing: one line per file in `gemdirect run`'s words, then "Nothing was queued.").
    bool start(const story::Story& story, const QString& storyPath, const QueuePolicy& policy, QString* error);
    // The story's generation, recorded in the run's telemetry as `gemdirect run --idea` does (model,
    // prompts, LLM health); call before start() for a story the LLM wrote in this session.
    void setStoryGeneration(const QJsonObject& llm, const QJsonArray& prompts, const telemetry::LlmHealthInfo& health);
    // Resumes the unfinished run in `runDir` from its journal (ResumePlanner): prompts still on
    // ComfyUI are re-attached, finished scenes are never rendered again. The token, profile folders
    // and history database come from the settings; the server, workflow and policy from the run.
    // False with `error` set when a run is going or the directory cannot be resumed.
    bool resume(const QString& runDir, QString* error);
    // Cancels the whole run (the controller's Cancel all); finished() follows.
    void cancel();
    bool isRunning() const { return m_running; }
    bool isJudging() const { return m_quality && m_quality->isRunning(); }
    RunController* controller() const { return m_controller; }
    QString lastRunDir() const { return m_lastRunDir; }

Q_SIGNALS:
    void runStarted(gd::pipeline::RunController* controller);
    void message(const QString& text);
    void runFinished(int exitCode, const QString& message, const QString& runDir);
    // The end-of-run quality step began (the job lives until the next one; views may cancel it).
    void qualityStarted(const QString& runDir, gd::pipeline::RunQualityJob* job);
    void qualityFinished(const QString& runDir, const gd::pipeline::RunQualityResult& result);

private:
    void launch(const RunOptions& options);
    void onControllerFinished(int exitCode, const QString& text);

    Settings& m_settings;
    QPointer<gpu::GpuMonitor> m_monitor;
    QPointer<RunController> m_controller;
    QPointer<RunQualityJob> m_quality;
    // Shared by every run's attempts and closed only with the session (closing one blocks for tens of ms).
    QFileSystemWatcher* m_markerWatcher = nullptr;
    bool m_running = false;
    std::optional<std::tuple<QJsonObject, QJsonArray, telemetry::LlmHealthInfo>> m_generation;
    QString m_lastRunDir;
};

} // namespace gd::pipeline
