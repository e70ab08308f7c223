#pragma once

// Helpers shared by the benchmark executables: this process's memory and a simulated GPU reading.

#include "gpu/GpuSnapshot.h"

#include <QByteArray>
#include <QDateTime>
#include <QFile>
#include <QPair>

namespace gd::bench {

// VmRSS and VmHWM of this process in MB (from /proc/self/status); -1 where unreadable.
inline QPair<double, double> rssMb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    double rss = -1, hwm = -1;
    if (!f.open(QIODevice::ReadOnly))
        return {rss, hwm};
    for (const QByteArray& line : f.readAll().split('\n')) {
        const auto kb = [&line] { return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0; };
        if (line.startsWith("VmRSS:"))
            rss = kb();
        else if (line.startsWith("VmHWM:"))
            hwm = kb();
    }
    return {rss, hwm};
}

// Reading number `i` of a simulated render night (NVML-shaped, VRAM and utilisation present), taken at
// `takenAtMs`: VRAM climbs during each ~90 s scene and drops between scenes.
inline gpu::GpuSnapshot simulatedGpuReading(qint64 takenAtMs, qint64 i)
{
    constexpr qint64 MiB = 1024 * 1024;
    gpu::GpuSnapshot s;
    s.source = QStringLiteral("nvml");
    s.name = QStringLiteral("Simulated RTX 4090");
    s.index = 0;
    s.takenAt = QDateTime::fromMSecsSinceEpoch(takenAtMs, Qt::UTC);
    s.vramTotalBytes = 24564 * MiB;
    const int phase = static_cast<int>(i % 120);
    s.vramUsedBytes = (phase < 90 ? 6000 + phase * 140 : 2500) * MiB;
    s.vramFreeBytes = *s.vramTotalBytes - *s.vramUsedBytes;
    s.utilizationPercent = phase < 90 ? 97 : 3;
    s.temperatureC = 70;
    return s;
}

} // namespace gd::bench
