#include "common/LogSink.h"

#include <chrono>

namespace gd::log {

namespace {
LogLevel toLevel(spdlog::level::level_enum level)
{
    switch (level) {
    case spdlog::level::trace:
        return LogLevel::Trace;
    case spdlog::level::debug:
        return LogLevel::Debug;
    case spdlog::level::info:
        return LogLevel::Info;
    case spdlog::level::warn:
        return LogLevel::Warning;
    case spdlog::level::err:
        return LogLevel::Error;
    default:
        return LogLevel::Critical;
    }
}
} // namespace

LogSink::LogSink(int capacity) : m_capacity(std::max(1, capacity))
{
    qRegisterMetaType<gd::log::LogRecord>();
    qRegisterMetaType<QVector<gd::log::LogRecord>>();
}

LogSink::~LogSink() = default;

QVector<LogRecord> LogSink::snapshot()
{
    std::lock_guard lock(mutex_);
    return QVector<LogRecord>(m_buffer.begin(), m_buffer.end());
}

quint64 LogSink::droppedCount()
{
    std::lock_guard lock(mutex_);
    return m_dropped;
}

void LogSink::sink_it_(const spdlog::details::log_msg& msg)
{
    // Called with base_sink's mutex held, on whichever thread logged.
    LogRecord r;
    r.seq = m_nextSeq++;
    r.time = QDateTime::fromMSecsSinceEpoch(
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count());
    r.level = toLevel(msg.level);
    r.area = QString::fromUtf8(msg.logger_name.data(), qsizetype(msg.logger_name.size()));
    r.message = QString::fromUtf8(msg.payload.data(), qsizetype(msg.payload.size()));
    m_buffer.push_back(r);
    while (int(m_buffer.size()) > m_capacity)
        m_buffer.pop_front();
    m_pending.push_back(std::move(r));
    if (m_pending.size() > m_capacity) {
        const qsizetype excess = m_pending.size() - m_capacity;
        m_pending.remove(0, excess);
        m_dropped += quint64(excess);
    }
    if (!m_deliveryQueued) {
        m_deliveryQueued = true;
        QMetaObject::invokeMethod(this, &LogSink::deliver, Qt::QueuedConnection);
    }
}

void LogSink::deliver()
{
    QVector<LogRecord> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(m_pending);
        m_deliveryQueued = false;
    }
    if (!batch.isEmpty())
        Q_EMIT recordsAppended(batch);
}

} // namespace gd::log
