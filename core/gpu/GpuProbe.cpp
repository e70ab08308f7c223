#include "gpu/GpuProbe.h"

#include "common/Log.h"

namespace gd::gpu {

GpuProbe::GpuProbe(const QString& smiProgram, int smiTimeoutMs) : m_smi(smiProgram, smiTimeoutMs) {}

bool GpuProbe::ensureNvml()
{
    if (m_nvmlState == NvmlState::NotTried) {
        QString why;
        if (m_nvml.load(&why) && m_nvml.init(&why)) {
            m_nvmlState = NvmlState::Ready;
        } else {
            m_nvmlState = NvmlState::Unavailable;
            m_nvmlWhyNot = why;
        }
    }
    return m_nvmlState == NvmlState::Ready;
}

GpuSnapshot GpuProbe::sampleLocal(int deviceIndex)
{
    QStringList notes;
    std::optional<GpuSnapshot> reading;

    if (ensureNvml()) {
        QString err;
        reading = m_nvml.sample(deviceIndex, &err);
        if (!reading)
            notes << QStringLiteral("NVML reading failed: ") + err;
    } else {
        notes << QStringLiteral("NVML unavailable: ") + m_nvmlWhyNot;
    }

    if (!reading) {
        QString err;
        reading = m_smi.sample(deviceIndex, &err);
        if (!reading)
            notes << QStringLiteral("nvidia-smi unavailable: ") + err;
    }

    GpuSnapshot s;
    if (reading) {
        s = *reading;
    } else {
        s.source = QStringLiteral("missing");
        s.index = deviceIndex;
        s.takenAt = QDateTime::currentDateTimeUtc();
    }
    s.notes = notes + s.notes;

    // Log source changes only: the monitor samples every second.
    if (s.source != m_lastSource) {
        auto log = gd::log::get("gpu");
        if (s.source == QLatin1String("missing"))
            log->warn("no local GPU reading: {}", s.notes.join(QStringLiteral("; ")).toStdString());
        else
            log->info("GPU readings from {}{}", s.source.toStdString(),
                      notes.isEmpty() ? std::string()
                                      : " (" + notes.join(QStringLiteral("; ")).toStdString() + ")");
        m_lastSource = s.source;
    }
    return s;
}

} // namespace gd::gpu
