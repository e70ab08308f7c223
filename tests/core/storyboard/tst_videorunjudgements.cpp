// The storyboard verdicts a video run carries into its quality step: identity and count from the
// selected keyframe's stored verdict, alignment and sameness from what the keyframe stage recorded —
// only while recorded on the very keyframe bytes selected now — keyed by the run's scene ids.

#include "StoryboardTestStory.h"
#include "common/AtomicFile.h"
#include "storyboard/VideoRunJudgements.h"

#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

using namespace gd::storyboard;
using gd::quality::StoryboardJudgements;

namespace {

const QString kMara = QStringLiteral("scene-001/shot-01");
const QString kTom = QStringLiteral("scene-001/shot-02");
const QString kBoth = QStringLiteral("scene-001/shot-03");

// A selected keyframe whose one candidate has these bytes and, when `judged`, a stored verdict.
void keyframe(StoryboardState& state, const QString& key, const QString& sha, bool judged)
{
    ImageVersion v;
    v.inputHash = sbtest::fakeSha(key);
    Candidate c{QStringLiteral("kf/%1.png").arg(sha.left(8)), sha, 7, std::nullopt, std::nullopt, {}};
    if (judged) {
        gd::quality::KeyframeVerdict verdict;
        verdict.score = 8;
        verdict.descriptionMatch = 3;
        verdict.characterCount = 2;
        verdict.identity = {{QStringLiteral("Mara Voss"), 3}};
        verdict.model = QStringLiteral("vision-b");
        JudgeVerdict j;
        j.raw = verdict.toJson();
        j.characterCount = 2;
        c.judge = j;
    }
    v.candidates = {c};
    const int n = state.addKeyframeVersion(key, v);
    state.choose(ItemKind::Keyframe, key, n, 1, ChosenBy::Judge);
}

// What the keyframe stage recorded: alignment on each shot, sameness on consecutive shots.
StoryboardJudgements recordedFor(const QHash<QString, QString>& shaOf, const QStringList& order)
{
    StoryboardJudgements r;
    for (const QString& key : order) {
        gd::quality::ShotJudgement s;
        s.sceneId = key.section(QLatin1Char('/'), 0, 0);
        s.shotId = key.section(QLatin1Char('/'), 1);
        s.keyframeSha256 = shaOf.value(key);
        gd::quality::AlignmentVerdict a;
        a.judge = QJsonObject{{QStringLiteral("Mean"), 3.5}};
        a.model = QStringLiteral("vision-b");
        s.alignment = a;
        gd::quality::KeyframeVerdict none;
        none.error = {
            QStringLiteral("no_model"), QStringLiteral("no vision model: the server lists none"), {}};
        s.keyframe = none;
        r.shots.append(s);
    }
    for (const auto& [a, b] : gd::quality::StoryboardMetrics::samenessPairs(order)) {
        gd::quality::SamenessVerdict v;
        v.sameIdentity = v.sameLayout = true;
        v.model = QStringLiteral("vision-b");
        r.pairs.append({a, b, v});
    }
    return r;
}

VideoRenderStory renderOf(const QStringList& keys)
{
    VideoRenderStory r;
    for (int i = 0; i < keys.size(); ++i) {
        gd::story::StoryScene s;
        s.id = QStringLiteral("scene-%1").arg(i + 1, 3, 10, QLatin1Char('0'));
        r.story.scenes.append(s);
        WorkItem w;
        w.kind = ItemKind::Clip;
        w.key = keys.at(i);
        r.items.append(w);
    }
    return r;
}

} // namespace

class TstVideoRunJudgements : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void verdictsOfTheRenderedShots()
    {
        const gd::story::Story story = sbtest::lighthouse();
        StoryboardState state;
        const QHash<QString, QString> sha{{kMara, sbtest::fakeSha(QStringLiteral("a"))},
                                          {kTom, sbtest::fakeSha(QStringLiteral("b"))},
                                          {kBoth, sbtest::fakeSha(QStringLiteral("c"))}};
        keyframe(state, kMara, sha.value(kMara), true);
        keyframe(state, kTom, sha.value(kTom), false);
        // Re-rendered after the keyframe stage judged it: the recorded verdicts are on other bytes.
        keyframe(state, kBoth, sbtest::fakeSha(QStringLiteral("c2")), true);
        const StoryboardJudgements recorded = recordedFor(sha, {kMara, kTom, kBoth});
        // Rendered in another order than the story's, plus a shot without any keyframe (skipped).
        const StoryboardJudgements j = VideoRunJudgements::build(
            story, state, renderOf({kBoth, kMara, QStringLiteral("scene-002/shot-01"), kTom}), recorded);

        QCOMPARE(j.shots.size(), 3);
        const gd::quality::ShotJudgement& both = j.shots.at(0);
        QCOMPARE(both.sceneId, QStringLiteral("scene-001")); // the run's scene, not the story's
        QCOMPARE(both.shotId, kBoth);
        QCOMPARE(both.expectedCharacters, 2);
        QVERIFY(both.keyframe && both.keyframe->ok());
        QVERIFY(both.alignment && !both.alignment->ok());
        QVERIFY(both.alignment->error.message.contains(QStringLiteral("recorded no alignment verdict")));

        const gd::quality::ShotJudgement& mara = j.shots.at(1);
        QCOMPARE(mara.sceneId, QStringLiteral("scene-002"));
        QVERIFY(mara.keyframe && mara.keyframe->ok());
        QCOMPARE(mara.keyframe->characterCount, 2);
        QCOMPARE(mara.keyframe->model, QStringLiteral("vision-b"));
        QVERIFY(mara.alignment && mara.alignment->ok());

        // No stored verdict: the keyframe stage's reason is kept.
        const gd::quality::ShotJudgement& tom = j.shots.at(2);
        QCOMPARE(tom.sceneId, QStringLiteral("scene-004"));
        QVERIFY(tom.keyframe && !tom.keyframe->ok());
        QCOMPARE(tom.keyframe->error.message, QStringLiteral("no vision model: the server lists none"));

        // Pairs in story order: Mara~Tom recorded on these bytes; Tom~Both recorded on older bytes.
        QCOMPARE(j.pairs.size(), 2);
        QCOMPARE(j.pairs.at(0).shotA, kMara);
        QCOMPARE(j.pairs.at(0).shotB, kTom);
        QVERIFY(j.pairs.at(0).verdict.nearIdentical());
        QCOMPARE(j.pairs.at(1).shotB, kBoth);
        QVERIFY(!j.pairs.at(1).verdict.ok());

        // Without any recorded judgements the alignment and sameness are unmeasured, identity is not.
        const StoryboardJudgements bare =
            VideoRunJudgements::build(story, state, renderOf({kMara}), std::nullopt);
        QCOMPARE(bare.shots.size(), 1);
        QVERIFY(bare.shots.at(0).keyframe->ok());
        QVERIFY(!bare.shots.at(0).alignment->ok());
        QVERIFY(bare.pairs.isEmpty());
    }

    void recordedVerdictsRoundTrip()
    {
        QTemporaryDir dir;
        gd::Error e;
        QVERIFY(!VideoRunJudgements::recorded(dir.path(), &e));
        QVERIFY(e.isNull());
        const QString sha = sbtest::fakeSha(QStringLiteral("a"));
        const StoryboardJudgements written = recordedFor({{kMara, sha}, {kTom, sha}}, {kMara, kTom});
        const QJsonObject doc{{QStringLiteral("run"), QJsonObject{}},
                              {QStringLiteral("judgements"), written.toJson()}};
        const QString path = QDir(dir.path()).filePath(VideoRunJudgements::metricsFileName());
        QVERIFY(gd::AtomicFile::write(path, QJsonDocument(doc).toJson()).isNull());
        const auto read = VideoRunJudgements::recorded(dir.path(), &e);
        QVERIFY2(e.isNull(), qPrintable(e.message));
        QVERIFY(read);
        QCOMPARE(read->toJson(), written.toJson());

        // A hand-edited file with a broken verdict is an error naming the file, not a crash.
        QJsonObject broken = written.toJson();
        QJsonArray pairs = broken.value(QStringLiteral("pairs")).toArray();
        QJsonObject pair = pairs.at(0).toObject();
        pair.insert(QStringLiteral("sameLayout"), QStringLiteral("yes"));
        pairs[0] = pair;
        broken.insert(QStringLiteral("pairs"), pairs);
        QVERIFY(gd::AtomicFile::write(
                    path, QJsonDocument(QJsonObject{{QStringLiteral("judgements"), broken}}).toJson())
                    .isNull());
        QVERIFY(!VideoRunJudgements::recorded(dir.path(), &e));
        QVERIFY2(e.message.contains(VideoRunJudgements::metricsFileName()) &&
                     e.message.contains(QStringLiteral("sameLayout")),
                 qPrintable(e.message));
    }
};

QTEST_MAIN(TstVideoRunJudgements)
#include "tst_videorunjudgements.moc"
