#include "pipeline/UnfinishedRunFinder.h"

#include "store/RunStore.h"
#include "story/StoryLoader.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QSet>

#include <algorithm>

namespace gd::pipeline {

namespace {

// The block RunController appends after the last scene (telemetry-contract.md §4); a run without
// it stopped before its end.
bool summaryIsComplete(const QString& summaryPath)
{
    QFile f(summaryPath);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    // The index sits at the end; reading the tail keeps this cheap for long runs.
    const qint64 tail = 4096;
    if (f.size() > tail)
        f.seek(f.size() - tail);
    return f.readAll().contains("## Artifact Index");
}

bool isFinalStatus(const QString& status)
{
    return status == QLatin1String("succeeded") || status == QLatin1String("failed") ||
           status == QLatin1String("cancelled");
}

} // namespace

QString UnfinishedRun::summary() const
{
    const int total = static_cast<int>(finishedScenes.size() + unfinishedScenes.size());
    QString text = QStringLiteral("%1 of %2 scenes finished").arg(finishedScenes.size()).arg(total);
    if (!finishedScenes.isEmpty())
        text += QStringLiteral(" (") + finishedScenes.join(QStringLiteral(", ")) + QLatin1Char(')');
    if (!unfinishedScenes.isEmpty())
        text += QStringLiteral("; not finished: ") + unfinishedScenes.join(QStringLiteral(", "));
    return text;
}

std::optional<UnfinishedRun> UnfinishedRunFinder::inspect(const QString& runDir)
{
    const QDir dir(runDir);
    const QString summaryPath = dir.filePath(QStringLiteral("run-summary.txt"));
    if (!QFileInfo::exists(summaryPath) || summaryIsComplete(summaryPath))
        return std::nullopt;

    UnfinishedRun run;
    run.runDir = QFileInfo(runDir).absoluteFilePath();
    run.runId = QFileInfo(runDir).fileName();
    run.lastWrite = QFileInfo(summaryPath).lastModified();

    // Scene records written so far (artifact-metadata.json is rewritten after every scene).
    QSet<QString> finished;
    QStringList recordOrder;
    QJsonObject artifact;
    if (store::RunStore::readArtifact(runDir, artifact).isNull()) {
        const QFileInfo artifactInfo(dir.filePath(QStringLiteral("artifact-metadata.json")));
        run.lastWrite = std::max(run.lastWrite, artifactInfo.lastModified());
        if (!artifact.value(QStringLiteral("RunId")).toString().isEmpty())
            run.runId = artifact.value(QStringLiteral("RunId")).toString();
        const QJsonArray scenes = artifact.value(QStringLiteral("Scenes")).toArray();
        for (const QJsonValue& v : scenes) {
            const QJsonObject scene = v.toObject();
            const QString id = scene.value(QStringLiteral("SceneId")).toString();
            recordOrder << id;
            if (isFinalStatus(scene.value(QStringLiteral("Status")).toString()))
                finished.insert(id);
        }
    }

    // The story copy in the run directory names every scene the run was meant to render.
    QStringList storyOrder;
    QStringList problems;
    if (const auto story = story::StoryLoader::load(dir.filePath(QStringLiteral("story/story.json")), &problems)) {
        run.storyTitle = story->title;
        for (const auto& scene : story->scenes)
            storyOrder << scene.id;
    }
    if (storyOrder.isEmpty())
        storyOrder = recordOrder;
    for (const QString& id : std::as_const(storyOrder))
        (finished.contains(id) ? run.finishedScenes : run.unfinishedScenes) << id;
    return run;
}

QVector<UnfinishedRun> UnfinishedRunFinder::find(const QString& runsRoot, int maxRuns)
{
    QVector<UnfinishedRun> runs;
    for (const QString& dir : store::RunStore::runDirsBelow(runsRoot)) {
        if (auto run = inspect(dir))
            runs.append(*run);
    }
    std::sort(runs.begin(), runs.end(),
              [](const UnfinishedRun& a, const UnfinishedRun& b) { return a.lastWrite > b.lastWrite; });
    if (maxRuns >= 0 && runs.size() > maxRuns)
        runs.resize(maxRuns);
    return runs;
}

} // namespace gd::pipeline
