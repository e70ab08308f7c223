#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QVector>

namespace gd::telemetry {

// Aggregates of telemetry-contract.md §6 over many runs, computed from their artifact JSON (as
// stored in run directories or the history database). Pure; the numbers a report prints and
// the charts draw come from here.
class SweepCalculator
{
public:
    // Each element is one run's artifact-metadata.json object.
    static QJsonObject compute(const QVector<QJsonObject>& artifacts);
    // SWEEP_SUMMARY.md: the aggregates (and the KPI table when given: objects with Name, Value,
    // Threshold, Status, FailingScenes as KpiEvaluator::toJson writes them) for people.
    static QString markdown(const QJsonObject& sweep, const QJsonArray& kpis = {});
    // Reads the runs' artifact-metadata.json files in parallel (a worker per core); unreadable or
    // invalid ones are skipped and named in `problems`. Order follows `runDirs`.
    static QVector<QJsonObject> readArtifacts(const QStringList& runDirs, QStringList* problems);
    // Frames-per-scene histogram bucket edges: 0, 1-9, 10-24, 25-49, 50-99, 100+.
    static QJsonArray framesHistogram(const QVector<int>& frames);
};

} // namespace gd::telemetry
