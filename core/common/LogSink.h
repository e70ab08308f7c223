#pragma once

#include "common/LogRecord.h"

#include <QObject>
#include <QVector>
#include <deque>
#include <mutex>
#include <spdlog/sinks/base_sink.h>

namespace gd::log {

// An spdlog sink that keeps the last `capacity` records and hands them to the thread the sink was created
// on (the GUI thread) as a Qt signal. Thread-safe: any thread may log; records are batched into one queued
// delivery per event-loop turn so a chatty worker cannot flood the GUI's event queue. Own it with a
// std::shared_ptr (spdlog's loggers hold it) and register it with gd::log::addSink().
class LogSink : public QObject, public spdlog::sinks::base_sink<std::mutex>
{
    Q_OBJECT
public:
    explicit LogSink(int capacity = 5000);
    ~LogSink() override;

    int capacity() const { return m_capacity; }
    // The last `capacity` records, oldest first (safe from any thread).
    QVector<LogRecord> snapshot();
    // Records that were dropped before delivery because the receiving thread fell behind.
    quint64 droppedCount();

Q_SIGNALS:
    // Emitted on the sink's thread, in order; together the batches re-emit every record logged.
    void recordsAppended(const QVector<gd::log::LogRecord>& records);

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    void deliver();

    const int m_capacity;
    quint64 m_nextSeq = 1;
    quint64 m_dropped = 0;
    std::deque<LogRecord> m_buffer;
    QVector<LogRecord> m_pending;
    bool m_deliveryQueued = false;
};

} // namespace gd::log
