#pragma once

#include "pipeline/RunQualityJob.h"

#include <QStringList>

class SignalWatcher;

namespace cli {

// Runs the end-of-run quality step (pipeline::RunQualityJob: model judges, QualityMetrics into
// artifact-metadata.json, the history database) to completion, printing its progress unless `quiet`
// and its database warnings on stderr. With `signals`, Ctrl-C cancels the model judges (their metrics
// not measured yet are written UNMEASURED, the rest as usual; result.cancelled is set) and a second
// Ctrl-C exits at once with 130 (the artifact is only ever replaced atomically).
gd::pipeline::RunQualityResult computeQuality(const gd::pipeline::RunQualityOptions& options, bool quiet,
                                              SignalWatcher* signals = nullptr);

// The end of `run` and `resume`: waits for the frame statistics computed in the background, runs
// computeQuality() and prints "Quality metrics written (N unmeasured); ..." or the warning.
gd::pipeline::RunQualityResult finishRunQuality(const gd::pipeline::RunQualityOptions& options, bool quiet,
                                                SignalWatcher* signals = nullptr);

} // namespace cli

int qualityCommand(const QStringList& arguments);
int kpiCommand(const QStringList& arguments);
