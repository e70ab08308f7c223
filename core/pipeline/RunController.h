#pragma once

#include "comfy/WorkflowProfile.h"
#include "pipeline/BackendPool.h"
#include "pipeline/DiskFullHold.h"
#include "pipeline/QueuePolicy.h"
#include "pipeline/ResumePlanner.h"
#include "pipeline/RunJournal.h"
#include "pipeline/SceneAttempt.h"
#include "story/Story.h"
#include "telemetry/RunModel.h"
#include "telemetry/RunSummaryLog.h"

#include <QHash>
#include <QJsonArray>
#include <QMap>
#include <QSet>
#include <QTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <functional>
#include <memory>
#include <mutex>

class QFileSystemWatcher;

namespace gd {
class DurableWriter;
}
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
    // A `gemdirect sentinel` watches the ComfyUI output folder: when the workflow has no
    // GemDirectSaveFrames node (or the server lacks it), wait for the sentinel's <prefix>.done
    // like a producer marker instead of going straight to the stability window.
    bool sentinelMarkers = false;
    // Resume a run that stopped before its end (ResumePlanner::applyTo fills this and the options
    // above from the run directory): finished scenes stay as they are, prompts in flight are
    // re-attached by id, only lost or missing work is submitted. Null = a new run.
    std::shared_ptr<const ResumePlan> resume;
    // The backend pool: every ComfyUI server of the run. Empty = one server made of comfyUrl,
    // comfyOutputDir and bearerToken above.
    QList<BackendSpec> backends;
    PoolOptions pool;
    // Prompts queued per server besides the running one; -1 = automatic: none with one server (a
    // single-server run submits one prompt at a time exactly as before the pool), pool.queuedPerServer
    // with several.
    int queuedPerServer = -1;
    // VRAM hygiene between the story stage and rendering (issue 6 §2).
    bool unloadLlmBeforeRender = false; // LM Studio /api/v1 unload, else an instruction line
    QUrl llmUrl;                        // the story LLM's server, for the unload
    QString llmApiKey;
    int freeEveryScenes = 0; // POST /free {unload_models, free_memory} on a server after every N scenes it ran; 0 = never
    bool vramGate = true;    // hold a submission until its server has the profile's minVramMB free
    // A write into the run directory that fails because the disk is full (ENOSPC, EDQUOT) holds the
    // queue: no new scene or attempt is submitted until there is space again (polled), for at most
    // diskFullHoldSeconds; then the run ends (exit 1) with the remaining scenes not started, and
    // `gemdirect resume` continues it.
    double diskFullHoldSeconds = 1800;
    double diskFullPollSeconds = 5;
    int diskFullMinFreeMB = 256; // free space wanted before the queue goes on (more when a scene took more)
    // Durable writes (artifact, scene.json, history.json, story.json, journal syncs, the history
    // database) run on a writer thread, in order, and the run goes on in their completions: the
    // event loop that talks to the servers never waits in fsync (the desktop app's GUI thread, and
    // the command line's loop, which with several servers must collect one scene while submitting
    // the next), and the journal syncs of one dispatch round share one fdatasync. Off = each write
    // is done where it is asked for, before the call returns (tests that want that order).
    bool backgroundWrites = true;
    // The done-marker watcher the attempts share (AttemptSpec::markerWatcher), owned by the caller
    // and outliving the run (the desktop app keeps one for all its runs, so no inotify instance is
    // closed on the GUI thread at a run's end); null = the RunController makes one for the run.
    QFileSystemWatcher* markerWatcher = nullptr;
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

    // Pause holds the queue: the running attempt continues, but no new scene or attempt (requeue
    // included) is submitted until the queue is resumed. A message says so.
    void setQueuePaused(bool paused);
    bool isQueuePaused() const { return m_queuePaused; }
    // Cancels one scene. The running scene's prompt is interrupted by id exactly as cancel() does
    // for the run and the scene is recorded cancelled (telemetry and ERROR line), then the run goes
    // on with the next scene; a scene not started yet is recorded cancelled and skipped. Returns
    // false when the scene is unknown, already finished, or the run is over / cancelling.
    bool cancelScene(const QString& sceneId);
    // Runs a finished failed or cancelled scene again after the scenes still queued: further
    // attempts of the same scene (attempt-<n+1>/ ...), with a fresh retry budget counted from
    // there, a `Requeue requested ... reason: operator requeue` line, Requeued = true, and the best
    // attempt of all kept. Returns false for any other scene or when the run is over / cancelling.
    bool requeueScene(const QString& sceneId);
    bool canCancelScene(const QString& sceneId) const;
    bool canRequeueScene(const QString& sceneId) const;
    bool isFinished() const { return m_finished; }

    const telemetry::RunRecord& record() const { return m_run; }
    QString runDir() const { return m_run.runDir; }
    comfy::ComfyClient* client() const { return m_client; } // the first server's client
    BackendPool* pool() const { return m_pool; }
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
    // The same transitions as sceneState(), as the attempt's state (for views that map them).
    void attemptState(const QString& sceneId, gd::pipeline::SceneAttempt::State state);
    void sceneProgress(const QString& sceneId, double fraction, const QString& detail);
    void attemptFinished(const QString& sceneId, const gd::telemetry::AttemptRecord& attempt);
    void sceneFinished(const gd::telemetry::SceneRecord& scene);
    void finished(int exitCode, const QString& message);
    void queuePausedChanged(bool paused);
    // After the scene was recorded cancelled by cancelScene() (sceneFinished came first).
    void sceneCancelled(const QString& sceneId);
    // After requeueScene() put the scene back in the queue; nextAttempt is its coming attempt number.
    void sceneRequeued(const QString& sceneId, int nextAttempt);

private:
    // A scene being worked on: an attempt in flight, a requeue pause, or held (paused queue,
    // back-pressure). The pool may run several at once, one per free server slot.
    struct Active
    {
        QPointer<SceneAttempt> attempt;
        ComfyBackend* backend = nullptr;
        quint64 token = 0;         // scheduled starts compare this and give up when it changed
        bool held = false;         // waits for the queue to resume
        bool cancelCurrent = false; // the operator cancelled this scene
        QString holdReason;        // back-pressure: why no server takes it now
        qint64 holdSinceMs = 0;
        QString moveReason;        // its server died: the attempt ends and the scene moves
        bool failureProbed = false; // a failed attempt's server was asked whether it still lives
        QSet<const ComfyBackend*> lostOn;
        QJsonObject gate;          // the VRAM gate decision of the attempt in flight
    };

    void preflightProfile();
    void preflightServer();
    void checkClasses();
    // Creates the run directory and writes story/story.json; the run goes on (or fails) once it is written.
    void prepareRunDirectory();
    void beginScenes();
    void beginResumed();
    void journal(const QString& type, const QString& sceneId, const QJsonObject& fields = {}, bool sync = false);
    void decideAfterAttempt(int index, bool validation, bool execFailed, bool cancelled, bool operatorCancelled);
    void logSceneOutcome(const telemetry::SceneRecord& scene);
    void nextScene();
    void startAttempt(int index);
    void onAttemptFinished(int index);
    void onBackendLost(ComfyBackend* backend, const QString& reason);
    void onCapacityChanged();
    int dispatchCapacity() const;
    void hold(int index, const QString& reason);
    void maybeFreeVram(ComfyBackend* backend);
    void hygieneThenBegin();
    // Records the scene's outcome (history.json, the journal's final entry, its lines, the artifact)
    // and then calls `then`; with background writes that is after history.json was written.
    void finalizeScene(int index, bool operatorCancelled, std::function<void()> then = {});
    void finalizeSceneOutcome(int index, bool operatorCancelled);
    void finalizeEach(QList<int> indices, std::function<void()> then);
    void continueAfterRunDirectory(const Error& storyError, const Error& logError);
    void afterScene();
    void windDown();
    int indexOf(const QString& sceneId) const;
    int maxAttemptsOf(int index) const;
    void finishRun(RunExit code, const QString& message);
    void fail(RunExit code, const QString& message);
    void log(const QString& line);
    void writeArtifacts();
    void recordInHistory();
    void writeSceneJson(const telemetry::SceneRecord& scene);
    // The one place a failed durable write (artifact, scene.json, history.json, run-summary.txt, the
    // journal, a frame) is reported to: a full disk holds the queue. Safe to call from anywhere on the
    // owner thread, also while the hold is on (then it does nothing).
    void onWriteFailure(const Error& error);
    void onDiskSpaceBack(qint64 freeBytes);
    void onDiskHoldExpired(qint64 freeBytes);
    void endHeldForDisk();
    bool heldForDisk(const Active& a) const;

    RunOptions m_opt;
    QPointer<gpu::GpuMonitor> m_monitor;
    BackendPool* m_pool = nullptr;
    comfy::ComfyClient* m_client = nullptr; // the first server's (single-server texts name it)
    comfy::WorkflowProfile m_profile;
    bool m_markerExpected = false;
    bool m_markerFromSentinel = false; // the awaited marker is the sentinel's, not the node's
    telemetry::RunRecord m_run;
    telemetry::RunSummaryLog m_log;
    QMap<int, Active> m_active; // scenes being worked on, by index (node-based: references stay valid)
    QList<int> m_pending;    // scene indices still to run, in order; operator requeues go last
    QHash<int, int> m_attemptBase; // attempts a scene had when the operator requeued it
    RunJournal m_journal;                 // run-journal.jsonl: every scene transition, before it is acted on
    QHash<int, ResumeAttach> m_reattach;  // resumed scenes whose journaled prompt is taken over
    QHash<int, ResumeScene> m_resumeDecide; // resumed scenes whose collected attempt awaits its decision
    QSet<int> m_attached;                 // scenes whose attempt in flight was re-attached
    QHash<int, int> m_infraAttempts; // attempts ended by a dead server: never spend the retry budget
    bool m_queuePaused = false;
    bool m_begun = false;          // scenes are being dispatched
    quint64 m_startToken = 0;      // source of Active::token
    QTimer* m_holdTimer = nullptr; // re-evaluates held scenes (gate and health bounds)
    QHash<const ComfyBackend*, int> m_scenesOn; // attempts finished per server, for /free every N
    QJsonArray m_freeCalls;
    QJsonObject m_llmUnload;
    // mtime of our last artifact write (ratings may land in between); read and set by the artifact
    // jobs only, which run one at a time.
    std::shared_ptr<QDateTime> m_artifactWrittenAt = std::make_shared<QDateTime>();
    // The artifact write queued on the writer and not begun yet; a newer snapshot replaces its own.
    struct PendingArtifactWrite
    {
        std::mutex mutex;
        bool started = false; // set by the writer's thread under the mutex when the job begins
        QJsonObject snapshot;
    };
    std::shared_ptr<PendingArtifactWrite> m_artifactWrite; // owner thread only
    bool m_cancelling = false;
    bool m_finished = false;
    bool m_started = false;
    QVector<double> m_serverExec;
    QString m_systemSummary;
    DiskFullHold* m_diskHold = nullptr;
    DurableWriter* m_writer = nullptr; // durable file work, in order (RunOptions::backgroundWrites)
    QFileSystemWatcher* m_markerWatcher = nullptr; // RunOptions::markerWatcher, else ours (made on first use)
    QSet<int> m_finalizing;            // scenes whose history.json is being written before their final entry
    bool m_windingDown = false;
    bool m_diskGaveUp = false; // the hold bound ran out: the run ends resumable (no artifact index)
    QString m_diskGaveUpWhy;
};

} // namespace gd::pipeline
