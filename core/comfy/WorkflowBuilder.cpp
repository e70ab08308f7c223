#include "comfy/WorkflowBuilder.h"

#include <QJsonArray>
#include <QRandomGenerator>

namespace gd::comfy {

namespace {

const QLatin1String kInputs("inputs");

std::optional<QJsonValue> valueFor(Role role, const WorkflowBuilder::SceneParams& p)
{
    switch (role) {
    case Role::Prompt:
        return QJsonValue(p.prompt);
    case Role::FilenamePrefix:
        return p.filenamePrefix.isEmpty() ? std::nullopt : std::optional<QJsonValue>(p.filenamePrefix);
    case Role::NegativePrompt:
        return p.negativePrompt.isEmpty() ? std::nullopt : std::optional<QJsonValue>(p.negativePrompt);
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
    case Role::KeyframeImage:
        return p.keyframeImage.isEmpty() ? std::nullopt : std::optional<QJsonValue>(p.keyframeImage);
    case Role::JobId:
        return p.jobId.isEmpty() ? std::nullopt : std::optional<QJsonValue>(p.jobId);
    }
    return std::nullopt;
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

    for (const MappedInput& m : profile.mapping) {
        const auto value = valueFor(m.role, params);
        if (!value)
            continue;
        if (!graph.value(m.nodeId).isObject()) {
            warn.append(QStringLiteral("mapping %1 (%2): node %3 not in graph; not set")
                            .arg(m.key(), roleName(m.role), m.nodeId));
            continue;
        }
        QJsonObject node = graph.value(m.nodeId).toObject();
        QJsonObject inputs = node.value(kInputs).toObject();
        if (!inputs.contains(m.inputName)) {
            warn.append(QStringLiteral("mapping %1 (%2): node %3 has no input '%4'; not set")
                            .arg(m.key(), roleName(m.role), m.nodeId, m.inputName));
            continue;
        }
        const QJsonValue current = inputs.value(m.inputName);
        if (WorkflowProfile::isLink(current))
            warn.append(QStringLiteral("mapping %1 (%2): the input was linked to node %3; the link is "
                                       "replaced by the literal value")
                            .arg(m.key(), roleName(m.role), current.toArray().at(0).toString()));
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
