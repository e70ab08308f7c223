#include "storyboard/ClipImporter.h"

#include "pipeline/FrameCollector.h"
#include "storyboard/StoryboardKeys.h"

#include <QDir>
#include <QFileInfo>
#include <algorithm>

namespace gd::storyboard {

Error ClipImporter::importScene(const QString& dir, StoryboardState& state, const WorkItem& item,
                                const telemetry::RunRecord& run, const telemetry::SceneRecord& scene,
                                const QString& profile, int* version)
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
    const QString rel = QStringLiteral("%1/v%2").arg(base).arg(next);
    const QString abs = QDir(dir).filePath(rel);
    if (!QDir().mkpath(abs))
        return {QStringLiteral("io"), QStringLiteral("clip %1: cannot create %2").arg(item.key, abs), {}};

    QStringList sources;
    for (const QString& f : kept->frames)
        sources << kept->framesDir + QLatin1Char('/') + f;
    if (!kept->videoFile.isEmpty())
        sources << kept->videoFile;
    for (const QString& s : sources) {
        bool linked = false;
        const QString from = QDir(run.runDir).filePath(s);
        const QString failure =
            pipeline::FrameCollector::linkOrCopy(from, QDir(abs).filePath(QFileInfo(s).fileName()), &linked);
        if (!failure.isEmpty())
            return {QStringLiteral("io"),
                    QStringLiteral("clip %1: cannot store %2: %3").arg(item.key, from, failure),
                    {}};
    }

    ClipVersion v;
    v.inputHash = item.inputHash;
    v.inputs = item.inputs;
    v.dir = rel;
    v.frames = kept->frames.isEmpty() ? kept->frameCount : int(kept->frames.size());
    v.profile = profile;
    // GPU time where the server measured it, else the attempt's wall time (estimates want GPU time).
    v.durationMs =
        qint64((kept->serverExecutionSeconds ? *kept->serverExecutionSeconds : kept->durationSeconds) * 1000);
    if (!kept->frames.isEmpty()) {
        const QString last = rel + QLatin1Char('/') + QFileInfo(kept->frames.last()).fileName();
        const Error e = StoryboardState::sha256OfFile(QDir(dir).filePath(last), v.lastFrameSha256);
        if (!e.isNull())
            return e;
        v.raw.insert(QStringLiteral("lastFrame"), last);
    }
    if (!kept->videoFile.isEmpty())
        v.raw.insert(QStringLiteral("video"),
                     QString(rel + QLatin1Char('/') + QFileInfo(kept->videoFile).fileName()));
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
