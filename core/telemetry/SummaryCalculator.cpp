#include "telemetry/SummaryCalculator.h"

#include "telemetry/Percentiles.h"

#include <algorithm>

namespace gd::telemetry {

RunSummaryStats SummaryCalculator::compute(const RunRecord& run)
{
    RunSummaryStats stats;
    stats.scenesTotal = static_cast<int>(run.scenes.size());
    QVector<double> durations;
    for (const SceneRecord& scene : run.scenes) {
        stats.requeues += std::max(0, static_cast<int>(scene.attempts.size()) - 1);
        const AttemptRecord* kept = scene.kept();
        if (!kept)
            continue;
        if (kept->frameCount > 0)
            ++stats.scenesSucceeded;
        stats.totalFrames += std::max(0, kept->frameCount);
        if (kept->telemetry.forcedCopyTriggered)
            ++stats.forcedCopies;
        if (kept->telemetry.doneMarkerDetected)
            ++stats.doneMarkersDetected;
        durations.append(kept->durationSeconds);
    }
    stats.durationP50Seconds = Percentiles::nearestRank(durations, 50);
    stats.durationP95Seconds = Percentiles::nearestRank(durations, 95);
    return stats;
}

} // namespace gd::telemetry
