// Orchestration overhead per scene = DurationSeconds − server execution time, against the sandbox
// with ~0.2 s renders and producer markers; then the same scenes under the earlier pipeline's
// policy (no WebSocket, 2 s history polling, markers ignored, 2 s stability window).
//   bench_orchestration [scenes=20]

#include "RunHarness.h"
#include "telemetry/Percentiles.h"

#include <QCoreApplication>
#include <cstdio>

using gd::telemetry::Percentiles;

namespace {
struct Figures
{
    double median = 0;
    double p95 = 0;
    double meanDuration = 0;
    int scenes = 0;
    int markers = 0;
};

Figures measure(RunHarness& h, int scenes, bool legacy)
{
    gd::pipeline::QueuePolicy p = gd::pipeline::QueuePolicy::standard();
    if (legacy) {
        p.pollIntervalSeconds = 2;
        p.stabilityWindowSeconds = 2;
        p.stabilityRetries = 3;
    }
    gd::pipeline::RunOptions extra;
    QVector<double> overhead;
    double total = 0;
    Figures f;
    gd::pipeline::RunController* ctl = nullptr;
    const RunOutcome o = h.run(
        makeStory(scenes, 8), p, QStringLiteral("sandbox"), {}, 600000,
        [&](gd::pipeline::RunController* c) { ctl = c; },
        [legacy](gd::pipeline::RunOptions& opt) {
            opt.useWebSocket = !legacy;
            opt.useDoneMarkers = !legacy;
        });
    if (o.exitCode != 0)
        std::fprintf(stderr, "run failed: %s\n", qPrintable(o.message));
    for (int i = 0; i < o.record.scenes.size(); ++i) {
        const auto* k = o.record.scenes.at(i).kept();
        if (!k || !k->serverExecutionSeconds)
            continue;
        overhead << (k->durationSeconds - *k->serverExecutionSeconds) * 1000.0;
        total += k->durationSeconds;
        f.markers += k->telemetry.doneMarkerDetected;
    }
    f.scenes = int(overhead.size());
    f.median = Percentiles::nearestRank(overhead, 50).value_or(-1);
    f.p95 = Percentiles::nearestRank(overhead, 95).value_or(-1);
    f.meanDuration = f.scenes ? total / f.scenes : 0;
    return f;
}
} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const int scenes = argc > 1 ? std::atoi(argv[1]) : 20;
    RunHarness h;
    h.config.stepDelayMs = 25; // 8 sampler steps ≈ 0.2 s of "rendering" per scene
    h.config.nodeDelayMs = 0;
    if (!h.startServer())
        return 1;
    const Figures ours = measure(h, scenes, false);
    const Figures legacy = measure(h, scenes, true);
    std::printf("scenes per policy: %d (8 frames, 320x180, ~0.2 s server execution)\n", scenes);
    std::printf("gemDirect policy : overhead median %.1f ms, P95 %.1f ms, mean scene %.3f s, markers %d/%d\n",
                ours.median, ours.p95, ours.meanDuration, ours.markers, ours.scenes);
    std::printf("legacy policy    : overhead median %.1f ms, P95 %.1f ms, mean scene %.3f s, markers %d/%d\n",
                legacy.median, legacy.p95, legacy.meanDuration, legacy.markers, legacy.scenes);
    std::printf("ratio (legacy/gemDirect median overhead): %.1fx\n",
                ours.median > 0 ? legacy.median / ours.median : 0.0);
    return 0;
}
