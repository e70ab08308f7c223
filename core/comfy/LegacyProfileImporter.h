#pragma once

#include "comfy/WorkflowProfile.h"
#include "common/Error.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

namespace gd::comfy {

// Converts the earlier app's legacy-profiles.json (graphs as JSON strings, mappings to legacy data
// types) into gemDirect workflow profiles, reporting everything that does not carry over.
class LegacyProfileImporter
{
public:
    struct Result
    {
        QVector<WorkflowProfile> profiles; // only profiles that pass WorkflowProfileLoader::validate()
        QStringList problems;              // each names the legacy profile id
    };

    static Result import(const QJsonObject& legacyFile);
    // Writes <dir>/<name>.json (the graph) and <dir>/<name>.profile.json, each atomically. The name must be
    // a plain file name ([A-Za-z0-9._-], not starting with '.'); nothing is written outside dir.
    static gd::Error writeProfile(const WorkflowProfile& profile, const QString& dir);
};

} // namespace gd::comfy
