#pragma once

#include "gpu/GpuSnapshot.h"
#include "gpu/RingBuffer.h"

#include <QString>
#include <QVector>
#include <array>
#include <mutex>
#include <optional>

namespace gd::gpu {

// The time windows the dashboard offers; each is served by its own resolution tier.
enum class GpuWindow
{
    FiveMinutes,
    OneHour,
    OneDay,
};

// One time bucket of GPU readings. Peaks are kept (max used VRAM), utilisation is averaged, and a
// metric no reading of the bucket had stays empty: "unavailable", never 0 (DESIGN.md §5).
struct GpuHistoryPoint
{
    qint64 bucketStartMs = 0; // UTC ms since the epoch, a multiple of the tier's bucket length
    qint64 lastSampleMs = 0;  // time of the newest reading merged into the bucket
    int samples = 0;          // readings merged into the bucket
    std::optional<qint64> vramUsedMaxBytes;
    std::optional<qint64> vramTotalBytes; // the largest total reported in the bucket
    std::optional<double> utilizationMeanPercent;
    QString source; // source of the newest reading: nvml | nvidia-smi | system_stats | missing

    // Running state for the mean; not part of what a chart draws.
    qint64 utilizationSum = 0;
    int utilizationCount = 0;
};

// Multi-resolution GPU history for the dashboard: one ring buffer per window (5 min of 1 s buckets,
// 1 h of 6 s buckets, 24 h of 144 s buckets) plus the bucket still filling, so a chart never draws
// more than maxPointsPerWindow() points however long the app runs, and memory stays fixed. Fed with GpuMonitor's snapshots of one
// GPU, in time order (the snapshot's takenAt).
// Threading: add() and every reader lock an internal mutex, so the monitor thread may add while the
// GUI thread reads.
class GpuHistory
{
public:
    GpuHistory();

    // Bucket length and span of a window's tier.
    static qint64 bucketMs(GpuWindow window);
    static qint64 spanMs(GpuWindow window);
    // The most points points() returns for any window (span / bucket, the filling bucket included).
    static qsizetype maxPointsPerWindow();

    // How far a reading may lie before the newest one and still count as clock jitter.
    static constexpr qint64 ClockJitterMs = 10'000;
    // A "missing" reading within this long after a real one is counted but otherwise ignored.
    static constexpr qint64 kRealReadingHoldMs = 10'000;

    // Merges one reading into every tier at snapshot.takenAt (a snapshot without a time is
    // ignored and false is returned). A reading up to ClockJitterMs earlier than the newest one is
    // merged into each tier's newest bucket; one further back means the wall clock was set back,
    // so the history starts over rather than drawing a time axis that runs backwards.
    bool add(const GpuSnapshot& snapshot);
    void add(const GpuSnapshot& snapshot, qint64 takenAtMs);
    void clear();

    // The buckets of the window ending at the newest reading, oldest first: at most span / bucket
    // of them, the last one the bucket still filling. Empty before the first reading.
    QVector<GpuHistoryPoint> points(GpuWindow window) const;
    // Source of the newest reading ("" before the first one).
    QString latestSource() const;
    // Readings added so far (all tiers see every reading).
    qint64 samplesAdded() const;

private:
    struct Tier
    {
        qint64 bucketMs;
        qint64 spanMs;
        RingBuffer<GpuHistoryPoint> closed; // full buckets, oldest first
        std::optional<GpuHistoryPoint> open; // the bucket the newest reading went into
    };

    static void merge(GpuHistoryPoint& point, const GpuSnapshot& snapshot, qint64 takenAtMs);
    static qsizetype tierIndex(GpuWindow window);

    mutable std::mutex m_mutex;
    std::array<Tier, 3> m_tiers;
    QString m_latestSource;
    // When a real reading (any source but "missing") last arrived: two feeds can share one history
    // (the local monitor that finds no GPU, and ComfyUI's /system_stats), and the empty readings of
    // the first must not hide the second.
    std::optional<qint64> m_lastRealMs;
    std::optional<qint64> m_newestMs;
    qint64 m_samplesAdded = 0;
};

} // namespace gd::gpu
