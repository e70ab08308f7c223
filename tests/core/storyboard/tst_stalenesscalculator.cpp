#include "StoryboardTestStory.h"
#include "storyboard/StalenessCalculator.h"

#include <QTest>

using namespace gd::storyboard;

namespace {

const QString kMaraCoat = QStringLiteral("character:Mara Voss#storm-coat");
const QString kShot1 = QStringLiteral("scene-001/shot-01");
const QString kShot2 = QStringLiteral("scene-001/shot-02");
const QString kShot3 = QStringLiteral("scene-001/shot-03");
const QString kShot4 = QStringLiteral("scene-001/shot-04");
const QString kImplicit = QStringLiteral("scene-002/shot-01");

QStringList staleKeys(const StalenessReport& r, ItemKind kind)
{
    QStringList keys;
    for (const ItemStatus& s : r.items)
        if (s.kind == kind && s.freshness == Freshness::Stale)
            keys << s.key;
    return keys;
}

StalenessReport computeFor(const gd::story::Story& story, const StoryboardState& state,
                           const InputContext& ctx = sbtest::context())
{
    const StoryboardInputs inputs(story, state, ctx);
    return StalenessCalculator::compute(inputs);
}

} // namespace

class TestStalenessCalculator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // A bookend shot's end keyframe goes stale like a keyframe and takes the clip with it (kept, not
    // deleted) when the video profile uses it; a profile without end_image ignores it.
    void staleEndKeyframeMakesTheClipStale()
    {
        gd::story::Story story = sbtest::bookend();
        StoryboardState state;
        InputContext bookend = sbtest::context();
        bookend.clipUsesEndImage = true;
        sbtest::renderAll(story, state, bookend);
        StalenessReport r = computeFor(story, state, bookend);
        QVERIFY(r.find(ItemKind::EndKeyframe, kShot1));
        QCOMPARE(r.find(ItemKind::EndKeyframe, kShot1)->freshness, Freshness::Fresh);
        QVERIFY(!r.find(ItemKind::EndKeyframe, kShot2)); // no lastFrame: no end keyframe item
        QVERIFY(staleKeys(r, ItemKind::Clip).isEmpty());

        // The lastFrame text changes: only the end keyframe and the clip go stale.
        story.scenes[0].shots[0].lastFrame = QStringLiteral("Mara lights the lamp again");
        r = computeFor(story, state, bookend);
        QCOMPARE(staleKeys(r, ItemKind::EndKeyframe), QStringList{kShot1});
        QCOMPARE(r.find(ItemKind::EndKeyframe, kShot1)->reasons, QStringList{QStringLiteral("prompt edited")});
        QVERIFY(staleKeys(r, ItemKind::Keyframe).isEmpty());
        QCOMPARE(staleKeys(r, ItemKind::Clip), QStringList{kShot1});
        QVERIFY(r.find(ItemKind::Clip, kShot1)->reasons.contains(QStringLiteral("end keyframe is stale")));
        QCOMPARE(state.findShot(kShot1)->clip.versions.size(), 1); // kept

        // A video profile without end_image: the stale end keyframe does not reach the clip (whose
        // recorded end image is simply no longer used).
        r = computeFor(story, state, sbtest::context());
        QCOMPARE(staleKeys(r, ItemKind::EndKeyframe), QStringList{kShot1});
        QCOMPARE(r.find(ItemKind::Clip, kShot1)->reasons, QStringList{QStringLiteral("end keyframe no longer used")});

        // A new sheet of Mara makes both stills of the shot stale.
        story = sbtest::bookend();
        {
            const StoryboardInputs inputs(story, state, bookend);
            sbtest::renderImage(state, inputs, ItemKind::Reference, kMaraCoat, QStringLiteral("v2"));
        }
        r = computeFor(story, state, bookend);
        QVERIFY(staleKeys(r, ItemKind::EndKeyframe).contains(kShot1));
        QVERIFY(r.find(ItemKind::EndKeyframe, kShot1)->reasons.contains(QStringLiteral("sheet of Mara Voss#storm-coat changed")));

        // Re-rendered end keyframe (everything else fresh again): the clip is stale, naming it.
        StoryboardState fresh;
        sbtest::renderAll(story, fresh, bookend);
        {
            const StoryboardInputs inputs(story, fresh, bookend);
            sbtest::renderImage(fresh, inputs, ItemKind::EndKeyframe, kShot1, QStringLiteral("again"));
        }
        r = computeFor(story, fresh, bookend);
        QCOMPARE(r.find(ItemKind::EndKeyframe, kShot1)->freshness, Freshness::Fresh);
        QCOMPARE(staleKeys(r, ItemKind::Clip), QStringList{kShot1});
        QCOMPARE(r.find(ItemKind::Clip, kShot1)->reasons, QStringList{QStringLiteral("end keyframe re-rendered")});
    }

    void nothingRenderedIsMissingOrBlocked()
    {
        const gd::story::Story story = sbtest::lighthouse();
        const StoryboardState state;
        const StalenessReport r = computeFor(story, state);
        // 3 looks + 1 location; 5 shots (4 + the implicit one) × keyframe and clip.
        QCOMPARE(r.items.size(), 4 + 5 * 2);
        QCOMPARE(r.count(ItemKind::Reference, Freshness::Missing), 4);
        const ItemStatus* kf = r.find(ItemKind::Keyframe, kShot1);
        QVERIFY(kf);
        QCOMPARE(kf->freshness, Freshness::Blocked);
        QCOMPARE(kf->reasons, QStringList{QStringLiteral("shot names Mara Voss, who has no approved sheet (look storm-coat)")});
        // A shot without characters is not blocked by sheets.
        QCOMPARE(r.find(ItemKind::Keyframe, kShot4)->freshness, Freshness::Missing);
        // The implicit shot anchors the bible character only ("a gull" stays text).
        QCOMPARE(r.find(ItemKind::Keyframe, kImplicit)->reasons,
                 QStringList{QStringLiteral("shot names Tom Reed, who has no approved sheet")});
        QCOMPARE(r.find(ItemKind::Clip, kShot1)->freshness, Freshness::Missing);
    }

    void everythingRenderedIsFresh()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        const StalenessReport r = computeFor(story, state);
        for (const ItemStatus& s : r.items)
            QVERIFY2(s.freshness == Freshness::Fresh, qPrintable(s.key + QLatin1Char(' ') + s.reasons.join(u';')));
    }

    void newSheetMakesExactlyTheShotsShowingThatLookStale()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        {
            // The operator re-rolls Mara's storm-coat sheet and approves a new candidate.
            const StoryboardInputs inputs(story, state, sbtest::context());
            sbtest::renderImage(state, inputs, ItemKind::Reference, kMaraCoat, QStringLiteral("re-roll"));
        }
        const StalenessReport r = computeFor(story, state);
        QCOMPARE(staleKeys(r, ItemKind::Reference), QStringList());
        QCOMPARE(staleKeys(r, ItemKind::Keyframe), (QStringList{kShot1, kShot3}));
        QCOMPARE(staleKeys(r, ItemKind::Clip), (QStringList{kShot1, kShot3}));
        QCOMPARE(r.find(ItemKind::Keyframe, kShot1)->reasons,
                 QStringList{QStringLiteral("sheet of Mara Voss#storm-coat changed")});
        QCOMPARE(r.find(ItemKind::Clip, kShot3)->reasons, QStringList{QStringLiteral("keyframe is stale")});

        // A stale keyframe with an approved clip: the clip is stale, kept, still selected and approved.
        const ShotEntry* e = state.findShot(kShot1);
        QCOMPARE(e->clip.versions.size(), 1);
        QCOMPARE(e->clip.selected, std::optional<int>(1));
        QVERIFY(e->clip.approved);
    }

    void editedReferencePromptPropagatesThroughStaleSheet()
    {
        gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        story.characters[1].referencePrompt = QStringLiteral("character sheet, Tom Reed, fisherman, beard");
        const StalenessReport r = computeFor(story, state);
        QCOMPARE(staleKeys(r, ItemKind::Reference), QStringList{QStringLiteral("character:Tom Reed#default")});
        QCOMPARE(r.find(ItemKind::Reference, QStringLiteral("character:Tom Reed#default"))->reasons,
                 QStringList{QStringLiteral("prompt edited")});
        QCOMPARE(staleKeys(r, ItemKind::Keyframe), (QStringList{kShot2, kShot3, kImplicit}));
        QCOMPARE(r.find(ItemKind::Keyframe, kShot2)->reasons,
                 QStringList{QStringLiteral("sheet of Tom Reed#default is stale")});
        QCOMPARE(staleKeys(r, ItemKind::Clip), (QStringList{kShot2, kShot3, kImplicit}));
    }

    void reasonsNameWhatChanged()
    {
        gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);

        // Shot prompt edited: its keyframe only (the clip follows as "keyframe is stale").
        gd::story::Story edited = story;
        edited.scenes[0].shots[3].firstFrame = QStringLiteral("the empty stairs, wet");
        StalenessReport r = computeFor(edited, state);
        QCOMPARE(staleKeys(r, ItemKind::Keyframe), QStringList{kShot4});
        QCOMPARE(r.find(ItemKind::Keyframe, kShot4)->reasons, QStringList{QStringLiteral("prompt edited")});

        // Keyframe profile changed: every keyframe, not the sheets.
        InputContext ctx = sbtest::context();
        ctx.keyframeProfileHash = QStringLiteral("kf-profile-2");
        r = computeFor(story, state, ctx);
        QCOMPARE(staleKeys(r, ItemKind::Reference), QStringList());
        QCOMPARE(staleKeys(r, ItemKind::Keyframe).size(), 5);
        QCOMPARE(r.find(ItemKind::Keyframe, kShot2)->reasons, QStringList{QStringLiteral("profile changed")});

        // The keyframe profile's checkpoint swapped (its hash and its model text change): the reason names
        // the models that left and joined.
        ctx.keyframeModel = QStringLiteral("juggernaut-xl.safetensors");
        r = computeFor(story, state, ctx);
        QCOMPARE(r.find(ItemKind::Keyframe, kShot2)->reasons,
                 (QStringList{QStringLiteral("profile changed"), QStringLiteral("model changed: sdxl → juggernaut-xl.safetensors")}));
        ctx = sbtest::context();
        ctx.keyframeModel = QStringLiteral("sdxl, lora-a.safetensors");
        r = computeFor(story, state, ctx);
        QCOMPARE(r.find(ItemKind::Keyframe, kShot2)->reasons,
                 QStringList{QStringLiteral("model changed: lora-a.safetensors added")});

        // A re-rendered keyframe: the keyframe is fresh, its clip says why it is stale.
        {
            const StoryboardInputs inputs(story, state, sbtest::context());
            sbtest::renderImage(state, inputs, ItemKind::Keyframe, kShot2, QStringLiteral("re-roll"));
        }
        r = computeFor(story, state);
        QCOMPARE(staleKeys(r, ItemKind::Keyframe), QStringList());
        QCOMPARE(staleKeys(r, ItemKind::Clip), QStringList{kShot2});
        QCOMPARE(r.find(ItemKind::Clip, kShot2)->reasons, QStringList{QStringLiteral("keyframe re-rendered")});
    }

    void unapprovedSheetMakesARenderedKeyframeStale()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        QVERIFY(state.unapprove(ItemKind::Reference, kMaraCoat).isNull());
        const StalenessReport r = computeFor(story, state);
        QCOMPARE(staleKeys(r, ItemKind::Keyframe), (QStringList{kShot1, kShot3}));
        QCOMPARE(r.find(ItemKind::Keyframe, kShot1)->reasons,
                 QStringList{QStringLiteral("shot names Mara Voss, who has no approved sheet (look storm-coat)")});
    }

    void chainedClipFollowsThePreviousClip()
    {
        gd::story::Story story = sbtest::lighthouse();
        story.scenes[0].shots[1].continuesFrom = QStringLiteral("shot-01");
        StoryboardState state;
        sbtest::renderAll(story, state);
        QCOMPARE(staleKeys(computeFor(story, state), ItemKind::Clip), QStringList());
        {
            // Shot 1's clip is re-rendered: shot 2 starts on its last frame, so it is stale.
            const StoryboardInputs inputs(story, state, sbtest::context());
            sbtest::renderClip(state, inputs, kShot1, QStringLiteral("again"));
        }
        StalenessReport r = computeFor(story, state);
        QCOMPARE(staleKeys(r, ItemKind::Clip), QStringList{kShot2});
        QCOMPARE(r.find(ItemKind::Clip, kShot2)->reasons, QStringList{QStringLiteral("previous shot's last frame changed")});

        // Shot 1's keyframe goes stale: its clip, and through it shot 2's clip.
        gd::story::Story edited = story;
        edited.scenes[0].shots[0].firstFrame = QStringLiteral("Mara at the lamp, night");
        r = computeFor(edited, state);
        QCOMPARE(staleKeys(r, ItemKind::Clip), (QStringList{kShot1, kShot2}));
        QVERIFY(r.find(ItemKind::Clip, kShot2)->reasons.contains(QStringLiteral("clip of scene-001/shot-01 is stale")));
    }
};

QTEST_GUILESS_MAIN(TestStalenessCalculator)
#include "tst_stalenesscalculator.moc"
