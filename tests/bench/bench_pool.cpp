// Backend pool scaling: N sandbox ComfyUI servers, each rendering a scene in about 0.5 s
// (8 sampler steps × 60 ms plus node and frame writing), 40 scenes through the real RunController,
// 1 running + 1 queued prompt per server for every N. Prints throughput(N) / (N × throughput(1))
// for N = 2, 4, 8, and the time of one scheduling decision (BackendPool::choose over 8 servers).
//   bench_pool [scenes=40] [stepDelayMs=60]
// BENCH_POOL_ONLY=N runs one pool size only; BENCH_POOL_VERBOSE=1 prints the run's messages and
// each finished scene with its time on stderr.

#include "RunHarness.h"

#include "pipeline/BackendPool.h"
#include "telemetry/Percentiles.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cstdio>
#include <memory>

using namespace gd::pipeline;

namespace {
struct Servers
{
    QTemporaryDir root;
    std::vector<std::unique_ptr<gd::sandbox::SandboxHost>> hosts;
    QList<BackendSpec> specs;

    bool start(int n, int stepDelayMs)
    {
        for (int i = 0; i < n; ++i) {
            gd::sandbox::SandboxConfig c;
            c.outputDir = root.filePath(QStringLiteral("comfy%1/output").arg(i));
            c.stepDelayMs = stepDelayMs;
            c.nodeDelayMs = 2;
            auto host = std::make_unique<gd::sandbox::SandboxHost>();
            QString e;
            if (!host->start(c, 0, &e)) {
                std::fprintf(stderr, "sandbox: %s\n", qPrintable(e));
                return false;
            }
            specs << BackendSpec{host->url(), QStringLiteral("gpu%1").arg(i), c.outputDir, {}};
            hosts.push_back(std::move(host));
        }
        return true;
    }
};

struct Figures
{
    double seconds = 0;   // first submission → last scene finished
    double throughput = 0; // scenes per second
    double meanScene = 0; // mean DurationSeconds
    int ok = 0;
};

Figures measure(int servers, int scenes, int stepDelayMs)
{
    Servers s;
    Figures f;
    if (!s.start(servers, stepDelayMs))
        return f;
    RunOptions opt;
    opt.story = makeStory(scenes, 8);
    opt.runsRoot = s.root.filePath(QStringLiteral("runs"));
    opt.backends = s.specs;
    opt.queuedPerServer = 1; // the same dispatch rule for every N, one server included
    opt.workflow = QStringLiteral("sandbox");
    opt.policy = testPolicy();
    RunController c(opt, nullptr);
    QElapsedTimer clock;
    qint64 firstMs = -1;
    qint64 lastMs = 0;
    QEventLoop loop;
    QObject::connect(&c, &RunController::attemptStarted, [&] {
        if (firstMs < 0)
            firstMs = clock.elapsed();
    });
    QObject::connect(&c, &RunController::sceneFinished, [&] { lastMs = clock.elapsed(); });
    if (qEnvironmentVariableIsSet("BENCH_POOL_VERBOSE")) {
        QObject::connect(&c, &RunController::message, [&](const QString& m) { std::fprintf(stderr, "%.2f %s\n", clock.elapsed() / 1000.0, qPrintable(m)); });
        QObject::connect(&c, &RunController::warning, [&](const QString& m) { std::fprintf(stderr, "%.2f W %s\n", clock.elapsed() / 1000.0, qPrintable(m)); });
        QObject::connect(&c, &RunController::sceneFinished, [&](const gd::telemetry::SceneRecord& r) { std::fprintf(stderr, "%.2f done %s %s\n", clock.elapsed() / 1000.0, qPrintable(r.sceneId), qPrintable(r.status)); });
    }
    QObject::connect(&c, &RunController::finished, &loop, [&](int code, const QString& msg) {
        if (code != 0)
            std::fprintf(stderr, "run (N=%d) ended %d: %s\n", servers, code, qPrintable(msg));
        loop.quit();
    });
    clock.start();
    QTimer::singleShot(0, &c, &RunController::start);
    loop.exec();
    double total = 0;
    for (const auto& sc : c.record().scenes)
        if (const auto* k = sc.kept(); k && k->frameCount > 0) {
            ++f.ok;
            total += k->durationSeconds;
        }
    f.seconds = (lastMs - firstMs) / 1000.0;
    f.throughput = f.seconds > 0 ? f.ok / f.seconds : 0;
    f.meanScene = f.ok ? total / f.ok : 0;
    for (auto& h : s.hosts)
        h->stop();
    return f;
}

// One scheduling decision over 8 healthy servers with mixed load, in microseconds.
QVector<double> decisionMicros()
{
    Servers s;
    QVector<double> us;
    if (!s.start(8, 1))
        return us;
    BackendPool pool(s.specs, PoolOptions{});
    bool probed = false;
    pool.probeAll([&] { probed = true; });
    QTest::qWaitFor([&] { return probed; }, 10000);
    for (int i = 0; i < 5; ++i)
        pool.acquire(pool.backend(i));
    QElapsedTimer t;
    for (int i = 0; i < 20000; ++i) {
        t.start();
        const auto choice = pool.choose(2048);
        us << t.nsecsElapsed() / 1000.0;
        if (!choice.backend)
            std::fprintf(stderr, "no choice\n");
    }
    for (auto& h : s.hosts)
        h->stop();
    return us;
}
} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    std::setvbuf(stdout, nullptr, _IONBF, 0);
    const int scenes = argc > 1 ? std::atoi(argv[1]) : 40;
    const int stepDelayMs = argc > 2 ? std::atoi(argv[2]) : 60;
    if (const int only = qEnvironmentVariableIntValue("BENCH_POOL_ONLY"); only > 0) {
        const Figures f = measure(only, scenes, stepDelayMs);
        std::printf("N=%d: %d/%d scenes in %.2f s\n", only, f.ok, scenes, f.seconds);
        return 0;
    }
    const Figures one = measure(1, scenes, stepDelayMs);
    std::printf("N=1: %d/%d scenes in %.2f s, %.3f scenes/s, mean scene %.3f s\n", one.ok, scenes, one.seconds,
                one.throughput, one.meanScene);
    for (int n : {2, 4, 8}) {
        const Figures f = measure(n, scenes, stepDelayMs);
        std::printf("N=%d: %d/%d scenes in %.2f s, %.3f scenes/s, mean scene %.3f s, efficiency %.3f\n", n, f.ok,
                    scenes, f.seconds, f.throughput, f.meanScene,
                    one.throughput > 0 ? f.throughput / (n * one.throughput) : 0.0);
    }
    const QVector<double> us = decisionMicros();
    std::printf("scheduling decision (8 servers): median %.2f us, P99 %.2f us, max %.2f us over %d decisions\n",
                gd::telemetry::Percentiles::nearestRank(us, 50).value_or(-1),
                gd::telemetry::Percentiles::nearestRank(us, 99).value_or(-1),
                *std::max_element(us.begin(), us.end()), int(us.size()));
    return 0;
}
