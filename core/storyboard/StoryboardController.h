#pragma once

#include <functional>

// Names used here for the wave-2 design's types (docs: /work/briefs/s4-wave2-design.md):
//   ItemKind        → storyboard::ItemKind (StoryboardTypes.h)
//   StalenessReport → storyboard::StalenessReport (StalenessCalculator.h)
//   StageEstimate   → storyboard::StageEstimate (GpuTimeEstimator.h)
//   Plan            → storyboard::Plan (StoryboardPlan.h); StoryboardStage::Video plans
//                     PlanStage::VideoForApproved, the other stages the PlanStage of the same name.

#include "common/Error.h"
#include "pipeline/RunController.h"
#include "story/Story.h"
#include "storyboard/GpuTimeEstimator.h"
#include "storyboard/StalenessCalculator.h"
#include "storyboard/StoryboardPlan.h"
#include "storyboard/StoryboardState.h"
#include "storyboard/StoryboardTypes.h"

#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace gd::gpu {
class GpuMonitor;
}
namespace gd::quality {
class KeyframeJudge;
}

namespace gd::storyboard {

struct ImportJob;
struct ImportResult;

// The stages an operator starts; each renders its plan through one pipeline run.
enum class StoryboardStage
{
    References,  // reference-sheet candidates of every character-look / location / style
    Keyframes,   // keyframe (and bookend shots' end keyframe) candidates per shot, anchored on the approved sheets, judged
    Video,       // image-to-video of the approved, fresh keyframes (start_image, end_image = the end keyframe)
    UpdateStale, // every stale item (sheets, then keyframes, then clips), nothing else
};

struct StoryboardControllerOptions
{
    // Servers, runs root, pool, history database… copied per stage; story, storyDir, workflow and
    // runsRoot are set by the controller (runs go under <dir>/runs/).
    pipeline::RunOptions render;
    QString sheetProfile = QStringLiteral("sdxl-reference-sheet");
    QString keyframeProfile = QStringLiteral("sdxl-ipadapter-keyframe");
    QString videoProfile = QStringLiteral("wan22-flf2v");
    // Keyframes with no character reference image (a shot showing no one, or text-only because a sheet
    // is missing and allowTextOnly is set) render with this profile, which maps no reference slot (the
    // keyframe profile's slots would be left empty, and a mapped slot without an image fails the scene).
    // Empty = every keyframe uses keyframeProfile. The sandbox uses sandbox-keyframe-text.
    QString textKeyframeProfile = QStringLiteral("sdxl-keyframe-text");
    int candidates = 3;         // per sheet / keyframe, different seeds
    bool autoApprove = false;   // take candidate 1 (sheets) or the judge's pick (keyframes) and approve
    bool allowTextOnly = false; // render keyframes of shots whose characters have no approved sheet
    int chainCap = 3;
    // The vision model that judges keyframes: empty = pick one the LLM server lists; none there →
    // metrics UNMEASURED and the operator chooses. llmUrl empty = no judge at all.
    QString judgeModel;
    QUrl llmUrl;
    QString llmApiKey;
};

// Orchestrates the storyboard of one directory (story.json + storyboard.json): plans each stage,
// renders it through pipeline::RunController (a render story whose scenes are the work items),
// imports the outputs as new versions, judges keyframe candidates, keeps the approval gate and the
// staleness report current, and saves atomically after every change. The command line and the
// storyboard panel both drive it. Threading: lives on one thread (the GUI or the CLI's event loop);
// every method and signal is on that thread, and so is every change and save of the state; only the
// file work of storing a finished run's outputs (links, SHA-256) runs on the thread pool
// (StoryboardImporter). One stage at a time.
class StoryboardController : public QObject
{
    Q_OBJECT
public:
    StoryboardController(StoryboardControllerOptions options, gpu::GpuMonitor* monitor /* may be null */,
                         QObject* parent = nullptr);
    ~StoryboardController() override;

    // Loads <dir>/story.json and <dir>/storyboard.json (missing = empty storyboard); the error
    // names the file and the problem.
    Error open(const QString& dir);
    // Makes a new storyboard directory from a story: writes <dir>/story.json (atomically) and an
    // empty storyboard.json. Refuses a directory that already holds a storyboard.json.
    Error create(const QString& dir, const story::Story& story);

    const story::Story& story() const;
    const StoryboardState& state() const;
    QString directory() const;
    const StoryboardControllerOptions& options() const { return m_opt; }
    // New options apply from the next stage on (a running stage keeps its own copy).
    void setOptions(StoryboardControllerOptions options);

    // Recomputed after every change (cached: compose once per story or state edit).
    StalenessReport staleness() const;
    StageEstimate estimate(StoryboardStage stage) const;
    Plan plan(StoryboardStage stage) const;

    // Async; keys empty = everything the plan lists, else only those items (reference keys, shot keys
    // for keyframes and clips, "<shotKey>#end" for end keyframes) among it; a named keyframe or end
    // keyframe that is fresh is re-rolled. Emits stageStarted … stageFinished exactly once per call (stageFinished at
    // once with exit code 2 when it cannot start: busy, nothing open, a profile missing a role).
    void start(StoryboardStage stage, const QStringList& keys = {});
    void cancel();
    bool isBusy() const;
    // The render run of the stage in progress (for the watcher / dashboard), null between stages.
    pipeline::RunController* currentRun() const;

    // Operator override of the judge: candidate K (1-based) of version N becomes the chosen one.
    Error choose(ItemKind kind, const QString& key, int version, int candidate);
    Error approve(ItemKind kind, const QString& key);
    Error unapprove(ItemKind kind, const QString& key);
    // An operator's image as a new, selected, approved version (source "uploaded") of a reference
    // sheet, a shot's keyframe or a shot's end keyframe (key: the reference key or the shot key).
    // Nothing is stored when the file is not an image (kind "notAnImage", the message names the file).
    // A keyframe records the inputs a render would have now (text-only when a sheet is missing), so a
    // later upstream edit makes it stale with a reason; a reference is its own input.
    Error upload(ItemKind kind, const QString& key, const QString& imagePath);
    // Saves story.json atomically; staleness follows.
    Error editShot(const QString& shotKey, const story::StoryShot& shot);
    Error editReferencePrompt(const QString& referenceKey, const QString& prompt);

    // Whether the video profile is a bookend profile (maps end_image): then the clips of bookend shots
    // (those with a lastFrame) need their approved, fresh end keyframe and end on it. False: lastFrame
    // is ignored by the video pass (the end keyframes are still rendered, but not required).
    bool usesEndKeyframes() const;
    // Items a stage would leave waiting for the operator: rendered, selected, not approved.
    QStringList unapproved(ItemKind kind) const;
    static QString stageName(StoryboardStage stage); // "references", "keyframes", "video", "update-stale"
    static PlanStage planStage(StoryboardStage stage);

Q_SIGNALS:
    void stageStarted(gd::storyboard::StoryboardStage stage, int items, const QString& estimateText);
    // A render run of the stage begins (a stage may run several: update-stale renders sheets, then
    // keyframes); the run lives until the stage moves on — attach watchers / progress printers here.
    void runStarted(gd::pipeline::RunController* run);
    void itemRendered(gd::storyboard::ItemKind kind, const QString& key, int version);
    // shotKey: the shot key for its keyframe, "<shotKey>#end" for its end keyframe.
    void candidateJudged(const QString& shotKey, int version, int candidate);
    void awaitingApproval(gd::storyboard::StoryboardStage stage, const QStringList& keys);
    // exitCode as `gemdirect run`: 0 ok, 1 render failures, 2 bad input, 3 server unreachable,
    // 130 cancelled.
    void stageFinished(gd::storyboard::StoryboardStage stage, int exitCode, const QString& text);
    void stateChanged();
    void message(const QString& line);

private:
    struct StageRun;

    void invalidate();
    Error saveState();
    Error saveStory();
    InputContext inputContext() const;
    void runNextStep();
    void startRenderStep();
    void startRenderPass();
    QString keyframeProfileFor(const WorkItem& item) const;
    void onRunFinished(int exitCode, const QString& text);
    void importOutputs();
    void onImported(const QVector<ImportResult>& results);
    void runImport(QVector<ImportJob> jobs, void (StoryboardController::*then)(const QVector<ImportResult>&));
    void onClipsImported(const QVector<ImportResult>& results);
    void measureVideoPass();
    void startPassQuality();
    void afterImport();
    void startVideoPass();
    Error applyEdit(const std::function<Error()>& change);
    void importClips(const telemetry::RunRecord& record);
    void startJudging();
    void judgeNext();
    void storePending(bool cancelled);
    void finishStage(int exitCode, const QString& text);
    void writeMetrics();

    StoryboardControllerOptions m_opt;
    QPointer<gpu::GpuMonitor> m_monitor;
    QString m_dir;
    std::unique_ptr<story::Story> m_story;
    StoryboardState m_state;
    mutable std::unique_ptr<StalenessReport> m_staleness; // cache, reset by invalidate()
    mutable QHash<QString, QString> m_profileHashes;      // profile name → hash ("" = not found)
    mutable QHash<QString, QString> m_profileModels;      // profile name → WorkflowProfile::modelText()
    mutable QHash<QString, bool> m_profileStyleSlot;      // profile name → maps style_reference_image
    mutable std::optional<bool> m_videoEndImage;          // the video profile maps end_image (cache)
    // Durations of the history database per profile (read once; the state's are added per call).
    mutable std::unique_ptr<GpuTimeEstimator> m_history;
    std::unique_ptr<StageRun> m_run;
    QPointer<pipeline::RunController> m_controller;
};

} // namespace gd::storyboard

Q_DECLARE_METATYPE(gd::storyboard::StoryboardStage)
Q_DECLARE_METATYPE(gd::storyboard::ItemKind)
