#pragma once

#include "SignalWatcher.h"

#include "pipeline/RunController.h"

#include <QHash>
#include <QObject>

namespace cli {

// Prints a run's events on the console, one line per scene event; sampler progress at most every
// 10 % (`gemdirect run` and `gemdirect resume`).
class ProgressPrinter : public QObject
{
public:
    ProgressPrinter(gd::pipeline::RunController* controller, bool quiet);

private:
    QHash<QString, int> m_lastDecile;
};

// Runs `controller` to its end on this thread's event loop with a ProgressPrinter: Ctrl-C cancels the
// run (twice exits at once), the finished line goes to stdout (stderr for bad input / unreachable).
// Returns the run's exit code. `signals` is the caller's watcher (it may need it afterwards).
int runToCompletion(gd::pipeline::RunController* controller, SignalWatcher& signals, bool quiet);

} // namespace cli
