#pragma once

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace gd::pipeline {

// What a run directory left behind by a crash or a killed app finished and what it did not.
struct UnfinishedRun
{
    QString runDir;
    QString runId;
    QString storyTitle;
    QDateTime lastWrite;           // newest of run-summary.txt / artifact-metadata.json
    QStringList finishedScenes;    // scenes with a final status (succeeded / failed / cancelled), in story order
    QStringList unfinishedScenes;  // scenes of the story with no final record, in story order
    QString summary() const;       // "3 of 5 scenes finished (s1, s2, s3); not finished: s4, s5"
};

// Finds runs that never reached their end: run-summary.txt exists but lacks the "## Artifact Index"
// block RunController writes last. Reads only the run directory (the source of truth); the GUI
// offers these for resume on start.
class UnfinishedRunFinder
{
public:
    // Unfinished runs directly below `runsRoot`, newest first, at most `maxRuns`.
    static QVector<UnfinishedRun> find(const QString& runsRoot, int maxRuns = 5);
    // nullopt when `runDir` is finished or is not a run directory.
    static std::optional<UnfinishedRun> inspect(const QString& runDir);
};

} // namespace gd::pipeline
