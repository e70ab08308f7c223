#include "quality/KpiEvaluator.h"

#include <QJsonArray>
#include <QTest>

using gd::quality::KpiEvaluator;
using gd::quality::KpiResult;

namespace {

// A minimal artifact: one scene per entry of `frames`, complete enough for the pipeline KPIs.
QJsonObject artifact(const QString& runId, const QJsonObject& quality, const QVector<int>& frames,
                     const QVector<QJsonObject>& sceneQuality = {})
{
    QJsonArray scenes;
    for (int i = 0; i < frames.size(); ++i) {
        QJsonObject gpu{{QStringLiteral("VramDeltaMB"), -1000.0 * (i + 1)}, {QStringLiteral("VramPeakUsedMB"), 9000.0}};
        QJsonObject t{{QStringLiteral("DurationSeconds"), 10.0 * (i + 1)},
                      {QStringLiteral("DoneMarkerDetected"), true},
                      {QStringLiteral("ForcedCopyTriggered"), false},
                      {QStringLiteral("ExecutionSuccessDetected"), frames.at(i) > 0},
                      {QStringLiteral("GPU"), gpu}};
        scenes.append(QJsonObject{{QStringLiteral("SceneId"), QStringLiteral("scene-%1").arg(i + 1, 3, 10, QLatin1Char('0'))},
                                  {QStringLiteral("FrameCount"), frames.at(i)},
                                  {QStringLiteral("FrameFloor"), 25},
                                  {QStringLiteral("AttemptsRun"), 1},
                                  {QStringLiteral("Telemetry"), t},
                                  {QStringLiteral("QualityMetrics"), i < sceneQuality.size() ? sceneQuality.at(i) : QJsonObject{}}});
    }
    return QJsonObject{{QStringLiteral("RunId"), runId}, {QStringLiteral("QualityMetrics"), quality}, {QStringLiteral("Scenes"), scenes}};
}

const KpiResult* find(const QVector<KpiResult>& results, const QString& id)
{
    for (const KpiResult& k : results)
        if (k.id == id)
            return &k;
    return nullptr;
}

} // namespace

class TstKpiEvaluator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void thresholds_data()
    {
        QTest::addColumn<QString>("rule");
        QTest::addColumn<double>("value");
        QTest::addColumn<double>("threshold");
        QTest::addColumn<QString>("status");
        QTest::newRow("≥ well above") << QStringLiteral("atLeast") << 0.95 << 0.85 << QStringLiteral("PASS");
        QTest::newRow("≥ exactly at") << QStringLiteral("atLeast") << 0.85 << 0.85 << QStringLiteral("WARN");
        QTest::newRow("≥ within 5 %") << QStringLiteral("atLeast") << 0.89 << 0.85 << QStringLiteral("WARN");
        QTest::newRow("≥ at 5 % edge") << QStringLiteral("atLeast") << 0.8925 << 0.85 << QStringLiteral("PASS");
        QTest::newRow("≥ below") << QStringLiteral("atLeast") << 0.8499 << 0.85 << QStringLiteral("FAIL");
        QTest::newRow("≤ well below") << QStringLiteral("atMost") << 50.0 << 60.0 << QStringLiteral("PASS");
        QTest::newRow("≤ within 5 %") << QStringLiteral("atMost") << 58.0 << 60.0 << QStringLiteral("WARN");
        QTest::newRow("≤ exactly at") << QStringLiteral("atMost") << 60.0 << 60.0 << QStringLiteral("WARN");
        QTest::newRow("≤ above") << QStringLiteral("atMost") << 60.1 << 60.0 << QStringLiteral("FAIL");
        QTest::newRow("≤ 0 at 0") << QStringLiteral("atMost") << 0.0 << 0.0 << QStringLiteral("PASS");
        QTest::newRow("< below") << QStringLiteral("below") << 0.0 << 0.05 << QStringLiteral("PASS");
        QTest::newRow("< within 5 %") << QStringLiteral("below") << 0.049 << 0.05 << QStringLiteral("WARN");
        QTest::newRow("< at") << QStringLiteral("below") << 0.05 << 0.05 << QStringLiteral("FAIL");
    }

    void thresholds()
    {
        QFETCH(QString, rule);
        QFETCH(double, value);
        QFETCH(double, threshold);
        QFETCH(QString, status);
        const QString got = rule == QStringLiteral("atLeast") ? KpiEvaluator::statusAtLeast(value, threshold)
                            : rule == QStringLiteral("atMost") ? KpiEvaluator::statusAtMost(value, threshold)
                                                                : KpiEvaluator::statusBelow(value, threshold);
        QCOMPARE(got, status);
    }

    void fullShareIsPass()
    {
        // 100 % against "≥ 99 %" is inside the 5 % band but at the attainable maximum: PASS.
        QCOMPARE(KpiEvaluator::statusAtLeast(1.0, 0.99, 1.0), QStringLiteral("PASS"));
        QCOMPARE(KpiEvaluator::statusAtLeast(0.995, 0.99, 1.0), QStringLiteral("WARN"));
    }

    void storyKpis_data()
    {
        QTest::addColumn<QJsonObject>("quality");
        QTest::addColumn<QString>("id");
        QTest::addColumn<QString>("status");
        auto q = [](std::initializer_list<QPair<const char*, QJsonValue>> kv) {
            QJsonObject o;
            for (const auto& [k, v] : kv)
                o.insert(QString::fromLatin1(k), v);
            return o;
        };
        QTest::newRow("linkage pass") << q({{"EntityLinkageScore", 0.95}}) << QStringLiteral("entity-linkage") << QStringLiteral("PASS");
        QTest::newRow("linkage warn") << q({{"EntityLinkageScore", 0.86}}) << QStringLiteral("entity-linkage") << QStringLiteral("WARN");
        QTest::newRow("linkage fail") << q({{"EntityLinkageScore", 0.5}}) << QStringLiteral("entity-linkage") << QStringLiteral("FAIL");
        QTest::newRow("diversity H rule") << q({{"SceneDiversityEntropy", 2.2}, {"SceneDiversityMaxPossible", 3.0},
                                               {"SceneDiversityNormalized", 0.73}, {"SceneDiversityMaxRepetitionRatio", 0.2}})
                                          << QStringLiteral("scene-diversity") << QStringLiteral("PASS");
        QTest::newRow("diversity H low") << q({{"SceneDiversityEntropy", 1.9}, {"SceneDiversityMaxPossible", 3.0},
                                              {"SceneDiversityNormalized", 0.63}, {"SceneDiversityMaxRepetitionRatio", 0.2}})
                                         << QStringLiteral("scene-diversity") << QStringLiteral("FAIL");
        // MaxPossible < 2: the normalised rule applies (H 1.0 of 1.0 passes).
        QTest::newRow("diversity normalized rule") << q({{"SceneDiversityEntropy", 1.0}, {"SceneDiversityMaxPossible", 1.0},
                                                        {"SceneDiversityNormalized", 1.0}, {"SceneDiversityMaxRepetitionRatio", 0.5}})
                                                   << QStringLiteral("scene-diversity") << QStringLiteral("FAIL"); // repetition 0.5 > 0.4
        QTest::newRow("diversity repetition") << q({{"SceneDiversityEntropy", 2.5}, {"SceneDiversityMaxPossible", 3.0},
                                                   {"SceneDiversityNormalized", 0.83}, {"SceneDiversityMaxRepetitionRatio", 0.39}})
                                              << QStringLiteral("scene-diversity") << QStringLiteral("WARN");
        QTest::newRow("llm time warn") << q({{"LlmGenerationSeconds", 88.0}}) << QStringLiteral("llm-generation-time") << QStringLiteral("WARN");
        QTest::newRow("llm time fail") << q({{"LlmGenerationSeconds", 91.0}}) << QStringLiteral("llm-generation-time") << QStringLiteral("FAIL");
        QTest::newRow("human coherence unmeasured")
            << q({{"HumanCoherenceScore", QJsonValue::Null}, {"Unmeasured", QJsonArray{QStringLiteral("HumanCoherenceScore: no ratings yet")}}})
            << QStringLiteral("human-coherence") << QStringLiteral("UNMEASURED");
        QTest::newRow("semantic gate on margin") << q({{"SemanticAlignmentMargin", 0.2}, {"SemanticAlignmentRetrievalTop1", 1.0},
                                                      {"SemanticAlignmentMean", 0.9}})
                                                 << QStringLiteral("semantic-alignment") << QStringLiteral("PASS");
        QTest::newRow("semantic absolute only warns") << q({{"SemanticAlignmentMargin", 0.2}, {"SemanticAlignmentRetrievalTop1", 1.0},
                                                           {"SemanticAlignmentMean", 0.4}})
                                                      << QStringLiteral("semantic-alignment") << QStringLiteral("WARN");
        QTest::newRow("semantic top1 fails") << q({{"SemanticAlignmentMargin", 0.2}, {"SemanticAlignmentRetrievalTop1", 0.5},
                                                  {"SemanticAlignmentMean", 0.9}})
                                             << QStringLiteral("semantic-alignment") << QStringLiteral("FAIL");
        QTest::newRow("planner first try") << q({{"PlannerFirstTryValid", true}, {"PlannerValidAfterRetry", true}, {"LlmModel", QStringLiteral("m")}})
                                           << QStringLiteral("planner-first-try[m]") << QStringLiteral("PASS");
    }

    void storyKpis()
    {
        QFETCH(QJsonObject, quality);
        QFETCH(QString, id);
        QFETCH(QString, status);
        const auto results = KpiEvaluator::evaluate({artifact(QStringLiteral("r1"), quality, {25, 25})});
        const KpiResult* k = find(results, id);
        QVERIFY2(k, qPrintable(id));
        QCOMPARE(k->status, status);
        if (status == QStringLiteral("UNMEASURED")) {
            QVERIFY(!k->value.has_value());
            QCOMPARE(k->reason, QStringLiteral("no ratings yet"));
        }
    }

    void sceneLevelFailuresNameScenes()
    {
        const QJsonObject q{{QStringLiteral("PromptAlignmentJudgeMean"), 3.5}};
        const QJsonObject good{{QStringLiteral("PromptAlignmentJudge"), QJsonObject{{QStringLiteral("Mean"), 3.5}}},
                               {QStringLiteral("PromptTokenCount"), 300},
                               {QStringLiteral("BlankFrameRatio"), 0.0}, {QStringLiteral("BlankFrames"), 0}, {QStringLiteral("FramesChecked"), 25}};
        const QJsonObject bad{{QStringLiteral("PromptAlignmentJudge"), QJsonObject{{QStringLiteral("Mean"), 1.5}}},
                              {QStringLiteral("PromptTokenCount"), 120},
                              {QStringLiteral("BlankFrameRatio"), 0.2}, {QStringLiteral("BlankFrames"), 2}, {QStringLiteral("FramesChecked"), 10}};
        const auto results = KpiEvaluator::evaluate({artifact(QStringLiteral("r1"), q, {25, 10}, {good, bad})});
        for (const char* id : {"prompt-alignment-judge", "prompt-length", "blank-frames", "frames-per-scene"}) {
            const KpiResult* k = find(results, QString::fromLatin1(id));
            QVERIFY(k);
            QCOMPARE(k->status, QStringLiteral("FAIL"));
            QCOMPARE(k->failingScenes, QStringList{QStringLiteral("scene-002")});
        }
        QCOMPARE(*find(results, QStringLiteral("frames-per-scene"))->value, 17.5);
        QVERIFY(KpiEvaluator::anyFail(results));
        const QString table = KpiEvaluator::table(results);
        QVERIFY(table.contains(QStringLiteral("scene-002")));
        QCOMPARE(KpiEvaluator::toJson(results).size(), results.size());
    }

    void pipelineOverAllRunsAndScenes()
    {
        // Two runs: 4 scenes of which one has no frames → zero-frame rate 25 % (FAIL), scenes named by run.
        const auto results = KpiEvaluator::evaluate(
            {artifact(QStringLiteral("r1"), {}, {25, 25}), artifact(QStringLiteral("r2"), {}, {25, 0})});
        const KpiResult* zero = find(results, QStringLiteral("zero-frame-rate"));
        QCOMPARE(*zero->value, 0.25);
        QCOMPARE(zero->status, QStringLiteral("FAIL"));
        QCOMPARE(zero->failingScenes, QStringList{QStringLiteral("r2/scene-002")});
        // Durations 10, 20, 10, 20 → P50 = 10 (nearest rank), P95 = 20.
        QCOMPARE(*find(results, QStringLiteral("duration-p50"))->value, 10.0);
        QCOMPARE(*find(results, QStringLiteral("duration-p95"))->value, 20.0);
        QCOMPARE(*find(results, QStringLiteral("vram-delta"))->value, 2000.0);
        QCOMPARE(find(results, QStringLiteral("done-marker-rate"))->status, QStringLiteral("PASS"));
        // The minimal telemetry lacks most contract fields: completeness fails, never passes silently.
        QCOMPARE(find(results, QStringLiteral("telemetry-completeness"))->status, QStringLiteral("FAIL"));
    }

    void plannerPerModel()
    {
        QVector<QJsonObject> runs;
        for (int i = 0; i < 20; ++i)
            runs.append(artifact(QStringLiteral("a%1").arg(i),
                                 {{QStringLiteral("LlmModel"), QStringLiteral("model-a")},
                                  {QStringLiteral("PlannerFirstTryValid"), i != 0},
                                  {QStringLiteral("PlannerValidAfterRetry"), true}},
                                 {25}));
        runs.append(artifact(QStringLiteral("b"), {{QStringLiteral("LlmModel"), QStringLiteral("model-b")},
                                                   {QStringLiteral("PlannerFirstTryValid"), false},
                                                   {QStringLiteral("PlannerValidAfterRetry"), false}},
                             {25}));
        const auto results = KpiEvaluator::evaluate(runs);
        QCOMPARE(*find(results, QStringLiteral("planner-first-try[model-a]"))->value, 0.95);
        QCOMPARE(find(results, QStringLiteral("planner-first-try[model-a]"))->status, QStringLiteral("WARN"));
        QCOMPARE(find(results, QStringLiteral("planner-after-retry[model-a]"))->status, QStringLiteral("PASS"));
        QCOMPARE(find(results, QStringLiteral("planner-after-retry[model-b]"))->status, QStringLiteral("FAIL"));
        QCOMPARE(find(results, QStringLiteral("planner-after-retry[model-b]"))->failingScenes, QStringList{QStringLiteral("b")});
    }
};

QTEST_GUILESS_MAIN(TstKpiEvaluator)
#include "tst_kpievaluator.moc"
