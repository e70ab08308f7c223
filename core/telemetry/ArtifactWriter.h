#pragma once

#include "common/Error.h"
#include "telemetry/RunModel.h"

#include <QJsonObject>
#include <QString>

namespace gd::telemetry {

// Serialises a run into artifact-metadata.json (contract §3) and writes it atomically, so an
// auditor or the validator never reads a half-written artifact.
class ArtifactWriter
{
public:
    static QString fileName() { return QStringLiteral("artifact-metadata.json"); }

    // The whole artifact. Every §3.2 scene key and every §3.3 Telemetry field is present; scene
    // values come from the kept attempt (zero/empty values with the run's knobs when a scene has
    // not run yet). Additions beyond the contract: top-level Warnings, Workflow, Backends; per scene
    // Status, Workflow, Seed, VideoFile and the keys of SceneRecord::extra; per attempt summary
    // Status, PromptId, Backend, FramePrefix, FramesDir, HistoryAttempts, Seed; per Telemetry
    // DoneMarkerSource (node | sentinel | null).
    static QJsonObject toJson(const RunRecord& run);
    static QJsonObject sceneToJson(const RunRecord& run, const SceneRecord& scene);
    static QJsonObject telemetryToJson(const QString& runDir, const AttemptTelemetry& telemetry);

    // Writes <runDir>/artifact-metadata.json (indented). On failure (disk full, unwritable
    // directory) the returned Error names the path and the previous file is left intact.
    static Error write(const RunRecord& run);
};

} // namespace gd::telemetry
