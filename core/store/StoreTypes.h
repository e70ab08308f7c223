#pragma once

// Plain value rows that the store hands out and takes in. No Qt SQL types leak out of core/store:
// callers (dashboard, sweep report, feedback panel) see these values only, cheap to copy between
// threads.

#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::store {

// One run directory that could not be imported, and why (shown verbatim to the operator).
struct ImportFailure
{
    QString path;
    QString reason;
};

// Outcome of importing run directories: nothing is silently dropped.
struct ImportReport
{
    int imported = 0;
    int skippedDuplicates = 0;
    QVector<ImportFailure> failed;

    void merge(const ImportReport& other)
    {
        imported += other.imported;
        skippedDuplicates += other.skippedDuplicates;
        failed += other.failed;
    }
};

// One row of the runs table: what the dashboard lists.
struct RunRow
{
    qint64 key = 0; // database row id
    QString runId;
    QString runDir;
    QString format;      // gemdirect | legacy
    QDateTime startedAt; // UTC; invalid when the artifact had no Timestamp
    QString appVersion;
    QString storyId;
    QString storyTitle;
    QString genre;
    QString templateId;
    QString templateVersion;
    QString model;
    QString workflow;
    std::optional<int> scenesTotal;
    std::optional<int> scenesSucceeded;
    std::optional<int> totalFrames;
    std::optional<int> requeues;
    std::optional<int> forcedCopies;
    std::optional<int> doneMarkersDetected;
    std::optional<double> durationP50Seconds;
    std::optional<double> durationP95Seconds;
};

// Which runs the dashboard's history list shows. Empty/invalid members do not filter.
struct RunFilter
{
    enum class Outcome
    {
        Any,
        HasFailures, // a scene that did not succeed (scenes_succeeded < scenes_total, or a failed scene)
        NoFailures,
    };

    QDateTime from; // runs started at or after (UTC)
    QDateTime to;   // runs started before
    QString genre;
    QString model;
    Outcome outcome = Outcome::Any;
    int limit = 1000; // newest first; bounds what a list shows
};

// One scene of a run with the key numbers of its kept attempt.
struct SceneRow
{
    QString runId;
    QString runDir;
    QString sceneId;
    QString title;
    QString status;
    QString workflow;
    QString backend;
    std::optional<bool> success;
    std::optional<bool> meetsFrameFloor;
    std::optional<int> frameFloor;
    std::optional<int> frameCount;
    std::optional<double> durationSeconds;
    std::optional<int> attemptsRun;
    std::optional<bool> requeued;
    QStringList warnings;
    QStringList errors;
};

// What a sweep report needs per scene: the kept attempt's §3.3 Telemetry object as the artifact
// wrote it, plus the scene numbers the aggregates use.
struct SweepRow
{
    QString runId;
    QString runDir;
    QDateTime runStartedAt;
    QString sceneId;
    std::optional<int> frameCount;
    std::optional<int> frameFloor;
    std::optional<bool> success;
    std::optional<bool> requeued;
    std::optional<int> attemptsRun;
    QJsonObject telemetry;
};

// One KPI verdict of a run (quality-kpis.md §Report).
struct KpiResult
{
    QString kpi;
    std::optional<double> value;
    QString threshold; // as written in the report, e.g. ">= 0.85"
    QString status;    // PASS | WARN | FAIL | UNMEASURED
    QJsonObject detail;
};

// One operator rating as stored in the database and in the artifact's Feedback[].
struct Rating
{
    QString runId;
    QString runDir;
    QString sceneId;
    int stars = 0;
    std::optional<int> coherence;
    QString comment;
    QString operatorName;
    QDateTime ratedAt; // UTC
};

// Which run attributes ratings are grouped by; combine with |.
enum class FeedbackGroup : int
{
    Genre = 1,
    TemplateVersion = 2,
    Model = 4,
    Workflow = 8,
};

inline FeedbackGroup operator|(FeedbackGroup a, FeedbackGroup b)
{
    return static_cast<FeedbackGroup>(static_cast<int>(a) | static_cast<int>(b));
}

inline bool hasGroup(FeedbackGroup set, FeedbackGroup g)
{
    return (static_cast<int>(set) & static_cast<int>(g)) != 0;
}

// Mean ratings of one group. Attributes not grouped by stay empty; a grouped attribute the run did
// not record (e.g. no model because the story came from a file) is empty too and shown as
// "unknown".
struct FeedbackAggregate
{
    FeedbackGroup groupBy = FeedbackGroup::Genre; // which attributes this row is grouped by
    QString key; // the grouped attributes joined by '|', stable for maps and sorting
    QString genre;
    QString templateVersion;
    QString model;
    QString workflow;
    double meanStars = 0;
    std::optional<double> meanCoherence; // empty when no rating of the group had a coherence score
    int count = 0;                       // ratings in the group
    int coherenceCount = 0;              // ratings that carried a coherence score
};

} // namespace gd::store
