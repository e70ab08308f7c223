#include "quality/PipelineStats.h"

#include "telemetry/Percentiles.h"

#include <cmath>

namespace gd::quality {

namespace {

using gd::telemetry::Percentiles;
using gd::telemetry::RunDigest;
using gd::telemetry::SceneDigest;

std::optional<double> share(int count, int total)
{
    return total > 0 ? std::optional<double>(static_cast<double>(count) / total) : std::nullopt;
}

} // namespace

const QStringList& PipelineStats::contractFields()
{
    return RunDigest::contractFields();
}

PipelineFigures PipelineStats::compute(const QVector<QJsonObject>& scenes, const QStringList& labels)
{
    QVector<SceneDigest> digests;
    digests.reserve(scenes.size());
    for (const QJsonObject& s : scenes)
        digests.append(RunDigest::sceneOf(s));
    return compute(digests, labels);
}

PipelineFigures PipelineStats::compute(const QVector<SceneDigest>& scenes, const QStringList& labels)
{
    PipelineFigures f;
    QVector<double> durations;
    QVector<double> vramDeltas;
    durations.reserve(scenes.size());
    vramDeltas.reserve(scenes.size());
    std::optional<double> peak;
    const int fieldsPerScene = static_cast<int>(contractFields().size());
    for (qsizetype i = 0; i < scenes.size(); ++i) {
        const SceneDigest& scene = scenes.at(i);
        const QString label = i < labels.size() ? labels.at(i) : scene.sceneId;
        ++f.scenes;

        f.telemetryFieldsExpected += fieldsPerScene;
        f.telemetryFieldsPresent += fieldsPerScene - static_cast<int>(scene.missingTelemetryFields.size());
        for (const QString& field : scene.missingTelemetryFields) {
            if (f.missingTelemetryFields.size() >= 50)
                break;
            f.missingTelemetryFields.append(label + QStringLiteral(": ") + field);
        }

        // A scene that never ran (cancelled run) has no marker, no frames and no execution by
        // construction; counting it would turn a cancellation into a reliability failure.
        if (scene.attemptsRun <= 0)
            continue;
        ++f.scenesRun;
        if (scene.doneMarkerDetected)
            ++f.doneMarkers;
        else
            f.noMarkerSceneIds.append(label);
        if (scene.forcedCopyTriggered) {
            ++f.forcedCopies;
            f.forcedCopySceneIds.append(label);
        }
        if (scene.frameCount <= 0) {
            ++f.zeroFrameScenes;
            f.zeroFrameSceneIds.append(label);
        }
        if (scene.executionSuccessDetected)
            ++f.executionSuccesses;
        else
            f.failedExecutionSceneIds.append(label);
        if (scene.durationSeconds)
            durations.append(*scene.durationSeconds);
        if (scene.vramDeltaMB)
            vramDeltas.append(std::fabs(*scene.vramDeltaMB));
        if (scene.vramPeakUsedMB && std::isfinite(*scene.vramPeakUsedMB))
            peak = peak ? std::max(*peak, *scene.vramPeakUsedMB) : *scene.vramPeakUsedMB;
    }
    f.doneMarkerRate = share(f.doneMarkers, f.scenesRun);
    f.forcedCopyRate = share(f.forcedCopies, f.scenesRun);
    f.zeroFrameRate = share(f.zeroFrameScenes, f.scenesRun);
    f.executionSuccessRate = share(f.executionSuccesses, f.scenesRun);
    f.durationP50Seconds = Percentiles::nearestRank(durations, 50);
    f.durationP95Seconds = Percentiles::nearestRank(durations, 95);
    f.vramDeltaAbsMaxMB = Percentiles::nearestRank(vramDeltas, 100);
    f.vramDeltaAbsP95MB = Percentiles::nearestRank(vramDeltas, 95);
    f.vramPeakUsedMaxMB = peak;
    f.telemetryCompleteness = share(f.telemetryFieldsPresent, f.telemetryFieldsExpected);
    return f;
}

} // namespace gd::quality
