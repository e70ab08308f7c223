#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <optional>

namespace gd::comfy {

// One vocabulary for everything the ComfyUI WebSocket says (spec/comfyui-api.md §5.3), parsed
// defensively: unknown types become Other, missing fields stay empty.
struct ComfyEvent
{
    enum class Type
    {
        Status,
        ExecutionStart,
        ExecutionCached,
        Executing,
        Progress,
        ProgressState,
        Executed,
        ExecutionSuccess,
        ExecutionError,
        ExecutionInterrupted,
        FeatureFlags,
        Other
    };

    Type type = Type::Other;
    QString typeName;
    QString promptId;        // empty when the message carries none (e.g. reconnect `executing{node}`)
    QString node;            // executing/progress/executed node id
    bool nodeIsNull = false; // executing{node:null} = the prompt is done (any outcome)
    int value = 0;           // progress value
    int max = 0;             // progress max
    int queueRemaining = -1; // status
    QJsonObject data;        // the raw `data` object
    QDateTime receivedAt;

    static ComfyEvent fromJson(const QJsonObject& message);
    // One WebSocket text frame as the server sent it (UTF-8); nullopt when it is not a JSON object.
    static std::optional<ComfyEvent> fromMessage(const QByteArray& utf8);
    // Done-signal for a given prompt: executing with node null and that prompt id.
    bool isCompletionOf(const QString& id) const
    {
        return type == Type::Executing && nodeIsNull && promptId == id;
    }
};

} // namespace gd::comfy

Q_DECLARE_METATYPE(gd::comfy::ComfyEvent)
