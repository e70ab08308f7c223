#include "storyboard/ClipImporter.h"

#include "storyboard/StoryboardKeys.h"

#include <QDir>
#include <QFileInfo>
#include <algorithm>

namespace gd::storyboard {

Error ClipImporter::planScene(const QString& dir, const StoryboardState& state, const WorkItem& item,
                              const telemetry::RunRecord& run, const telemetry::SceneRecord& scene, ScenePlan& out)
{
    const telemetry::AttemptRecord* kept = scene.kept();
    if (scene.status != QLatin1String("succeeded") || !kept ||
        (kept->frames.isEmpty() && kept->videoFile.isEmpty()))
        return {QStringLiteral("notRendered"),
                QStringLiteral("clip %1 was not rendered: %2")
                    .arg(item.key,
                         scene.errors.isEmpty() ? scene.status : scene.errors.join(QStringLiteral("; "))),
                {}};

    // The next version's folder: one past the highest number recorded, and past any folder a crashed
    // import left behind (never written into a second time).
    int next = 1;
    if (const ShotEntry* e = state.findShot(item.key))
        for (const ClipVersion& v : e->clip.versions)
            next = std::max(next, v.version + 1);
    const QString base = StoryboardKeys::clipDir(item.key);
    while (QFileInfo::exists(QDir(dir).filePath(QStringLiteral("%1/v%2").arg(base).arg(next))))
        ++next;
    out = ScenePlan{};
    out.rel = QStringLiteral("%1/v%2").arg(base).arg(next);
    const QString abs = QDir(dir).filePath(out.rel);
    for (const QString& f : kept->frames) {
        const QString s = kept->framesDir + QLatin1Char('/') + f;
        out.jobs << ImportJob{QDir(run.runDir).filePath(s), QDir(abs).filePath(QFileInfo(s).fileName()), false};
    }
    if (!out.jobs.isEmpty()) {
        out.lastFrameJob = int(out.jobs.size()) - 1;
        out.jobs[out.lastFrameJob].hash = true; // what a shot continuing from this one starts on
    }
    if (!kept->videoFile.isEmpty()) {
        out.videoJob = int(out.jobs.size());
        out.jobs << ImportJob{QDir(run.runDir).filePath(kept->videoFile),
                              QDir(abs).filePath(QFileInfo(kept->videoFile).fileName()), false};
    }
    return {};
}

Error ClipImporter::applyScene(StoryboardState& state, const WorkItem& item, const telemetry::RunRecord& run,
                               const telemetry::SceneRecord& scene, const ScenePlan& plan,
                               const QVector<ImportResult>& results, const QString& profile, int* version)
{
    for (int i = 0; i < plan.jobs.size(); ++i) {
        const QString failure = i < results.size() ? results.at(i).error : QStringLiteral("not stored");
        if (!failure.isEmpty())
            return {QStringLiteral("io"),
                    QStringLiteral("clip %1: cannot store %2: %3").arg(item.key, plan.jobs.at(i).source, failure),
                    {}};
    }
    const telemetry::AttemptRecord* kept = scene.kept();
    ClipVersion v;
    v.inputHash = item.inputHash;
    v.inputs = item.inputs;
    v.dir = plan.rel;
    v.frames = kept->frames.isEmpty() ? kept->frameCount : int(kept->frames.size());
    v.profile = profile;
    // GPU time where the server measured it, else the attempt's wall time (estimates want GPU time).
    v.durationMs =
        qint64((kept->serverExecutionSeconds ? *kept->serverExecutionSeconds : kept->durationSeconds) * 1000);
    if (plan.lastFrameJob >= 0) {
        v.lastFrameSha256 = results.at(plan.lastFrameJob).sha256;
        v.raw.insert(QStringLiteral("lastFrame"),
                     QString(plan.rel + QLatin1Char('/') + QFileInfo(plan.jobs.at(plan.lastFrameJob).target).fileName()));
    }
    if (plan.videoJob >= 0)
        v.raw.insert(QStringLiteral("video"),
                     QString(plan.rel + QLatin1Char('/') + QFileInfo(plan.jobs.at(plan.videoJob).target).fileName()));
    v.raw.insert(QStringLiteral("run"), QFileInfo(run.runDir).fileName());
    v.raw.insert(QStringLiteral("scene"), scene.sceneId);
    const int number = state.addClipVersion(item.key, v);
    if (number <= 0)
        return {
            QStringLiteral("invalidArgument"), QStringLiteral("clip %1: not a shot key").arg(item.key), {}};
    if (version)
        *version = number;
    return {};
}

Error ClipImporter::importScene(const QString& dir, StoryboardState& state, const WorkItem& item,
                                const telemetry::RunRecord& run, const telemetry::SceneRecord& scene,
                                const QString& profile, int* version)
{
    ScenePlan plan;
    if (Error e = planScene(dir, state, item, run, scene, plan); !e.isNull())
        return e;
    return applyScene(state, item, run, scene, plan, StoryboardImporter::run(plan.jobs), profile, version);
}

int ClipImporter::importRun(const QString& dir, StoryboardState& state, const QVector<WorkItem>& items,
                            const telemetry::RunRecord& run, const QString& profile, QStringList* problems)
{
    int imported = 0;
    for (int i = 0; i < items.size(); ++i) {
        if (i >= run.scenes.size()) {
            problems->append(QStringLiteral("clip %1: the run has no scene for it").arg(items.at(i).key));
            continue;
        }
        const Error e = importScene(dir, state, items.at(i), run, run.scenes.at(i), profile);
        if (e.isNull())
            ++imported;
        else
            problems->append(e.message);
    }
    return imported;
}

} // namespace gd::storyboard
