#pragma once

#include "pipeline/RunQualityJob.h"

#include <QStringList>

namespace cli {

// Runs the end-of-run quality step (pipeline::RunQualityJob: model judges, QualityMetrics into
// artifact-metadata.json, the history database) to completion, printing its progress unless `quiet`
// and its database warnings on stderr.
gd::pipeline::RunQualityResult computeQuality(const gd::pipeline::RunQualityOptions& options, bool quiet);

// The end of `run` and `resume`: waits for the frame statistics computed in the background, runs
// computeQuality() and prints "Quality metrics written (N unmeasured); ..." or the warning.
gd::pipeline::RunQualityResult finishRunQuality(const gd::pipeline::RunQualityOptions& options, bool quiet);

} // namespace cli

int qualityCommand(const QStringList& arguments);
int kpiCommand(const QStringList& arguments);
