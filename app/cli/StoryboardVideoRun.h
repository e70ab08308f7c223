#pragma once

#include "pipeline/RunController.h"

#include <QString>
#include <QStringList>

#include <functional>

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
    // --sandbox: the sheets and keyframes a storyboard names no profile for are judged with the sandbox
    // profiles, as `gemdirect storyboard --sandbox` renders and uploads them.
    bool sandbox = false;
    // `gemdirect run`'s per-run steps, so every pass behaves like a plain run: `runStarted` sees each
    // pass' controller before it runs (the --metrics-port exporter follows it), `runFinished` gets the
    // pass' run directory and exit code once its clips are stored and returns the code to go on with
    // (the end-of-run quality step: 130 when the operator cancelled it, which ends the command).
    std::function<void(gd::pipeline::RunController*)> runStarted;
    std::function<int(const QString& runDir, int exitCode)> runFinished;
};

// `gemdirect run --storyboard DIR`: renders the clips of the approved, fresh keyframes through
// RenderStoryBuilder + RunController in passes (a chained shot renders in the pass after the shot
// it continues from), imports each pass with ClipImporter and saves storyboard.json atomically.
// `base` carries the servers, policy and history database; story, storyDir, runsRoot (DIR/runs) and
// workflow are set here. Each pass' run directory gets the storyboard verdicts of the shots it
// rendered (storyboard::VideoRunJudgements) for its quality step. Returns the exit code as
// `gemdirect run` does; *lastRunDir is the last pass' run directory (empty when nothing ran).
int runStoryboardVideo(const StoryboardVideoArgs& args, gd::pipeline::RunOptions base,
                       gd::gpu::GpuMonitor* monitor, SignalWatcher& signals, QString* lastRunDir);

} // namespace cli
