// The storyboard metrics (issue 8) from judge results, figures computed by hand, and how the KPI report
// shows them: prompt alignment on keyframes, character identity, character count match, the sameness guard,
// UNMEASURED without a vision model or without a storyboard.
#include "quality/KpiEvaluator.h"
#include "quality/StoryboardMetrics.h"

#include <QJsonArray>
#include <QtTest>
#include <cmath>

using gd::quality::AlignmentVerdict;
using gd::quality::JudgeResults;
using gd::quality::KeyframeVerdict;
using gd::quality::KpiEvaluator;
using gd::quality::KpiResult;
using gd::quality::SamenessJudgement;
using gd::quality::SamenessVerdict;
using gd::quality::ShotJudgement;
using gd::quality::StoryboardMetrics;

namespace {

ShotJudgement shot(const char* scene, const char* id, int expected, int seen, QVector<int> identity,
                   double alignment)
{
    ShotJudgement s;
    s.sceneId = QLatin1String(scene);
    s.shotId = QLatin1String(id);
    s.expectedCharacters = expected;
    KeyframeVerdict v;
    v.characterCount = seen;
    v.score = 7;
    v.model = QStringLiteral("vlm-a");
    const QStringList names{QStringLiteral("Mara Voss"), QStringLiteral("Ivo Brandt")};
    for (int i = 0; i < identity.size(); ++i)
        v.identity.append({names.at(i), identity.at(i)});
    s.keyframe = v;
    AlignmentVerdict a;
    a.model = QStringLiteral("vlm-a");
    a.judge = QJsonObject{{QStringLiteral("Scene"), alignment},
                          {QStringLiteral("Action"), alignment},
                          {QStringLiteral("Camera"), alignment},
                          {QStringLiteral("Mean"), alignment}};
    s.alignment = a;
    return s;
}

ShotJudgement unjudged(const char* scene, const char* id, const QString& kind, const QString& why)
{
    ShotJudgement s;
    s.sceneId = QLatin1String(scene);
    s.shotId = QLatin1String(id);
    s.expectedCharacters = 1;
    KeyframeVerdict v;
    v.error = {kind, why, {}};
    s.keyframe = v;
    AlignmentVerdict a;
    a.error = {kind, why, {}};
    s.alignment = a;
    return s;
}

SamenessJudgement pair(const QString& a, const QString& b, bool identity, bool layout,
                       const QString& error = {})
{
    SamenessVerdict v;
    v.sameIdentity = identity;
    v.sameLayout = layout;
    v.model = QStringLiteral("vlm-a");
    if (!error.isEmpty())
        v.error = {QStringLiteral("timeout"), error, {}};
    return {a, b, v};
}

// The four shots of the worked example (docs/QUALITY_METRICS.md).
QVector<ShotJudgement> example()
{
    return {shot("scene-001", "shot-01", 2, 2, {4, 3}, 3.0), shot("scene-001", "shot-02", 1, 2, {2}, 2.0),
            shot("scene-002", "shot-01", 0, 0, {}, 4.0),
            unjudged("scene-002", "shot-02", QStringLiteral("timeout"),
                     QStringLiteral("No complete answer within 120 s"))};
}

QJsonObject artifactOf(const JudgeResults& r)
{
    QJsonObject q = r.run;
    q.insert(QStringLiteral("Unmeasured"), QJsonArray::fromStringList(r.unmeasured));
    QJsonArray scenes;
    for (const char* id : {"scene-001", "scene-002"})
        scenes.append(QJsonObject{{QStringLiteral("SceneId"), QLatin1String(id)},
                                  {QStringLiteral("QualityMetrics"), r.scenes.value(QLatin1String(id))}});
    return QJsonObject{{QStringLiteral("RunId"), QStringLiteral("20260101-100000")},
                       {QStringLiteral("QualityMetrics"), q},
                       {QStringLiteral("Scenes"), scenes}};
}

KpiResult kpi(const QVector<KpiResult>& rows, const QString& id)
{
    for (const KpiResult& k : rows)
        if (k.id == id)
            return k;
    return {};
}

} // namespace

class TstStoryboardMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countMatch_data()
    {
        QTest::addColumn<int>("seen");
        QTest::addColumn<int>("expected");
        QTest::addColumn<double>("match");
        QTest::newRow("exact") << 2 << 2 << 100.0;
        QTest::newRow("one missing of two") << 1 << 2 << 60.653066; // 100·e^-0.5
        QTest::newRow("one extra of two") << 3 << 2 << 60.653066;
        QTest::newRow("empty shot, empty frame") << 0 << 0 << 100.0;
        QTest::newRow("empty shot, one stray person") << 1 << 0 << 36.787944; // |1-0| / max(0,1)
        QTest::newRow("nobody of three") << 0 << 3 << 36.787944;
        QTest::newRow("five for one") << 5 << 1 << 1.8315639; // 100·e^-4
    }
    void countMatch()
    {
        QFETCH(int, seen);
        QFETCH(int, expected);
        QFETCH(double, match);
        QVERIFY2(std::fabs(StoryboardMetrics::countMatch(seen, expected) - match) < 1e-5,
                 qPrintable(QString::number(StoryboardMetrics::countMatch(seen, expected), 'g', 10)));
    }

    void samenessPairsAreConsecutiveShots()
    {
        const auto pairs = StoryboardMetrics::samenessPairs({QStringLiteral("scene-001/shot-01"),
                                                             QStringLiteral("scene-001/shot-02"),
                                                             QStringLiteral("scene-002/shot-01")});
        QCOMPARE(pairs.size(), 2);
        QCOMPARE(pairs.at(0),
                 qMakePair(QStringLiteral("scene-001/shot-01"), QStringLiteral("scene-001/shot-02")));
        QCOMPARE(pairs.at(1),
                 qMakePair(QStringLiteral("scene-001/shot-02"), QStringLiteral("scene-002/shot-01")));
        QVERIFY(StoryboardMetrics::samenessPairs({QStringLiteral("scene-001/shot-01")}).isEmpty());
    }

    void workedExample()
    {
        const QString k1 = QStringLiteral("scene-001/shot-01"), k2 = QStringLiteral("scene-001/shot-02"),
                      k3 = QStringLiteral("scene-002/shot-01"), k4 = QStringLiteral("scene-002/shot-02");
        const JudgeResults r =
            StoryboardMetrics::compute(example(), {pair(k1, k2, true, true), pair(k2, k3, true, false),
                                                   pair(k3, k4, false, false, QStringLiteral("no answer"))});
        // Alignment: shots 3.0, 2.0, 4.0 → mean 3.0; scene-001 min 2.0.
        QCOMPARE(r.run.value(QStringLiteral("KeyframeAlignmentJudgeMean")).toDouble(), 3.0);
        QCOMPARE(r.run.value(QStringLiteral("KeyframeAlignmentJudgeShots")).toInt(), 3);
        QCOMPARE(r.run.value(QStringLiteral("KeyframeAlignmentJudgeModel")).toString(),
                 QStringLiteral("vlm-a"));
        // Identity: judgments 4, 3 (shot 1), 2 (shot 2) → 3.0 over 3.
        QCOMPARE(r.run.value(QStringLiteral("CharacterIdentityMean")).toDouble(), 3.0);
        QCOMPARE(r.run.value(QStringLiteral("CharacterIdentityJudgments")).toInt(), 3);
        QCOMPARE(r.run.value(QStringLiteral("CharacterIdentityModel")).toString(), QStringLiteral("vlm-a"));
        // Count: 100 (2 of 2), 36.788 (2 for 1), 100 (0 for 0) → 78.929.
        QVERIFY(std::fabs(r.run.value(QStringLiteral("CharacterCountMatch")).toDouble() - 78.929315) < 1e-5);
        QCOMPARE(r.run.value(QStringLiteral("CharacterCountShots")).toInt(), 3);
        // Sameness: two pairs judged, one flagged; the third pair could not be judged.
        QCOMPARE(r.run.value(QStringLiteral("SamenessFlaggedPairs")).toInt(), 1);
        QCOMPARE(r.run.value(QStringLiteral("SamenessPairsJudged")).toInt(), 2);
        QCOMPARE(r.run.value(QStringLiteral("SamenessFlagged")).toArray(),
                 QJsonArray{QString(k1 + QStringLiteral(" ~ ") + k2)});
        QCOMPARE(r.run.value(QStringLiteral("SamenessModel")).toString(), QStringLiteral("vlm-a"));

        const QJsonObject s1 = r.scenes.value(QStringLiteral("scene-001"));
        QCOMPARE(s1.value(QStringLiteral("KeyframeAlignmentJudgeMin")).toDouble(), 2.0);
        QCOMPARE(s1.value(QStringLiteral("KeyframeAlignmentJudgeMean")).toDouble(), 2.5);
        QCOMPARE(s1.value(QStringLiteral("CharacterIdentityMean")).toDouble(), 3.0);
        QVERIFY(std::fabs(s1.value(QStringLiteral("CharacterCountMatch")).toDouble() - 68.393972) < 1e-5);
        const QJsonObject shot2 =
            s1.value(QStringLiteral("Shots")).toObject().value(QStringLiteral("shot-02")).toObject();
        QCOMPARE(shot2.value(QStringLiteral("CharacterCountSeen")).toInt(), 2);
        QCOMPARE(shot2.value(QStringLiteral("CharacterCountExpected")).toInt(), 1);
        QCOMPARE(shot2.value(QStringLiteral("CharacterIdentity"))
                     .toObject()
                     .value(QStringLiteral("Mara Voss"))
                     .toInt(),
                 2);
        QCOMPARE(shot2.value(QStringLiteral("KeyframeJudgeModel")).toString(), QStringLiteral("vlm-a"));
        const QJsonObject s2 = r.scenes.value(QStringLiteral("scene-002"));
        QVERIFY(!s2.contains(QStringLiteral("CharacterIdentityMean"))); // nobody to identify there
        QCOMPARE(s2.value(QStringLiteral("CharacterCountMatch")).toDouble(), 100.0);

        const QString unmeasured = r.unmeasured.join(QLatin1Char('\n'));
        QVERIFY2(unmeasured.contains(
                     QLatin1String("KeyframeJudge[scene-002/shot-02]: No complete answer within 120 s")),
                 qPrintable(unmeasured));
        QVERIFY(unmeasured.contains(QLatin1String("KeyframeAlignmentJudge[scene-002/shot-02]")));
        QVERIFY(
            unmeasured.contains(QLatin1String("Sameness[scene-002/shot-01 ~ scene-002/shot-02]: no answer")));
        QCOMPARE(r.unmeasured.size(), 3);

        // The KPI report: alignment 3.0 and identity 3.0 sit on their thresholds (WARN); count 78.9 < 85
        // fails and names scene-001 (68.4); one near-identical pair fails the sameness guard and is named.
        const auto rows = KpiEvaluator::evaluate({artifactOf(r)});
        const KpiResult alignment = kpi(rows, QStringLiteral("keyframe-alignment-judge"));
        QCOMPARE(alignment.status, QStringLiteral("WARN"));
        QCOMPARE(*alignment.value, 3.0);
        QVERIFY(alignment.failingScenes.isEmpty()); // scene-001's worst shot is 2.0: not below 2.0
        QCOMPARE(kpi(rows, QStringLiteral("character-identity")).status, QStringLiteral("WARN"));
        const KpiResult count = kpi(rows, QStringLiteral("character-count-match"));
        QCOMPARE(count.status, QStringLiteral("FAIL"));
        QCOMPARE(count.failingScenes, QStringList{QStringLiteral("scene-001")});
        const KpiResult same = kpi(rows, QStringLiteral("sameness-guard"));
        QCOMPARE(same.status, QStringLiteral("FAIL"));
        QCOMPARE(*same.value, 1.0);
        QCOMPARE(same.failingScenes, QStringList{QString(k1 + QStringLiteral(" ~ ") + k2)});
        QVERIFY(KpiEvaluator::anyFail(rows));
        QVERIFY(KpiEvaluator::table(rows).contains(QLatin1String("Sameness guard")));
    }

    void worstShotBelowTwoFailsAlignment()
    {
        const JudgeResults r = StoryboardMetrics::compute({shot("scene-001", "shot-01", 1, 1, {4}, 4.0),
                                                           shot("scene-001", "shot-02", 1, 1, {4}, 1.5),
                                                           shot("scene-002", "shot-01", 1, 1, {4}, 4.0)},
                                                          {});
        const KpiResult k =
            kpi(KpiEvaluator::evaluate({artifactOf(r)}), QStringLiteral("keyframe-alignment-judge"));
        QCOMPARE(*k.value, 3.1666666666666665);     // (4 + 1.5 + 4) / 3 passes the mean ...
        QCOMPARE(k.status, QStringLiteral("FAIL")); // ... but no scene may have a shot below 2.0
        QCOMPARE(k.failingScenes, QStringList{QStringLiteral("scene-001")});
        QCOMPARE(kpi(KpiEvaluator::evaluate({artifactOf(r)}), QStringLiteral("character-identity")).status,
                 QStringLiteral("PASS"));
    }

    void noVisionModelIsUnmeasured()
    {
        const QString why = QStringLiteral("no vision model: The LLM server lists no vision-capable model");
        const JudgeResults r =
            StoryboardMetrics::compute({unjudged("scene-001", "shot-01", QStringLiteral("no_model"), why),
                                        unjudged("scene-001", "shot-02", QStringLiteral("no_model"), why)},
                                       {pair(QStringLiteral("scene-001/shot-01"),
                                             QStringLiteral("scene-001/shot-02"), false, false, why)});
        for (const char* key : {"KeyframeAlignmentJudgeMean", "CharacterIdentityMean", "CharacterCountMatch",
                                "SamenessFlaggedPairs"}) {
            QVERIFY2(r.run.contains(QLatin1String(key)) && r.run.value(QLatin1String(key)).isNull(), key);
            QVERIFY2(r.unmeasured.contains(QLatin1String(key) + QStringLiteral(": ") + why), key);
        }
        QVERIFY(!r.run.contains(QStringLiteral("CharacterIdentityModel")));
        const auto rows = KpiEvaluator::evaluate({artifactOf(r)});
        for (const char* id :
             {"keyframe-alignment-judge", "character-identity", "character-count-match", "sameness-guard"}) {
            const KpiResult k = kpi(rows, QLatin1String(id));
            QCOMPARE(k.status, QStringLiteral("UNMEASURED"));
            QVERIFY2(k.reason.startsWith(QLatin1String("no vision model")), qPrintable(k.reason));
        }
    }

    void runWithoutStoryboard()
    {
        // An ordinary run: the storyboard rows are there (the dashboard shows a tile for each) and say why.
        const auto rows =
            KpiEvaluator::evaluate({QJsonObject{{QStringLiteral("RunId"), QStringLiteral("r1")},
                                                {QStringLiteral("QualityMetrics"), QJsonObject{}},
                                                {QStringLiteral("Scenes"), QJsonArray{}}}});
        for (const char* id :
             {"keyframe-alignment-judge", "character-identity", "character-count-match", "sameness-guard"}) {
            const KpiResult k = kpi(rows, QLatin1String(id));
            QCOMPARE(k.id, QLatin1String(id));
            QCOMPARE(k.status, QStringLiteral("UNMEASURED"));
            QCOMPARE(k.reason, QStringLiteral("no storyboard in this run"));
        }
        const JudgeResults empty = StoryboardMetrics::compute({}, {});
        QVERIFY(empty.unmeasured.contains(QStringLiteral("CharacterIdentityMean: no storyboard shots")));
        QVERIFY(empty.unmeasured.contains(
            QStringLiteral("SamenessFlaggedPairs: fewer than two shots to compare")));
    }

    void shotsWithoutSheetedCharactersMeasureCountOnly()
    {
        const JudgeResults r = StoryboardMetrics::compute({shot("scene-001", "shot-01", 0, 1, {}, 3.0)}, {});
        QVERIFY(std::fabs(r.run.value(QStringLiteral("CharacterCountMatch")).toDouble() - 36.787944) < 1e-5);
        QVERIFY(r.run.value(QStringLiteral("CharacterIdentityMean")).isNull());
        QVERIFY(r.unmeasured.contains(QStringLiteral(
            "CharacterIdentityMean: no judged shot shows a character with an approved sheet")));
    }

    void modelsAreRecordedTogether()
    {
        QVector<ShotJudgement> shots{shot("scene-001", "shot-01", 1, 1, {4}, 3.0),
                                     shot("scene-001", "shot-02", 1, 1, {3}, 3.0)};
        shots[1].keyframe->model = QStringLiteral("vlm-b");
        const JudgeResults r = StoryboardMetrics::compute(shots, {});
        // Scores of different models are not comparable: the record names both.
        QCOMPARE(r.run.value(QStringLiteral("CharacterIdentityModel")).toString(),
                 QStringLiteral("vlm-a, vlm-b"));
    }
};

QTEST_GUILESS_MAIN(TstStoryboardMetrics)
#include "tst_storyboardmetrics.moc"
