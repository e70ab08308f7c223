// Backend pool scaling: N sandbox ComfyUI servers, each rendering a scene in about 0.5 s
// (8 sampler steps × stepDelayMs plus node delays and writing the frames), 40 scenes through the real
// RunController, 1 running + 1 queued prompt per server for every N. Prints throughput(N) /
// (N × throughput(1)) for N = 2, 4, 8, the CPU the run cost per scene (the client's event-loop
// thread alone, and the whole process: client + in-process servers), the load average around each
// pool size, and the time of one scheduling decision (BackendPool::choose over 8 servers).
//   bench_pool [scenes=40] [stepDelayMs=60]
// The servers reuse one encoded picture per frame number (SandboxConfig::reuseFrames), so a scene
// is wall time spent waiting, not the stand-ins' CPU; BENCH_POOL_DRAWN_FRAMES=1 draws every frame
// for its scene instead (the sandbox default). BENCH_POOL_ONLY=N runs one pool size only;
// BENCH_POOL_VERBOSE=1 prints the run's messages and each finished scene with its time on stderr;
// BENCH_POOL_INLINE_WRITES=1 does the durable writes on the event-loop thread instead of the writer
// thread (RunOptions::backgroundWrites = false) for comparison.

#include "RunHarness.h"
#include "SandboxPool.h"
#include "pipeline/BackendPool.h"
#include "sandbox/FrameRenderer.h"
#include "telemetry/Percentiles.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QThread>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <sys/resource.h>

using namespace gd::pipeline;

namespace {
bool drawnFrames()
{
    return qEnvironmentVariableIntValue("BENCH_POOL_DRAWN_FRAMES") > 0;
}

// Where the stand-ins write their frames: a tmpfs (/dev/shm) unless BENCH_POOL_SERVERS_ON_DISK=1.
// N stand-ins writing 8 frames per scene to the disk that also takes the client's synced writes make
// every fsync of the run wait for their data (ext4 commits it along) — what N GPUs behind one
// client do not cost, as their output lands on their own machines, and not what this measures. The
// client's run directories always stay on the disk (the system temporary folder).
QString serverRoot()
{
    if (qEnvironmentVariableIntValue("BENCH_POOL_SERVERS_ON_DISK") > 0)
        return {};
    const QFileInfo shm(QStringLiteral("/dev/shm"));
    return shm.isDir() && shm.isWritable() ? shm.absoluteFilePath() : QString();
}

bool startServers(SandboxPool& pool, int n, int stepDelayMs, const QString& outputRoot = {})
{
    return pool.start(n, stepDelayMs, 2, [outputRoot](int i, gd::sandbox::SandboxConfig& c) {
        c.reuseFrames = !drawnFrames();
        if (!outputRoot.isEmpty())
            c.outputDir = QDir(outputRoot).filePath(QStringLiteral("comfy%1/output").arg(i));
    });
}

QString loadAverage()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    return f.open(QIODevice::ReadOnly) ? QString::fromLatin1(f.readAll().split(' ').mid(0, 3).join(' '))
                                       : QStringLiteral("?");
}

// CPU seconds of the calling thread, and of the whole process.
double threadCpuSeconds()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + t.tv_nsec / 1e9;
}

double processCpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Figures
{
    double seconds = 0;    // first submission → last scene finished
    double throughput = 0; // scenes per second
    double meanScene = 0;  // mean DurationSeconds
    int ok = 0;
    double mainCpuPerScene = 0;    // the client's event-loop thread, seconds per finished scene
    double processCpuPerScene = 0; // client + servers + background threads, seconds per finished scene
    QString loadBefore;
    QString loadAfter;
};

Figures measure(int servers, int scenes, int stepDelayMs)
{
    SandboxPool s;
    Figures f;
    f.loadBefore = loadAverage();
    const QString shm = serverRoot();
    std::unique_ptr<QTemporaryDir> serverDir;
    if (!shm.isEmpty())
        serverDir = std::make_unique<QTemporaryDir>(QDir(shm).filePath(QStringLiteral("bench_pool-XXXXXX")));
    if (!startServers(s, servers, stepDelayMs, serverDir && serverDir->isValid() ? serverDir->path() : QString()))
        return f;
    RunOptions opt;
    opt.story = makeStory(scenes, 8);
    opt.runsRoot = s.root.filePath(QStringLiteral("runs"));
    opt.backends = s.specs;
    opt.queuedPerServer = 1; // the same dispatch rule for every N, one server included
    opt.workflow = QStringLiteral("sandbox");
    opt.policy = testPolicy();
    if (qEnvironmentVariableIntValue("BENCH_POOL_INLINE_WRITES") > 0)
        opt.backgroundWrites = false; // each durable write on the event-loop thread (before session 5's default)
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
        QObject::connect(&c, &RunController::message, [&](const QString& m) {
            std::fprintf(stderr, "%.2f %s\n", clock.elapsed() / 1000.0, qPrintable(m));
        });
        QObject::connect(&c, &RunController::warning, [&](const QString& m) {
            std::fprintf(stderr, "%.2f W %s\n", clock.elapsed() / 1000.0, qPrintable(m));
        });
        QObject::connect(&c, &RunController::sceneState, [&](const QString& id, const QString& state) {
            std::fprintf(stderr, "%.3f %s: %s\n", clock.elapsed() / 1000.0, qPrintable(id),
                         qPrintable(state));
        });
        QObject::connect(&c, &RunController::sceneFinished, [&](const gd::telemetry::SceneRecord& r) {
            std::fprintf(stderr, "%.3f done %s %s on %s\n", clock.elapsed() / 1000.0, qPrintable(r.sceneId),
                         qPrintable(r.status), r.kept() ? qPrintable(r.kept()->backend) : "-");
        });
    }
    QObject::connect(&c, &RunController::finished, &loop, [&](int code, const QString& msg) {
        if (code != 0)
            std::fprintf(stderr, "run (N=%d) ended %d: %s\n", servers, code, qPrintable(msg));
        loop.quit();
    });
    clock.start();
    const double mainCpu0 = threadCpuSeconds();
    const double processCpu0 = processCpuSeconds();
    QTimer::singleShot(0, &c, &RunController::start);
    loop.exec();
    const double mainCpu = threadCpuSeconds() - mainCpu0;
    const double processCpu = processCpuSeconds() - processCpu0;
    double total = 0;
    for (const auto& sc : c.record().scenes)
        if (const auto* k = sc.kept(); k && k->frameCount > 0) {
            ++f.ok;
            total += k->durationSeconds;
        }
    f.seconds = (lastMs - firstMs) / 1000.0;
    f.throughput = f.seconds > 0 ? f.ok / f.seconds : 0;
    f.meanScene = f.ok ? total / f.ok : 0;
    f.mainCpuPerScene = f.ok ? mainCpu / f.ok : 0;
    f.processCpuPerScene = f.ok ? processCpu / f.ok : 0;
    f.loadAfter = loadAverage();
    s.stopAll();
    return f;
}

// One scheduling decision over 8 healthy servers with mixed load, in microseconds.
QVector<double> decisionMicros()
{
    SandboxPool s;
    QVector<double> us;
    if (!startServers(s, 8, 1))
        return us;
    BackendPool pool(s.specs, PoolOptions{});
    bool probed = false;
    pool.probeAll([&] { probed = true; });
    if (!QTest::qWaitFor([&] { return probed; }, 10000))
        std::fprintf(stderr, "the 8 servers did not all answer their probe within 10 s\n");
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
    s.stopAll();
    return us;
}

void print(int n, int scenes, const Figures& f, const Figures& one)
{
    std::printf("N=%d: %d/%d scenes in %.2f s, %.3f scenes/s, mean scene %.3f s", n, f.ok, scenes, f.seconds,
                f.throughput, f.meanScene);
    if (n > 1 && one.throughput > 0)
        std::printf(", efficiency %.3f", f.throughput / (n * one.throughput));
    std::printf(" | CPU per scene: client thread %.1f ms, process %.1f ms | load %s -> %s\n",
                f.mainCpuPerScene * 1000, f.processCpuPerScene * 1000, qPrintable(f.loadBefore),
                qPrintable(f.loadAfter));
}
} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    std::setvbuf(stdout, nullptr, _IONBF, 0);
    const int scenes = argc > 1 ? std::atoi(argv[1]) : 40;
    const int stepDelayMs = argc > 2 ? std::atoi(argv[2]) : 60;
    std::printf("bench_pool %d %d: %s build, %d cores, %s frames, load average %s\n", scenes, stepDelayMs,
#ifdef NDEBUG
                "release",
#else
                "debug",
#endif
                QThread::idealThreadCount(), drawnFrames() ? "drawn" : "reused", qPrintable(loadAverage()));
    std::printf("stand-ins write their frames to %s; run directories under %s\n",
                serverRoot().isEmpty() ? "the system temporary folder" : qPrintable(serverRoot()),
                qPrintable(QDir::tempPath()));
    if (!drawnFrames()) {
        // The stand-ins' one-time rendering of the reused frames (8 frames of 320×180 per scene)
        // happens before any clock starts: it would otherwise slow the first round of the first run.
        for (int k = 1; k <= 8; ++k)
            gd::sandbox::FrameRenderer::reusablePng(k, 8, QSize(320, 180));
    }
    if (const int only = qEnvironmentVariableIntValue("BENCH_POOL_ONLY"); only > 0) {
        const Figures f = measure(only, scenes, stepDelayMs);
        print(only, scenes, f, Figures{});
        return 0;
    }
    const Figures one = measure(1, scenes, stepDelayMs);
    print(1, scenes, one, one);
    for (int n : {2, 4, 8})
        print(n, scenes, measure(n, scenes, stepDelayMs), one);
    const QVector<double> us = decisionMicros();
    std::printf(
        "scheduling decision (8 servers): median %.2f us, P99 %.2f us, max %.2f us over %d decisions\n",
        gd::telemetry::Percentiles::nearestRank(us, 50).value_or(-1),
        gd::telemetry::Percentiles::nearestRank(us, 99).value_or(-1), *std::max_element(us.begin(), us.end()),
        int(us.size()));
    return 0;
}
