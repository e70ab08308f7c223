#include "comfy/ComfyEvent.h"

#include <QHash>
#include <QJsonDocument>
#include <QJsonParseError>

namespace gd::comfy {

namespace {
ComfyEvent::Type typeFromName(const QString& name)
{
    static const QHash<QString, ComfyEvent::Type> table{
        {QStringLiteral("status"), ComfyEvent::Type::Status},
        {QStringLiteral("execution_start"), ComfyEvent::Type::ExecutionStart},
        {QStringLiteral("execution_cached"), ComfyEvent::Type::ExecutionCached},
        {QStringLiteral("executing"), ComfyEvent::Type::Executing},
        {QStringLiteral("progress"), ComfyEvent::Type::Progress},
        {QStringLiteral("progress_state"), ComfyEvent::Type::ProgressState},
        {QStringLiteral("executed"), ComfyEvent::Type::Executed},
        {QStringLiteral("execution_success"), ComfyEvent::Type::ExecutionSuccess},
        {QStringLiteral("execution_error"), ComfyEvent::Type::ExecutionError},
        {QStringLiteral("execution_interrupted"), ComfyEvent::Type::ExecutionInterrupted},
        {QStringLiteral("feature_flags"), ComfyEvent::Type::FeatureFlags},
    };
    return table.value(name, ComfyEvent::Type::Other);
}
} // namespace

ComfyEvent ComfyEvent::fromJson(const QJsonObject& message)
{
    ComfyEvent ev;
    ev.receivedAt = QDateTime::currentDateTimeUtc();
    ev.typeName = message.value(QStringLiteral("type")).toString();
    ev.type = typeFromName(ev.typeName);
    ev.data = message.value(QStringLiteral("data")).toObject();
    ev.promptId = ev.data.value(QStringLiteral("prompt_id")).toString();
    const QJsonValue node = ev.data.value(QStringLiteral("node"));
    ev.nodeIsNull = ev.type == Type::Executing && node.isNull() && ev.data.contains(QStringLiteral("node"));
    ev.node = node.isString() ? node.toString() : QString();
    if (ev.type == Type::ExecutionError || ev.type == Type::ExecutionInterrupted)
        ev.node = ev.data.value(QStringLiteral("node_id")).toString();
    if (ev.type == Type::Progress) {
        ev.value = ev.data.value(QStringLiteral("value")).toInt();
        ev.max = ev.data.value(QStringLiteral("max")).toInt();
    }
    if (ev.type == Type::Status)
        ev.queueRemaining = ev.data.value(QStringLiteral("status"))
                                .toObject()
                                .value(QStringLiteral("exec_info"))
                                .toObject()
                                .value(QStringLiteral("queue_remaining"))
                                .toInt(-1);
    return ev;
}

std::optional<ComfyEvent> ComfyEvent::fromMessage(const QByteArray& utf8)
{
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(utf8, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return fromJson(doc.object());
}

} // namespace gd::comfy
