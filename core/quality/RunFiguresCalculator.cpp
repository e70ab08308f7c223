#include "quality/RunFiguresCalculator.h"

#include "telemetry/ArtifactWriter.h"
#include "telemetry/Percentiles.h"

#include <QJsonArray>

namespace gd::quality {

RunFigures RunFiguresCalculator::fromArtifact(const QJsonObject& artifact)
{
    RunFigures f;
    f.runId = artifact.value(QStringLiteral("RunId")).toString();
    f.runDir = artifact.value(QStringLiteral("RunDir")).toString();
    f.title = artifact.value(QStringLiteral("Story")).toObject().value(QStringLiteral("Title")).toString();
    const QJsonArray scenes = artifact.value(QStringLiteral("Scenes")).toArray();
    f.scenesTotal = static_cast<int>(scenes.size());
    QVector<double> durations;
    for (const QJsonValue& v : scenes) {
        const QJsonObject s = v.toObject();
        // A scene that has not run yet carries zero placeholders in a live artifact; charting them
        // would draw 0 s and 0 frames that never happened.
        if (s.value(QStringLiteral("AttemptsRun")).toInt() <= 0)
            continue;
        SceneFigure sf;
        sf.sceneId = s.value(QStringLiteral("SceneId")).toString();
        sf.title = s.value(QStringLiteral("Title")).toString();
        sf.status = s.value(QStringLiteral("Status")).toString();
        const QJsonValue d = s.value(QStringLiteral("Telemetry")).toObject().value(QStringLiteral("DurationSeconds"));
        if (d.isDouble()) {
            sf.durationSeconds = d.toDouble();
            durations.append(d.toDouble());
        }
        if (s.value(QStringLiteral("FrameCount")).isDouble())
            sf.frameCount = s.value(QStringLiteral("FrameCount")).toInt();
        sf.frameFloor = s.value(QStringLiteral("FrameFloor")).toInt(25);
        f.scenes.append(sf);
    }
    f.durationP50Seconds = telemetry::Percentiles::nearestRank(durations, 50);
    f.durationP95Seconds = telemetry::Percentiles::nearestRank(durations, 95);
    f.kpis = KpiEvaluator::evaluate(QVector<QJsonObject>{artifact});
    return f;
}

RunFigures RunFiguresCalculator::fromRecord(const telemetry::RunRecord& run)
{
    // Serialised exactly as the artifact is written, so a live run and the same run reopened from
    // the history list show the same figures.
    const QJsonObject artifact = telemetry::ArtifactWriter::toJson(run);
    RunFigures f = fromArtifact(artifact);
    // Mid-run, the scenes still waiting carry zero placeholders: the KPIs judge the scenes that have
    // an outcome (or are under way), not "0 frames" for work that has not started.
    QJsonArray started;
    const QJsonArray scenes = artifact.value(QStringLiteral("Scenes")).toArray();
    for (const QJsonValue& v : scenes) {
        const QJsonObject s = v.toObject();
        const QString status = s.value(QStringLiteral("Status")).toString();
        const bool final = status == QLatin1String("succeeded") || status == QLatin1String("failed") ||
                           status == QLatin1String("cancelled");
        if (final || s.value(QStringLiteral("AttemptsRun")).toInt() > 0)
            started.append(s);
    }
    if (started.size() != scenes.size()) {
        QJsonObject partial = artifact;
        partial.insert(QStringLiteral("Scenes"), started);
        f.kpis = KpiEvaluator::evaluate(QVector<QJsonObject>{partial});
    }
    return f;
}

RunFigures RunFiguresCalculator::unavailable(const QString& runDir, const QString& problem)
{
    RunFigures f;
    f.runDir = runDir;
    f.problem = problem;
    f.kpis = KpiEvaluator::evaluate(QVector<QJsonObject>{});
    for (KpiResult& k : f.kpis) {
        k.status = QStringLiteral("UNMEASURED");
        k.value.reset();
        k.reason = problem;
    }
    return f;
}

} // namespace gd::quality
