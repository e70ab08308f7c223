#pragma once

#include "gpu/GpuSnapshot.h"

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <optional>

namespace gd::gpu {

// Reads the torch device out of ComfyUI's GET /system_stats answer: the last GPU source, used when
// neither NVML nor nvidia-smi is available on this machine (e.g. a remote ComfyUI server).
class SystemStatsParser
{
public:
    // devices[0]: name "cuda:0 NVIDIA H200 : cudaMallocAsync" becomes name "NVIDIA H200" with type
    // "cuda"; index (may be null); vram_total/vram_free in bytes, used = total − free. Source is
    // "system_stats". nullopt with `error` set when `devices` is missing, empty or not objects.
    static std::optional<GpuSnapshot> parse(const QJsonObject& systemStats, QString* error);
    // The same for a raw HTTP body; a body that is not a JSON object is an error.
    static std::optional<GpuSnapshot> parse(const QByteArray& body, QString* error);
    // The `system` object (os, versions, argv, ...) as telemetry's System.Before/After, or null.
    static QJsonValue systemBlock(const QJsonObject& systemStats);
    // "cuda:0 NVIDIA H200 : cudaMallocAsync" → "NVIDIA H200"; "cpu" → "cpu".
    static QString cleanDeviceName(const QString& rawName, const QString& type);
};

} // namespace gd::gpu
