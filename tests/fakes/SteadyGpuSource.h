#pragma once

#include "gpu/GpuSource.h"

#include <QDateTime>

#include <atomic>

namespace gd::test {

// A GPU that is always there: an NVML-like reading with VRAM and utilisation that move a little
// with every sample, stamped with the real clock. For tests that need live GPU data in the app.
class SteadyGpuSource : public gpu::GpuSource
{
public:
    static constexpr qint64 kMiB = 1024 * 1024;

    gpu::GpuSnapshot sample(int index) override
    {
        const int n = m_samples.fetch_add(1);
        gpu::GpuSnapshot s;
        s.source = QStringLiteral("nvml");
        s.name = QStringLiteral("Test GPU 24 GB");
        s.type = QStringLiteral("cuda");
        s.index = index;
        s.vramTotalBytes = 24576 * kMiB;
        s.vramUsedBytes = qint64(6000 + (n % 50) * 40) * kMiB;
        s.vramFreeBytes = *s.vramTotalBytes - *s.vramUsedBytes;
        s.utilizationPercent = 40 + n % 50;
        s.temperatureC = 60;
        s.takenAt = QDateTime::currentDateTimeUtc();
        return s;
    }

    int samples() const { return m_samples.load(); }

private:
    std::atomic<int> m_samples{0};
};

} // namespace gd::test
