#pragma once

#include "gpu/GpuSnapshot.h"

#include <QObject>
#include <QPointer>
#include <QUrl>

class QTimer;

namespace gd::comfy {
class ComfyClient;
}
namespace gd::gpu {
class GpuMonitor;
}

namespace gd::pipeline {

// The last GPU source of DESIGN.md §5 for the live charts: when the local monitor has no reading
// (no NVML, no nvidia-smi — a remote ComfyUI, or the sandbox), ComfyUI's GET /system_stats is polled
// asynchronously on this object's thread and each reading (source "system_stats") is emitted.
// Nothing is emitted while the local monitor has readings of its own or the server does not answer.
class SystemStatsGpuFeed : public QObject
{
    Q_OBJECT
public:
    explicit SystemStatsGpuFeed(gpu::GpuMonitor* localMonitor, QObject* parent = nullptr);
    ~SystemStatsGpuFeed() override;

    void setServer(const QUrl& comfyUrl, const QString& bearerToken);
    void start(int intervalMs = 2000);
    void stop();

Q_SIGNALS:
    void sampled(const gd::gpu::GpuSnapshot& snapshot);

private:
    void poll();

    QPointer<gpu::GpuMonitor> m_local;
    comfy::ComfyClient* m_client = nullptr;
    QTimer* m_timer;
    bool m_inFlight = false;
};

} // namespace gd::pipeline
