#pragma once

#include "common/Error.h"
#include "storyboard/StoryboardImporter.h"
#include "storyboard/StoryboardPlan.h"
#include "storyboard/StoryboardState.h"
#include "telemetry/RunModel.h"

#include <QString>
#include <QStringList>
#include <QVector>

namespace gd::storyboard {

// Moves the clips of a finished video run into the storyboard: the kept attempt's frames (or video)
// of each render scene go to <dir>/clips/<sceneId>/<shotId>/v<N>/ (hard links, else copies), and a
// new, selected ClipVersion {inputHash, inputs, dir, frames, lastFrameSha256, durationMs, profile} is
// appended to the state; raw "lastFrame" records the last frame's file (what a continuing shot starts
// from) and raw "run"/"scene" where it came from. The state is not saved here: the caller saves once
// (StoryboardState::save, atomic) after the whole run is imported.
class ClipImporter
{
public:
    // The file work of one scene's clip, planned from the state without touching the files: where the
    // version's files go and the StoryboardImporter jobs that put them there (only the last frame is
    // hashed). Owners that keep file work off their thread run the jobs elsewhere, then applyScene().
    struct ScenePlan
    {
        QString rel;             // "clips/<sceneId>/<shotId>/v<N>"
        QVector<ImportJob> jobs; // the frames in order, then the video file
        int lastFrameJob = -1;   // the job of the last frame (-1: a video only)
        int videoJob = -1;
    };
    // Errors: "notRendered" as importScene.
    static Error planScene(const QString& dir, const StoryboardState& state, const WorkItem& item,
                           const telemetry::RunRecord& run, const telemetry::SceneRecord& scene, ScenePlan& out);
    // Appends the ClipVersion of a plan whose jobs ran (results.at(i) ↔ plan.jobs.at(i)). Errors: "io"
    // (a job failed; the state is unchanged), "invalidArgument".
    static Error applyScene(StoryboardState& state, const WorkItem& item, const telemetry::RunRecord& run,
                            const telemetry::SceneRecord& scene, const ScenePlan& plan,
                            const QVector<ImportResult>& results, const QString& profile, int* version = nullptr);

    // One scene of the run: `item` is the clip it rendered, `profile` the workflow profile name.
    // Errors: "notRendered" (the scene has no kept attempt with output), "io" (a copy failed; what was
    // copied for this version is left in its folder, the state is unchanged).
    static Error importScene(const QString& dir, StoryboardState& state, const WorkItem& item,
                             const telemetry::RunRecord& run, const telemetry::SceneRecord& scene,
                             const QString& profile, int* version = nullptr);
    // Every scene of the run, scenes.at(i) ↔ items.at(i) (RenderStoryBuilder's order). Returns how
    // many clips were imported; one line per scene that was not, naming the shot and why.
    static int importRun(const QString& dir, StoryboardState& state, const QVector<WorkItem>& items,
                         const telemetry::RunRecord& run, const QString& profile, QStringList* problems);
};

} // namespace gd::storyboard
