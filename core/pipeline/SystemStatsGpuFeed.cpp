#include "pipeline/SystemStatsGpuFeed.h"

#include "comfy/ComfyClient.h"
#include "gpu/GpuMonitor.h"
#include "gpu/SystemStatsParser.h"

#include <QDateTime>
#include <QTimer>

namespace gd::pipeline {

SystemStatsGpuFeed::SystemStatsGpuFeed(gpu::GpuMonitor* localMonitor, QObject* parent)
    : QObject(parent), m_local(localMonitor), m_timer(new QTimer(this))
{
    connect(m_timer, &QTimer::timeout, this, &SystemStatsGpuFeed::poll);
}

SystemStatsGpuFeed::~SystemStatsGpuFeed() = default;

void SystemStatsGpuFeed::setServer(const QUrl& comfyUrl, const QString& bearerToken)
{
    delete m_client;
    m_client = nullptr;
    m_inFlight = false;
    if (!comfyUrl.isValid() || comfyUrl.host().isEmpty())
        return;
    m_client = new comfy::ComfyClient(comfyUrl, this);
    m_client->setBearerToken(bearerToken);
}

void SystemStatsGpuFeed::start(int intervalMs)
{
    m_timer->start(intervalMs);
    poll();
}

void SystemStatsGpuFeed::stop()
{
    m_timer->stop();
}

void SystemStatsGpuFeed::poll()
{
    if (!m_client || m_inFlight)
        return;
    // A local NVML / nvidia-smi reading is better (every metric, any device): stay quiet then.
    if (m_local && m_local->latest().source != QLatin1String("missing"))
        return;
    m_inFlight = true;
    QPointer<comfy::ComfyClient> client = m_client;
    m_client->systemStats(this, [this, client](const std::pair<QJsonObject, Error>& answer) {
        if (client != m_client)
            return; // the server changed while this request was out
        m_inFlight = false;
        if (!answer.second.isNull())
            return;
        QString error;
        auto snapshot = gpu::SystemStatsParser::parse(answer.first, &error);
        if (!snapshot)
            return;
        if (!snapshot->takenAt.isValid())
            snapshot->takenAt = QDateTime::currentDateTimeUtc();
        Q_EMIT sampled(*snapshot);
    });
}

} // namespace gd::pipeline
