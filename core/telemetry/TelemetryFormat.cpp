#include "telemetry/TelemetryFormat.h"

#include <QDir>
#include <QFileInfo>
#include <cmath>

namespace gd::telemetry {

QString TelemetryFormat::isoUtc(const QDateTime& time)
{
    if (!time.isValid())
        return {};
    return time.toUTC().toString(Qt::ISODateWithMs);
}

QDateTime TelemetryFormat::parseIso(const QString& text)
{
    QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(text, Qt::ISODate);
    return t;
}

double TelemetryFormat::round1(double value)
{
    if (!std::isfinite(value))
        return 0;
    return std::round(value * 10.0) / 10.0;
}

QString TelemetryFormat::duration(double seconds)
{
    return QString::number(round1(seconds), 'f', 1);
}

QString TelemetryFormat::knob(double value)
{
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15)
        return QString::number(static_cast<qint64>(value));
    // 15 significant digits: 0.1 prints as "0.1", not as its binary expansion.
    return QString::number(value, 'g', 15);
}

std::optional<double> TelemetryFormat::bytesToMB(std::optional<qint64> bytes)
{
    if (!bytes)
        return std::nullopt;
    return round1(static_cast<double>(*bytes) / (1024.0 * 1024.0));
}

QString TelemetryFormat::relativePath(const QString& runDir, const QString& path)
{
    if (path.isEmpty())
        return {};
    // Windows-style separators can arrive from the legacy pipeline or from a Windows ComfyUI.
    QString p = QDir::fromNativeSeparators(path);
    p.replace(QLatin1Char('\\'), QLatin1Char('/'));
    if (!QDir::isAbsolutePath(p) || runDir.isEmpty())
        return QDir::cleanPath(p);
    const QString root = QDir::cleanPath(QDir::fromNativeSeparators(runDir));
    const QString clean = QDir::cleanPath(p);
    if (clean == root)
        return QStringLiteral(".");
    if (clean.startsWith(root + QLatin1Char('/')))
        return clean.mid(root.size() + 1);
    return clean;
}

} // namespace gd::telemetry
