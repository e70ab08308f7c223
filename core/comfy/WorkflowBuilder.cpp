#include "comfy/WorkflowBuilder.h"

#include <QJsonArray>
#include <QRandomGenerator>

namespace gd::comfy {

namespace {

const QLatin1String kInputs("inputs");

std::optional<QJsonValue> text(const QString& value)
{
    return value.isEmpty() ? std::nullopt : std::optional<QJsonValue>(value);
}

QString startOf(const WorkflowBuilder::SceneParams& p)
{
    return p.startImage.isEmpty() ? p.keyframeImage : p.startImage;
}

std::optional<QJsonValue> valueFor(const MappedInput& m, const WorkflowBuilder::SceneParams& p)
{
    switch (m.role) {
    case Role::Prompt:
        return QJsonValue(p.prompt);
    case Role::FilenamePrefix:
        return text(p.filenamePrefix);
    case Role::NegativePrompt:
        return text(p.negativePrompt);
    case Role::Seed:
        return p.seed < 0 ? std::nullopt : std::optional<QJsonValue>(QJsonValue(p.seed));
    case Role::FrameCount:
        return p.frameCount <= 0 ? std::nullopt : std::optional<QJsonValue>(p.frameCount);
    case Role::Fps:
        return p.fps <= 0 ? std::nullopt : std::optional<QJsonValue>(p.fps);
    case Role::Width:
        return p.width <= 0 ? std::nullopt : std::optional<QJsonValue>(p.width);
    case Role::Height:
        return p.height <= 0 ? std::nullopt : std::optional<QJsonValue>(p.height);
    case Role::JobId:
        return text(p.jobId);
    case Role::KeyframeImage:
        return text(p.keyframeImage.isEmpty() ? p.startImage : p.keyframeImage);
    case Role::CharacterReferenceImage:
        if (p.characterReferenceImages.isEmpty() || m.index < 0)
            return std::nullopt;
        return text(p.characterReferenceImages.value(m.index, p.characterReferenceImages.last()));
    case Role::IpadapterWeight:
        // A JSON number with a fraction part when it has one; IPAdapter's weight is a FLOAT input.
        return p.ipadapterWeight < 0 ? std::nullopt
                                     : std::optional<QJsonValue>(QJsonValue(p.ipadapterWeight));
    case Role::StartImage:
        return text(startOf(p));
    case Role::EndImage:
        return text(p.endImage.isEmpty() ? startOf(p) : p.endImage);
    case Role::StyleReferenceImage:
        return text(p.styleReferenceImage);
    }
    return std::nullopt;
}

// What the storyboard roles leave unfilled or drop, named so the operator sees it in the run record.
void warnAboutImages(const WorkflowProfile& profile, const WorkflowBuilder::SceneParams& p, QStringList& warn)
{
    const int slots = profile.characterReferenceSlots();
    const int given = int(p.characterReferenceImages.size());
    if (given > slots && slots == 0)
        warn.append(QStringLiteral("profile '%1' takes no character reference (it maps no "
                                   "character_reference_image[N]); the %2 given are not used")
                        .arg(profile.name)
                        .arg(given));
    else if (given > slots)
        warn.append(
            QStringLiteral("profile '%1' takes %2 character reference%3 (character_reference_image[0..%4]); "
                           "%5 given, the last %6 not used")
                .arg(profile.name)
                .arg(slots)
                .arg(slots == 1 ? QString() : QStringLiteral("s"))
                .arg(slots - 1)
                .arg(given)
                .arg(given - slots));
    if (slots > 0 && given == 0)
        warn.append(QStringLiteral(
                        "profile '%1' maps %2 character reference slot%3 but no reference image was given: "
                        "the graph's own images are sent")
                        .arg(profile.name)
                        .arg(slots)
                        .arg(slots == 1 ? QString() : QStringLiteral("s")));
    if (profile.hasRole(Role::StyleReferenceImage) && p.styleReferenceImage.isEmpty())
        warn.append(
            QStringLiteral("profile '%1' maps style_reference_image but no style reference was given: the "
                           "graph's own image is sent")
                .arg(profile.name));
    if (profile.hasRole(Role::EndImage) && p.endImage.isEmpty() && !startOf(p).isEmpty())
        warn.append(
            QStringLiteral("profile '%1' maps end_image but the shot has no end image: the start image is "
                           "used, so the clip returns to its first frame")
                .arg(profile.name));
}

} // namespace

QJsonObject WorkflowBuilder::build(const WorkflowProfile& profile, const SceneParams& params,
                                   QStringList* warnings)
{
    QStringList local;
    QStringList& warn = warnings ? *warnings : local;
    QJsonObject graph = profile.graph;

    // widgets_values is UI state that some exports leave in API graphs; ComfyUI ignores it, so it only
    // bloats the request and the history.
    for (auto it = graph.begin(); it != graph.end(); ++it) {
        if (!it.value().isObject())
            continue;
        QJsonObject node = it.value().toObject();
        if (node.contains(QLatin1String("widgets_values"))) {
            node.remove(QLatin1String("widgets_values"));
            it.value() = node;
        }
    }

    if (params.prompt.trimmed().isEmpty())
        warn.append(QStringLiteral("the prompt is empty"));
    if (params.filenamePrefix.isEmpty())
        warn.append(QStringLiteral("the filename prefix is empty: the graph's own prefix is kept, so outputs "
                                   "cannot be told apart between scenes"));

    warnAboutImages(profile, params, warn);

    for (const MappedInput& m : profile.mapping) {
        const auto value = valueFor(m, params);
        if (!value)
            continue;
        if (!graph.value(m.nodeId).isObject()) {
            warn.append(QStringLiteral("mapping %1 (%2): node %3 not in graph; not set")
                            .arg(m.key(), m.roleText(), m.nodeId));
            continue;
        }
        QJsonObject node = graph.value(m.nodeId).toObject();
        QJsonObject inputs = node.value(kInputs).toObject();
        if (!inputs.contains(m.inputName)) {
            warn.append(QStringLiteral("mapping %1 (%2): node %3 has no input '%4'; not set")
                            .arg(m.key(), m.roleText(), m.nodeId, m.inputName));
            continue;
        }
        const QJsonValue current = inputs.value(m.inputName);
        if (WorkflowProfile::isLink(current))
            warn.append(QStringLiteral("mapping %1 (%2): the input was linked to node %3; the link is "
                                       "replaced by the literal value")
                            .arg(m.key(), m.roleText(), current.toArray().at(0).toString()));
        inputs.insert(m.inputName, *value);
        node.insert(kInputs, inputs);
        graph.insert(m.nodeId, node);
    }
    return graph;
}

qint64 WorkflowBuilder::randomSeed()
{
    constexpr quint64 kMask = (quint64(1) << 53) - 1;
    return qint64(QRandomGenerator::global()->generate64() & kMask);
}

QJsonObject WorkflowBuilder::replaceMarkerNode(const QJsonObject& graph, QString* markerNodeId)
{
    QJsonObject result = graph;
    QString first;
    for (auto it = graph.constBegin(); it != graph.constEnd(); ++it) {
        const QJsonObject node = it.value().toObject();
        if (node.value(QLatin1String("class_type")).toString() != WorkflowProfile::markerClass())
            continue;
        if (first.isEmpty())
            first = it.key();
        const QJsonObject inputs = node.value(kInputs).toObject();
        QJsonObject saveInputs;
        saveInputs.insert(QLatin1String("images"), inputs.value(QLatin1String("images")));
        saveInputs.insert(QLatin1String("filename_prefix"), inputs.value(QLatin1String("filename_prefix")));
        QJsonObject save;
        save.insert(QLatin1String("class_type"), QStringLiteral("SaveImage"));
        save.insert(kInputs, saveInputs);
        save.insert(QLatin1String("_meta"),
                    QJsonObject{{QLatin1String("title"),
                                 QStringLiteral("Save Image (GemDirectSaveFrames not installed)")}});
        result.insert(it.key(), save);
    }
    if (markerNodeId)
        *markerNodeId = first;
    return result;
}

} // namespace gd::comfy
