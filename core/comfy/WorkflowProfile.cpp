#include "comfy/WorkflowProfile.h"

#include <QJsonArray>
#include <algorithm>
#include <limits>

namespace gd::comfy {

QString outputKindName(OutputKind kind)
{
    return kind == OutputKind::Video ? QStringLiteral("video") : QStringLiteral("frames");
}

std::optional<OutputKind> outputKindFromName(const QString& name)
{
    if (name == QLatin1String("frames"))
        return OutputKind::Frames;
    if (name == QLatin1String("video"))
        return OutputKind::Video;
    return std::nullopt;
}

QString purposeName(Purpose purpose)
{
    switch (purpose) {
    case Purpose::ReferenceSheet:
        return QStringLiteral("reference_sheet");
    case Purpose::Keyframe:
        return QStringLiteral("keyframe");
    case Purpose::Video:
        break;
    }
    return QStringLiteral("video");
}

std::optional<Purpose> purposeFromName(const QString& name)
{
    for (const Purpose p : {Purpose::Video, Purpose::ReferenceSheet, Purpose::Keyframe}) {
        if (name == purposeName(p))
            return p;
    }
    return std::nullopt;
}

QStringList WorkflowProfile::outputClasses()
{
    return {QStringLiteral("SaveImage"),        QStringLiteral("PreviewImage"),
            QStringLiteral("SaveVideo"),        QStringLiteral("SaveWEBM"),
            QStringLiteral("SaveAnimatedWEBP"), QStringLiteral("SaveAnimatedPNG"),
            QStringLiteral("VHS_VideoCombine"), markerClass()};
}

bool WorkflowProfile::isOutputClass(const QString& classType)
{
    return outputClasses().contains(classType);
}

bool WorkflowProfile::isLink(const QJsonValue& value)
{
    if (!value.isArray())
        return false;
    const QJsonArray array = value.toArray();
    return array.size() == 2 && array.at(0).isString() && array.at(1).isDouble();
}

QStringList WorkflowProfile::classTypes() const
{
    QStringList types;
    for (auto it = graph.constBegin(); it != graph.constEnd(); ++it) {
        const QString type = it.value().toObject().value(QLatin1String("class_type")).toString();
        if (!type.isEmpty())
            types.append(type);
    }
    types.sort();
    types.removeDuplicates();
    return types;
}

QStringList WorkflowProfile::outputNodeIds() const
{
    QStringList ids;
    for (auto it = graph.constBegin(); it != graph.constEnd(); ++it) {
        if (isOutputClass(it.value().toObject().value(QLatin1String("class_type")).toString()))
            ids.append(it.key());
    }
    return ids; // QJsonObject iterates keys in sorted order
}

QString WorkflowProfile::markerNodeId() const
{
    for (auto it = graph.constBegin(); it != graph.constEnd(); ++it) {
        if (it.value().toObject().value(QLatin1String("class_type")).toString() == markerClass())
            return it.key();
    }
    return {};
}

bool WorkflowProfile::hasRole(Role role) const
{
    return std::any_of(mapping.cbegin(), mapping.cend(),
                       [role](const MappedInput& m) { return m.role == role; });
}

QVector<MappedInput> WorkflowProfile::inputsFor(Role role) const
{
    QVector<MappedInput> result;
    for (const MappedInput& m : mapping) {
        if (m.role == role)
            result.append(m);
    }
    return result;
}

QVector<MappedInput> WorkflowProfile::inputsFor(Role role, int index) const
{
    QVector<MappedInput> result;
    for (const MappedInput& m : mapping) {
        if (m.role == role && m.index == index)
            result.append(m);
    }
    return result;
}

int WorkflowProfile::characterReferenceSlots() const
{
    int slots = 0;
    for (const MappedInput& m : mapping) {
        // Out-of-range slots (only an in-memory profile can hold one; validate() names it) are not counted.
        if (m.role == Role::CharacterReferenceImage && m.index >= 0 && m.index < kMaxCharacterReferences)
            slots = std::max(slots, m.index + 1);
    }
    return slots;
}

QStringList WorkflowProfile::requiredRolesFor(Purpose stage, const ShotNeeds& needs) const
{
    const QString stageName = purposeName(stage);
    QStringList problems;
    if (purpose != stage)
        problems.append(
            QStringLiteral("%1 stage: profile '%2' is a %3 profile (\"purpose\": \"%3\"), not a %1 profile")
                .arg(stageName, name, purposeName(purpose)));
    auto require = [&](Role role, int index, const QString& why) {
        const bool missing =
            role == Role::CharacterReferenceImage ? inputsFor(role, index).isEmpty() : !hasRole(role);
        if (missing)
            problems.append(QStringLiteral("%1 profile '%2' maps no %3: %4")
                                .arg(stageName, name, roleName(role, index), why));
    };
    switch (stage) {
    case Purpose::ReferenceSheet:
        require(Role::Prompt, 0, QStringLiteral("the sheet cannot be described"));
        require(Role::FilenamePrefix, 0, QStringLiteral("its candidates cannot be told apart"));
        require(Role::Seed, 0, QStringLiteral("every candidate would be the same image"));
        break;
    case Purpose::Keyframe:
        require(Role::Prompt, 0, QStringLiteral("the shot cannot be described"));
        require(Role::FilenamePrefix, 0, QStringLiteral("its candidates cannot be told apart"));
        require(Role::Seed, 0, QStringLiteral("every candidate would be the same image"));
        if (needs.visibleCharacters > 0)
            require(Role::CharacterReferenceImage, 0, QStringLiteral("it cannot anchor characters"));
        break;
    case Purpose::Video:
        require(Role::Prompt, 0, QStringLiteral("the clip cannot be described"));
        require(Role::FilenamePrefix, 0, QStringLiteral("its frames cannot be found"));
        if (needs.lastFrame) {
            for (const Role role : {Role::StartImage, Role::EndImage})
                require(role, 0,
                        QStringLiteral("the shot has a lastFrame, which needs a bookend profile mapping "
                                       "start_image and end_image"));
        } else if (!hasRole(Role::KeyframeImage) && !hasRole(Role::StartImage)) {
            problems.append(
                QStringLiteral("video profile '%1' maps no keyframe_image or start_image: it cannot "
                               "start from the approved keyframe")
                    .arg(name));
        }
        break;
    }
    return problems;
}

int WorkflowProfile::totalSamplerSteps() const
{
    // Summed wide and saturated: an untrusted graph may give several samplers INT_MAX steps.
    qint64 total = 0;
    for (auto it = graph.constBegin(); it != graph.constEnd(); ++it) {
        const QJsonObject node = it.value().toObject();
        const QString type = node.value(QLatin1String("class_type")).toString();
        // SamplerCustomAdvanced takes its steps from a scheduler node (BasicScheduler etc.), so schedulers
        // count too; KSampler's own `scheduler` input is a combo, not a node, and is not confused with them.
        if (!type.contains(QLatin1String("Sampler"), Qt::CaseInsensitive) &&
            !type.contains(QLatin1String("Scheduler"), Qt::CaseInsensitive))
            continue;
        const QJsonValue steps = node.value(QLatin1String("inputs")).toObject().value(QLatin1String("steps"));
        if (steps.isDouble() && steps.toDouble() > 0)
            total += steps.toInt();
    }
    return static_cast<int>(std::min<qint64>(total, std::numeric_limits<int>::max()));
}

QStringList WorkflowProfile::modelFiles() const
{
    static const QStringList fileInputs{
        QStringLiteral("ckpt_name"),        QStringLiteral("unet_name"),       QStringLiteral("clip_name"),
        QStringLiteral("clip_name1"),       QStringLiteral("clip_name2"),      QStringLiteral("clip_name3"),
        QStringLiteral("vae_name"),         QStringLiteral("lora_name"),       QStringLiteral("ipadapter_file"),
        QStringLiteral("control_net_name"), QStringLiteral("style_model_name"), QStringLiteral("pulid_file"),
        QStringLiteral("instantid_file")};
    QStringList files;
    for (auto it = graph.constBegin(); it != graph.constEnd(); ++it) {
        const QJsonObject node = it.value().toObject();
        const QString type = node.value(QLatin1String("class_type")).toString();
        const QJsonObject inputs = node.value(QLatin1String("inputs")).toObject();
        // Generic names ("model_name", "model") only count on loader nodes: elsewhere they are links or options.
        const bool loader = type.contains(QLatin1String("Load"), Qt::CaseInsensitive);
        for (auto in = inputs.constBegin(); in != inputs.constEnd(); ++in) {
            if (!in.value().isString() || in.value().toString().trimmed().isEmpty())
                continue;
            const QString& key = in.key();
            if (fileInputs.contains(key) ||
                (loader && (key == QLatin1String("model_name") || key == QLatin1String("model"))))
                files << in.value().toString().trimmed();
            else if (key == QLatin1String("preset") && type.startsWith(QLatin1String("IPAdapterUnifiedLoader")))
                files << QStringLiteral("ipadapter preset: ") + in.value().toString().trimmed();
        }
    }
    files.sort();
    files.removeDuplicates();
    return files;
}

QString WorkflowProfile::modelText() const
{
    return modelFiles().join(QStringLiteral(", "));
}

QJsonObject WorkflowProfile::profileJson() const
{
    QJsonObject map;
    for (const MappedInput& m : mapping)
        map.insert(m.key(), m.roleText());
    QJsonObject json;
    json.insert(QLatin1String("name"), name);
    json.insert(QLatin1String("description"), description);
    json.insert(QLatin1String("minVramMB"), minVramMB);
    json.insert(QLatin1String("outputKind"), outputKindName(outputKind));
    if (purpose != Purpose::Video)
        json.insert(QLatin1String("purpose"), purposeName(purpose));
    json.insert(QLatin1String("mapping"), map);
    return json;
}

} // namespace gd::comfy
