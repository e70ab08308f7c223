#include "gpu/GpuMonitor.h"

#include "gpu/GpuProbe.h"

#include <QMetaObject>
#include <QPromise>
#include <QThread>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>

namespace gd::gpu {

namespace {

std::optional<qint64> usedBytes(const GpuSnapshot& s)
{
    if (s.vramUsedBytes)
        return s.vramUsedBytes;
    if (s.vramTotalBytes && s.vramFreeBytes)
        return *s.vramTotalBytes - *s.vramFreeBytes;
    return std::nullopt;
}

// The promise behind one sampleNow() on the monitor thread. Callers (e.g. a QFutureWatcher reading
// result()) always get exactly one snapshot, even when stop() drops the queued request.
struct PendingReading
{
    QPromise<GpuSnapshot> promise;
    bool fulfilled = false;

    PendingReading() { promise.start(); }
    ~PendingReading()
    {
        if (fulfilled)
            return;
        GpuSnapshot s;
        s.takenAt = QDateTime::currentDateTimeUtc();
        s.notes << QStringLiteral("GPU monitor stopped before the reading was taken");
        fulfil(s);
    }
    void fulfil(const GpuSnapshot& s)
    {
        fulfilled = true;
        promise.addResult(s);
        promise.finish();
    }
};

} // namespace

GpuMonitor::GpuMonitor(QObject* parent)
    : GpuMonitor(std::make_unique<GpuProbe>(), DefaultHistoryCapacity, parent)
{
}

GpuMonitor::GpuMonitor(std::unique_ptr<GpuSource> source, qsizetype historyCapacity, QObject* parent)
    : QObject(parent), m_source(std::move(source)), m_history(historyCapacity)
{
    qRegisterMetaType<gd::gpu::GpuSnapshot>();
}

GpuMonitor::~GpuMonitor()
{
    stop();
    // Pool runs use `this`; they must end before the members do.
    for (QFuture<GpuSnapshot>& run : m_poolRuns)
        run.waitForFinished();
}

void GpuMonitor::setIntervalMs(int intervalMs)
{
    m_intervalMs.store(std::max(1, intervalMs));
    if (m_timer) {
        QTimer* timer = m_timer;
        const int ms = m_intervalMs.load();
        QMetaObject::invokeMethod(
            timer, [timer, ms] { timer->setInterval(ms); }, Qt::QueuedConnection);
    }
}

void GpuMonitor::start()
{
    if (m_thread)
        return;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("gd-gpu-monitor"));
    m_timer = new QTimer;
    m_timer->setInterval(m_intervalMs.load());
    m_timer->moveToThread(m_thread);
    QTimer* timer = m_timer;
    // The lambdas run in the timer's (worker) thread; `this` outlives the thread because stop()
    // joins it before anything here is destroyed.
    connect(timer, &QTimer::timeout, timer, [this] { record(takeSample()); });
    connect(m_thread, &QThread::started, timer, [this, timer] {
        record(takeSample());
        timer->start();
    });
    // Deleting the timer in its own thread, as the thread winds down, keeps Qt's timer bookkeeping
    // on the right thread.
    connect(m_thread, &QThread::finished, timer, &QObject::deleteLater);
    m_thread->start();
}

void GpuMonitor::stop()
{
    if (!m_thread)
        return;
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_timer = nullptr;
}

bool GpuMonitor::isRunning() const
{
    return m_thread != nullptr;
}

GpuSnapshot GpuMonitor::latest() const
{
    std::lock_guard lock(m_dataMutex);
    return m_latest;
}

QVector<GpuSnapshot> GpuMonitor::history() const
{
    std::lock_guard lock(m_dataMutex);
    return m_history.toVector();
}

qsizetype GpuMonitor::historyCapacity() const
{
    std::lock_guard lock(m_dataMutex);
    return m_history.capacity();
}

QFuture<GpuSnapshot> GpuMonitor::sampleNow()
{
    if (!m_timer) {
        m_poolRuns.removeIf([](const QFuture<GpuSnapshot>& run) { return run.isFinished(); });
        QFuture<GpuSnapshot> run = QtConcurrent::run([this] {
            const GpuSnapshot s = takeSample();
            record(s);
            return s;
        });
        m_poolRuns.push_back(run);
        return run;
    }
    auto pending = std::make_shared<PendingReading>();
    QFuture<GpuSnapshot> future = pending->promise.future();
    // If the thread stops before this runs, the queued call is dropped together with the timer and
    // PendingReading's destructor answers the future with a "missing" reading.
    QMetaObject::invokeMethod(
        m_timer,
        [this, pending] {
            const GpuSnapshot s = takeSample();
            record(s);
            pending->fulfil(s);
        },
        Qt::QueuedConnection);
    return future;
}

int GpuMonitor::beginPeakWindow()
{
    std::lock_guard lock(m_dataMutex);
    const int id = m_nextWindowId++;
    m_peakWindows.insert(id, std::nullopt);
    return id;
}

std::optional<double> GpuMonitor::endPeakWindow(int windowId)
{
    std::lock_guard lock(m_dataMutex);
    const auto it = m_peakWindows.constFind(windowId);
    if (it == m_peakWindows.constEnd())
        return std::nullopt;
    const std::optional<qint64> peak = it.value();
    m_peakWindows.erase(it);
    if (!peak)
        return std::nullopt;
    return static_cast<double>(*peak) / (1024.0 * 1024.0);
}

GpuSnapshot GpuMonitor::takeSample()
{
    std::lock_guard lock(m_sourceMutex);
    GpuSnapshot s = m_source->sample(m_deviceIndex.load());
    if (!s.takenAt.isValid())
        s.takenAt = QDateTime::currentDateTimeUtc();
    return s;
}

void GpuMonitor::record(const GpuSnapshot& snapshot)
{
    {
        std::lock_guard lock(m_dataMutex);
        m_latest = snapshot;
        m_history.push(snapshot);
        if (const std::optional<qint64> used = usedBytes(snapshot)) {
            for (auto it = m_peakWindows.begin(); it != m_peakWindows.end(); ++it) {
                if (!it.value() || *used > *it.value())
                    it.value() = *used;
            }
        }
    }
    Q_EMIT sampled(snapshot);
}

} // namespace gd::gpu
