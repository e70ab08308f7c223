#pragma once

#include "telemetry/RunModel.h"

#include <QJsonObject>
#include <QString>

namespace gd::telemetry {

// Reads run records back from the JSON that ArtifactWriter writes, and (de)serialises whole
// attempt records (everything the artifact keeps of an attempt, plus its frame list) for the run
// journal, so a run can be rebuilt from its directory after a crash.
class RecordCodec
{
public:
    // One attempt with everything a resumed run needs to log and write it again: the
    // AttemptSummaries fields, the full Telemetry object, HistoryErrors, Frames, VideoFile.
    // The /history entry itself is not included (history.json is its durable copy).
    static QJsonObject attemptToJson(const QString& runDir, const AttemptRecord& attempt);
    static AttemptRecord attemptFromJson(const QJsonObject& json);
    // The inverse of ArtifactWriter::telemetryToJson. Keys it does not know land in `extra`.
    static AttemptTelemetry telemetryFromJson(const QJsonObject& json);
    // The run-level part of an artifact (RunId, Timestamp, QueueConfig, LLMHealthInfo, Story,
    // Warnings, Workflow, Backends, Feedback, QualityMetrics, other top-level additions in `extra`);
    // Scenes and Summary are left out.
    static RunRecord runHeaderFromJson(const QJsonObject& json);
};

} // namespace gd::telemetry
