// The video pass's render story (RenderStoryBuilder) and the import of its clips (ClipImporter):
// which shots render, why the others do not, chained shots in later passes, and what a clip version
// records.

#include "StoryboardTestStory.h"
#include "storyboard/ClipImporter.h"
#include "storyboard/RenderStoryBuilder.h"
#include "storyboard/StalenessCalculator.h"
#include "storyboard/StoryboardPlan.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

using namespace gd::storyboard;

namespace {

Plan videoPlan(const gd::story::Story& story, const StoryboardState& state)
{
    const StoryboardInputs inputs(story, state, sbtest::context());
    return StoryboardPlan::build(PlanStage::VideoForApproved, inputs, StalenessCalculator::compute(inputs));
}

QStringList keysOf(const VideoRenderStory& vr)
{
    QStringList keys;
    for (const WorkItem& w : vr.items)
        keys << w.key;
    return keys;
}

const BlockedItem* blockedOf(const VideoRenderStory& vr, const QString& key)
{
    for (const BlockedItem& b : vr.blocked)
        if (b.key == key)
            return &b;
    return nullptr;
}

// Sheets and keyframes of every shot rendered and approved; no clips.
StoryboardState approvedKeyframes(const gd::story::Story& story)
{
    StoryboardState state;
    {
        const StoryboardInputs inputs(story, state, sbtest::context());
        for (const QString& key : inputs.referenceKeys())
            sbtest::renderImage(state, inputs, ItemKind::Reference, key);
    }
    const StoryboardInputs inputs(story, state, sbtest::context());
    for (const ShotRef& s : inputs.shotList().shots())
        sbtest::renderImage(state, inputs, ItemKind::Keyframe, s.key);
    return state;
}

// A finished run record whose scene i kept `frames` PNG frames under <runDir>/scene-00i/attempt-1.
gd::telemetry::RunRecord fakeRun(const QString& runDir, const QVector<int>& frames)
{
    gd::telemetry::RunRecord run;
    run.runDir = runDir;
    for (int i = 0; i < frames.size(); ++i) {
        gd::telemetry::SceneRecord scene;
        scene.sceneId = QStringLiteral("scene-%1").arg(i + 1, 3, 10, QLatin1Char('0'));
        gd::telemetry::AttemptRecord a;
        a.framesDir = scene.sceneId + QStringLiteral("/attempt-1");
        a.durationSeconds = 4.0;
        a.serverExecutionSeconds = 2.5;
        QDir().mkpath(QDir(runDir).filePath(a.framesDir));
        for (int f = 1; f <= frames.at(i); ++f) {
            const QString name = QStringLiteral("f_%1.png").arg(f, 5, 10, QLatin1Char('0'));
            QImage img(8, 8, QImage::Format_RGB32);
            img.fill(QColor(20 * f, 10 * i, 100));
            img.save(QDir(runDir).filePath(a.framesDir + QLatin1Char('/') + name));
            a.frames << name;
        }
        a.frameCount = int(a.frames.size());
        scene.status = frames.at(i) > 0 ? QStringLiteral("succeeded") : QStringLiteral("failed");
        if (frames.at(i) > 0) {
            scene.attempts << a;
            scene.keptAttempt = 0;
        } else {
            scene.errors << QStringLiteral("server said no");
        }
        run.scenes << scene;
    }
    return run;
}

} // namespace

class TestRenderStoryBuilder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rendersApprovedFreshShotsWithTheirKeyframe()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state = approvedKeyframes(story);
        // shot-02's keyframe waits for the operator: its clip must not render.
        QVERIFY(state.unapprove(ItemKind::Keyframe, QStringLiteral("scene-001/shot-02")).isNull());

        const VideoRenderStory vr = RenderStoryBuilder::buildVideo(story, state, videoPlan(story, state));
        const QStringList expected{QStringLiteral("scene-001/shot-01"), QStringLiteral("scene-001/shot-03"),
                                   QStringLiteral("scene-001/shot-04"), QStringLiteral("scene-002/shot-01")};
        QCOMPARE(keysOf(vr), expected);
        QCOMPARE(vr.story.scenes.size(), expected.size());
        const BlockedItem* b = blockedOf(vr, QStringLiteral("scene-001/shot-02"));
        QVERIFY(b);
        QVERIFY2(b->message.contains(QStringLiteral("not approved")), qPrintable(b->message));

        const gd::story::StoryScene& sc = vr.story.scenes.first();
        QCOMPARE(sc.id, QStringLiteral("scene-001"));
        const QString kf = state.findShot(expected.first())->keyframe.selectedCandidate()->file;
        QCOMPARE(sc.images.value(QStringLiteral("keyframe_image")), kf);
        QCOMPARE(sc.images.value(QStringLiteral("start_image")), kf);
        QCOMPARE(sc.prompt, vr.items.first().inputs.value(QStringLiteral("prompt")).toString());
        QVERIFY(sc.prompt.contains(QStringLiteral("Mara at the lamp")));
        const QJsonObject item = sc.raw.value(QStringLiteral("storyboardItem")).toObject();
        QCOMPARE(item.value(QStringLiteral("kind")).toString(), QStringLiteral("clip"));
        QCOMPARE(item.value(QStringLiteral("key")).toString(), expected.first());
        QCOMPARE(item.value(QStringLiteral("inputHash")).toString(), vr.items.first().inputHash);
        QCOMPARE(vr.story.scenes.at(3).id, QStringLiteral("scene-004"));
    }

    void freshClipsAreSkippedUnlessAll()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        const Plan plan = videoPlan(story, state);
        VideoRenderStory vr = RenderStoryBuilder::buildVideo(story, state, plan);
        QVERIFY(vr.items.isEmpty());
        QCOMPARE(vr.skippedFresh, 5);

        VideoRenderOptions all;
        all.includeFresh = true;
        all.keys = {QStringLiteral("scene-001/shot-02"), QStringLiteral("scene-002/shot-01")};
        vr = RenderStoryBuilder::buildVideo(story, state, plan, all);
        QCOMPARE(keysOf(vr), all.keys);
        // Fresh means unchanged inputs: the re-render records the same hash.
        QCOMPARE(vr.items.first().inputHash,
                 state.findShot(QStringLiteral("scene-001/shot-02"))->clip.selectedVersion()->inputHash);
    }

    void staleKeyframeBlocksItsClip()
    {
        gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        story.scenes[0].shots[0].firstFrame =
            QStringLiteral("Mara lights the lamp"); // keyframe inputs change
        const VideoRenderStory vr = RenderStoryBuilder::buildVideo(story, state, videoPlan(story, state));
        QVERIFY(!keysOf(vr).contains(QStringLiteral("scene-001/shot-01")));
        const BlockedItem* b = blockedOf(vr, QStringLiteral("scene-001/shot-01"));
        QVERIFY(b);
        QVERIFY2(b->message.contains(QStringLiteral("stale")), qPrintable(b->message));
    }

    void chainedShotsRenderInTheNextPass()
    {
        gd::story::Story story = sbtest::lighthouse();
        story.scenes[0].shots[1].continuesFrom = QStringLiteral("shot-01");
        story.scenes[0].shots[2].continuesFrom = QStringLiteral("shot-02");
        StoryboardState state = approvedKeyframes(story);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());

        VideoRenderOptions vo;
        VideoRenderStory vr = RenderStoryBuilder::buildVideo(story, state, videoPlan(story, state), vo);
        QCOMPARE(keysOf(vr),
                 (QStringList{QStringLiteral("scene-001/shot-01"), QStringLiteral("scene-001/shot-04"),
                              QStringLiteral("scene-002/shot-01")}));
        QCOMPARE(vr.waiting,
                 (QStringList{QStringLiteral("scene-001/shot-02"), QStringLiteral("scene-001/shot-03")}));

        // Pass 1 renders and is imported: shot-02 now starts from shot-01's last frame.
        QStringList problems;
        QCOMPARE(ClipImporter::importRun(dir.path(), state, vr.items,
                                         fakeRun(dir.filePath(QStringLiteral("runs/r1")), {3, 2, 2}),
                                         QStringLiteral("sandbox-i2v"), &problems),
                 3);
        QVERIFY(problems.isEmpty());
        for (const WorkItem& w : vr.items)
            vo.done.insert(w.key);
        vr = RenderStoryBuilder::buildVideo(story, state, videoPlan(story, state), vo);
        QCOMPARE(keysOf(vr), QStringList{QStringLiteral("scene-001/shot-02")});
        QCOMPARE(vr.waiting, QStringList{QStringLiteral("scene-001/shot-03")});
        const ClipVersion* prev = state.findShot(QStringLiteral("scene-001/shot-01"))->clip.selectedVersion();
        const QString start = vr.story.scenes.first().images.value(QStringLiteral("start_image"));
        QCOMPARE(start, prev->raw.value(QStringLiteral("lastFrame")).toString());
        QCOMPARE(vr.items.first().inputs.value(QStringLiteral("start")).toString(), prev->lastFrameSha256);

        // Pass 2, then pass 3 takes the end of the chain; then nothing is left.
        QCOMPARE(ClipImporter::importRun(dir.path(), state, vr.items,
                                         fakeRun(dir.filePath(QStringLiteral("runs/r2")), {2}),
                                         QStringLiteral("sandbox-i2v"), &problems),
                 1);
        vo.done.insert(QStringLiteral("scene-001/shot-02"));
        vr = RenderStoryBuilder::buildVideo(story, state, videoPlan(story, state), vo);
        QCOMPARE(keysOf(vr), QStringList{QStringLiteral("scene-001/shot-03")});
        QVERIFY(vr.waiting.isEmpty());
        QCOMPARE(ClipImporter::importRun(dir.path(), state, vr.items,
                                         fakeRun(dir.filePath(QStringLiteral("runs/r3")), {2}),
                                         QStringLiteral("sandbox-i2v"), &problems),
                 1);
        vo.done.insert(QStringLiteral("scene-001/shot-03"));
        vr = RenderStoryBuilder::buildVideo(story, state, videoPlan(story, state), vo);
        QVERIFY(vr.items.isEmpty() && vr.waiting.isEmpty());
    }

    void importRecordsTheClipVersion()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state = approvedKeyframes(story);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const VideoRenderStory vr = RenderStoryBuilder::buildVideo(story, state, videoPlan(story, state));
        QVERIFY(vr.items.size() >= 2);
        const QVector<WorkItem> two{vr.items.at(0), vr.items.at(1)};
        const gd::telemetry::RunRecord run = fakeRun(dir.filePath(QStringLiteral("runs/r1")), {4, 0});
        QStringList problems;
        QCOMPARE(
            ClipImporter::importRun(dir.path(), state, two, run, QStringLiteral("sandbox-i2v"), &problems),
            1);
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems.first().contains(two.at(1).key) &&
                     problems.first().contains(QStringLiteral("server said no")),
                 qPrintable(problems.first()));
        QVERIFY(!state.findShot(two.at(1).key) || !state.findShot(two.at(1).key)->clip.selectedVersion());

        const ClipVersion* v = state.findShot(two.at(0).key)->clip.selectedVersion();
        QVERIFY(v);
        QCOMPARE(v->version, 1);
        QCOMPARE(v->dir, StoryboardKeys::clipDir(two.at(0).key) + QStringLiteral("/v1"));
        QCOMPARE(v->frames, 4);
        QCOMPARE(v->inputHash, two.at(0).inputHash);
        QCOMPARE(v->profile, QStringLiteral("sandbox-i2v"));
        QCOMPARE(v->durationMs.value_or(0), qint64(2500));
        QCOMPARE(QDir(dir.filePath(v->dir)).entryList(QDir::Files).size(), 4);
        QString sha;
        QVERIFY(StoryboardState::sha256OfFile(dir.filePath(v->dir + QStringLiteral("/f_00004.png")), sha)
                    .isNull());
        QCOMPARE(v->lastFrameSha256, sha);
        QCOMPARE(v->raw.value(QStringLiteral("lastFrame")).toString(),
                 v->dir + QStringLiteral("/f_00004.png"));

        const QString lastFrame = v->raw.value(QStringLiteral("lastFrame")).toString();
        // A second import is a new version in a new folder; the first stays.
        QVERIFY(ClipImporter::importScene(dir.path(), state, two.at(0), run, run.scenes.at(0),
                                          QStringLiteral("sandbox-i2v"))
                    .isNull());
        const ClipTrack& track = state.findShot(two.at(0).key)->clip;
        QCOMPARE(track.versions.size(), 2);
        QCOMPARE(*track.selected, 2);
        QVERIFY(QDir(dir.filePath(track.version(1)->dir)).exists());
        QVERIFY(track.version(2)->dir.endsWith(QStringLiteral("/v2")));
        // The state saves and loads back with the clip versions.
        QVERIFY(state.save(dir.path()).isNull());
        StoryboardState loaded;
        QVERIFY(StoryboardState::load(dir.path(), loaded).isNull());
        QCOMPARE(loaded.findShot(two.at(0).key)->clip.versions.size(), 2);
        QCOMPARE(loaded.findShot(two.at(0).key)
                     ->clip.version(1)
                     ->raw.value(QStringLiteral("lastFrame"))
                     .toString(),
                 lastFrame);
    }

    void profileInStateIsTheNewestRendered()
    {
        const gd::story::Story story = sbtest::lighthouse();
        const StoryboardState state = approvedKeyframes(story);
        QCOMPARE(RenderStoryBuilder::profileInState(state, ItemKind::Reference),
                 QStringLiteral("sheet-sdxl"));
        QCOMPARE(RenderStoryBuilder::profileInState(state, ItemKind::Keyframe),
                 QStringLiteral("keyframe-sdxl"));
        QCOMPARE(RenderStoryBuilder::profileInState(StoryboardState(), ItemKind::Keyframe), QString());
    }
};

QTEST_GUILESS_MAIN(TestRenderStoryBuilder)
#include "tst_renderstorybuilder.moc"
