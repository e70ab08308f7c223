#include "gpu/GpuHistory.h"

#include <QTest>
#include <thread>

using gd::gpu::GpuHistory;
using gd::gpu::GpuHistoryPoint;
using gd::gpu::GpuSnapshot;
using gd::gpu::GpuWindow;

Q_DECLARE_METATYPE(gd::gpu::GpuWindow)

namespace {
constexpr qint64 MiB = 1024 * 1024;
// A fixed start on a day boundary, so bucket edges are predictable.
constexpr qint64 kT0 = 1'767'225'600'000; // 2026-01-01T00:00:00Z

GpuSnapshot reading(std::optional<int> usedMiB, std::optional<int> utilization, const QString& source = QStringLiteral("nvml"))
{
    GpuSnapshot s;
    s.source = source;
    if (usedMiB) {
        s.vramTotalBytes = 24576 * MiB;
        s.vramUsedBytes = qint64(*usedMiB) * MiB;
        s.vramFreeBytes = 24576 * MiB - *s.vramUsedBytes;
    }
    s.utilizationPercent = utilization;
    return s;
}
} // namespace

// Bucketing (max VRAM, mean utilisation, optional metrics), window bounds, point caps, clock steps.
class TestGpuHistory : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void emptyHistoryHasNoPoints()
    {
        GpuHistory h;
        QVERIFY(h.points(GpuWindow::FiveMinutes).isEmpty());
        QVERIFY(h.latestSource().isEmpty());
    }

    void emptyReadingsDoNotHideASecondFeed()
    {
        // The local monitor finds no GPU (source "missing") while ComfyUI's /system_stats reports one.
        GpuHistory h;
        h.add(reading(std::nullopt, std::nullopt, QStringLiteral("missing")), kT0);
        QCOMPARE(h.latestSource(), QStringLiteral("missing"));
        h.add(reading(4000, std::nullopt, QStringLiteral("system_stats")), kT0 + 1000);
        h.add(reading(std::nullopt, std::nullopt, QStringLiteral("missing")), kT0 + 1500);
        QCOMPARE(h.latestSource(), QStringLiteral("system_stats"));
        QCOMPARE(h.samplesAdded(), qint64(3));
        // Once the real feed has been silent for longer than the hold, "missing" is the truth again.
        h.add(reading(std::nullopt, std::nullopt, QStringLiteral("missing")), kT0 + 1000 + GpuHistory::kRealReadingHoldMs);
        QCOMPARE(h.latestSource(), QStringLiteral("missing"));
    }

    void bucketKeepsPeakVramAndMeanUtilisation()
    {
        GpuHistory h;
        // Three readings inside one 6 s bucket of the 1 h tier; the 1 s tier splits them.
        h.add(reading(1000, 10), kT0);
        h.add(reading(9000, 90), kT0 + 400);
        h.add(reading(2000, 50), kT0 + 1500);

        const QVector<GpuHistoryPoint> hour = h.points(GpuWindow::OneHour);
        QCOMPARE(hour.size(), 1);
        QCOMPARE(hour[0].samples, 3);
        QCOMPARE(hour[0].bucketStartMs, kT0);
        QCOMPARE(hour[0].vramUsedMaxBytes, std::optional<qint64>(9000 * MiB));
        QCOMPARE(hour[0].vramTotalBytes, std::optional<qint64>(24576 * MiB));
        QVERIFY(hour[0].utilizationMeanPercent.has_value());
        QCOMPARE(*hour[0].utilizationMeanPercent, 50.0);

        const QVector<GpuHistoryPoint> five = h.points(GpuWindow::FiveMinutes);
        QCOMPARE(five.size(), 2);
        QCOMPARE(five[0].vramUsedMaxBytes, std::optional<qint64>(9000 * MiB));
        QCOMPARE(*five[0].utilizationMeanPercent, 50.0);
        QCOMPARE(five[1].bucketStartMs, kT0 + 1000);
        QCOMPARE(five[1].vramUsedMaxBytes, std::optional<qint64>(2000 * MiB));
    }

    void usedVramIsDerivedFromTotalAndFree()
    {
        // /system_stats reports total and free only.
        GpuHistory h;
        GpuSnapshot s;
        s.source = QStringLiteral("system_stats");
        s.vramTotalBytes = 8192 * MiB;
        s.vramFreeBytes = 2048 * MiB;
        h.add(s, kT0);
        QCOMPARE(h.points(GpuWindow::FiveMinutes).at(0).vramUsedMaxBytes, std::optional<qint64>(6144 * MiB));
    }

    void missingMetricsStayUnavailable_data()
    {
        QTest::addColumn<bool>("withVram");
        QTest::addColumn<bool>("withUtilisation");
        QTest::newRow("nothing") << false << false;
        QTest::newRow("vram only") << true << false;
        QTest::newRow("utilisation only") << false << true;
    }
    void missingMetricsStayUnavailable()
    {
        QFETCH(bool, withVram);
        QFETCH(bool, withUtilisation);
        GpuHistory h;
        for (int i = 0; i < 120; ++i)
            h.add(reading(withVram ? std::optional<int>(4000) : std::nullopt,
                          withUtilisation ? std::optional<int>(70) : std::nullopt,
                          withVram || withUtilisation ? QStringLiteral("nvml") : QStringLiteral("missing")),
                  kT0 + i * 1000);
        for (GpuWindow w : {GpuWindow::FiveMinutes, GpuWindow::OneHour, GpuWindow::OneDay}) {
            const QVector<GpuHistoryPoint> pts = h.points(w);
            QVERIFY(!pts.isEmpty());
            for (const GpuHistoryPoint& p : pts) {
                QCOMPARE(p.vramUsedMaxBytes.has_value(), withVram);
                QCOMPARE(p.vramTotalBytes.has_value(), withVram);
                QCOMPARE(p.utilizationMeanPercent.has_value(), withUtilisation);
            }
        }
    }

    void utilisationMeanIgnoresReadingsWithoutIt()
    {
        GpuHistory h;
        h.add(reading(1000, 80), kT0);
        h.add(reading(1000, std::nullopt), kT0 + 10'000);
        h.add(reading(1000, 40), kT0 + 20'000);
        const QVector<GpuHistoryPoint> day = h.points(GpuWindow::OneDay);
        QCOMPARE(day.size(), 1);
        QCOMPARE(day[0].samples, 3);
        QCOMPARE(*day[0].utilizationMeanPercent, 60.0);
    }

    void pointCapsAfter24HoursAt1Hz_data()
    {
        QTest::addColumn<GpuWindow>("window");
        QTest::addColumn<int>("expectedPoints");
        QTest::addColumn<qint64>("bucketMs");
        QTest::newRow("5 min") << GpuWindow::FiveMinutes << 300 << qint64(1000);
        QTest::newRow("1 h") << GpuWindow::OneHour << 600 << qint64(6000);
        QTest::newRow("24 h") << GpuWindow::OneDay << 600 << qint64(144'000);
    }
    void pointCapsAfter24HoursAt1Hz()
    {
        QFETCH(GpuWindow, window);
        QFETCH(int, expectedPoints);
        QFETCH(qint64, bucketMs);
        GpuHistory h;
        const int samples = 86'400;
        for (int i = 0; i < samples; ++i)
            h.add(reading(i % 24000, i % 101), kT0 + qint64(i) * 1000);
        QCOMPARE(h.samplesAdded(), qint64(samples));

        const QVector<GpuHistoryPoint> pts = h.points(window);
        QCOMPARE(pts.size(), expectedPoints);
        QVERIFY(pts.size() <= GpuHistory::maxPointsPerWindow());
        // Three series (used, total, utilisation) share one chart of at most 2,000 points.
        QVERIFY(3 * GpuHistory::maxPointsPerWindow() <= 2000);
        // The window ends with the newest reading and spans at most the window's length.
        const qint64 newest = kT0 + qint64(samples - 1) * 1000;
        QCOMPARE(pts.last().lastSampleMs, newest);
        QVERIFY(newest - pts.first().bucketStartMs < GpuHistory::spanMs(window));
        for (int i = 1; i < pts.size(); ++i)
            QCOMPARE(pts[i].bucketStartMs - pts[i - 1].bucketStartMs, bucketMs);
        // Every full bucket merged one reading per second.
        QCOMPARE(pts.first().samples, int(bucketMs / 1000));
    }

    void windowExcludesBucketsOlderThanItsSpan()
    {
        GpuHistory h;
        // Ten minutes of readings, then a 4-minute pause, then one reading.
        for (int i = 0; i < 600; ++i)
            h.add(reading(1000, 10), kT0 + qint64(i) * 1000);
        h.add(reading(5000, 99), kT0 + 840'000);
        const QVector<GpuHistoryPoint> five = h.points(GpuWindow::FiveMinutes);
        // Window (540 s, 840 s]: readings 541..599 plus the new one.
        QCOMPARE(five.size(), 60);
        QCOMPARE(five.first().bucketStartMs, kT0 + 541'000);
        QCOMPARE(five.last().vramUsedMaxBytes, std::optional<qint64>(5000 * MiB));
        // The hour window still holds everything.
        QCOMPARE(h.points(GpuWindow::OneHour).size(), 101);
    }

    void clockJitterMergesAndClockResetStartsOver()
    {
        GpuHistory h;
        for (int i = 0; i < 10; ++i)
            h.add(reading(1000, 10), kT0 + qint64(i) * 1000);
        // 1.5 s back: clock jitter, merged into the newest bucket.
        h.add(reading(7000, 10), kT0 + 7500);
        QVector<GpuHistoryPoint> five = h.points(GpuWindow::FiveMinutes);
        QCOMPARE(five.size(), 10);
        QCOMPARE(five.last().samples, 2);
        QCOMPARE(five.last().vramUsedMaxBytes, std::optional<qint64>(7000 * MiB));
        // An hour back: the clock was reset; the old points would draw a backwards axis.
        h.add(reading(3000, 10), kT0 - 3'600'000);
        five = h.points(GpuWindow::FiveMinutes);
        QCOMPARE(five.size(), 1);
        QCOMPARE(five[0].bucketStartMs, kT0 - 3'600'000);
    }

    void snapshotWithoutTimeIsIgnored()
    {
        GpuHistory h;
        QVERIFY(!h.add(reading(1000, 10)));
        GpuSnapshot s = reading(1000, 10);
        s.takenAt = QDateTime::fromMSecsSinceEpoch(kT0, Qt::UTC);
        QVERIFY(h.add(s));
        QCOMPARE(h.points(GpuWindow::FiveMinutes).size(), 1);
        QCOMPARE(h.latestSource(), QStringLiteral("nvml"));
    }

    void concurrentAddAndReadStayConsistent()
    {
        GpuHistory h;
        std::thread writer([&h] {
            for (int i = 0; i < 20'000; ++i)
                h.add(reading(1000, 50), kT0 + qint64(i) * 1000);
        });
        for (int i = 0; i < 200; ++i) {
            const QVector<GpuHistoryPoint> pts = h.points(GpuWindow::FiveMinutes);
            QVERIFY(pts.size() <= 300);
            for (int j = 1; j < pts.size(); ++j)
                QVERIFY(pts[j].bucketStartMs > pts[j - 1].bucketStartMs);
        }
        writer.join();
        QCOMPARE(h.samplesAdded(), qint64(20'000));
    }
};

QTEST_GUILESS_MAIN(TestGpuHistory)
#include "tst_gpuhistory.moc"
