#pragma once

#include <QDateTime>
#include <QJsonValue>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <optional>

namespace gd::gpu {

// One reading of one GPU. Every metric is optional: a metric a source cannot supply stays empty
// and is shown as "unavailable", never as 0.
struct GpuSnapshot
{
    QString source = QStringLiteral("missing"); // nvml | nvidia-smi | system_stats | missing
    QString name;
    QString type; // "cuda" for NVIDIA, or /system_stats' device type
    std::optional<int> index;
    std::optional<qint64> vramTotalBytes;
    std::optional<qint64> vramFreeBytes;
    std::optional<qint64> vramUsedBytes;
    std::optional<int> utilizationPercent;
    std::optional<int> temperatureC;
    QDateTime takenAt;
    QStringList notes; // why a source was skipped (for logs and telemetry)

    bool hasVram() const { return vramFreeBytes.has_value(); }
};

} // namespace gd::gpu

Q_DECLARE_METATYPE(gd::gpu::GpuSnapshot)
