#pragma once

#include "quality/KpiEvaluator.h"
#include "telemetry/RunModel.h"

#include <QJsonObject>
#include <QString>
#include <QVector>
#include <optional>

namespace gd::quality {

// One scene as the dashboard charts it: the kept attempt's duration and frames against its floor.
struct SceneFigure
{
    QString sceneId;
    QString title;
    QString status;
    std::optional<double> durationSeconds; // Telemetry.DurationSeconds of the kept attempt
    std::optional<int> frameCount;
    int frameFloor = 25;
};

// What the dashboard shows for one run: per-scene figures, the duration percentiles and every KPI.
struct RunFigures
{
    QString runId;
    QString runDir;
    QString title; // story title
    int scenesTotal = 0;
    QVector<SceneFigure> scenes; // scenes that ran (AttemptsRun > 0), in story order
    std::optional<double> durationP50Seconds; // nearest rank over the charted durations
    std::optional<double> durationP95Seconds;
    QVector<KpiResult> kpis; // KpiEvaluator over this run alone
    QString problem;         // why the run could not be read (then scenes are empty, KPIs unmeasured)
};

// Turns one run (its artifact JSON, or a live RunRecord serialised the same way) into the
// dashboard's figures. Pure and thread-agnostic: callers run it off the GUI thread.
class RunFiguresCalculator
{
public:
    // The scene-duration KPI's P95 bound (quality-kpis.md), drawn as the chart's target line.
    static constexpr double DurationTargetSeconds = 120.0;

    static RunFigures fromArtifact(const QJsonObject& artifact);
    static RunFigures fromRecord(const telemetry::RunRecord& run);
    // Every KPI UNMEASURED with `problem` as the reason (the run could not be read).
    static RunFigures unavailable(const QString& runDir, const QString& problem);
};

} // namespace gd::quality
