#include "StoryboardTestStory.h"
#include "storyboard/StoryboardPlan.h"

#include <QTest>

using namespace gd::storyboard;

namespace {

const QString kShot1 = QStringLiteral("scene-001/shot-01");
const QString kShot2 = QStringLiteral("scene-001/shot-02");
const QString kShot3 = QStringLiteral("scene-001/shot-03");
const QString kShot4 = QStringLiteral("scene-001/shot-04");
const QString kImplicit = QStringLiteral("scene-002/shot-01");

QStringList keysOf(const Plan& plan)
{
    QStringList keys;
    for (const WorkItem& w : plan.items)
        keys << w.key;
    return keys;
}

Plan planFor(PlanStage stage, const gd::story::Story& story, const StoryboardState& state, PlanOptions options = {})
{
    const StoryboardInputs inputs(story, state, sbtest::context());
    return StoryboardPlan::build(stage, inputs, StalenessCalculator::compute(inputs), options);
}

} // namespace

class TestStoryboardPlan : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void referencesStageListsWhatIsMissingWithItsHash()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        Plan plan = planFor(PlanStage::References, story, state);
        QCOMPARE(keysOf(plan), (QStringList{QStringLiteral("character:Mara Voss#storm-coat"),
                                            QStringLiteral("character:Mara Voss#dress"),
                                            QStringLiteral("character:Tom Reed#default"),
                                            QStringLiteral("location:Lamp room")}));
        const WorkItem& w = plan.items.first();
        QCOMPARE(w.was, Freshness::Missing);
        QCOMPARE(w.inputs.value(QStringLiteral("prompt")).toString(),
                 QStringLiteral("character sheet, Mara Voss, orange storm coat"));
        QCOMPARE(w.inputHash, InputHasher::hash(w.inputs));

        // Rendered ones are skipped; a re-run plans nothing.
        const StoryboardInputs inputs(story, state, sbtest::context());
        sbtest::renderImage(state, inputs, ItemKind::Reference, QStringLiteral("character:Mara Voss#dress"));
        plan = planFor(PlanStage::References, story, state);
        QCOMPARE(plan.items.size(), 3);
        QCOMPARE(plan.skippedFresh, 1);
    }

    void keyframesBlockedWithoutSheetsUnlessTextOnlyIsAllowed()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        const StoryboardInputs inputs(story, state, sbtest::context());
        // Only Tom's sheet is approved.
        sbtest::renderImage(state, inputs, ItemKind::Reference, QStringLiteral("character:Tom Reed#default"));

        Plan plan = planFor(PlanStage::Keyframes, story, state);
        QCOMPARE(keysOf(plan), (QStringList{kShot2, kShot4, kImplicit}));
        QCOMPARE(plan.blocked.size(), 2);
        QCOMPARE(plan.blocked.at(0).key, kShot1);
        QCOMPARE(plan.blocked.at(0).message,
                 QStringLiteral("shot names Mara Voss, who has no approved sheet (look storm-coat)"));
        QCOMPARE(plan.blocked.at(1).key, kShot3);

        PlanOptions textOnly;
        textOnly.allowTextOnly = true;
        plan = planFor(PlanStage::Keyframes, story, state, textOnly);
        QCOMPARE(keysOf(plan), (QStringList{kShot1, kShot2, kShot3, kShot4, kImplicit}));
        QVERIFY(plan.blocked.isEmpty());
        QVERIFY(plan.items.at(0).textOnly);
        QVERIFY(!plan.items.at(1).textOnly);
        // Shot 3 is still anchored on the sheet that exists.
        QCOMPARE(plan.items.at(2).inputs.value(QStringLiteral("references")).toArray().size(), 1);
    }

    void videoOnlyForApprovedFreshKeyframes()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        Plan plan = planFor(PlanStage::VideoForApproved, story, state);
        QVERIFY(plan.items.isEmpty()); // everything fresh
        QCOMPARE(plan.skippedFresh, 5);

        // A new keyframe of shot 2 (not yet approved) and of shot 4 (approved).
        {
            const StoryboardInputs inputs(story, state, sbtest::context());
            sbtest::renderImage(state, inputs, ItemKind::Keyframe, kShot2, QStringLiteral("b"));
            sbtest::renderImage(state, inputs, ItemKind::Keyframe, kShot4, QStringLiteral("b"));
        }
        QVERIFY(state.unapprove(ItemKind::Keyframe, kShot2).isNull());
        plan = planFor(PlanStage::VideoForApproved, story, state);
        QCOMPARE(keysOf(plan), QStringList{kShot4});
        QCOMPARE(plan.items.first().reasons, QStringList{QStringLiteral("keyframe re-rendered")});
        QCOMPARE(plan.items.first().inputs.value(QStringLiteral("start")).toString(),
                 state.findShot(kShot4)->keyframe.selectedCandidate()->sha256);
        QCOMPARE(plan.blocked.size(), 1);
        QCOMPARE(plan.blocked.first().key, kShot2);
        QCOMPARE(plan.blocked.first().message, QStringLiteral("keyframe not approved yet"));
    }

    void keyframesStageListsEndKeyframesOfBookendShots()
    {
        const gd::story::Story story = sbtest::bookend();
        StoryboardState state;
        {
            const StoryboardInputs inputs(story, state, sbtest::context());
            for (const QString& key : inputs.referenceKeys())
                sbtest::renderImage(state, inputs, ItemKind::Reference, key);
        }
        Plan plan = planFor(PlanStage::Keyframes, story, state);
        QCOMPARE(keysOf(plan), (QStringList{kShot1, kShot1, kShot2, kShot3, kShot4, kImplicit}));
        QCOMPARE(plan.items.at(0).kind, ItemKind::Keyframe);
        QCOMPARE(plan.items.at(1).kind, ItemKind::EndKeyframe);
        QCOMPARE(plan.items.at(1).inputs.value(QStringLiteral("kind")).toString(), QStringLiteral("endKeyframe"));
        QVERIFY(plan.items.at(1).inputHash != plan.items.at(0).inputHash);

        // Without Mara's sheet both stills of shot 1 are blocked, with the same message.
        StoryboardState noSheets;
        plan = planFor(PlanStage::Keyframes, story, noSheets);
        int blockedEnds = 0;
        for (const BlockedItem& b : plan.blocked)
            if (b.kind == ItemKind::EndKeyframe && b.key == kShot1) {
                ++blockedEnds;
                QCOMPARE(b.message, QStringLiteral("shot names Mara Voss, who has no approved sheet (look storm-coat)"));
            }
        QCOMPARE(blockedEnds, 1);
    }

    void videoWaitsForAnApprovedEndKeyframeWithABookendProfile()
    {
        const gd::story::Story story = sbtest::bookend();
        InputContext bookend = sbtest::context();
        bookend.clipUsesEndImage = true;
        StoryboardState state;
        {
            const StoryboardInputs inputs(story, state, bookend);
            for (const QString& key : inputs.referenceKeys())
                sbtest::renderImage(state, inputs, ItemKind::Reference, key);
        }
        {
            const StoryboardInputs inputs(story, state, bookend);
            for (const ShotRef& s : inputs.shotList().shots()) {
                sbtest::renderImage(state, inputs, ItemKind::Keyframe, s.key);
                if (StoryboardInputs::isBookend(s))
                    sbtest::renderImage(state, inputs, ItemKind::EndKeyframe, s.key);
            }
        }
        QVERIFY(state.unapprove(ItemKind::EndKeyframe, kShot1).isNull());
        const auto videoPlan = [&](const InputContext& ctx) {
            const StoryboardInputs inputs(story, state, ctx);
            return StoryboardPlan::build(PlanStage::VideoForApproved, inputs, StalenessCalculator::compute(inputs));
        };
        Plan plan = videoPlan(bookend);
        QVERIFY(!keysOf(plan).contains(kShot1));
        QCOMPARE(plan.blocked.size(), 1);
        QCOMPARE(plan.blocked.first().key, kShot1);
        QCOMPARE(plan.blocked.first().message, QStringLiteral("end keyframe not approved yet"));

        // Approved: the clip renders to it.
        QVERIFY(state.approve(ItemKind::EndKeyframe, kShot1).isNull());
        plan = videoPlan(bookend);
        QCOMPARE(keysOf(plan).first(), kShot1);
        QCOMPARE(plan.items.first().inputs.value(QStringLiteral("end")).toString(),
                 state.findShot(kShot1)->endKeyframe.selectedCandidate()->sha256);

        // A video profile without end_image ignores lastFrame: no gate, and the plan says so.
        QVERIFY(state.unapprove(ItemKind::EndKeyframe, kShot1).isNull());
        plan = videoPlan(sbtest::context());
        QCOMPARE(keysOf(plan).first(), kShot1);
        QVERIFY(plan.blocked.isEmpty());
        QVERIFY2(plan.items.first().reasons.join(QLatin1Char(' ')).contains(QStringLiteral("maps no end_image")),
                 qPrintable(plan.items.first().reasons.join(QLatin1Char(' '))));
        QCOMPARE(plan.items.first().inputs.value(QStringLiteral("end")).toString(), QString());
    }

    void updateStaleCoversAStaleEndKeyframe()
    {
        gd::story::Story story = sbtest::bookend();
        InputContext bookend = sbtest::context();
        bookend.clipUsesEndImage = true;
        StoryboardState state;
        sbtest::renderAll(story, state, bookend);
        story.scenes[0].shots[0].lastFrame = QStringLiteral("Mara lights the lamp again");
        const StoryboardInputs inputs(story, state, bookend);
        const Plan plan = StoryboardPlan::build(PlanStage::UpdateStale, inputs, StalenessCalculator::compute(inputs));
        // The end keyframe re-renders; its clip is stale but waits for the new end keyframe's approval.
        QCOMPARE(plan.items.size(), 1);
        QCOMPARE(plan.items.first().kind, ItemKind::EndKeyframe);
        QCOMPARE(plan.items.first().key, kShot1);
        QCOMPARE(plan.items.first().reasons, QStringList{QStringLiteral("prompt edited")});
        QVERIFY(plan.items.first().inputs.value(QStringLiteral("prompt")).toString().contains(QStringLiteral("lights the lamp again")));
        QCOMPARE(plan.blocked.size(), 1);
        QCOMPARE(plan.blocked.first().kind, ItemKind::Clip);
        QCOMPARE(plan.blocked.first().message, QStringLiteral("end keyframe is stale: update it and approve it first"));
    }

    void chainedClipWaitsForThePreviousClip()
    {
        gd::story::Story story = sbtest::lighthouse();
        story.scenes[0].shots[1].continuesFrom = QStringLiteral("shot-01");
        StoryboardState state;
        {
            const StoryboardInputs inputs(story, state, sbtest::context());
            for (const QString& key : inputs.referenceKeys())
                sbtest::renderImage(state, inputs, ItemKind::Reference, key);
        }
        {
            const StoryboardInputs inputs(story, state, sbtest::context());
            for (const ShotRef& s : inputs.shotList().shots())
                sbtest::renderImage(state, inputs, ItemKind::Keyframe, s.key);
        }
        const Plan plan = planFor(PlanStage::VideoForApproved, story, state);
        QCOMPARE(keysOf(plan), (QStringList{kShot1, kShot2, kShot3, kShot4, kImplicit}));
        QCOMPARE(plan.items.at(1).waitsFor, kShot1);
        QVERIFY(plan.items.at(1).inputHash.isEmpty());
        QVERIFY(plan.items.at(0).waitsFor.isEmpty());
    }

    void updateStaleRendersOnlyStaleItems()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        QVERIFY(planFor(PlanStage::UpdateStale, story, state).items.isEmpty());

        gd::story::Story edited = story;
        edited.characters[0].looks[0].referencePrompt = QStringLiteral("character sheet, Mara Voss, red storm coat");
        Plan plan = planFor(PlanStage::UpdateStale, edited, state);
        // The sheet first; the keyframes showing it wait for the new sheet; their clips wait for
        // the new keyframes to be approved.
        QCOMPARE(keysOf(plan), (QStringList{QStringLiteral("character:Mara Voss#storm-coat"), kShot1, kShot3}));
        QCOMPARE(plan.items.at(0).reasons, QStringList{QStringLiteral("prompt edited")});
        QCOMPARE(plan.items.at(1).waitsFor, QStringLiteral("character:Mara Voss#storm-coat"));
        QCOMPARE(plan.blocked.size(), 2);
        QCOMPARE(plan.blocked.at(0).kind, ItemKind::Clip);
        QCOMPARE(plan.blocked.at(0).message, QStringLiteral("keyframe is stale: update it and approve it first"));

        // The keyframes stage alone refuses to render on a stale sheet.
        plan = planFor(PlanStage::Keyframes, edited, state);
        QVERIFY(plan.items.isEmpty());
        QCOMPARE(plan.blocked.size(), 2);
        QCOMPARE(plan.blocked.first().message,
                 QStringLiteral("sheet of Mara Voss#storm-coat is stale: update the references first"));
    }
};

QTEST_GUILESS_MAIN(TestStoryboardPlan)
#include "tst_storyboardplan.moc"
