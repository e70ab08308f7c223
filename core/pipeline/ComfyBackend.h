#pragma once

#include "common/Error.h"
#include "gpu/GpuSnapshot.h"
#include "pipeline/BackendSpec.h"

#include <QDateTime>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <functional>
#include <optional>
#include <vector>

namespace gd::comfy {
class ComfyClient;
}
namespace gd::gpu {
class GpuMonitor;
}

namespace gd::pipeline {

// One ComfyUI server of the pool: its own ComfyClient (HTTP + WebSocket with its own clientId), its
// health, its VRAM view and how many of our prompts it holds. Health comes from GET /system_stats
// probes (periodic, and at once when the socket drops); the VRAM view from the same answer or, for a
// server on this machine, from the local GPU monitor. Lives on the pool's thread; never blocks.
class ComfyBackend : public QObject
{
    Q_OBJECT
public:
    enum class Health
    {
        Unknown, // not probed yet
        Healthy,
        Down
    };
    Q_ENUM(Health)

    ComfyBackend(BackendSpec spec, QObject* parent = nullptr);
    ~ComfyBackend() override;

    const BackendSpec& spec() const { return m_spec; }
    QString label() const { return m_spec.label; }
    QString urlText() const;
    comfy::ComfyClient* client() const { return m_client; }

    Health health() const { return m_health; }
    bool isHealthy() const { return m_health == Health::Healthy; }
    QString healthDetail() const { return m_healthDetail; }
    QString systemSummary() const { return m_systemSummary; }

    // For a server on this machine: VRAM comes from NVML / nvidia-smi through the monitor when it
    // has a reading (ComfyUI's /system_stats only sees the torch device it was started on).
    void setLocalMonitor(gpu::GpuMonitor* monitor);

    // Free VRAM (MB) that the next prompt sent here can expect. ComfyUI runs one prompt at a time,
    // so a prompt queued behind a running one starts with what the server has when none of ours
    // runs: while we have prompts in flight this is the last reading taken while idle.
    std::optional<double> vramFreeMB() const;
    std::optional<double> vramTotalMB() const;
    QString vramSource() const { return m_vramSource; }
    QDateTime vramReadAt() const { return m_vramAt; }

    // Our prompts on this server (running + queued), maintained by the pool.
    int inFlight() const { return m_inFlight; }
    void setInFlight(int n);
    int scenesDispatched() const { return m_dispatched; }
    void countDispatch() { ++m_dispatched; }
    int failovers() const { return m_failovers; }
    void countFailover() { ++m_failovers; }

    // One GET /system_stats: updates health and the VRAM view; `done` (optional) runs afterwards.
    void probe(std::function<void()> done = {});
    // Periodic probes plus one at once whenever the socket drops (pools of several servers only: a
    // single server keeps exactly the traffic it had before the pool existed).
    void startProbing(int intervalMs);
    // A GPU reading taken by someone else (an attempt's VRAM after): the freshest view at no cost.
    void noteReading(std::optional<qint64> freeBytes, std::optional<qint64> totalBytes, const QString& source);
    void stopProbing();

Q_SIGNALS:
    void healthChanged(gd::pipeline::ComfyBackend::Health health, const QString& detail);
    // Healthy (or Unknown) → Down: the scenes in flight here must go elsewhere.
    void lost(const QString& reason);
    void viewChanged();

private:
    void onStats(const QJsonObject& stats, const Error& error);
    void setHealth(Health h, const QString& detail);

    BackendSpec m_spec;
    comfy::ComfyClient* m_client;
    QPointer<gpu::GpuMonitor> m_monitor;
    Health m_health = Health::Unknown;
    QString m_healthDetail;
    QString m_systemSummary;
    std::optional<double> m_freeMB;
    std::optional<double> m_idleFreeMB;
    std::optional<double> m_totalMB;
    QString m_vramSource = QStringLiteral("missing");
    QDateTime m_vramAt;
    int m_inFlight = 0;
    int m_dispatched = 0;
    int m_failovers = 0;
    bool m_probing = false;
    std::vector<std::function<void()>> m_probeWaiters;
    bool m_watchingSocket = false;
    QTimer m_probeTimer;
};

} // namespace gd::pipeline
