#pragma once

#include "common/Error.h"
#include "quality/StoryboardJudgements.h"
#include "story/Story.h"
#include "storyboard/RenderStoryBuilder.h"
#include "storyboard/StoryboardState.h"

#include <QString>
#include <optional>

namespace gd::storyboard {

// The storyboard metrics' inputs for one video run: the verdicts on the selected keyframes of the
// shots the run rendered — identity and character count from storyboard.json's stored keyframe
// verdict, prompt alignment and sameness from what the keyframe stage recorded in
// storyboard-metrics.json ("judgements"), each only while it was given on the very keyframe bytes
// selected now (sha256). Written into the run directory so the run's quality step (and any later
// `gemdirect quality RUN_DIR`) computes them with StoryboardMetrics and never asks the judge again.
class VideoRunJudgements
{
public:
    static QString metricsFileName() { return QStringLiteral("storyboard-metrics.json"); }

    // The "judgements" the keyframe stage recorded in <storyboardDir>/storyboard-metrics.json; nullopt
    // with a null error when there are none (no metrics written yet, or written by an older build).
    static std::optional<quality::StoryboardJudgements> recorded(const QString& storyboardDir, Error* error);

    // One ShotJudgement per rendered clip whose shot has a selected keyframe (a shot continuing from
    // another starts on that clip's last frame and is not keyframe-judged), keyed by the run's SceneId
    // (render.story.scenes.at(i).id) and the shot key; sameness pairs are the consecutive rendered
    // shots in story order.
    static quality::StoryboardJudgements build(const story::Story& story, const StoryboardState& state,
                                               const VideoRenderStory& render,
                                               const std::optional<quality::StoryboardJudgements>& recorded);

    // recorded() + build() + StoryboardJudgements::write(runDir). An unreadable metrics file does not
    // stop the run: its verdicts count as not recorded and *warning names the problem.
    static Error writeForRun(const QString& storyboardDir, const QString& runDir, const story::Story& story,
                             const StoryboardState& state, const VideoRenderStory& render, QString* warning);
};

} // namespace gd::storyboard
