#include "gpu/GpuMonitor.h"

#include <QSignalSpy>
#include <QTest>
#include <QThread>
#include <atomic>
#include <mutex>

using gd::gpu::GpuMonitor;
using gd::gpu::GpuSnapshot;
using gd::gpu::GpuSource;

namespace {
constexpr qint64 MiB = 1024 * 1024;

// Plays back a list of used-VRAM values (MiB; -1 = a reading without VRAM), then repeats the last.
// Records the threads it was called on and numbers every reading.
class ScriptedSource : public GpuSource
{
public:
    struct Shared
    {
        std::mutex mutex;
        QList<QThread*> threads;
        std::atomic<int> calls{0};
        std::atomic<int> concurrent{0};
        std::atomic<int> maxConcurrent{0};
    };

    ScriptedSource(QList<int> usedMiB, std::shared_ptr<Shared> shared, int delayMs = 0)
        : m_used(std::move(usedMiB)), m_shared(std::move(shared)), m_delayMs(delayMs)
    {
    }

    GpuSnapshot sample(int index) override
    {
        const int now = ++m_shared->concurrent;
        int prev = m_shared->maxConcurrent.load();
        while (now > prev && !m_shared->maxConcurrent.compare_exchange_weak(prev, now)) {
        }
        {
            std::lock_guard lock(m_shared->mutex);
            m_shared->threads.push_back(QThread::currentThread());
        }
        if (m_delayMs > 0)
            QThread::msleep(static_cast<unsigned long>(m_delayMs));
        const int n = m_shared->calls++;
        const int used = m_used.at(std::min<qsizetype>(n, m_used.size() - 1));
        GpuSnapshot s;
        s.source = QStringLiteral("scripted");
        s.name = QStringLiteral("reading %1").arg(n);
        s.index = index;
        if (used >= 0) {
            s.vramTotalBytes = 80000 * MiB;
            s.vramUsedBytes = used * MiB;
            s.vramFreeBytes = (80000 - used) * MiB;
        }
        --m_shared->concurrent;
        return s;
    }

private:
    QList<int> m_used;
    std::shared_ptr<Shared> m_shared;
    int m_delayMs;
};

int readingNumber(const GpuSnapshot& s)
{
    return s.name.mid(int(qstrlen("reading "))).toInt();
}
} // namespace

// The monitor thread: signals, latest reading, peak windows, sampleNow, bounded history, stop.
class TestGpuMonitor : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sampledArrivesFromTheWorkerThread()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{100}, shared));
        monitor.setIntervalMs(10);
        monitor.setDeviceIndex(2);
        QSignalSpy spy(&monitor, &GpuMonitor::sampled);
        monitor.start();
        QVERIFY(monitor.isRunning());
        QTRY_VERIFY(spy.count() >= 3);
        const auto s = spy.first().first().value<GpuSnapshot>();
        QCOMPARE(s.source, QStringLiteral("scripted"));
        QCOMPARE(s.index, std::optional<int>(2));
        QVERIFY(s.takenAt.isValid()); // stamped by the monitor when the source does not
        monitor.stop();
        std::lock_guard lock(shared->mutex);
        for (QThread* t : shared->threads)
            QVERIFY(t != QThread::currentThread()); // never blocks the GUI thread
    }

    void latestIsTheNewestReading()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{100, 200, 300}, shared));
        QCOMPARE(monitor.latest().source, QStringLiteral("missing")); // before any reading
        monitor.setIntervalMs(10);
        QSignalSpy spy(&monitor, &GpuMonitor::sampled);
        monitor.start();
        QTRY_VERIFY(spy.count() >= 4);
        monitor.stop();
        const GpuSnapshot last = spy.last().first().value<GpuSnapshot>();
        QCOMPARE(monitor.latest().name, last.name);
        QCOMPARE(monitor.latest().vramUsedBytes, std::optional<qint64>(300 * MiB));
    }

    void peakWindowReturnsHighestUsed()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{1000, 5000, -1, 3000}, shared));
        monitor.setIntervalMs(5);
        QSignalSpy spy(&monitor, &GpuMonitor::sampled);
        const int attempt = monitor.beginPeakWindow();
        monitor.start();
        QTRY_VERIFY(spy.count() >= 5);
        const int later = monitor.beginPeakWindow(); // opened after the 5000 MiB spike had passed
        const int before = spy.count();
        QTRY_VERIFY(spy.count() >= before + 2);
        monitor.stop();
        QCOMPARE(monitor.endPeakWindow(attempt), std::optional<double>(5000.0));
        QCOMPARE(monitor.endPeakWindow(later), std::optional<double>(3000.0));
        QVERIFY(!monitor.endPeakWindow(attempt).has_value()); // already closed
        QVERIFY(!monitor.endPeakWindow(12345).has_value());   // never opened
    }

    void peakWindowWithoutVramIsEmpty()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{-1}, shared));
        monitor.setIntervalMs(5);
        QSignalSpy spy(&monitor, &GpuMonitor::sampled);
        const int id = monitor.beginPeakWindow();
        monitor.start();
        QTRY_VERIFY(spy.count() >= 3);
        monitor.stop();
        QVERIFY(!monitor.endPeakWindow(id).has_value()); // unavailable, not 0
    }

    void sampleNowRunsOnTheMonitorThreadAndCountsForPeaks()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{100, 7000, 200}, shared));
        monitor.setIntervalMs(60 * 60 * 1000); // only the start-up reading is timer-driven
        QSignalSpy spy(&monitor, &GpuMonitor::sampled);
        monitor.start();
        QTRY_COMPARE(spy.count(), 1);
        const int id = monitor.beginPeakWindow();
        QFuture<GpuSnapshot> now = monitor.sampleNow();
        now.waitForFinished();
        QVERIFY(!now.isCanceled());
        QCOMPARE(now.result().vramUsedBytes, std::optional<qint64>(7000 * MiB));
        QCOMPARE(monitor.latest().name, now.result().name);
        QTRY_COMPARE(spy.count(), 2);
        QCOMPARE(monitor.endPeakWindow(id), std::optional<double>(7000.0));
        QCOMPARE(monitor.history().size(), 2);
        monitor.stop();
        std::lock_guard lock(shared->mutex);
        QCOMPARE(shared->threads.size(), 2);
        QCOMPARE(shared->threads.at(0), shared->threads.at(1)); // the monitor thread both times
        QVERIFY(shared->threads.at(1) != QThread::currentThread());
    }

    void sampleNowWhileStoppedStillReads()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{4242}, shared));
        QFuture<GpuSnapshot> now = monitor.sampleNow();
        now.waitForFinished();
        QCOMPARE(now.result().vramUsedBytes, std::optional<qint64>(4242 * MiB));
        QCOMPARE(monitor.latest().vramUsedBytes, std::optional<qint64>(4242 * MiB));
        QVERIFY(!monitor.isRunning());
    }

    void sourceIsNeverUsedConcurrently()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{1}, shared, 5));
        monitor.setIntervalMs(1);
        QFuture<GpuSnapshot> whileStopped = monitor.sampleNow(); // pool run racing the start-up
        monitor.start();
        QList<QFuture<GpuSnapshot>> runs;
        for (int i = 0; i < 5; ++i)
            runs << monitor.sampleNow();
        for (auto& r : runs)
            r.waitForFinished();
        whileStopped.waitForFinished();
        monitor.stop();
        QCOMPARE(shared->maxConcurrent.load(), 1);
    }

    void historyIsBoundedAndOrdered()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{1}, shared), 5);
        QCOMPARE(monitor.historyCapacity(), 5);
        monitor.setIntervalMs(2);
        QSignalSpy spy(&monitor, &GpuMonitor::sampled);
        monitor.start();
        QTRY_VERIFY(spy.count() >= 12);
        monitor.stop();
        const QVector<GpuSnapshot> history = monitor.history();
        QCOMPARE(history.size(), 5);
        for (int i = 1; i < history.size(); ++i)
            QCOMPARE(readingNumber(history.at(i)), readingNumber(history.at(i - 1)) + 1);
        QCOMPARE(history.last().name, monitor.latest().name);
        QCOMPARE(readingNumber(history.last()), shared->calls.load() - 1);
    }

    void defaultsAreOneSecondAndAnHourOfHistory()
    {
        GpuMonitor monitor(
            std::make_unique<ScriptedSource>(QList<int>{1}, std::make_shared<ScriptedSource::Shared>()));
        QCOMPARE(monitor.intervalMs(), 1000);
        QCOMPARE(monitor.historyCapacity(), 3600);
    }

    void stopJoinsCleanlyAndCanRestart()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{1}, shared, 50)); // slow source
        monitor.setIntervalMs(1);
        // No QSignalSpy here: it receives `sampled` directly on the monitor thread, and the monitor is
        // still running when this scope ends (the destructor stops it), so a spy destroyed first would
        // be used after free (found by ASan).
        monitor.start();
        QTRY_VERIFY(shared->calls.load() >= 1);
        monitor.stop(); // may land while a reading is in progress: waits for it
        QVERIFY(!monitor.isRunning());
        QCOMPARE(shared->concurrent.load(), 0);
        const int callsAtStop = shared->calls.load();
        QTest::qWait(150);
        QCOMPARE(shared->calls.load(), callsAtStop); // nothing samples after stop()
        monitor.stop();                              // harmless when stopped
        monitor.start();
        QTRY_VERIFY(shared->calls.load() > callsAtStop);
        // The destructor stops a running monitor.
    }

    void pendingSampleNowStillAnswersWhenStopped()
    {
        auto shared = std::make_shared<ScriptedSource::Shared>();
        GpuMonitor monitor(std::make_unique<ScriptedSource>(QList<int>{1}, shared, 100));
        monitor.setIntervalMs(60 * 60 * 1000);
        monitor.start();
        QTRY_VERIFY(shared->concurrent.load() == 1 || shared->calls.load() >= 1);
        QList<QFuture<GpuSnapshot>> pending;
        for (int i = 0; i < 3; ++i)
            pending << monitor.sampleNow();
        monitor.stop();
        // Every caller gets exactly one snapshot: a reading, or "missing" saying why; none waits forever
        // and none gets a result-less future.
        for (const QFuture<GpuSnapshot>& f : pending) {
            QVERIFY(f.isFinished());
            QVERIFY(!f.isCanceled());
            QCOMPARE(f.resultCount(), 1);
            const GpuSnapshot s = f.result();
            if (s.source == QLatin1String("missing"))
                QCOMPARE(s.notes,
                         QStringList{QStringLiteral("GPU monitor stopped before the reading was taken")});
            else
                QCOMPARE(s.source, QStringLiteral("scripted"));
        }
    }
};

QTEST_GUILESS_MAIN(TestGpuMonitor)
#include "tst_gpumonitor.moc"
