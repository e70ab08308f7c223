#include "comfy/LegacyProfileImporter.h"

#include "comfy/WorkflowProfileLoader.h"
#include "common/AtomicFile.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QRegularExpression>

namespace gd::comfy {

namespace {

// Legacy data types with a gemDirect role. The others (end_image, ref_image, control_video, input_video,
// character_reference_image, feta_weight, ipadapter_weight, ...) have no per-scene source in a story.
std::optional<Role> roleForLegacyType(const QString& type)
{
    if (type == QLatin1String("human_readable_prompt"))
        return Role::Prompt;
    if (type == QLatin1String("negative_prompt"))
        return Role::NegativePrompt;
    if (type == QLatin1String("keyframe_image") || type == QLatin1String("start_image"))
        return Role::KeyframeImage;
    return std::nullopt;
}

QString sanitizedName(const QString& id)
{
    QString name;
    for (const QChar c : id) {
        const bool plain = (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
                           (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) ||
                           (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-') ||
                           c == QLatin1Char('_') || c == QLatin1Char('.');
        name.append(plain ? c : QLatin1Char('-'));
    }
    while (name.startsWith(QLatin1Char('.')))
        name.remove(0, 1);
    return name;
}

} // namespace

LegacyProfileImporter::Result LegacyProfileImporter::import(const QJsonObject& legacyFile)
{
    Result result;
    const QJsonValue profilesValue = legacyFile.value(QLatin1String("workflowProfiles"));
    if (!profilesValue.isObject()) {
        result.problems.append(QStringLiteral("legacy profiles file: no \"workflowProfiles\" object"));
        return result;
    }
    const QJsonObject legacyProfiles = profilesValue.toObject();
    for (auto it = legacyProfiles.constBegin(); it != legacyProfiles.constEnd(); ++it) {
        const QJsonObject legacy = it.value().toObject();
        const QString id = legacy.value(QLatin1String("id")).toString(it.key());
        const QString label = QStringLiteral("legacy profile %1").arg(id);
        if (!it.value().isObject()) {
            result.problems.append(QStringLiteral("%1: not an object; skipped").arg(label));
            continue;
        }
        const QString name = sanitizedName(id);
        if (name.isEmpty()) {
            result.problems.append(
                QStringLiteral("%1: the id gives no usable file name; skipped").arg(label));
            continue;
        }
        const QJsonValue workflowJson = legacy.value(QLatin1String("workflowJson"));
        if (!workflowJson.isString()) {
            result.problems.append(
                QStringLiteral("%1: workflowJson is not a string holding the graph; skipped").arg(label));
            continue;
        }
        QJsonParseError parseError;
        const QJsonDocument graphDoc = QJsonDocument::fromJson(workflowJson.toString().toUtf8(), &parseError);
        if (parseError.error != QJsonParseError::NoError || !graphDoc.isObject()) {
            result.problems.append(QStringLiteral("%1: workflowJson is not a JSON object (%2); skipped")
                                       .arg(label, parseError.error != QJsonParseError::NoError
                                                       ? parseError.errorString()
                                                       : QStringLiteral("not an object")));
            continue;
        }

        QStringList notes;
        const WorkflowProfile inferred = WorkflowProfileLoader::fromGraph(name, graphDoc.object(), &notes);
        WorkflowProfile profile;
        profile.name = name;
        profile.graph = graphDoc.object();
        profile.outputKind = inferred.outputKind;
        const QString labelText = legacy.value(QLatin1String("label")).toString();
        const QString legacyNotes =
            legacy.value(QLatin1String("metadata")).toObject().value(QLatin1String("notes")).toString();
        profile.description = (labelText.isEmpty() ? id : labelText) +
                              (legacyNotes.isEmpty() ? QString() : QStringLiteral(". ") + legacyNotes) +
                              QStringLiteral(" (imported from the earlier app's profile %1)").arg(id);

        const QJsonObject mapping = legacy.value(QLatin1String("mapping")).toObject();
        for (auto m = mapping.constBegin(); m != mapping.constEnd(); ++m) {
            const QString key = m.key();
            const QString type = m.value().toString();
            const qsizetype colon = key.lastIndexOf(QLatin1Char(':'));
            if (colon <= 0 || colon == key.size() - 1) {
                result.problems.append(
                    QStringLiteral("%1: mapping key \"%2\" is not \"<nodeId>:<input>\"; left out")
                        .arg(label, key));
                continue;
            }
            const auto role = roleForLegacyType(type);
            if (!role) {
                result.problems.append(
                    QStringLiteral(
                        "%1: mapping %2 has legacy type \"%3\", which has no gemDirect role; left out")
                        .arg(label, key, type));
                continue;
            }
            if (*role == Role::KeyframeImage && profile.hasRole(Role::KeyframeImage)) {
                result.problems.append(
                    QStringLiteral("%1: mapping %2 (%3) is a second keyframe input; left out")
                        .arg(label, key, type));
                continue;
            }
            profile.mapping.append({key.left(colon), key.mid(colon + 1), *role});
        }

        // The legacy mapping never named outputs or seeds: take them from the graph.
        for (const Role role : {Role::FilenamePrefix, Role::Seed, Role::FrameCount, Role::JobId}) {
            for (const MappedInput& m : inferred.inputsFor(role)) {
                bool taken = false;
                for (const MappedInput& existing : profile.mapping)
                    taken = taken || existing.key() == m.key();
                if (!taken)
                    profile.mapping.append(m);
            }
        }
        if (!profile.hasRole(Role::FilenamePrefix)) {
            QString reason;
            for (const QString& n : notes) {
                if (n.startsWith(QLatin1String("filename_prefix:")))
                    reason = n.mid(16).trimmed();
            }
            result.problems.append(
                QStringLiteral("%1: rejected: no filename_prefix: %2")
                    .arg(label, reason.isEmpty() ? QStringLiteral("no save node found") : reason));
            continue;
        }

        const QStringList errors = WorkflowProfileLoader::validate(profile);
        if (!errors.isEmpty()) {
            for (const QString& e : errors)
                result.problems.append(QStringLiteral("%1: rejected: %2").arg(label, e));
            continue;
        }
        result.profiles.append(profile);
    }
    return result;
}

gd::Error LegacyProfileImporter::writeProfile(const WorkflowProfile& profile, const QString& dir)
{
    static const QRegularExpression plainName(QStringLiteral("^[A-Za-z0-9_-][A-Za-z0-9._-]*$"));
    if (!plainName.match(profile.name).hasMatch() || profile.name.contains(QLatin1String(".."))) {
        return {QStringLiteral("invalid_name"),
                QStringLiteral(
                    "profile name \"%1\" is not a plain file name ([A-Za-z0-9._-], not starting with '.')")
                    .arg(profile.name),
                {}};
    }
    const QDir target(dir);
    const QString graphPath = target.filePath(profile.name + QStringLiteral(".json"));
    const QString profilePath = target.filePath(profile.name + QStringLiteral(".profile.json"));
    if (gd::Error e =
            AtomicFile::write(graphPath, QJsonDocument(profile.graph).toJson(QJsonDocument::Indented));
        !e.isNull())
        return e;
    return AtomicFile::write(profilePath,
                             QJsonDocument(profile.profileJson()).toJson(QJsonDocument::Indented));
}

} // namespace gd::comfy
