#include "storyboard/RenderStoryBuilder.h"

#include "storyboard/ChainPlanner.h"
#include "storyboard/ShotList.h"

#include <QDir>

namespace gd::storyboard {

namespace {

// The file of a clip version's last frame: the importer records it (raw "lastFrame"); a version
// written without it falls back on the newest-named image in its folder.
QString lastFrameFile(const ClipVersion& v, const QString& storyboardDir)
{
    const QString recorded = v.raw.value(QStringLiteral("lastFrame")).toString();
    if (!recorded.isEmpty())
        return recorded;
    if (storyboardDir.isEmpty())
        return {};
    const QStringList images =
        QDir(QDir(storyboardDir).filePath(v.dir))
            .entryList({QStringLiteral("*.png"), QStringLiteral("*.jpg"), QStringLiteral("*.webp")},
                       QDir::Files, QDir::Name);
    return images.isEmpty() ? QString() : v.dir + QLatin1Char('/') + images.last();
}

} // namespace

QString RenderStoryBuilder::startImageOf(const story::Story& story, const StoryboardState& state,
                                         const QString& shotKey, int chainCap, QString* error)
{
    const ShotList shots(story);
    const QVector<ChainLink> chain = ChainPlanner::plan(shots, chainCap);
    const int i = shots.indexOf(shotKey);
    if (i < 0 || i >= chain.size()) {
        *error = QStringLiteral("the story has no shot %1").arg(shotKey);
        return {};
    }
    const ChainLink& link = chain.at(i);
    if (link.source == FirstFrameSource::PreviousLastFrame) {
        const ShotEntry* prev = state.findShot(link.previousKey);
        const ClipVersion* v = prev ? prev->clip.selectedVersion() : nullptr;
        const QString file = v ? lastFrameFile(*v, QString()) : QString();
        if (file.isEmpty()) {
            *error = QStringLiteral("continues from %1, whose clip has no recorded last frame")
                         .arg(link.previousKey);
            return {};
        }
        return file;
    }
    const ShotEntry* e = state.findShot(shotKey);
    const Candidate* kf = e ? e->keyframe.selectedCandidate() : nullptr;
    if (!kf || kf->file.isEmpty()) {
        *error = QStringLiteral("shot %1 has no chosen keyframe yet").arg(shotKey);
        return {};
    }
    return kf->file;
}

QString RenderStoryBuilder::profileInState(const StoryboardState& state, ItemKind kind, bool textKeyframes)
{
    QString profile, newest;
    auto consider = [&](const ImageTrack& t) {
        const ImageVersion* v = t.selectedVersion();
        if (v && kind == ItemKind::Keyframe && StoryboardInputs::rendersFromText(v->inputs) != textKeyframes)
            return;
        // An uploaded keyframe names the profile whose hash its inputs record (an uploaded sheet names none).
        if (v && !v->profile.isEmpty() && v->createdAt >= newest) {
            newest = v->createdAt;
            profile = v->profile;
        }
    };
    if (kind == ItemKind::Reference)
        for (const ReferenceEntry& r : state.references())
            consider(r.track);
    if (kind == ItemKind::Keyframe)
        for (const ShotEntry& s : state.shots()) {
            consider(s.keyframe);
            consider(s.endKeyframe); // rendered with the same keyframe profiles
        }
    if (kind == ItemKind::Clip) {
        // Clip versions carry no creation time: the selected version of the shot rendered last
        // (by version number, then story order) names the video profile.
        int best = 0;
        for (const ShotEntry& s : state.shots()) {
            if (!s.clip.selected)
                continue;
            for (const ClipVersion& v : s.clip.versions)
                if (v.version == *s.clip.selected && !v.profile.isEmpty() && v.version >= best) {
                    best = v.version;
                    profile = v.profile;
                }
        }
    }
    return profile;
}

QJsonObject RenderStoryBuilder::itemJson(const WorkItem& item, int candidate, qint64 seed)
{
    QString kind;
    switch (item.kind) {
    case ItemKind::Reference: kind = QStringLiteral("reference"); break;
    case ItemKind::Keyframe: kind = QStringLiteral("keyframe"); break;
    case ItemKind::EndKeyframe: kind = QStringLiteral("endKeyframe"); break;
    case ItemKind::Clip: kind = QStringLiteral("clip"); break;
    }
    return {{QStringLiteral("kind"), kind}, {QStringLiteral("key"), item.key},
            {QStringLiteral("version"), 0}, {QStringLiteral("candidate"), candidate},
            {QStringLiteral("seed"), seed}, {QStringLiteral("inputHash"), item.inputHash}};
}

VideoRenderStory RenderStoryBuilder::buildVideo(const story::Story& story, const StoryboardState& state,
                                                const Plan& plan, const VideoRenderOptions& options)
{
    VideoRenderStory out;
    out.skippedFresh = plan.skippedFresh;
    const ShotList shots(story);
    const QVector<ChainLink> chain = ChainPlanner::plan(shots, options.chainCap);
    auto wanted = [&](const QString& key) {
        return !options.done.contains(key) && (options.keys.isEmpty() || options.keys.contains(key));
    };

    QVector<WorkItem> ready;
    QSet<QString> planned; // rendered in this pass or waiting: a shot continuing from one of these waits
    for (const WorkItem& w : plan.items) {
        if (w.kind != ItemKind::Clip || !wanted(w.key))
            continue;
        planned.insert(w.key);
        if (!w.waitsFor.isEmpty())
            out.waiting << w.key;
        else
            ready << w;
    }
    for (const BlockedItem& b : plan.blocked)
        if (b.kind == ItemKind::Clip && wanted(b.key))
            out.blocked << b;

    // --all: approved shots whose clip is fresh render again, from the inputs they were made from
    // (fresh means those equal the current ones).
    if (options.includeFresh) {
        for (int i = 0; i < shots.shots().size(); ++i) {
            const QString key = shots.shots().at(i).key;
            if (planned.contains(key) || !wanted(key))
                continue;
            bool isBlocked = false;
            for (const BlockedItem& b : out.blocked)
                isBlocked = isBlocked || b.key == key;
            const ShotEntry* e = state.findShot(key);
            const ClipVersion* v = e ? e->clip.selectedVersion() : nullptr;
            if (isBlocked || !v || !e->keyframe.approved)
                continue;
            WorkItem w;
            w.kind = ItemKind::Clip;
            w.key = key;
            w.was = Freshness::Fresh;
            w.reasons << QStringLiteral("re-render (--all)");
            w.inputs = v->inputs;
            w.inputHash = v->inputHash;
            planned.insert(key);
            ready << w;
        }
        // Keep story order: the plan's items and the fresh ones interleave by shot.
        std::stable_sort(ready.begin(), ready.end(), [&shots](const WorkItem& a, const WorkItem& b) {
            return shots.indexOf(a.key) < shots.indexOf(b.key);
        });
    }

    for (const WorkItem& w : ready) {
        const int i = shots.indexOf(w.key);
        const ChainLink* link = i >= 0 && i < chain.size() ? &chain.at(i) : nullptr;
        // A chained shot whose predecessor renders in this same pass starts from that new clip's
        // last frame: it waits for the next pass.
        if (link && link->source == FirstFrameSource::PreviousLastFrame &&
            planned.contains(link->previousKey) && !out.waiting.contains(link->previousKey)) {
            bool predecessorReady = false;
            for (const WorkItem& r : ready)
                predecessorReady = predecessorReady || r.key == link->previousKey;
            if (predecessorReady) {
                out.waiting << w.key;
                continue;
            }
        }
        QString error;
        const QString start = startImageOf(story, state, w.key, options.chainCap, &error);
        if (start.isEmpty()) {
            out.blocked << BlockedItem{ItemKind::Clip, w.key, error};
            continue;
        }
        // A bookend clip (its inputs name an end image) ends on the shot's selected end keyframe.
        QString endFile;
        if (!w.inputs.value(QStringLiteral("end")).toString().isEmpty()) {
            const ShotEntry* e = state.findShot(w.key);
            const Candidate* end = e ? e->endKeyframe.selectedCandidate() : nullptr;
            if (!end || end->file.isEmpty()) {
                out.blocked << BlockedItem{ItemKind::Clip, w.key,
                                           QStringLiteral("shot %1 has no chosen end keyframe yet").arg(w.key)};
                continue;
            }
            endFile = end->file;
        }
        const ShotRef& ref = shots.shots().at(i);
        const story::StoryScene& source = story.scenes.at(ref.sceneIndex);
        story::StoryScene sc;
        sc.id = QStringLiteral("scene-%1").arg(out.story.scenes.size() + 1, 3, 10, QLatin1Char('0'));
        sc.title = QStringLiteral("clip %1").arg(w.key);
        sc.prompt = w.inputs.value(QStringLiteral("prompt")).toString();
        sc.negativePrompt = source.negativePrompt;
        sc.expectedFrames = source.expectedFrames;
        sc.characters = source.characters;
        sc.images.insert(QStringLiteral("keyframe_image"), start);
        sc.images.insert(QStringLiteral("start_image"), start);
        if (!endFile.isEmpty())
            sc.images.insert(QStringLiteral("end_image"), endFile);
        sc.raw.insert(QStringLiteral("storyboardItem"),
                      itemJson(w, 1, w.inputs.value(QStringLiteral("seed")).toInteger()));
        sc.raw.insert(QStringLiteral("seed"), w.inputs.value(QStringLiteral("seed")).toInteger());
        out.story.scenes << sc;
        out.items << w;
    }
    out.story.storyId = story.storyId.isEmpty() ? QStringLiteral("storyboard") : story.storyId;
    out.story.title = QStringLiteral("%1 — video").arg(story.title);
    out.story.genre = story.genre;
    out.story.logline = story.logline;
    out.story.directorsVision = story.directorsVision;
    return out;
}

} // namespace gd::storyboard
