#pragma once

#include "telemetry/RunDigest.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QVector>

namespace gd::telemetry {

// Aggregates of telemetry-contract.md §6 over many runs, computed from their artifact JSON (as
// stored in run directories or the history database). Pure; the numbers a report prints and
// the charts draw come from here.
class SweepCalculator
{
public:
    // Each element is one run's artifact-metadata.json object (digested, then as below).
    static QJsonObject compute(const QVector<QJsonObject>& artifacts);
    // The same figures from the runs' digests, as the history database stores them.
    static QJsonObject computeDigests(const QVector<RunDigest>& runs);
    // Per ISO week ("2026-W48") of the runs' Timestamp, over the scenes that ran: done-marker
    // detection rate, execution success rate and the share of scenes meeting their frame floor,
    // keyed by those names (the KPI trend chart).
    static QMap<QString, QMap<QString, double>> weeklyTrend(const QVector<RunDigest>& runs);
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
