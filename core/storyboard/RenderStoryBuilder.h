#pragma once

#include "story/Story.h"
#include "storyboard/StoryboardPlan.h"
#include "storyboard/StoryboardState.h"

#include <QJsonObject>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QVector>

namespace gd::storyboard {

// What the video pass renders in one pipeline run.
struct VideoRenderStory
{
    // The render story: one scene per clip (scene-001… in plan order). Its image paths are relative
    // to the storyboard directory, so the run's RunOptions::storyDir must be that directory.
    story::Story story;
    QVector<WorkItem> items;      // items.at(i) is rendered by story.scenes.at(i)
    QVector<BlockedItem> blocked; // approved-gate and staleness refusals, with the message to show
    // Chained shots whose predecessor renders in this pass (or an earlier one that has not been
    // imported yet): build again after importing this pass and they are ready.
    QStringList waiting;
    int skippedFresh = 0; // clips already fresh (not rendered unless includeFresh)
};

struct VideoRenderOptions
{
    QStringList keys;          // shot keys to consider; empty = every shot of the plan
    bool includeFresh = false; // re-render approved shots whose clip is already fresh (`--all`)
    QSet<QString> done;        // shot keys rendered by an earlier pass of the same command: never again
    int chainCap = ChainPlanner::kDefaultCap;
};

// Turns the video plan (StoryboardPlan, PlanStage::VideoForApproved) into a render story for
// pipeline::RunController. Each scene gets the shot's clip prompt (description + camera + motion, the
// clip inputs' "prompt"), the source scene's negative prompt and expected frames, images
// keyframe_image = start_image = the selected keyframe candidate (or, for a shot that continues from
// another, the last frame of that shot's selected clip), end_image = the selected end keyframe
// candidate when the clip inputs name one (bookend shot, profile maps end_image), and raw "storyboardItem"
// {kind:"clip", key, version:0, candidate:1, seed, inputHash} so outputs map back.
// Chains render in passes: call buildVideo, run, ClipImporter::importRun, save, call buildVideo
// again with `done` grown, until items is empty. StoryboardController's Video stage and
// `gemdirect run --storyboard` both use it.
class RenderStoryBuilder
{
public:
    // `plan` must be StoryboardPlan::build(PlanStage::VideoForApproved, …) over the same story and state.
    static VideoRenderStory buildVideo(const story::Story& story, const StoryboardState& state,
                                       const Plan& plan, const VideoRenderOptions& options = {});
    // The first frame of a shot's clip, relative to the storyboard directory; empty with *error set
    // when there is none yet.
    static QString startImageOf(const story::Story& story, const StoryboardState& state,
                                const QString& shotKey, int chainCap, QString* error);
    // The profile name of the newest selected version of that kind (Reference, Keyframe or Clip) in
    // the state, or "" when nothing is rendered: the profile whose hash the staleness check must use.
    // Keyframes (and end keyframes): textKeyframes false = among keyframes anchored on character
    // references, true = among those made from text alone (the text keyframe profile's). An uploaded
    // keyframe counts with the profile its recorded inputs were hashed for (StoryboardController::upload).
    static QString profileInState(const StoryboardState& state, ItemKind kind, bool textKeyframes = false);
    // The raw "storyboardItem" of a render scene.
    static QJsonObject itemJson(const WorkItem& item, int candidate, qint64 seed);
};

} // namespace gd::storyboard
