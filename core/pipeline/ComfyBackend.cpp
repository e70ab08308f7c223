#include "pipeline/ComfyBackend.h"

#include "comfy/ComfyClient.h"
#include "common/Log.h"
#include "gpu/GpuMonitor.h"
#include "gpu/SystemStatsParser.h"

#include <QJsonObject>

namespace gd::pipeline {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
}

ComfyBackend::ComfyBackend(BackendSpec spec, QObject* parent)
    : QObject(parent), m_spec(std::move(spec)), m_client(new comfy::ComfyClient(m_spec.url, this))
{
    if (!m_spec.bearerToken.isEmpty())
        m_client->setBearerToken(m_spec.bearerToken);
    m_probeTimer.setSingleShot(false);
    connect(&m_probeTimer, &QTimer::timeout, this, [this] { probe(); });
}

ComfyBackend::~ComfyBackend() = default;

QString ComfyBackend::urlText() const
{
    return m_spec.url.toString(QUrl::RemovePassword);
}

void ComfyBackend::setLocalMonitor(gpu::GpuMonitor* monitor)
{
    m_monitor = m_spec.isLoopback() ? monitor : nullptr;
}

std::optional<double> ComfyBackend::vramFreeMB() const
{
    return m_inFlight > 0 && m_idleFreeMB ? m_idleFreeMB : m_freeMB;
}

std::optional<double> ComfyBackend::vramTotalMB() const
{
    return m_totalMB;
}

void ComfyBackend::setInFlight(int n)
{
    m_inFlight = n;
}

void ComfyBackend::probe(std::function<void()> done)
{
    // One probe at a time; callers that ask meanwhile hear the answer of the one in flight.
    if (done)
        m_probeWaiters.push_back(std::move(done));
    if (m_probing)
        return;
    m_probing = true;
    m_client->systemStats(this, [this](const std::pair<QJsonObject, Error>& r) {
        m_probing = false;
        onStats(r.first, r.second);
        const auto waiters = std::move(m_probeWaiters);
        m_probeWaiters.clear();
        for (const auto& w : waiters)
            w();
    });
}

void ComfyBackend::startProbing(int intervalMs)
{
    if (!m_watchingSocket) {
        m_watchingSocket = true;
        // A dropped socket is the first sign of a dead server; a probe tells a dead server
        // (connection refused / timeout) from a socket hiccup (the probe succeeds, the client reconnects).
        connect(m_client, &comfy::ComfyClient::socketDisconnected, this, [this] {
            if (m_probeTimer.isActive())
                probe();
        });
    }
    m_probeTimer.start(intervalMs);
}

void ComfyBackend::noteReading(std::optional<qint64> freeBytes, std::optional<qint64> totalBytes, const QString& source)
{
    if (!freeBytes)
        return;
    m_freeMB = double(*freeBytes) / kMiB;
    if (totalBytes)
        m_totalMB = double(*totalBytes) / kMiB;
    m_vramSource = source;
    m_vramAt = QDateTime::currentDateTimeUtc();
    if (m_inFlight == 0)
        m_idleFreeMB = m_freeMB;
}

void ComfyBackend::stopProbing()
{
    m_probeTimer.stop();
}

void ComfyBackend::onStats(const QJsonObject& stats, const Error& error)
{
    if (!error.isNull()) {
        setHealth(Health::Down, error.message);
        return;
    }
    const QJsonObject system = stats.value(QStringLiteral("system")).toObject();
    QString err;
    const auto snap = gpu::SystemStatsParser::parse(stats, &err);
    m_systemSummary = QStringLiteral("ComfyUI %1 at %2%3")
                          .arg(system.value(QStringLiteral("comfyui_version")).toString(QStringLiteral("(version unknown)")),
                               urlText(), snap ? QStringLiteral(", device %1").arg(snap->name) : QString());
    std::optional<gpu::GpuSnapshot> reading;
    if (m_monitor) {
        const gpu::GpuSnapshot local = m_monitor->latest();
        if (local.hasVram())
            reading = local;
    }
    if (!reading && snap && snap->hasVram())
        reading = snap;
    if (reading) {
        m_freeMB = double(*reading->vramFreeBytes) / kMiB;
        if (reading->vramTotalBytes)
            m_totalMB = double(*reading->vramTotalBytes) / kMiB;
        m_vramSource = reading->source;
        m_vramAt = QDateTime::currentDateTimeUtc();
        if (m_inFlight == 0)
            m_idleFreeMB = m_freeMB;
    }
    setHealth(Health::Healthy, QString());
    Q_EMIT viewChanged();
}

void ComfyBackend::setHealth(Health h, const QString& detail)
{
    const Health before = m_health;
    m_health = h;
    m_healthDetail = detail;
    if (before == h)
        return;
    gd::log::get("comfy")->info("backend {} ({}): {}{}", m_spec.label.toStdString(), urlText().toStdString(),
                                h == Health::Healthy ? "healthy" : h == Health::Down ? "down" : "unknown",
                                detail.isEmpty() ? std::string() : " — " + detail.toStdString());
    Q_EMIT healthChanged(h, detail);
    if (h == Health::Down)
        Q_EMIT lost(detail);
    else
        Q_EMIT viewChanged();
}

} // namespace gd::pipeline
