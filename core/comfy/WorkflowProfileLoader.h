#pragma once

#include "comfy/WorkflowProfile.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <optional>

namespace gd::comfy {

// Finds, reads and checks workflow profiles (<name>.json + <name>.profile.json), and infers a
// mapping for a plain graph exported from ComfyUI. Offline checks only: whether the server knows
// every class is checked by the client against /object_info.
class WorkflowProfileLoader
{
public:
    // Reads both files; on any problem returns nullopt and appends one message per problem, each naming
    // its file. Qt resource paths (":/workflows/...") work too.
    static std::optional<WorkflowProfile> load(const QString& graphPath, const QString& profilePath,
                                               QStringList* errors);
    // load() on content already in memory; the paths only name the files in messages and in the result.
    static std::optional<WorkflowProfile> fromJson(const QByteArray& graphJson, const QByteArray& profileJson,
                                                   const QString& graphPath, const QString& profilePath,
                                                   QStringList* errors);
    // "<dir>/x.json" or "<dir>/x.profile.json" → that pair; a bare name → the first searchDirs entry that
    // holds both files, then the built-ins ":/workflows/<name>.json" + ".profile.json".
    static std::optional<WorkflowProfile> resolve(const QString& nameOrPath, const QStringList& searchDirs,
                                                  QStringList* errors);
    // Names of the profiles compiled into gd_resources, sorted.
    static QStringList builtinNames();
    // One precise message per problem of a profile already in memory (empty list: valid).
    static QStringList validate(const WorkflowProfile& profile);
    // Fills name/description/minVramMB/outputKind/mapping from .profile.json content; returns the
    // problems (mapping key not "<node>:<input>", unknown role, outputKind not frames|video, ...).
    static QStringList applyProfileJson(const QJsonObject& json, const QString& fileLabel,
                                        WorkflowProfile* profile);
    // Infers a mapping for a plain exported graph by following the sampler's links; notes say what was
    // mapped from where and why something could not be. The result may still fail validate().
    static WorkflowProfile fromGraph(const QString& name, const QJsonObject& graph, QStringList* notes);
};

} // namespace gd::comfy
