// bench_studio: the desktop app's figures (issue 5, "Performance"), each against its target.
//  (a) cold start: gemdirect-studio launched N times (plain, then --sandbox) with GD_STARTUP_PROBE=1, which
//      makes it print the time from main() to the main window exposed, painted and the event loop idle
//      after that, and quit; the benchmark also times spawn → that line (exec and dynamic linking included).
//      Target ≤ 1 s to an interactive window.
//  (b) GUI-thread stall: the whole app in this process (sandbox stand-ins, window 1600×1000 with every panel
//      visible), a story generated through the LLM stand-in (tokens streamed into the story panel), then a
//      20-scene run with the dashboard charts live and a simulated 1 Hz GPU monitor. A 5 ms QTimer on the GUI
//      thread records how late each tick fires. Targets P99 ≤ 16 ms, max ≤ 50 ms.
//  (c) then 86,400 simulated 1 Hz GPU samples (24 h) into the running app's dashboard: RSS (VmRSS/VmHWM) and
//      points per chart for each window; then 10 s of steady state (24 h window shown, live samples) probed.
//      Targets RSS ≤ 250 MB, each chart ≤ 2,000 points.
// Usage: bench_studio [--launches N=7] [--scenes N=20] [--skip-cold] [--skip-run]
// Runs offscreen unless QT_QPA_PLATFORM is set (e.g. xcb under Xvfb).

#include "BenchSupport.h"
#include "ChartPoints.h"
#include "MainWindow.h"
#include "Studio.h"

#include "common/Log.h"
#include "common/LogSink.h"
#include "dashboard/DashboardPanel.h"
#include "gpu/GpuMonitor.h"
#include "pipeline/RunController.h"
#include "pipeline/RunSession.h"
#include "pipeline/Settings.h"
#include "sandbox/SandboxStandIns.h"
#include "story/StoryPanel.h"
#include "telemetry/Percentiles.h"

#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QElapsedTimer>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QEventLoop>
#include <QWindow>
#include <QTimer>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <numeric>

using namespace gd;
using telemetry::Percentiles;

namespace {

constexpr int kProbeIntervalMs = 5;

// How late each tick of a 5 ms timer on the GUI thread fires: the gap to the previous tick minus the
// interval. Qt schedules the next timeout from the moment a tick is delivered, so each gap measures one stall.
class LatencyProbe : public QObject
{
public:
    LatencyProbe()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(kProbeIntervalMs);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            m_lateMs << std::max(0.0, double(now - m_lastNs) / 1e6 - kProbeIntervalMs);
            m_atMs << double(now) / 1e6;
            m_lastNs = now;
        });
    }
    void start()
    {
        m_lateMs.clear();
        m_atMs.clear();
        m_clock.start();
        m_lastNs = 0;
        m_timer.start();
    }
    void stop() { m_timer.stop(); }
    // Ticks so far, for splitting the record into phases.
    qsizetype mark() const { return m_lateMs.size(); }
    QVector<double> lateMs(qsizetype from = 0, qsizetype to = -1) const
    {
        return m_lateMs.mid(from, to < 0 ? -1 : to - from);
    }
    double atMs(qsizetype tick) const { return m_atMs.value(tick); }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastNs = 0;
    QVector<double> m_lateMs;
    QVector<double> m_atMs;
};

// A GPU reading every interval, in real time, shaped like a render night.
class SimulatedGpu : public gpu::GpuSource
{
public:
    gpu::GpuSnapshot sample(int) override
    {
        return bench::simulatedGpuReading(QDateTime::currentMSecsSinceEpoch(), m_count++);
    }

private:
    std::atomic<qint64> m_count{0};
};

struct Stalls
{
    double p50 = 0, p99 = 0, max = 0;
    qsizetype ticks = 0;
};

Stalls stalls(const QVector<double>& late)
{
    Stalls s;
    s.ticks = late.size();
    s.p50 = Percentiles::nearestRank(late, 50).value_or(0);
    s.p99 = Percentiles::nearestRank(late, 99).value_or(0);
    s.max = late.isEmpty() ? 0 : *std::max_element(late.begin(), late.end());
    return s;
}

void printStalls(const char* phase, const Stalls& s, double seconds)
{
    std::printf("%-34s %6lld ticks over %6.1f s: stall P50 %6.2f ms, P99 %6.2f ms, max %6.1f ms\n", phase,
                static_cast<long long>(s.ticks), seconds, s.p50, s.p99, s.max);
}

const char* verdict(bool met)
{
    return met ? "met" : "MISSED";
}

// ---- (a) cold start -------------------------------------------------------------------------------

struct Launch
{
    bool ok = false;
    double spawnToIdleMs = 0; // parent's clock: QProcess::start → the probe's line read
    double mainToPaintMs = 0;
    double mainToIdleMs = 0;
    QString error;
};

Launch launchOnce(const QStringList& args, const QProcessEnvironment& env)
{
    Launch l;
    QProcess p;
    p.setProcessEnvironment(env);
    QElapsedTimer clock;
    clock.start();
    p.start(QStringLiteral(GD_STUDIO_PATH), args);
    if (!p.waitForStarted(10000)) {
        l.error = QStringLiteral("did not start: ") + p.errorString();
        return l;
    }
    QByteArray out;
    static const QRegularExpression line(QStringLiteral("startup: exposed_ms=(-?\\d+) painted_ms=(-?\\d+) idle_ms=(-?\\d+)\\n"));
    QRegularExpressionMatch m;
    while (clock.elapsed() < 30000) {
        if (!p.waitForReadyRead(int(30000 - clock.elapsed())))
            break;
        out += p.readAllStandardOutput();
        m = line.match(QString::fromUtf8(out));
        if (m.hasMatch()) {
            l.spawnToIdleMs = double(clock.nsecsElapsed()) / 1e6;
            break;
        }
    }
    if (!p.waitForFinished(15000)) {
        p.kill();
        p.waitForFinished(5000);
    }
    if (!m.hasMatch()) {
        l.error = QStringLiteral("no startup line within 30 s (exit %1): %2")
                      .arg(p.exitCode())
                      .arg(QString::fromUtf8(p.readAllStandardError().right(400)));
        return l;
    }
    l.mainToPaintMs = m.captured(2).toDouble();
    l.mainToIdleMs = m.captured(3).toDouble();
    l.ok = p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    if (!l.ok)
        l.error = QStringLiteral("exit %1 after the startup line").arg(p.exitCode());
    return l;
}

bool coldStart(int launches)
{
    QTemporaryDir tmp;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GD_STARTUP_PROBE"), QStringLiteral("1"));
    if (!env.contains(QStringLiteral("QT_QPA_PLATFORM")))
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    // Nothing of the operator's: config, data (logs, history database) and runs all in the temporary folder.
    for (const char* var : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"})
        env.insert(QString::fromLatin1(var), tmp.filePath(QString::fromLatin1(var).toLower()));
    env.insert(QStringLiteral("GEMDIRECT_RUNS_ROOT"), tmp.filePath(QStringLiteral("runs")));
    const QStringList settings{QStringLiteral("--settings"), tmp.filePath(QStringLiteral("gemdirect-studio.ini"))};

    for (const bool sandbox : {false, true}) {
        QVector<double> spawn, idle, paint;
        QStringList args = settings;
        if (sandbox)
            args << QStringLiteral("--sandbox");
        std::printf("(a) cold start, gemdirect-studio %s, %d launches:\n", qPrintable(args.mid(2).join(u' ')), launches);
        for (int i = 0; i < launches; ++i) {
            const Launch l = launchOnce(args, env);
            if (!l.ok) {
                std::printf("  launch %d failed: %s\n", i + 1, qPrintable(l.error));
                return false;
            }
            std::printf("  launch %d: spawn → idle %.1f ms (main() → painted %.0f ms, → idle %.0f ms)\n", i + 1,
                        l.spawnToIdleMs, l.mainToPaintMs, l.mainToIdleMs);
            spawn << l.spawnToIdleMs;
            idle << l.mainToIdleMs;
            paint << l.mainToPaintMs;
        }
        const double median = Percentiles::nearestRank(spawn, 50).value_or(0);
        std::printf("  median spawn → interactive %.1f ms (max %.1f); main() → painted %.0f ms, → idle %.0f ms: "
                    "target ≤ 1000 ms %s\n",
                    median, *std::max_element(spawn.begin(), spawn.end()), Percentiles::nearestRank(paint, 50).value_or(0),
                    Percentiles::nearestRank(idle, 50).value_or(0), verdict(median <= 1000));
    }
    return true;
}

// ---- (b) + (c) in-process ---------------------------------------------------------------------------

// Runs the app's event loop until `done` or the timeout; true when `done`. Unlike QTest::qWaitFor, which
// sleeps 10 ms between event batches (stalling the GUI thread and so the probe), this only ever waits in the
// event loop, like the real app.
bool waitUntil(const std::function<bool()>& done, int timeoutMs)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer check;
    QObject::connect(&check, &QTimer::timeout, &loop, [&] {
        if (done())
            loop.quit();
    });
    check.start(20);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    return done();
}

void runFor(int ms)
{
    waitUntil([] { return false; }, ms);
}

template <typename T>
T* child(QWidget* parent, const char* name)
{
    return parent->findChild<T*>(QLatin1String(name));
}

bool runSession(int sceneCount)
{
    QTemporaryDir tmp;
    log::init(tmp.filePath(QStringLiteral("logs")), false);
    log::applyEnvLevel();
    auto sink = std::make_shared<log::LogSink>();
    log::addSink(sink);

    using Key = pipeline::Settings::Key;
    pipeline::Settings settings(tmp.filePath(QStringLiteral("gemdirect-studio.ini")));
    settings.set(Key::RunsRoot, tmp.filePath(QStringLiteral("runs")));
    settings.set(Key::HistoryDb, tmp.filePath(QStringLiteral("history.sqlite")));
    sandbox::SandboxStandIns standIns;
    sandbox::SandboxLlmConfig llmConfig; // as gemdirect-studio --sandbox: the judges get a vision model
    llmConfig.visionModel = true;
    QString error;
    if (!standIns.start(settings.string(Key::RunsRoot), sandbox::SandboxConfig{}, llmConfig, &error)) {
        std::printf("sandbox did not start: %s\n", qPrintable(error));
        return false;
    }
    studio::Studio::useStandIns(settings, standIns);

    bool ok = true;
    {
        auto monitor = std::make_unique<gpu::GpuMonitor>(std::make_unique<SimulatedGpu>());
        studio::Studio studio(settings, sink, std::move(monitor));
        studio::MainWindow* window = studio.window();
        window->resize(1600, 1000);
        window->show();
        if (!waitUntil([window] { return window->windowHandle() && window->windowHandle()->isExposed(); }, 10000)) {
            std::printf("the main window was not exposed\n");
            return false;
        }
        ui::StoryPanel* story = studio.storyPanel();
        auto* generate = child<QPushButton>(story, "generateButton");
        if (!waitUntil([generate] { return generate->isEnabled(); }, 30000)) {
            std::printf("the story panel never became ready (templates)\n");
            return false;
        }
        child<QPlainTextEdit>(story, "ideaEdit")
            ->setPlainText(QStringLiteral("A lighthouse keeper relights the beacon in a storm while a lost boat searches "
                                          "for the harbour."));
        child<QSpinBox>(story, "sceneCountSpin")->setValue(sceneCount);
        child<QCheckBox>(story, "seedCheck")->setChecked(true);
        child<QSpinBox>(story, "seedSpin")->setValue(7);
        runFor(1500); // the first GPU readings and connection checks settle before measuring

        bool runFinished = false, qualityFinished = false;
        int runExit = -1;
        QString runMessage;
        QObject::connect(studio.session(), &pipeline::RunSession::runFinished, &studio,
                         [&](int code, const QString& text) {
                             runFinished = true;
                             runExit = code;
                             runMessage = text;
                         });
        QObject::connect(studio.session(), &pipeline::RunSession::qualityFinished, &studio,
                         [&] { qualityFinished = true; });

        LatencyProbe probe;
        QElapsedTimer phase;
        probe.start();
        phase.start();
        story->generate();
        if (!waitUntil([story] { return !story->isGenerating(); }, 300000) ||
            story->story().scenes.size() != sceneCount) {
            std::printf("story generation failed or timed out (%lld scenes)\n",
                        static_cast<long long>(story->story().scenes.size()));
            return false;
        }
        const double generationSeconds = double(phase.elapsed()) / 1000.0;
        const qsizetype generationTicks = probe.mark();
        phase.restart();
        studio.startRun();
        if (!waitUntil([&] { return runFinished; }, 900000)) {
            std::printf("the run did not finish within 15 min\n");
            return false;
        }
        const double runSeconds = double(phase.elapsed()) / 1000.0;
        const qsizetype runTicks = probe.mark();
        if (!waitUntil([&] { return qualityFinished; }, 300000))
            std::printf("the quality step did not finish within 5 min\n");
        probe.stop();
        if (runExit != 0) {
            std::printf("run ended with exit %d: %s\n", runExit, qPrintable(runMessage));
            ok = false;
        }

        std::printf("(b) GUI-thread stall (5 ms probe timer), %d-scene sandbox run, window 1600x1000:\n", sceneCount);
        printStalls("story generation (streaming)", stalls(probe.lateMs(0, generationTicks)), generationSeconds);
        printStalls("run (watcher, dashboard charts)", stalls(probe.lateMs(generationTicks, runTicks)), runSeconds);
        printStalls("after the run (quality step)", stalls(probe.lateMs(runTicks)), 0);
        const Stalls all = stalls(probe.lateMs());
        printStalls("whole session", all, 0);
        // Where the worst stalls were, for a profiler session.
        QVector<qsizetype> worst(probe.mark());
        std::iota(worst.begin(), worst.end(), 0);
        const QVector<double> late = probe.lateMs();
        std::sort(worst.begin(), worst.end(), [&late](qsizetype a, qsizetype b) { return late.at(a) > late.at(b); });
        std::printf("  worst ticks:");
        for (int i = 0; i < std::min<qsizetype>(8, worst.size()); ++i)
            std::printf(" %.1f ms at %.2f s%s", late.at(worst.at(i)), probe.atMs(worst.at(i)) / 1000.0,
                        worst.at(i) < generationTicks ? " (gen)" : worst.at(i) < runTicks ? " (run)" : " (after)");
        std::printf("\n  targets: P99 ≤ 16 ms %s, max ≤ 50 ms %s\n", verdict(all.p99 <= 16), verdict(all.max <= 50));

        // (c) a day of readings into the dashboard of the running app.
        ui::DashboardPanel* dashboard = studio.dashboardPanel();
        const auto before = bench::rssMb();
        constexpr int kDay = 86'400;
        const qint64 t0 = QDateTime::currentMSecsSinceEpoch() - qint64(kDay) * 1000;
        QElapsedTimer feed;
        feed.start();
        for (int i = 0; i < kDay; ++i)
            dashboard->addGpuSample(bench::simulatedGpuReading(t0 + qint64(i) * 1000, i));
        const double feedMs = double(feed.nsecsElapsed()) / 1e6;
        std::printf("(c) 24 h of 1 Hz GPU samples into the running app's dashboard (%d readings in %.0f ms):\n", kDay,
                    feedMs);
        int worstPoints = 0;
        const struct
        {
            gpu::GpuWindow window;
            const char* name;
        } windows[] = {{gpu::GpuWindow::FiveMinutes, "5 min"},
                       {gpu::GpuWindow::OneHour, "1 h"},
                       {gpu::GpuWindow::OneDay, "24 h"}};
        for (const auto& w : windows) {
            dashboard->setGpuWindow(w.window);
            dashboard->redrawNow();
            runFor(300); // laid out and painted by the app's own event loop
            std::printf(" window %s:\n", w.name);
            worstPoints = std::max(worstPoints, bench::printChartPoints(dashboard));
        }
        probe.start();
        runFor(10000);
        probe.stop();
        printStalls("steady state, 24 h window, 1 Hz", stalls(probe.lateMs()), 10.0);
        const auto after = bench::rssMb();
        std::printf("  RSS before the readings: VmRSS %.1f MB; after: VmRSS %.1f MB, VmHWM %.1f MB: target ≤ 250 MB %s\n",
                    before.first, after.first, after.second, verdict(after.second <= 250));
        std::printf("  most points in one chart: %d: target ≤ 2,000 %s\n", worstPoints, verdict(worstPoints <= 2000));
    }
    standIns.stop();
    log::removeSink(sink);
    return ok;
}

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("gemDirect"));
    QCoreApplication::setApplicationName(QStringLiteral("gemDirect Studio bench"));
    const QStringList args = QCoreApplication::arguments();
    const auto intOption = [&args](const QString& name, int fallback) {
        const qsizetype i = args.indexOf(name);
        return i >= 0 && i + 1 < args.size() ? std::max(1, args.at(i + 1).toInt()) : fallback;
    };
    const int launches = intOption(QStringLiteral("--launches"), 7);
    const int scenes = intOption(QStringLiteral("--scenes"), 20);

    bool ok = true;
    if (!args.contains(QStringLiteral("--skip-cold")))
        ok = coldStart(launches) && ok;
    if (!args.contains(QStringLiteral("--skip-run")))
        ok = runSession(scenes) && ok;
    return ok ? 0 : 1;
}
