#pragma once

#include "quality/QualityCalculator.h"

#include <QStringList>

namespace cli {

// Computes QualityMetrics for a finished run — model judges through the LLM at `llmUrl` when one is
// given (else they are UNMEASURED with that reason) — writes them into artifact-metadata.json and
// re-records the run in the history database (when `historyDb` is set).
gd::quality::QualityComputation computeQuality(const QString& runDir, const QString& llmUrl, const QString& historyDb,
                                               bool quiet);

} // namespace cli

int qualityCommand(const QStringList& arguments);
int kpiCommand(const QStringList& arguments);
