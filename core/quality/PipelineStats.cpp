#include "quality/PipelineStats.h"

#include "telemetry/Percentiles.h"

#include <cmath>

namespace gd::quality {

namespace {

using gd::telemetry::Percentiles;

const QStringList& nullableFields()
{
    static const QStringList fields{
        QStringLiteral("ExecutionSuccessAt"), QStringLiteral("DoneMarkerPath"),
        QStringLiteral("ForcedCopyDebugPath"), QStringLiteral("GPU.Name"),
        QStringLiteral("GPU.Type"), QStringLiteral("GPU.Index"), QStringLiteral("GPU.VramTotal"),
        QStringLiteral("GPU.VramFreeBefore"), QStringLiteral("GPU.VramFreeAfter"),
        QStringLiteral("GPU.VramBeforeMB"), QStringLiteral("GPU.VramAfterMB"),
        QStringLiteral("GPU.VramDeltaMB"), QStringLiteral("GPU.VramPeakUsedMB"),
        QStringLiteral("System.Before"), QStringLiteral("System.After")};
    return fields;
}

// One contract field, pre-split: parent 0 = the Telemetry object, 1 = GPU, 2 = System.
struct FieldCheck
{
    QString field;
    QString key;
    int parent = 0;
    bool nullable = false;
};

const QVector<FieldCheck>& fieldChecks()
{
    static const QVector<FieldCheck> checks = [] {
        QVector<FieldCheck> out;
        for (const QString& field : PipelineStats::contractFields()) {
            FieldCheck c;
            c.field = field;
            const qsizetype dot = field.indexOf(QLatin1Char('.'));
            c.key = dot > 0 ? field.mid(dot + 1) : field;
            c.parent = dot <= 0 ? 0 : (field.startsWith(QLatin1String("GPU.")) ? 1 : 2);
            c.nullable = nullableFields().contains(field);
            out.append(c);
        }
        return out;
    }();
    return checks;
}

std::optional<double> share(int count, int total)
{
    return total > 0 ? std::optional<double>(static_cast<double>(count) / total) : std::nullopt;
}

} // namespace

const QStringList& PipelineStats::contractFields()
{
    static const QStringList fields{
        QStringLiteral("DurationSeconds"), QStringLiteral("QueueStart"), QStringLiteral("QueueEnd"),
        QStringLiteral("MaxWaitSeconds"), QStringLiteral("PollIntervalSeconds"),
        QStringLiteral("HistoryAttempts"), QStringLiteral("HistoryAttemptLimit"),
        QStringLiteral("HistoryExitReason"), QStringLiteral("ExecutionSuccessDetected"),
        QStringLiteral("ExecutionSuccessAt"), QStringLiteral("PostExecutionTimeoutSeconds"),
        QStringLiteral("HistoryPostExecutionTimeoutReached"), QStringLiteral("SceneRetryBudget"),
        QStringLiteral("CompletionSignal"), QStringLiteral("DoneMarkerDetected"),
        QStringLiteral("DoneMarkerWaitSeconds"), QStringLiteral("DoneMarkerPath"),
        QStringLiteral("ForcedCopyTriggered"), QStringLiteral("ForcedCopyDebugPath"),
        QStringLiteral("GPU"), QStringLiteral("System"),
        QStringLiteral("GPU.Name"), QStringLiteral("GPU.Type"), QStringLiteral("GPU.Index"),
        QStringLiteral("GPU.VramTotal"), QStringLiteral("GPU.VramFreeBefore"),
        QStringLiteral("GPU.VramFreeAfter"), QStringLiteral("GPU.VramBeforeMB"),
        QStringLiteral("GPU.VramAfterMB"), QStringLiteral("GPU.VramDeltaMB"),
        QStringLiteral("GPU.VramPeakUsedMB"), QStringLiteral("GPU.Source"),
        QStringLiteral("System.Before"), QStringLiteral("System.After"),
        QStringLiteral("System.FallbackNotes")};
    return fields;
}

PipelineFigures PipelineStats::compute(const QVector<QJsonObject>& scenes, const QStringList& labels)
{
    PipelineFigures f;
    QVector<double> durations;
    QVector<double> vramDeltas;
    std::optional<double> peak;
    for (qsizetype i = 0; i < scenes.size(); ++i) {
        const QJsonObject& scene = scenes.at(i);
        const QString label = i < labels.size() ? labels.at(i) : scene.value(QStringLiteral("SceneId")).toString();
        const QJsonObject t = scene.value(QStringLiteral("Telemetry")).toObject();
        ++f.scenes;

        // Field checks without per-field string splitting: 10,000 scenes × 35 fields is a sweep's load.
        const QJsonObject gpuObject = t.value(QStringLiteral("GPU")).toObject();
        const QJsonObject systemObject = t.value(QStringLiteral("System")).toObject();
        const bool gpuIsObject = t.value(QStringLiteral("GPU")).isObject();
        const bool systemIsObject = t.value(QStringLiteral("System")).isObject();
        for (const FieldCheck& fc : fieldChecks()) {
            ++f.telemetryFieldsExpected;
            const QJsonObject* holder = &t;
            bool parentOk = true;
            if (fc.parent == 1) {
                holder = &gpuObject;
                parentOk = gpuIsObject;
            } else if (fc.parent == 2) {
                holder = &systemObject;
                parentOk = systemIsObject;
            }
            bool present = false;
            if (parentOk) {
                const auto it = holder->constFind(fc.key);
                present = it != holder->constEnd() && (!it.value().isNull() || fc.nullable);
            }
            if (present)
                ++f.telemetryFieldsPresent;
            else if (f.missingTelemetryFields.size() < 50)
                f.missingTelemetryFields.append(label + QStringLiteral(": ") + fc.field);
        }

        // A scene that never ran (cancelled run) has no marker, no frames and no execution by
        // construction; counting it would turn a cancellation into a reliability failure.
        if (scene.value(QStringLiteral("AttemptsRun")).toInt() <= 0)
            continue;
        ++f.scenesRun;
        if (t.value(QStringLiteral("DoneMarkerDetected")).toBool())
            ++f.doneMarkers;
        else
            f.noMarkerSceneIds.append(label);
        if (t.value(QStringLiteral("ForcedCopyTriggered")).toBool()) {
            ++f.forcedCopies;
            f.forcedCopySceneIds.append(label);
        }
        if (scene.value(QStringLiteral("FrameCount")).toInt() <= 0) {
            ++f.zeroFrameScenes;
            f.zeroFrameSceneIds.append(label);
        }
        if (t.value(QStringLiteral("ExecutionSuccessDetected")).toBool())
            ++f.executionSuccesses;
        else
            f.failedExecutionSceneIds.append(label);
        if (t.value(QStringLiteral("DurationSeconds")).isDouble())
            durations.append(t.value(QStringLiteral("DurationSeconds")).toDouble());
        const QJsonObject gpu = t.value(QStringLiteral("GPU")).toObject();
        if (gpu.value(QStringLiteral("VramDeltaMB")).isDouble())
            vramDeltas.append(std::fabs(gpu.value(QStringLiteral("VramDeltaMB")).toDouble()));
        if (gpu.value(QStringLiteral("VramPeakUsedMB")).isDouble()) {
            const double p = gpu.value(QStringLiteral("VramPeakUsedMB")).toDouble();
            if (std::isfinite(p))
                peak = peak ? std::max(*peak, p) : p;
        }
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
