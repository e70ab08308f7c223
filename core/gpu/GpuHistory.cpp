#include "gpu/GpuHistory.h"

#include <algorithm>

namespace gd::gpu {

namespace {

struct TierSpec
{
    qint64 bucketMs;
    qint64 spanMs;
};

// The dashboard draws a chart of at most 2,000 points (issue 5), and the GPU chart has three series
// (used, total, utilisation): 300, 600 and 600 points per series keep it at 1,800 even when every
// metric is present. 600 points over a chart some 1,000 px wide is still finer than a pixel pair.
constexpr std::array<TierSpec, 3> kTiers{{
    {1'000, 5 * 60'000},
    {6'000, 60 * 60'000},
    {144'000, 24 * 60 * 60'000},
}};

qint64 floorTo(qint64 ms, qint64 step)
{
    // Floor division that also holds before the epoch (a test clock may start at 0).
    const qint64 q = ms / step;
    return (ms % step != 0 && ms < 0 ? q - 1 : q) * step;
}

} // namespace

GpuHistory::GpuHistory()
    : m_tiers{{
          {kTiers[0].bucketMs, kTiers[0].spanMs, RingBuffer<GpuHistoryPoint>(kTiers[0].spanMs / kTiers[0].bucketMs)},
          {kTiers[1].bucketMs, kTiers[1].spanMs, RingBuffer<GpuHistoryPoint>(kTiers[1].spanMs / kTiers[1].bucketMs)},
          {kTiers[2].bucketMs, kTiers[2].spanMs, RingBuffer<GpuHistoryPoint>(kTiers[2].spanMs / kTiers[2].bucketMs)},
      }}
{
}

qsizetype GpuHistory::tierIndex(GpuWindow window)
{
    switch (window) {
    case GpuWindow::FiveMinutes:
        return 0;
    case GpuWindow::OneHour:
        return 1;
    case GpuWindow::OneDay:
        return 2;
    }
    return 0;
}

qint64 GpuHistory::bucketMs(GpuWindow window)
{
    return kTiers[static_cast<std::size_t>(tierIndex(window))].bucketMs;
}

qint64 GpuHistory::spanMs(GpuWindow window)
{
    return kTiers[static_cast<std::size_t>(tierIndex(window))].spanMs;
}

qsizetype GpuHistory::maxPointsPerWindow()
{
    qsizetype most = 0;
    for (const TierSpec& t : kTiers)
        most = std::max<qsizetype>(most, t.spanMs / t.bucketMs);
    return most;
}

void GpuHistory::merge(GpuHistoryPoint& point, const GpuSnapshot& snapshot, qint64 takenAtMs)
{
    ++point.samples;
    point.lastSampleMs = std::max(point.lastSampleMs, takenAtMs);
    point.source = snapshot.source;
    // Same derivation as the monitor's peak windows: a source that reports total and free only
    // (/system_stats) still has a used figure.
    std::optional<qint64> used = snapshot.vramUsedBytes;
    if (!used && snapshot.vramTotalBytes && snapshot.vramFreeBytes)
        used = *snapshot.vramTotalBytes - *snapshot.vramFreeBytes;
    if (used)
        point.vramUsedMaxBytes = point.vramUsedMaxBytes ? std::max(*point.vramUsedMaxBytes, *used) : *used;
    if (snapshot.vramTotalBytes)
        point.vramTotalBytes =
            point.vramTotalBytes ? std::max(*point.vramTotalBytes, *snapshot.vramTotalBytes) : *snapshot.vramTotalBytes;
    if (snapshot.utilizationPercent) {
        point.utilizationSum += *snapshot.utilizationPercent;
        ++point.utilizationCount;
        point.utilizationMeanPercent = static_cast<double>(point.utilizationSum) / point.utilizationCount;
    }
}

bool GpuHistory::add(const GpuSnapshot& snapshot)
{
    if (!snapshot.takenAt.isValid())
        return false;
    add(snapshot, snapshot.takenAt.toMSecsSinceEpoch());
    return true;
}

void GpuHistory::add(const GpuSnapshot& snapshot, qint64 takenAtMs)
{
    std::lock_guard lock(m_mutex);
    if (m_newestMs && takenAtMs < *m_newestMs - ClockJitterMs) {
        for (Tier& tier : m_tiers) {
            tier.closed.clear();
            tier.open.reset();
        }
        m_newestMs.reset();
    }
    m_newestMs = std::max(m_newestMs.value_or(takenAtMs), takenAtMs);
    ++m_samplesAdded;
    const bool missing = snapshot.source == QLatin1String("missing");
    if (missing && m_lastRealMs && takenAtMs - *m_lastRealMs < kRealReadingHoldMs)
        return;
    if (!missing)
        m_lastRealMs = takenAtMs;
    m_latestSource = snapshot.source;
    for (Tier& tier : m_tiers) {
        const qint64 start = floorTo(takenAtMs, tier.bucketMs);
        if (tier.open && start <= tier.open->bucketStartMs) {
            merge(*tier.open, snapshot, takenAtMs);
            continue;
        }
        if (tier.open)
            tier.closed.push(*tier.open);
        tier.open = GpuHistoryPoint{};
        tier.open->bucketStartMs = start;
        tier.open->lastSampleMs = takenAtMs;
        merge(*tier.open, snapshot, takenAtMs);
    }
}

void GpuHistory::clear()
{
    std::lock_guard lock(m_mutex);
    for (Tier& tier : m_tiers) {
        tier.closed.clear();
        tier.open.reset();
    }
    m_latestSource.clear();
    m_lastRealMs.reset();
    m_newestMs.reset();
    m_samplesAdded = 0;
}

QVector<GpuHistoryPoint> GpuHistory::points(GpuWindow window) const
{
    std::lock_guard lock(m_mutex);
    const Tier& tier = m_tiers[static_cast<std::size_t>(tierIndex(window))];
    QVector<GpuHistoryPoint> out;
    if (!tier.open)
        return out;
    // The window holds span / bucket buckets ending with the open one; after a pause in the
    // readings older buckets are still in the ring but outside the window.
    const qint64 firstStart = tier.open->bucketStartMs - tier.spanMs + tier.bucketMs;
    qsizetype first = 0;
    while (first < tier.closed.size() && tier.closed.at(first).bucketStartMs < firstStart)
        ++first;
    out.reserve(tier.closed.size() - first + 1);
    for (qsizetype i = first; i < tier.closed.size(); ++i)
        out.append(tier.closed.at(i));
    out.append(*tier.open);
    return out;
}

QString GpuHistory::latestSource() const
{
    std::lock_guard lock(m_mutex);
    return m_latestSource;
}

qint64 GpuHistory::samplesAdded() const
{
    std::lock_guard lock(m_mutex);
    return m_samplesAdded;
}

} // namespace gd::gpu
