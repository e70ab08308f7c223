#include "common/LogRecord.h"

namespace gd::log {

QString levelName(LogLevel level)
{
    switch (level) {
    case LogLevel::Trace:
        return QStringLiteral("TRACE");
    case LogLevel::Debug:
        return QStringLiteral("DEBUG");
    case LogLevel::Info:
        return QStringLiteral("INFO");
    case LogLevel::Warning:
        return QStringLiteral("WARN");
    case LogLevel::Error:
        return QStringLiteral("ERROR");
    case LogLevel::Critical:
        return QStringLiteral("CRIT");
    }
    return {};
}

QString LogRecord::line() const
{
    return QStringLiteral("%1 %2 [%3] %4")
        .arg(time.toString(QStringLiteral("HH:mm:ss.zzz")), levelName(level).leftJustified(5), area, message);
}

} // namespace gd::log
