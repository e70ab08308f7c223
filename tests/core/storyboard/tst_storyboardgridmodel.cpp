#include "StoryboardTestStory.h"
#include "storyboard/StalenessCalculator.h"
#include "storyboard/StoryboardGridModel.h"
#include "storyboard/StoryboardReferenceModel.h"

#include <QSignalSpy>
#include <QTest>

using namespace gd::storyboard;

namespace {

const QString kDir = QStringLiteral("/boards/lighthouse");
const QString kMaraCoat = QStringLiteral("character:Mara Voss#storm-coat");
const QString kShot1 = QStringLiteral("scene-001/shot-01");
const QString kShot3 = QStringLiteral("scene-001/shot-03");

StalenessReport reportFor(const gd::story::Story& story, const StoryboardState& state)
{
    const StoryboardInputs inputs(story, state, sbtest::context());
    return StalenessCalculator::compute(inputs);
}

void show(StoryboardGridModel& model, const gd::story::Story& story, const StoryboardState& state,
          const StoryboardGridModel::Estimates& e = {})
{
    model.refresh(story, state, reportFor(story, state), kDir, e);
}

QVariant role(const StoryboardGridModel& m, const QString& key, int role)
{
    return m.data(m.index(m.rowOf(key), 0), role);
}

// Rows named by dataChanged signals (each must span the whole row).
QStringList changedKeys(const QSignalSpy& spy, const StoryboardGridModel& model)
{
    QStringList keys;
    for (const QList<QVariant>& args : spy) {
        const QModelIndex from = args.at(0).toModelIndex();
        const QModelIndex to = args.at(1).toModelIndex();
        if (from.row() != to.row() || from.column() != 0 || to.column() != StoryboardGridModel::ColumnCount - 1)
            keys << QStringLiteral("<bad range>");
        else
            keys << model.shotKey(from.row());
    }
    keys.sort();
    return keys;
}

} // namespace

class TestStoryboardGridModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bookendShotShowsItsEndKeyframe()
    {
        const gd::story::Story story = sbtest::bookend();
        StoryboardState state;
        sbtest::renderAll(story, state);
        StoryboardGridModel model;
        model.setUsesEndKeyframes(true);
        show(model, story, state);
        QVERIFY(role(model, kShot1, StoryboardGridModel::IsBookendRole).toBool());
        QVERIFY(!role(model, kShot3, StoryboardGridModel::IsBookendRole).toBool());
        QVERIFY(role(model, kShot3, StoryboardGridModel::EndKeyframeRole).toMap().isEmpty());
        QVariantMap end = role(model, kShot1, StoryboardGridModel::EndKeyframeRole).toMap();
        QCOMPARE(end.value(QStringLiteral("file")).toString(), kDir + QStringLiteral("/x/v-c1.png"));
        QCOMPARE(end.value(QStringLiteral("version")).toInt(), 1);
        QCOMPARE(end.value(QStringLiteral("chosen")).toInt(), 1);
        QCOMPARE(end.value(QStringLiteral("candidates")).toStringList().size(), 3);
        QVERIFY(end.value(QStringLiteral("approved")).toBool());
        QCOMPARE(end.value(QStringLiteral("freshness")).toString(), QStringLiteral("fresh"));
        QVERIFY(end.value(QStringLiteral("used")).toBool());
        const int row = model.rowOf(kShot1);
        QCOMPARE(model.data(model.index(row, StoryboardGridModel::EndKeyframeColumn)).toString(),
                 QStringLiteral("v1 #1, approved, fresh"));

        // The end keyframe's own change (withdrawn approval) updates that row only.
        QVERIFY(state.unapprove(ItemKind::EndKeyframe, kShot1).isNull());
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        show(model, story, state);
        QCOMPARE(changedKeys(changed, model), QStringList{kShot1});
        end = role(model, kShot1, StoryboardGridModel::EndKeyframeRole).toMap();
        QVERIFY(!end.value(QStringLiteral("approved")).toBool());
        // The start keyframe is still approved.
        QVERIFY(role(model, kShot1, StoryboardGridModel::ApprovedRole).toBool());
    }

    void rowsAreTheShotsInStoryOrder()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardGridModel model;
        show(model, story, StoryboardState{});
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(model.shotKey(0), kShot1);
        QCOMPARE(model.shotKey(4), QStringLiteral("scene-002/shot-01"));
        QCOMPARE(model.data(model.index(2, StoryboardGridModel::SceneColumn)).toString(), QStringLiteral("scene-001"));
        QCOMPARE(model.data(model.index(2, StoryboardGridModel::ShotColumn)).toString(), QStringLiteral("shot-03"));
        QCOMPARE(role(model, kShot3, StoryboardGridModel::DescriptionRole).toString(),
                 QStringLiteral("Mara and Tom argue (description)"));
        // Nothing rendered: the shot with Mara waits for her sheet; the empty stairs can render.
        QCOMPARE(role(model, kShot1, StoryboardGridModel::FreshnessRole).toString(), QStringLiteral("blocked"));
        QVERIFY(role(model, kShot1, StoryboardGridModel::FreshnessReasonsRole)
                    .toStringList()
                    .join(QLatin1Char(' '))
                    .contains(QLatin1String("Mara Voss")));
        QCOMPARE(role(model, QStringLiteral("scene-001/shot-04"), StoryboardGridModel::FreshnessRole).toString(),
                 QStringLiteral("missing"));
        QCOMPARE(role(model, kShot1, StoryboardGridModel::KeyframeFileRole).toString(), QString());
        QCOMPARE(role(model, kShot1, StoryboardGridModel::ClipStateRole).toString(), QStringLiteral("missing"));
    }

    void renderedShotShowsFilesJudgeAndApproval()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        // The judge scored the second candidate best; the operator kept its pick.
        {
            const StoryboardInputs inputs(story, state, sbtest::context());
            ImageVersion v;
            const CurrentInputs cur = inputs.keyframe(kShot1);
            v.inputHash = cur.hash;
            v.inputs = cur.inputs;
            v.profile = QStringLiteral("keyframe-sdxl");
            for (int k = 1; k <= 3; ++k) {
                JudgeVerdict verdict;
                verdict.score = k == 2 ? 8.5 : 4.0;
                verdict.reasons = k == 2 ? QStringLiteral("matches the description, Mara matches her sheet")
                                         : QStringLiteral("text in the corner");
                verdict.model = QStringLiteral("vision-7b");
                v.candidates.append(Candidate{QStringLiteral("keyframes/scene-001/shot-01/v2-c%1.png").arg(k),
                                              sbtest::fakeSha(QString::number(k)), 7 + k, std::nullopt, verdict, {}});
            }
            const int n = state.addKeyframeVersion(kShot1, v);
            QVERIFY(state.choose(ItemKind::Keyframe, kShot1, n, 2, ChosenBy::Judge).isNull());
        }
        StoryboardGridModel model;
        StoryboardGridModel::Estimates e;
        e.keyframeSecondsPerShot = 12;
        e.clipSecondsPerShot = 95;
        show(model, story, state, e);
        QCOMPARE(role(model, kShot1, StoryboardGridModel::SelectedVersionRole).toInt(), 2);
        QCOMPARE(role(model, kShot1, StoryboardGridModel::ChosenCandidateRole).toInt(), 2);
        QCOMPARE(role(model, kShot1, StoryboardGridModel::KeyframeFileRole).toString(),
                 kDir + QStringLiteral("/keyframes/scene-001/shot-01/v2-c2.png"));
        QCOMPARE(role(model, kShot1, StoryboardGridModel::CandidateFilesRole).toStringList().size(), 3);
        QCOMPARE(role(model, kShot1, StoryboardGridModel::JudgeScoreRole).toDouble(), 8.5);
        QCOMPARE(role(model, kShot1, StoryboardGridModel::CandidateScoresRole).toList().at(0).toDouble(), 4.0);
        QCOMPARE(role(model, kShot1, StoryboardGridModel::ChosenByRole).toString(), QStringLiteral("judge"));
        // A new version clears the approval: the operator approves what is selected now.
        QCOMPARE(role(model, kShot1, StoryboardGridModel::ApprovedRole).toBool(), false);
        QCOMPARE(role(model, kShot1, StoryboardGridModel::FreshnessRole).toString(), QStringLiteral("fresh"));
        const QModelIndex score = model.index(model.rowOf(kShot1), StoryboardGridModel::ScoreColumn);
        QCOMPARE(model.data(score).toString(), QStringLiteral("8.5"));
        QVERIFY(model.data(score, Qt::ToolTipRole).toString().contains(QLatin1String("Mara matches her sheet")));
        // The clip of shot 1 was made from the old keyframe: stale, kept.
        QCOMPARE(role(model, kShot1, StoryboardGridModel::ClipStateRole).toString(), QStringLiteral("stale"));
        // Shot 1 needs approval before video; shot 2 (approved, fresh, clip fresh) needs nothing.
        QCOMPARE(role(model, kShot1, StoryboardGridModel::EstimateRole).toString(), QString());
        QCOMPARE(role(model, QStringLiteral("scene-001/shot-02"), StoryboardGridModel::EstimateRole).toString(),
                 QString());
    }

    void estimateNamesTheShotsNextRender()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardGridModel model;
        StoryboardGridModel::Estimates e;
        e.keyframeSecondsPerShot = 45;
        show(model, story, StoryboardState{}, e);
        QCOMPARE(role(model, QStringLiteral("scene-001/shot-04"), StoryboardGridModel::EstimateRole).toString(),
                 QStringLiteral("keyframes ~45 s"));
        show(model, story, StoryboardState{}, {});
        QCOMPARE(role(model, QStringLiteral("scene-001/shot-04"), StoryboardGridModel::EstimateRole).toString(),
                 QStringLiteral("keyframes, GPU time unknown"));
    }

    void operatorOverrideChangesOnlyThatRow()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        StoryboardGridModel model;
        show(model, story, state);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        const int version = role(model, kShot3, StoryboardGridModel::SelectedVersionRole).toInt();
        QVERIFY(state.choose(ItemKind::Keyframe, kShot3, version, 3, ChosenBy::Operator).isNull());
        show(model, story, state);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(changedKeys(changed, model), QStringList{kShot3});
        QCOMPARE(role(model, kShot3, StoryboardGridModel::ChosenByRole).toString(), QStringLiteral("operator"));
        QCOMPARE(role(model, kShot3, StoryboardGridModel::ChosenCandidateRole).toInt(), 3);
        // The same snapshot again: nothing to tell the views.
        changed.clear();
        show(model, story, state);
        QCOMPARE(changed.count(), 0);
    }

    void editedSheetPromptMarksExactlyTheDependentShotsStale()
    {
        gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        sbtest::renderAll(story, state);
        StoryboardGridModel grid;
        StoryboardReferenceModel refs;
        show(grid, story, state);
        refs.refresh(story, state, reportFor(story, state), kDir);
        QSignalSpy changed(&grid, &QAbstractItemModel::dataChanged);
        QSignalSpy refsChanged(&refs, &QAbstractItemModel::dataChanged);

        story.characters[0].looks[0].referencePrompt += QStringLiteral(", scar on the left cheek");
        const StalenessReport report = reportFor(story, state);
        grid.refresh(story, state, report, kDir);
        refs.refresh(story, state, report, kDir);
        // The sheet is stale, and so is everything anchored on it: exactly the shots showing Mara in
        // the storm coat (not Tom's shot, not the empty stairs, not the dress look).
        QCOMPARE(refsChanged.count(), 1);
        QCOMPARE(refs.data(refs.index(refs.rowOf(kMaraCoat), 0), StoryboardReferenceModel::FreshnessRole).toString(),
                 QStringLiteral("stale"));
        QCOMPARE(refs.data(refs.index(refs.rowOf(kMaraCoat), 0), StoryboardReferenceModel::PromptRole).toString(),
                 story.characters[0].looks[0].referencePrompt);
        QCOMPARE(changedKeys(changed, grid), (QStringList{kShot1, kShot3}));
        QCOMPARE(role(grid, kShot1, StoryboardGridModel::FreshnessRole).toString(), QStringLiteral("stale"));
        QCOMPARE(role(grid, kShot3, StoryboardGridModel::FreshnessRole).toString(), QStringLiteral("stale"));
        QVERIFY(!role(grid, kShot1, StoryboardGridModel::FreshnessReasonsRole).toStringList().isEmpty());
        QCOMPARE(role(grid, QStringLiteral("scene-001/shot-02"), StoryboardGridModel::FreshnessRole).toString(),
                 QStringLiteral("fresh"));
        QCOMPARE(role(grid, kShot1, StoryboardGridModel::ClipStateRole).toString(), QStringLiteral("stale"));
        // Kept, not deleted: the stale tile still shows its keyframe.
        QVERIFY(!role(grid, kShot1, StoryboardGridModel::KeyframeFileRole).toString().isEmpty());
    }

    void referenceRowsAreCharacterLooksAndLocations()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        StoryboardReferenceModel refs;
        refs.refresh(story, state, reportFor(story, state), kDir, 20.0);
        QCOMPARE(refs.rowCount(), 4);
        QCOMPARE(refs.referenceKey(0), kMaraCoat);
        const QModelIndex dress = refs.index(1, 0);
        QCOMPARE(refs.data(dress, StoryboardReferenceModel::NameRole).toString(), QStringLiteral("Mara Voss"));
        QCOMPARE(refs.data(dress, StoryboardReferenceModel::LookRole).toString(), QStringLiteral("dress"));
        QCOMPARE(refs.data(dress, StoryboardReferenceModel::KindRole).toString(), QStringLiteral("character"));
        QCOMPARE(refs.data(dress, StoryboardReferenceModel::PromptRole).toString(),
                 QStringLiteral("character sheet, Mara Voss, grey dress"));
        // Tom has no looks: one "default" look with the character's prompt.
        QCOMPARE(refs.data(refs.index(2, 0), StoryboardReferenceModel::LookRole).toString(), QStringLiteral("default"));
        QCOMPARE(refs.data(refs.index(2, 0), StoryboardReferenceModel::PromptRole).toString(),
                 QStringLiteral("character sheet, Tom Reed, fisherman"));
        QCOMPARE(refs.data(refs.index(3, 0), StoryboardReferenceModel::KindRole).toString(), QStringLiteral("location"));
        QCOMPARE(refs.data(refs.index(3, 0), StoryboardReferenceModel::FreshnessRole).toString(),
                 QStringLiteral("missing"));
        QCOMPARE(refs.data(refs.index(3, 0), StoryboardReferenceModel::EstimateRole).toString(), QStringLiteral("~20 s"));

        sbtest::renderAll(story, state);
        refs.refresh(story, state, reportFor(story, state), kDir);
        const QModelIndex coat = refs.index(0, 0);
        QCOMPARE(refs.data(coat, StoryboardReferenceModel::ApprovedRole).toBool(), true);
        QCOMPARE(refs.data(coat, StoryboardReferenceModel::SheetFileRole).toString(), kDir + QStringLiteral("/x/v-c1.png"));
        QCOMPARE(refs.data(coat, StoryboardReferenceModel::CandidateFilesRole).toStringList().size(), 3);
        QCOMPARE(refs.data(coat, StoryboardReferenceModel::FreshnessRole).toString(), QStringLiteral("fresh"));
        QCOMPARE(refs.data(coat, StoryboardReferenceModel::EstimateRole).toString(), QString());
    }

    void storyWithOtherShotsResetsTheModel()
    {
        gd::story::Story story = sbtest::lighthouse();
        StoryboardGridModel model;
        show(model, story, StoryboardState{});
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        story.scenes[0].shots.removeLast();
        show(model, story, StoryboardState{});
        QCOMPARE(reset.count(), 1);
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.rowOf(QStringLiteral("scene-001/shot-04")), -1);
    }
};

QTEST_GUILESS_MAIN(TestStoryboardGridModel)
#include "tst_storyboardgridmodel.moc"
