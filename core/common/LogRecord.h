#pragma once

#include <QDateTime>
#include <QMetaType>
#include <QString>

namespace gd::log {

// Severity of a log record, in spdlog's order (trace lowest).
enum class LogLevel
{
    Trace,
    Debug,
    Info,
    Warning,
    Error,
    Critical,
};

QString levelName(LogLevel level);

// One log line as the desktop app's log view shows it. seq increases by one per record a sink saw, so a
// view that took a snapshot can drop the records it already has.
struct LogRecord
{
    quint64 seq = 0;
    QDateTime time;
    LogLevel level = LogLevel::Info;
    QString area;
    QString message;

    // "12:00:01.250 WARN  [comfy] message": one line as shown and searched.
    QString line() const;
};

} // namespace gd::log

Q_DECLARE_METATYPE(gd::log::LogRecord)
