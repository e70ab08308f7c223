#pragma once

#include "telemetry/RunDigest.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::quality {

// One row of the KPI report (quality-kpis.md §Report).
struct KpiResult
{
    QString id;                   // stable key, e.g. "entity-linkage", "planner-first-try[model]"
    QString name;                 // for people
    std::optional<double> value;  // shares are 0..1; seconds, MB, bits, scores as written
    QString threshold;            // as the spec states it
    QString status;               // PASS | WARN | FAIL | UNMEASURED
    QString reason;               // why WARN/FAIL/UNMEASURED (empty on a plain PASS)
    QStringList failingScenes;    // SceneId, or "<RunId>/<SceneId>" (or "<RunId>") over several runs
};

// Evaluates every KPI of quality-kpis.md against its threshold, over one run or several: pipeline
// KPIs over all scenes of all runs, story and output KPIs as the mean over runs, planner reliability
// per model. WARN = within 5 % of the threshold on the passing side (a share of 100 % is never WARN).
class KpiEvaluator
{
public:
    // Each element is one run's artifact-metadata.json object (digested, then as below).
    static QVector<KpiResult> evaluate(const QVector<QJsonObject>& artifacts);
    // The same verdicts from the runs' digests, as the history database stores them.
    static QVector<KpiResult> evaluateDigests(const QVector<telemetry::RunDigest>& runs);
    // Aligned human table: KPI, value, threshold, status, failing scenes / reason.
    static QString table(const QVector<KpiResult>& results);
    static QJsonArray toJson(const QVector<KpiResult>& results);
    static bool anyFail(const QVector<KpiResult>& results);

    // The threshold rules, exposed for the report and the tests. `atLeast`: PASS when
    // value ≥ threshold·1.05 (or at the attainable maximum `cap`), WARN in [threshold, that), FAIL below.
    static QString statusAtLeast(double value, double threshold, std::optional<double> cap = std::nullopt);
    // PASS when value ≤ threshold·0.95, WARN in (threshold·0.95, threshold], FAIL above.
    static QString statusAtMost(double value, double threshold);
    // Strict "< threshold": PASS when value < threshold·0.95 ... WARN in [threshold·0.95, threshold), FAIL at or above.
    static QString statusBelow(double value, double threshold);
    // The worse of two statuses (FAIL > UNMEASURED > WARN > PASS).
    static QString worse(const QString& a, const QString& b);
};

} // namespace gd::quality
