#pragma once

#include "common/Error.h"
#include "gpu/GpuSnapshot.h"
#include "store/Database.h"
#include "store/StoreTypes.h"
#include "telemetry/RunDigest.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVariantList>
#include <QVector>
#include <functional>

namespace gd::store {

// Records runs into the database (as they finish, or backfilled from run directories of ours and
// of the earlier pipeline) and answers the dashboard and sweep queries. The run directory stays
// the source of truth: rebuildFrom() recreates every run from the directories alone.
// Threading: uses its Database's connection, so it lives on that connection's thread.
class RunStore
{
public:
    using Progress = std::function<void(int done, int total, const QString& path)>;

    explicit RunStore(Database& db);

    // The absolute, cleaned form under which a run directory is recorded (symlinks resolved when
    // the directory exists), so the same directory is always the same key.
    static QString normalizeRunDir(const QString& runDir);
    // Reads and parses <runDir>/artifact-metadata.json. Errors name the file and the problem:
    // "missingArtifact", "unreadableArtifact", "corruptArtifact" (not JSON, truncated, not an
    // object) or "invalidArtifact" (no RunId).
    static Error readArtifact(const QString& runDir, QJsonObject& artifact);

    // Records one run (ours or the earlier pipeline's shape) in one transaction. Idempotent: a run
    // with the same RunId and run directory is replaced, with every scene, attempt, metric and
    // rating taken from this artifact.
    Error recordRun(const QJsonObject& artifact, const QString& runDir);
    // The same, for a caller that already holds a write transaction; returns the run's row id.
    Error recordRunInTransaction(const QJsonObject& artifact, const QString& runDir,
                                 qint64* runKey = nullptr);

    // Imports one run directory; a run already recorded (same RunId and directory) is skipped,
    // an unreadable or corrupt artifact is reported in failed[] and nothing of it is written.
    ImportReport importRunDir(const QString& path);
    // Imports each directory in turn; one bad directory never stops the others.
    ImportReport importDirs(const QStringList& paths, const Progress& progress = {});
    // Empties the database and imports every run directory directly below runsRoot (those with
    // an artifact-metadata.json, or that look like a run: a run-summary.txt).
    ImportReport rebuildFrom(const QString& runsRoot, const Progress& progress = {});
    // The run directories directly below runsRoot, sorted by name.
    static QStringList runDirsBelow(const QString& runsRoot);

    // GPU monitor samples; runDir empty = not tied to a run (idle dashboard history).
    Error recordGpuSamples(const QString& runId, const QString& runDir,
                           const QVector<gpu::GpuSnapshot>& samples);
    // KPI verdicts of a run; replaces earlier verdicts of the same KPI.
    Error recordKpiResults(const QString& runId, const QString& runDir, const QVector<KpiResult>& results);

    // Runs that started at or after `since`, newest first (the dashboard's "last 24 h").
    Error runsSince(const QDateTime& since, QVector<RunRow>& out) const;
    // The n most recent runs, newest first.
    Error lastRuns(int n, QVector<RunRow>& out) const;
    // Runs matching the dashboard's filter, newest first (runs without a start time last). A date
    // bound excludes runs without a start time.
    Error runsMatching(const RunFilter& filter, QVector<RunRow>& out) const;
    // The distinct non-empty genres and models of all recorded runs, sorted (filter choices).
    Error filterChoices(QStringList& genres, QStringList& models) const;
    // The run recorded for this directory; found = false when there is none.
    Error findRun(const QString& runDir, RunRow& out, bool& found) const;
    // Scenes of every recorded run with this RunId, in scene order.
    Error scenesOfRun(const QString& runId, QVector<SceneRow>& out) const;
    // Every kept attempt's Telemetry of the runs that started at or after `since` (sweep input).
    Error keptTelemetrySince(const QDateTime& since, QVector<SweepRow>& out) const;
    // The sweep digests (telemetry::RunDigest) of the runs that runsSince() selects, in its order:
    // what `gemdirect sweep` computes its aggregates and KPIs from. A run recorded without a
    // current digest (a database from before schema v2) gets it rebuilt from its run directory
    // and stored; a run whose directory can no longer be read is left out and named in problems.
    Error digestsSince(const QDateTime& since, QVector<telemetry::RunDigest>& out, QStringList* problems);
    // The same for the runs of lastRuns(n) (`gemdirect kpi --last N`).
    Error lastDigests(int n, QVector<telemetry::RunDigest>& out, QStringList* problems);
    Error kpiResultsOfRun(const QString& runDir, QVector<KpiResult>& out) const;
    // Durations (seconds) of the succeeded scenes rendered with this workflow profile, newest run
    // first, at most `limit`: the history GPU-time estimates are made from. A scene without its
    // own Workflow counts under its run's.
    Error sceneDurationsOfWorkflow(const QString& workflow, int limit, QVector<double>& out) const;
    Error runCount(int& count) const;

private:
    Error digestsOf(const QString& whereOrderLimit, const QVariantList& binds, QVector<telemetry::RunDigest>& out,
                    QStringList* problems);
    Error runKeyOf(const QString& runId, const QString& runDir, qint64& key, bool& found) const;

    Database& m_db;
};

} // namespace gd::store
