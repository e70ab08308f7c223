#include "gpu/SystemStatsParser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <cmath>

namespace gd::gpu {

namespace {

void setText(QString* out, const QString& text)
{
    if (out)
        *out = text;
}

// A non-negative whole number of bytes, or empty. JSON numbers arrive as doubles; VRAM sizes stay
// far below 2^53, so the conversion is exact.
std::optional<qint64> bytesValue(const QJsonValue& v)
{
    if (!v.isDouble())
        return std::nullopt;
    const double d = v.toDouble();
    if (!std::isfinite(d) || d < 0 || d > 9.0e15)
        return std::nullopt;
    return static_cast<qint64>(d);
}

} // namespace

QString SystemStatsParser::cleanDeviceName(const QString& rawName, const QString& type)
{
    QString name = rawName.trimmed();
    // ComfyUI formats CUDA devices as "<torch device> <gpu name> : <allocator backend>".
    const qsizetype allocator = name.lastIndexOf(QLatin1String(" : "));
    if (allocator > 0)
        name = name.left(allocator).trimmed();
    const qsizetype space = name.indexOf(QLatin1Char(' '));
    if (space > 0) {
        const QString first = name.left(space);
        const QString deviceKind = first.section(QLatin1Char(':'), 0, 0);
        // Drop the leading torch device ("cuda:0", "xpu:1", ...) but never a word of the GPU's name.
        if (first.contains(QLatin1Char(':')) || (!type.isEmpty() && deviceKind == type))
            name = name.mid(space + 1).trimmed();
    }
    return name;
}

std::optional<GpuSnapshot> SystemStatsParser::parse(const QJsonObject& systemStats, QString* error)
{
    const QJsonValue devicesValue = systemStats.value(QLatin1String("devices"));
    if (!devicesValue.isArray()) {
        setText(error, devicesValue.isUndefined()
                           ? QStringLiteral("/system_stats has no \"devices\" array")
                           : QStringLiteral("/system_stats \"devices\" is not an array"));
        return std::nullopt;
    }
    const QJsonArray devices = devicesValue.toArray();
    if (devices.isEmpty()) {
        setText(error, QStringLiteral("/system_stats lists no devices"));
        return std::nullopt;
    }
    if (!devices.first().isObject()) {
        setText(error, QStringLiteral("/system_stats devices[0] is not an object"));
        return std::nullopt;
    }
    const QJsonObject device = devices.first().toObject();

    GpuSnapshot s;
    s.source = QStringLiteral("system_stats");
    s.takenAt = QDateTime::currentDateTimeUtc();
    const QString rawName = device.value(QLatin1String("name")).toString();
    s.type = device.value(QLatin1String("type")).toString().trimmed();
    if (s.type.isEmpty() && rawName.contains(QLatin1Char(':')))
        s.type = rawName.trimmed().section(QLatin1Char(':'), 0, 0);
    s.name = cleanDeviceName(rawName, s.type);

    const QJsonValue index = device.value(QLatin1String("index"));
    if (index.isDouble()) {
        const double d = index.toDouble();
        if (d >= 0 && d <= 1024 && d == std::floor(d))
            s.index = static_cast<int>(d);
    }
    s.vramTotalBytes = bytesValue(device.value(QLatin1String("vram_total")));
    s.vramFreeBytes = bytesValue(device.value(QLatin1String("vram_free")));
    if (s.vramTotalBytes && s.vramFreeBytes && *s.vramFreeBytes <= *s.vramTotalBytes)
        s.vramUsedBytes = *s.vramTotalBytes - *s.vramFreeBytes;
    return s;
}

std::optional<GpuSnapshot> SystemStatsParser::parse(const QByteArray& body, QString* error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        setText(error, QStringLiteral("/system_stats is not valid JSON: ") + parseError.errorString());
        return std::nullopt;
    }
    if (!doc.isObject()) {
        setText(error, QStringLiteral("/system_stats is not a JSON object"));
        return std::nullopt;
    }
    return parse(doc.object(), error);
}

QJsonValue SystemStatsParser::systemBlock(const QJsonObject& systemStats)
{
    const QJsonValue system = systemStats.value(QLatin1String("system"));
    return system.isObject() ? system : QJsonValue(QJsonValue::Null);
}

} // namespace gd::gpu
