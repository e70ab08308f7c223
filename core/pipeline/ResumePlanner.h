#pragma once

#include "telemetry/RunModel.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <memory>
#include <optional>

namespace gd::pipeline {

struct RunOptions;

// A prompt the journal says was submitted and whose outcome was never collected: it may still be
// queued or running on its server, may have finished while the app was down, or may be lost.
struct ResumeAttach
{
    int attempt = 1;
    QString promptId;
    QString clientId;
    QString backend;
    qint64 seed = 0;
    QString framePrefix;
    QDateTime submittedAt;
    QString lastState; // submitted | running | executed | collecting
};

// Where one scene stood when the run stopped, rebuilt from the journal.
struct ResumeScene
{
    enum class Phase
    {
        Done,     // final outcome recorded: never rendered again
        Decide,   // an attempt was collected but the requeue decision was not recorded
        Reattach, // a prompt was submitted and its outcome not collected
        Pending   // nothing in flight: the next attempt is submitted when its turn comes
    };
    QString sceneId;
    Phase phase = Phase::Pending;
    QVector<telemetry::AttemptRecord> attempts; // collected attempts, by attempt number
    int attemptBase = 0;                        // retry budget counted from this many attempts
    int infraAttempts = 0;  // attempts ended by infrastructure (dead server, lost prompt): budget not spent
    bool infraMove = false; // the collected attempt ended because its server died: the scene just moves on
    bool requeued = false;
    // Decide: the collected attempt's flags and whether its run-summary attempt line is missing.
    bool validationFailure = false;
    bool executionFailed = false;
    bool cancelled = false;
    bool operatorCancelled = false;
    bool attemptLineMissing = false;
    // Done: the recorded outcome, and whether its run-summary lines were cut off by the crash.
    QString status;
    int keptAttempt = -1;
    QStringList warnings;
    QStringList errors;
    QString historyPath;
    bool finalLinesMissing = false;
    bool operatorRequeuePending = false; // an operator requeue waits: it runs after the others
    ResumeAttach attach;
};

// What a resumed run continues from: the run's header and options as journaled at its start, and
// each scene's position.
struct ResumePlan
{
    QString runDir;                  // absolute
    telemetry::RunRecord header;     // run-level record (no scenes)
    QJsonObject options;             // the journal's run entry: ClientId, ComfyUrl, Workflow, Policy, ...
    QVector<ResumeScene> scenes;     // in story order
    bool runFinished = false;        // the journal recorded the end of the run (only the index is missing)
    bool headerLinesMissing = false; // run-summary.txt lacks the run's header lines
    QStringList problems;            // journal lines that could not be read (a torn last line)

    int count(ResumeScene::Phase phase) const;
    // "4 done, 1 re-attached, 5 to render"
    QString describe() const;
};

// Builds a ResumePlan from a run directory alone (run-journal.jsonl, story/story.json,
// run-summary.txt): the run directory is the source of truth, no database needed. Pure file
// reads; cheap enough for the GUI thread on runs of hundreds of scenes.
class ResumePlanner
{
public:
    // nullopt with `error` set when the directory cannot be resumed (no journal: the run stopped
    // before its first scene was queued; not a run directory; already finished — then
    // `alreadyFinished` is set too).
    static std::optional<ResumePlan> plan(const QString& runDir, QString* error,
                                          bool* alreadyFinished = nullptr);
    // Fills the options a resumed run needs from the plan: story (the run's story/story.json),
    // workflow, queue policy, ComfyUI URL and output directory, marker and socket settings, run
    // directory. The caller adds what the journal does not keep: bearer token, profile search
    // directories, history database, and any --comfy-url override.
    static bool applyTo(const ResumePlan& plan, RunOptions* options, QString* error);
};

} // namespace gd::pipeline
