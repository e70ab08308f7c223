#pragma once

#include "pipeline/RunController.h"

#include <QString>
#include <QStringList>

class SignalWatcher;

namespace gd::gpu {
class GpuMonitor;
}

namespace cli {

struct StoryboardVideoArgs
{
    QString dir;          // the storyboard directory (story.json + storyboard.json)
    QString videoProfile; // image-to-video workflow profile
    QStringList shots;    // --shots: only these shot keys ("scene-001/shot-01")
    bool all = false;     // --all: re-render approved shots whose clip is fresh too
    bool quiet = false;
};

// `gemdirect run --storyboard DIR`: renders the clips of the approved, fresh keyframes through
// RenderStoryBuilder + RunController in passes (a chained shot renders in the pass after the shot
// it continues from), imports each pass with ClipImporter and saves storyboard.json atomically.
// `base` carries the servers, policy and history database; story, storyDir, runsRoot (DIR/runs) and
// workflow are set here. Returns the exit code as `gemdirect run` does.
int runStoryboardVideo(const StoryboardVideoArgs& args, gd::pipeline::RunOptions base,
                       gd::gpu::GpuMonitor* monitor, SignalWatcher& signals);

} // namespace cli
