#pragma once

#include "telemetry/RunModel.h"

namespace gd::telemetry {

// Derives the artifact's Summary block (contract §3.1) from a run: counts over kept attempts,
// requeues over all attempts, nearest-rank duration percentiles.
class SummaryCalculator
{
public:
    static RunSummaryStats compute(const RunRecord& run);
};

} // namespace gd::telemetry
