#pragma once

#include "comfy/WorkflowRole.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::comfy {

// What a profile's graph delivers: a batch of frame images, or one encoded video file.
enum class OutputKind
{
    Frames,
    Video,
};

QString outputKindName(OutputKind kind);
std::optional<OutputKind> outputKindFromName(const QString& name);

// One "<nodeId>:<inputName>" → role entry of a profile's mapping.
struct MappedInput
{
    QString nodeId;
    QString inputName;
    Role role = Role::Prompt;

    QString key() const { return nodeId + QLatin1Char(':') + inputName; }
    friend bool operator==(const MappedInput&, const MappedInput&) = default;
};

// A workflow profile as a value: an API-format graph (kept unchanged) plus the mapping that says which
// inputs receive which scene parameter, with read-only queries over the graph.
struct WorkflowProfile
{
    QString name;
    QString description;
    int minVramMB = 0;
    OutputKind outputKind = OutputKind::Frames;
    QJsonObject graph;
    QVector<MappedInput> mapping;
    // The graph file it was loaded from (":/workflows/x.json" for built-ins); empty when built in memory.
    QString sourcePath;
    // The .profile.json it was loaded from, so that mapping errors name the right file.
    QString profilePath;

    // Sorted, unique class_type values of the graph's nodes.
    QStringList classTypes() const;
    // Ids (sorted) of nodes whose class is a known output class (see isOutputClass()).
    QStringList outputNodeIds() const;
    // The GemDirectSaveFrames node id, or empty when the graph has none.
    QString markerNodeId() const;
    bool hasRole(Role role) const;
    // Mapped inputs carrying the role, in mapping order.
    QVector<MappedInput> inputsFor(Role role) const;
    // Sum of literal `steps` over sampler-like nodes (KSampler, KSamplerAdvanced, WanVideoSampler,
    // BasicScheduler, ...): the denominator of the progress bar. 0 when none is literal.
    int totalSamplerSteps() const;
    // The .profile.json content: {name, description, minVramMB, outputKind, mapping}.
    QJsonObject profileJson() const;

    static bool isOutputClass(const QString& classType);
    static QStringList outputClasses();
    // A link in an API-format graph is a 2-element array ["<src node id>", <output index>]; every other
    // value (including {"__value__": [...]}) is a literal.
    static bool isLink(const QJsonValue& value);
    static QString markerClass() { return QStringLiteral("GemDirectSaveFrames"); }
};

} // namespace gd::comfy
