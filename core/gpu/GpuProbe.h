#pragma once

#include "gpu/GpuSource.h"
#include "gpu/NvidiaSmiSource.h"
#include "gpu/NvmlLibrary.h"

#include <QString>

namespace gd::gpu {

// The local source chain for one reading: NVML, then nvidia-smi, then nothing (source "missing"),
// noting why each earlier source was skipped. The /system_stats fallback belongs to the pipeline,
// because it is an HTTP call. Blocking and not thread-safe: use it from one worker thread.
class GpuProbe : public GpuSource
{
public:
    explicit GpuProbe(const QString& smiProgram = QStringLiteral("nvidia-smi"),
                      int smiTimeoutMs = NvidiaSmiSource::DefaultTimeoutMs);

    // Notes look like "NVML unavailable: libnvidia-ml.so.1 not found" and
    // "nvidia-smi unavailable: nvidia-smi could not be started: ...".
    GpuSnapshot sampleLocal(int deviceIndex);
    GpuSnapshot sample(int index) override { return sampleLocal(index); }

    NvidiaSmiSource& smi() { return m_smi; }
    // Why NVML is not used (empty while it works or before the first reading).
    QString nvmlUnavailableReason() const { return m_nvmlWhyNot; }

private:
    // Loads and initialises NVML on first use only: a machine without the driver does not get a
    // failing dlopen every second.
    bool ensureNvml();

    enum class NvmlState
    {
        NotTried,
        Ready,
        Unavailable
    };

    NvmlLibrary m_nvml;
    NvmlState m_nvmlState = NvmlState::NotTried;
    QString m_nvmlWhyNot;
    NvidiaSmiSource m_smi;
    QString m_lastSource;
};

} // namespace gd::gpu
