#pragma once

#include "comfy/WorkflowProfile.h"
#include "pipeline/QueuePolicy.h"
#include "pipeline/SceneAttempt.h"
#include "story/Story.h"
#include "telemetry/RunModel.h"
#include "telemetry/RunSummaryLog.h"

#include <QObject>
#include <QPointer>
#include <QUrl>

namespace gd::gpu {
class GpuMonitor;
}
namespace gd::comfy {
class ComfyClient;
}

namespace gd::pipeline {

// Exit codes shared by the command line and the GUI's status line.
enum class RunExit : int
{
    Success = 0,
    SomeFailed = 1,
    BadInput = 2,
    Unreachable = 3,
    Interrupted = 130
};

struct RunOptions
{
    story::Story story;
    QString storyDir; // relative keyframe paths in the story resolve against it
    QString runsRoot; // run directories are created below it
    QUrl comfyUrl;
    QString comfyOutputDir; // local ComfyUI output folder (enables filesystem marker watching + hard links)
    QString bearerToken;
    QString workflow = QStringLiteral("default");
    QStringList profileSearchDirs;
    QueuePolicy policy;
    telemetry::LlmHealthInfo llmHealth;
    QString storyGenerator = QStringLiteral("file");
    QJsonObject storyLlm;
    QJsonArray storyPrompts;
    // A run directory made beforehand (createRunDirectory) — `run --idea` keeps the LLM's raw
    // answers in it before anything is rendered. Empty = create one.
    QString existingRunDir;
    double reconnectWaitSeconds = 30; // how long a scene waits for a lost server before trying anyway
    // The earlier pipeline's behaviour, kept for the overhead benchmark: no WebSocket (history
    // polling only) and done markers ignored (stability window only).
    // The run history database to record the finished run in (files and database written by the
    // same recorder); empty = files only.
    QString historyDatabase;
    bool useWebSocket = true;
    bool useDoneMarkers = true;
};

// Drives one run: preflight (profile, server reachable, node classes), run directory, then each
// scene through SceneAttempts with the contract's requeue rules, writing run-summary.txt lines as
// things happen and artifact-metadata.json after every scene. The CLI and GUI both drive this and
// only render its signals. finished() is emitted exactly once.
class RunController : public QObject
{
    Q_OBJECT
public:
    RunController(RunOptions options, gpu::GpuMonitor* monitor, QObject* parent = nullptr);
    ~RunController() override;

    void start();
    // Ctrl-C / Cancel all: interrupts the running prompt by id, deletes pending ones, marks the rest
    // cancelled, writes the artifacts, finishes with RunExit::Interrupted.
    void cancel();

    const telemetry::RunRecord& record() const { return m_run; }
    QString runDir() const { return m_run.runDir; }
    comfy::ComfyClient* client() const { return m_client; }
    // Server execution seconds per finished attempt (for the orchestration-overhead benchmark).
    const QVector<double>& serverExecutionSeconds() const { return m_serverExec; }
    static QString makeRunId(const QDateTime& localTime);
    // Creates <runsRoot>/<yyyyMMdd-HHmmss>[-n] (unique: mkdir fails when it exists); returns the
    // absolute path or an empty string with `error` set.
    static QString createRunDirectory(const QString& runsRoot, QString* error);

Q_SIGNALS:
    void message(const QString& text); // preflight and run-level notes for the console/status bar
    void warning(const QString& text);
    void runDirectoryCreated(const QString& path);
    void attemptStarted(const QString& sceneId, int attempt, int maxAttempts);
    void sceneState(const QString& sceneId, const QString& state);
    void sceneProgress(const QString& sceneId, double fraction, const QString& detail);
    void attemptFinished(const QString& sceneId, const gd::telemetry::AttemptRecord& attempt);
    void sceneFinished(const gd::telemetry::SceneRecord& scene);
    void finished(int exitCode, const QString& message);

private:
    void preflightProfile();
    void preflightServer();
    void checkClasses();
    bool prepareRunDirectory();
    void beginScenes();
    void nextScene();
    void startAttempt();
    void onAttemptFinished();
    void finalizeScene();
    void finishRun(RunExit code, const QString& message);
    void fail(RunExit code, const QString& message);
    void log(const QString& line);
    void writeArtifacts();
    void recordInHistory();
    void writeSceneJson(const telemetry::SceneRecord& scene);

    RunOptions m_opt;
    QPointer<gpu::GpuMonitor> m_monitor;
    comfy::ComfyClient* m_client = nullptr;
    comfy::WorkflowProfile m_profile;
    bool m_markerExpected = false;
    telemetry::RunRecord m_run;
    telemetry::RunSummaryLog m_log;
    int m_sceneIndex = -1;
    QPointer<SceneAttempt> m_attempt;
    bool m_cancelling = false;
    bool m_finished = false;
    bool m_started = false;
    QVector<double> m_serverExec;
    QString m_systemSummary;
};

} // namespace gd::pipeline
