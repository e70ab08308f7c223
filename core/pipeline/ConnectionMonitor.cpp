#include "pipeline/ConnectionMonitor.h"

namespace gd::pipeline {

ConnectionMonitor::ConnectionMonitor(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<gd::pipeline::HealthItem>();
    qRegisterMetaType<QVector<gd::pipeline::HealthItem>>();
    m_options.timeoutMs = 8000;
    m_timer.setInterval(15000);
    connect(&m_timer, &QTimer::timeout, this, &ConnectionMonitor::checkNow);
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(400);
    connect(&m_debounce, &QTimer::timeout, this, &ConnectionMonitor::checkNow);

    m_thread.setObjectName(QStringLiteral("gd-connection-monitor"));
    m_worker = new QObject;
    m_worker->moveToThread(&m_thread);
    // The worker (and a probe still in flight) is deleted on its own thread as the thread ends.
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
}

ConnectionMonitor::~ConnectionMonitor()
{
    m_thread.quit();
    m_thread.wait();
}

void ConnectionMonitor::setOptions(const HealthOptions& options)
{
    m_options = options;
    m_debounce.start();
}

void ConnectionMonitor::setIntervalMs(int ms)
{
    m_timer.setInterval(std::max(1000, ms));
}

void ConnectionMonitor::start()
{
    m_timer.start();
    checkNow();
}

void ConnectionMonitor::stop()
{
    m_timer.stop();
    m_debounce.stop();
}

void ConnectionMonitor::checkNow()
{
    m_debounce.stop();
    if (m_inFlight) {
        m_again = true;
        return;
    }
    m_inFlight = true;
    Q_EMIT checkStarted();
    const HealthOptions options = m_options;
    QMetaObject::invokeMethod(
        m_worker,
        [this, options] {
            // On the monitor's thread: the probe's sockets and its GPU watcher belong to it.
            auto* probe = new HealthProbe(options, m_worker);
            connect(probe, &HealthProbe::finished, m_worker, [this, probe](const QVector<HealthItem>& items, int) {
                probe->deleteLater();
                QMetaObject::invokeMethod(this, [this, items] { onFinished(items); }, Qt::QueuedConnection);
            });
            probe->run();
        },
        Qt::QueuedConnection);
}

void ConnectionMonitor::onFinished(const QVector<HealthItem>& items)
{
    m_inFlight = false;
    m_latest = items;
    m_lastChecked = QDateTime::currentDateTime();
    Q_EMIT updated(items);
    if (m_again) {
        m_again = false;
        checkNow();
    }
}

HealthItem ConnectionMonitor::latest(const QString& component) const
{
    for (const HealthItem& i : m_latest) {
        if (i.component == component)
            return i;
    }
    return {component, QStringLiteral("unknown"), QStringLiteral("not checked yet"), {}};
}

} // namespace gd::pipeline
