#pragma once

#include "common/Error.h"
#include "quality/StoryboardMetrics.h"

#include <QJsonObject>
#include <QString>
#include <QVector>
#include <optional>

namespace gd::quality {

// The judge verdicts the storyboard metrics are computed from, as a file: the keyframe stage records
// them in <storyboard>/storyboard-metrics.json ("judgements"), and a storyboard video run keeps those
// of the shots it rendered in <runDir>/storyboard-judgements.json, which the end-of-run quality step
// turns into QualityMetrics with StoryboardMetrics — so the run's metrics never need the judge again.
struct StoryboardJudgements
{
    QVector<ShotJudgement> shots;
    QVector<SamenessJudgement> pairs;

    // <runDir>/storyboard-judgements.json; absent = no storyboard in this run.
    static QString fileName() { return QStringLiteral("storyboard-judgements.json"); }
    // A larger file is refused, never loaded.
    static constexpr qint64 kMaxFileBytes = 16 * 1024 * 1024;

    QJsonObject toJson() const;
    // Every field checked (the file may have been edited by hand); nullopt with *error naming the problem.
    static std::optional<StoryboardJudgements> fromJson(const QJsonObject& json, QString* error);

    // Written atomically into `dir` under fileName().
    Error write(const QString& dir) const;
    // nullopt and a null error when `dir` has no such file; an error naming the path when it cannot be used.
    static std::optional<StoryboardJudgements> read(const QString& dir, Error* error);
};

} // namespace gd::quality
