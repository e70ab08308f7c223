#pragma once

#include "common/Error.h"
#include "quality/QualityCalculator.h"

#include <QString>

namespace gd::quality {

// Puts a QualityComputation into a run's artifact-metadata.json: top-level QualityMetrics and each
// scene's QualityMetrics, every other field left exactly as it was; written atomically.
class QualityWriter
{
public:
    // Reads the artifact, replaces QualityMetrics (run level, and per scene for every SceneId in
    // the computation), writes it back with gd::AtomicFile. A computation that carries an error is
    // refused (the artifact stays untouched). The returned Error names the path on failure.
    static Error write(const QString& runDir, const QualityComputation& computation);
};

} // namespace gd::quality
