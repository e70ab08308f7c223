#pragma once

#include "common/Error.h"
#include "quality/JudgeResults.h"

#include <QHash>
#include <QJsonObject>
#include <QString>

namespace gd::quality {

// What QualityCalculator produced for one run: the run-level QualityMetrics object and one
// QualityMetrics object per SceneId. `error` is set (and the rest empty) when the run directory
// could not be read at all.
struct QualityComputation
{
    Error error;
    QJsonObject qualityMetrics;
    QHash<QString, QJsonObject> sceneMetrics;
};

// Computes the deterministic quality metrics of quality-kpis.md for one run directory (entity
// linkage, scene diversity, prompt lengths, LLM time and planner inputs, blank frames, human
// coherence, pipeline KPIs from telemetry) and merges the model judges' results. Pure file work
// that blocks while frames decode (QtConcurrent): call it off the GUI thread.
class QualityCalculator
{
public:
    // The artifact is read with this size cap: a larger file is refused, never loaded.
    static constexpr qint64 kMaxArtifactBytes = 64 * 1024 * 1024;

    static QualityComputation compute(const QString& runDir, const JudgeResults& judged = {});
    // Same, from an artifact already in memory (frames and story.json are still read from runDir).
    static QualityComputation compute(const QString& runDir, const QJsonObject& artifact,
                                      const JudgeResults& judged);
    // Reads and parses <runDir>/artifact-metadata.json with the size cap; errors name the path.
    static Error readArtifact(const QString& runDir, QJsonObject* artifact);
};

} // namespace gd::quality
