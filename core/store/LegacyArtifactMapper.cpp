#include "store/LegacyArtifactMapper.h"

#include <QJsonArray>
#include <QJsonValue>
#include <QtGlobal>

namespace gd::store {

bool LegacyArtifactMapper::isLegacy(const QJsonObject& artifact)
{
    return !artifact.contains(QLatin1String("AppVersion")) &&
           !artifact.contains(QLatin1String("LLMHealthInfo"));
}

QJsonObject LegacyArtifactMapper::toCurrent(const QJsonObject& legacy)
{
    QJsonObject out = legacy;
    const auto setDefault = [](QJsonObject& o, const QString& key, const QJsonValue& value) {
        if (!o.contains(key))
            o.insert(key, value);
    };

    setDefault(out, QStringLiteral("AppVersion"), QJsonValue::Null);
    setDefault(out, QStringLiteral("LLMHealthInfo"), QJsonValue::Null);
    setDefault(out, QStringLiteral("Workflow"), QJsonValue::Null);
    setDefault(out, QStringLiteral("Feedback"), QJsonArray{});
    setDefault(out, QStringLiteral("QualityMetrics"), QJsonObject{});
    // The old RunDir is a path on the machine that ran it (often Windows); the store records
    // where the directory is now, and keeps the original for the auditor.
    if (legacy.contains(QLatin1String("RunDir")))
        out.insert(QStringLiteral("LegacyRunDir"), legacy.value(QLatin1String("RunDir")));

    QJsonObject story = legacy.value(QLatin1String("Story")).toObject();
    for (const char* key : {"Id", "Title", "Logline", "DirectorsVision", "Genre", "TemplateId",
                            "TemplateVersion", "Generator", "File", "SceneCount", "LLM"})
        setDefault(story, QString::fromLatin1(key), QJsonValue::Null);
    out.insert(QStringLiteral("Story"), story);

    if (!legacy.value(QLatin1String("Summary")).isObject()) {
        const QJsonArray scenes = legacy.value(QLatin1String("Scenes")).toArray();
        int succeeded = 0;
        int frames = 0;
        int requeues = 0;
        int forced = 0;
        int markers = 0;
        for (const QJsonValue& v : scenes) {
            const QJsonObject s = v.toObject();
            const QJsonObject t = s.value(QLatin1String("Telemetry")).toObject();
            succeeded += s.value(QLatin1String("Success")).toBool() ? 1 : 0;
            frames += s.value(QLatin1String("FrameCount")).toInt();
            requeues += qMax(0, s.value(QLatin1String("AttemptsRun")).toInt(1) - 1);
            forced += t.value(QLatin1String("ForcedCopyTriggered")).toBool() ? 1 : 0;
            markers += t.value(QLatin1String("DoneMarkerDetected")).toBool() ? 1 : 0;
        }
        out.insert(QStringLiteral("Summary"),
                   QJsonObject{{QStringLiteral("ScenesSucceeded"), succeeded},
                               {QStringLiteral("ScenesTotal"), static_cast<int>(scenes.size())},
                               {QStringLiteral("TotalFrames"), frames},
                               {QStringLiteral("Requeues"), requeues},
                               {QStringLiteral("ForcedCopies"), forced},
                               {QStringLiteral("DoneMarkersDetected"), markers},
                               {QStringLiteral("DurationP50Seconds"), QJsonValue::Null},
                               {QStringLiteral("DurationP95Seconds"), QJsonValue::Null}});
    }
    return out;
}

} // namespace gd::store
