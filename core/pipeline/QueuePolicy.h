#pragma once

#include "telemetry/RunModel.h"

#include <QHash>
#include <QJsonObject>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace gd::pipeline {

// The queue-policy knobs of telemetry-contract.md §2.1 with their presets and validation.
// Precedence (command line > environment > saved settings > default) is applied by the caller
// layering: start from a preset or saved settings, applyEnvironment(), then set CLI values.
struct QueuePolicy
{
    double maxWaitSeconds = 600;
    int historyMaxAttempts = 0; // 0 = unbounded
    double pollIntervalSeconds = 2;
    double postExecutionTimeoutSeconds = 30;
    int sceneRetryBudget = 1;
    int frameFloor = 0; // 0 = per scene: expectedFrames when > 0, else 25
    double doneMarkerTimeoutSeconds = 60;
    double stabilityWindowSeconds = 2;
    int stabilityRetries = 3;
    // Not contract knobs: how long a running prompt may stay silent on the WebSocket before
    // /history polling starts, and the pause before a requeued attempt.
    double socketSilenceSeconds = 30;
    double requeuePauseSeconds = 1;
    QString presetName = QStringLiteral("Standard");

    static QueuePolicy standard();
    static QueuePolicy fastIteration();

    // Reads SCENE_* variables; a malformed number is an error naming the variable.
    void applyEnvironment(const QProcessEnvironment& env, QStringList* errors);
    // One message per invalid knob, naming it (contract §2.1 rules).
    QStringList validate() const;
    int frameFloorFor(int expectedFrames) const;
    telemetry::QueueConfig queueConfig() const;
    // Every knob, for the run journal (a resumed run keeps the policy it started with).
    QJsonObject toJson() const;
    static QueuePolicy fromJson(const QJsonObject& json);
};

} // namespace gd::pipeline
