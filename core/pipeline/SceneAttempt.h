#pragma once

#include <optional>

#include "comfy/ComfyClient.h"
#include "comfy/WorkflowBuilder.h"
#include "comfy/WorkflowProfile.h"
#include "gpu/GpuSnapshot.h"
#include "pipeline/FrameCollector.h"
#include "pipeline/QueuePolicy.h"
#include "pipeline/ResumePlanner.h"
#include "telemetry/RunModel.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMap>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <functional>

class QFileSystemWatcher;

namespace gd::gpu {
class GpuMonitor;
}

namespace gd::pipeline {

class RunJournal;

// What one attempt needs to know; filled by the RunController.
struct AttemptSpec
{
    QString runId;
    QString runDir; // absolute
    QString sceneId;
    int attempt = 1;
    int frameFloor = 25;
    comfy::WorkflowProfile profile; // already adapted to the server (marker node swapped if missing)
    comfy::WorkflowBuilder::SceneParams
        params;                  // prompt, negative, frame count...; seed and prefix are set per attempt
    bool markerExpected = false; // the graph ends in GemDirectSaveFrames and the server has it
    QueuePolicy policy;
    QString comfyOutputDir; // local ComfyUI output directory, when the operator gave one
    QString keyframePath;   // local image for profiles with a keyframe_image role
    // Story "images": workflow role name → absolute local image path. The attempt uploads the ones
    // its profile maps (keyframePath stands in for keyframe_image/start_image when absent).
    QMap<QString, QString> images;
    // A pinned sampler seed (story.json scene "seed"; the storyboard sets it so a candidate renders
    // with the seed its input hash records). Empty: a fresh random seed per attempt.
    std::optional<qint64> seed;
    // The run's journal: the attempt records its submission (before the POST) and its progress
    // there; null = not journaled.
    RunJournal* journal = nullptr;
    // Watches the output folder for the done marker, shared by the run's attempts (not owned):
    // closing an inotify instance blocks the closing thread for tens of ms (the kernel waits for an
    // RCU grace period), so the GUI thread must not create and close one per attempt. Null = the
    // attempt uses its own.
    QFileSystemWatcher* markerWatcher = nullptr;
};

// Runs one attempt of one scene through the contract §2.2 steps: GPU before → build graph with a
// fresh seed and a unique prefix → POST /prompt → wait (WebSocket first, /history polling as the
// fallback, every wait bounded) → done marker or stability window → collect and verify frames →
// GPU after. Emits finished() exactly once; record() then holds the AttemptRecord with telemetry.
class SceneAttempt : public QObject
{
    Q_OBJECT
public:
    enum class State
    {
        Preparing,
        Submitting,
        Queued,
        Running,
        AwaitingHistory,
        AwaitingOutputs,
        Collecting,
        Finishing,
        Done
    };
    Q_ENUM(State)

    SceneAttempt(comfy::ComfyClient* client, gpu::GpuMonitor* monitor, AttemptSpec spec,
                 QObject* parent = nullptr);
    ~SceneAttempt() override;

    void start();
    // Instead of start(), after a restart of the app: takes over the journaled prompt `prompt`
    // (same attempt number, seed, prefix and prompt id) and asks the server where it stands —
    // still queued or running: watched to completion (the client reuses the journaled clientId,
    // so the WebSocket events reach us); finished meanwhile: collected from /history and the
    // outputs; neither: the attempt ends with promptLost() set and nothing collected.
    void attach(const ResumeAttach& prompt);
    // Interrupts the prompt on the server (by prompt id) or deletes it from the queue, then finishes
    // with status "cancelled".
    void cancel();

    State state() const { return m_state; }
    const telemetry::AttemptRecord& record() const { return m_rec; }
    bool validationFailure() const { return m_validationFailure; }
    bool executionFailed() const { return m_executionFailed; }
    bool cancelled() const { return m_cancelled; }
    // The server had the prompt neither queued, running nor in its history (it restarted, or the
    // app died before the POST reached it).
    bool promptLost() const { return m_promptLost; }
    // Server-side execution time (execution_start → execution_success timestamps), when known.
    std::optional<double> serverExecutionSeconds() const { return m_serverExecSeconds; }
    static QString filenamePrefix(const QString& runId, const QString& sceneId, int attempt);

Q_SIGNALS:
    void stateChanged(gd::pipeline::SceneAttempt::State state, const QString& text);
    void progress(double fraction, const QString& detail);
    void finished();

private:
    struct GpuReading
    {
        gpu::GpuSnapshot local;
        QJsonObject systemStats;
        Error systemStatsError;
    };

    void setState(State s, const QString& text = {});
    bool prepareRecord(qint64 seed, const QString& framePrefix);
    void startWatching();
    void journal(const QString& type, QJsonObject fields = {}, bool sync = false);
    // The POST itself, once the submission is journaled (durably).
    void postJournaled(const QJsonObject& graph);
    void readGpu(std::function<void(const GpuReading&)> then);
    void submit();
    // Which local images the profile's roles need; a message when a required one is missing.
    QString planUploads();
    void uploadNext();
    void post();
    void onEvent(const comfy::ComfyEvent& ev);
    void onSocketConnected();
    void pollTick();
    void reconcile(const QString& why);
    void onHistoryEntry(const QJsonObject& entry, bool viaPolling);
    void onCompletion(const QString& signal);
    void fetchHistoryAfterCompletion();
    void afterHistory();
    void awaitMarker();
    void markerCheck();
    void markerFound(const QString& path, const QJsonObject& marker);
    void markerGaveUp();
    void stabilityCheck();
    void collect();
    void onCollected(const FrameCollector::Result& result);
    void finishAttempt();
    void giveUpWaiting(const QString& reason, const QString& exitReason);
    void emitProgress();
    void addNote(const QString& note);
    QVector<comfy::OutputFile> reportedFiles() const;
    QString localPathOf(const comfy::OutputFile& f) const;
    QStringList localCandidates(QStringList* debugLines) const;
    double secondsSince(qint64 ms) const;

    comfy::ComfyClient* m_client;
    QPointer<gpu::GpuMonitor> m_monitor;
    AttemptSpec m_spec;
    telemetry::AttemptRecord m_rec;
    State m_state = State::Preparing;
    QString m_promptId;
    QString m_subfolder; // ComfyUI-relative folder of this attempt's outputs
    QString m_basename;  // file base name of this attempt's outputs
    QString m_attemptDirAbs;
    // One local file to upload and every role that receives it (a keyframe feeding keyframe_image and
    // start_image is sent once).
    struct PendingUpload
    {
        QString path;
        QStringList roles;
    };
    QVector<PendingUpload> m_uploads;
    int m_uploadIndex = 0;
    QMap<QString, QString> m_uploadedNames; // role name → "subfolder/name" as /upload/image returned
    int m_peakWindow = -1;
    GpuReading m_before;

    bool m_submitted = false;
    bool m_completed = false;
    bool m_finished = false;
    bool m_cancelled = false;
    bool m_validationFailure = false;
    bool m_executionFailed = false;
    bool m_successSeen = false;
    bool m_collectionFailed = false;
    bool m_markerDone = false; // found or given up: later checks must not act
    bool m_promptLost = false;
    QString m_outcome;         // success | error | interrupted | unknown
    qint64 m_submitMs = 0;
    qint64 m_completedMs = 0;
    qint64 m_lastEventMs = 0;
    qint64 m_execStartServerMs = 0;
    std::optional<double> m_serverExecSeconds;
    bool m_reconcileInFlight = false;
    bool m_historyInFlight = false;
    QJsonObject m_historyEntry;
    QHash<QString, QJsonObject> m_executedOutputs;
    int m_nodesDone = 0;
    int m_stepsDone = 0;
    int m_lastStepValue = 0;
    QString m_currentNode;

    QTimer m_pollTimer;
    QTimer m_maxWaitTimer;
    QTimer m_markerTimer;
    QElapsedTimer m_markerClock;
    QString m_markerPath;
    int m_stabilityTry = 0;
    QStringList m_candidateDebug;
};

} // namespace gd::pipeline
