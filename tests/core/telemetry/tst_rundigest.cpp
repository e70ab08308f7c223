#include "telemetry/RunDigest.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using gd::telemetry::RunDigest;
using gd::telemetry::SceneDigest;

// The per-run digest the history database stores for sweeps: read from an artifact the way the
// sweep and KPI passes read it, and stored and read back without losing anything.
class TestRunDigest : public QObject
{
    Q_OBJECT

    static QJsonObject fullTelemetry()
    {
        QJsonObject t;
        for (const QString& field : RunDigest::contractFields())
            if (!field.contains(QLatin1Char('.')))
                t.insert(field, 1);
        QJsonObject gpu;
        QJsonObject system;
        for (const QString& field : RunDigest::contractFields()) {
            if (field.startsWith(QLatin1String("GPU.")))
                gpu.insert(field.mid(4), 1);
            else if (field.startsWith(QLatin1String("System.")))
                system.insert(field.mid(7), QJsonArray{QStringLiteral("note a")});
        }
        t.insert(QStringLiteral("GPU"), gpu);
        t.insert(QStringLiteral("System"), system);
        return t;
    }

private Q_SLOTS:
    void readsTheFieldsAsTheSweepDoes()
    {
        QJsonObject t = fullTelemetry();
        t.insert(QStringLiteral("DurationSeconds"), 12.5);
        t.insert(QStringLiteral("DoneMarkerDetected"), true);
        t.insert(QStringLiteral("QueueStart"), QJsonValue::Null);     // not nullable: missing
        t.insert(QStringLiteral("DoneMarkerPath"), QJsonValue::Null); // nullable: present
        t.remove(QStringLiteral("CompletionSignal"));                  // absent: missing
        QJsonObject gpu = t.value(QStringLiteral("GPU")).toObject();
        gpu.insert(QStringLiteral("VramDeltaMB"), -300.5);
        gpu.insert(QStringLiteral("VramPeakUsedMB"), QJsonValue::Null);
        t.insert(QStringLiteral("GPU"), gpu);
        const QJsonObject artifact{
            {QStringLiteral("RunId"), QStringLiteral("r1")},
            {QStringLiteral("Timestamp"), QStringLiteral("2026-11-01T10:00:00.000+01:00")},
            {QStringLiteral("QualityMetrics"),
             QJsonObject{{QStringLiteral("CoherenceJudgeScore"), 4.25},
                         {QStringLiteral("SemanticAlignmentMean"), QJsonValue::Null},
                         {QStringLiteral("PlannerFirstTryValid"), false},
                         {QStringLiteral("LlmModel"), QStringLiteral("mistral-7b")},
                         {QStringLiteral("Unmeasured"), QJsonArray{QStringLiteral("SemanticAlignmentMean: no vision model")}}}},
            {QStringLiteral("Scenes"),
             QJsonArray{QJsonObject{{QStringLiteral("SceneId"), QStringLiteral("scene-001")},
                                    {QStringLiteral("FrameCount"), 24.5}, // not a whole number: read as 0
                                    {QStringLiteral("AttemptsRun"), 2},
                                    {QStringLiteral("Requeued"), true},
                                    {QStringLiteral("Telemetry"), t},
                                    {QStringLiteral("QualityMetrics"),
                                     QJsonObject{{QStringLiteral("PromptAlignmentJudge"), QJsonObject{{QStringLiteral("Mean"), 3.5}}},
                                                 {QStringLiteral("BlankFrameRatio"), 0.04},
                                                 {QStringLiteral("FramesChecked"), 25},
                                                 {QStringLiteral("BlankFrames"), 1}}}},
                        QStringLiteral("not a scene")}}};
        const RunDigest d = RunDigest::fromArtifact(artifact);
        QCOMPARE(d.runId.toString(), QStringLiteral("r1"));
        QCOMPARE(d.coherenceJudgeScore, std::optional<double>(4.25));
        QCOMPARE(d.semanticAlignmentMean, std::optional<double>());
        QCOMPARE(d.plannerFirstTryValid, std::optional<bool>(false));
        QCOMPARE(d.unmeasured.size(), 1);
        QCOMPARE(d.scenes.size(), 2);
        const SceneDigest& s = d.scenes.first();
        QCOMPARE(s.frameCount, 0);
        QCOMPARE(s.frameFloor, 25);
        QCOMPARE(s.attemptsRun, 2);
        QVERIFY(s.requeued && s.doneMarkerDetected && !s.forcedCopyTriggered);
        QCOMPARE(s.durationSeconds, std::optional<double>(12.5));
        QCOMPARE(s.vramDeltaMB, std::optional<double>(-300.5));
        QCOMPARE(s.vramPeakUsedMB, std::optional<double>());
        QCOMPARE(s.fallbackNotes, QStringList{QStringLiteral("note a")});
        QCOMPARE(s.missingTelemetryFields, (QStringList{QStringLiteral("QueueStart"), QStringLiteral("CompletionSignal")}));
        QCOMPARE(s.promptAlignmentJudgeMean, std::optional<double>(3.5));
        QCOMPARE(s.blankFrames, 1);
        QVERIFY(!d.scenes.at(1).isObject);

        // Stored as compact JSON and read back: the same digest.
        const QByteArray stored = QJsonDocument(d.toJson()).toJson(QJsonDocument::Compact);
        const auto back = RunDigest::fromJson(QJsonDocument::fromJson(stored).object());
        QVERIFY(back.has_value());
        QVERIFY(*back == d);
    }

    void keepsTheStoryboardMetrics()
    {
        const QJsonObject artifact{
            {QStringLiteral("RunId"), QStringLiteral("r2")},
            {QStringLiteral("QualityMetrics"),
             QJsonObject{{QStringLiteral("KeyframeAlignmentJudgeMean"), 3.25},
                         {QStringLiteral("CharacterIdentityMean"), 2.5},
                         {QStringLiteral("CharacterCountMatch"), 78.9},
                         {QStringLiteral("SamenessFlaggedPairs"), 1},
                         {QStringLiteral("SamenessPairsJudged"), 4},
                         {QStringLiteral("SamenessFlagged"),
                          QJsonArray{QStringLiteral("scene-001/shot-01 ~ scene-001/shot-02")}}}},
            {QStringLiteral("Scenes"),
             QJsonArray{QJsonObject{{QStringLiteral("SceneId"), QStringLiteral("scene-001")},
                                    {QStringLiteral("QualityMetrics"),
                                     QJsonObject{{QStringLiteral("KeyframeAlignmentJudgeMin"), 1.5},
                                                 {QStringLiteral("CharacterIdentityMean"), 2.0},
                                                 {QStringLiteral("CharacterCountMatch"), 60.5}}}}}}};
        const RunDigest d = RunDigest::fromArtifact(artifact);
        QCOMPARE(d.keyframeAlignmentJudgeMean, std::optional<double>(3.25));
        QCOMPARE(d.characterIdentityMean, std::optional<double>(2.5));
        QCOMPARE(d.characterCountMatch, std::optional<double>(78.9));
        QCOMPARE(d.samenessFlaggedPairs, std::optional<double>(1));
        QCOMPARE(d.samenessPairsJudged, std::optional<double>(4));
        QCOMPARE(d.samenessFlagged, QStringList{QStringLiteral("scene-001/shot-01 ~ scene-001/shot-02")});
        QCOMPARE(d.scenes.first().keyframeAlignmentJudgeMin, std::optional<double>(1.5));
        QCOMPARE(d.scenes.first().characterIdentityMean, std::optional<double>(2.0));
        QCOMPARE(d.scenes.first().characterCountMatch, std::optional<double>(60.5));
        const auto back =
            RunDigest::fromJson(QJsonDocument::fromJson(QJsonDocument(d.toJson()).toJson()).object());
        QVERIFY(back.has_value());
        QVERIFY(*back == d);
        // A run without a storyboard has none of them.
        const RunDigest plain =
            RunDigest::fromArtifact(QJsonObject{{QStringLiteral("Scenes"), QJsonArray{}}});
        QVERIFY(!plain.characterIdentityMean && !plain.samenessFlaggedPairs &&
                plain.samenessFlagged.isEmpty());
    }

    void refusesWhatIsNotADigestOfThisVersion_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("other version") << QByteArray(R"({"DigestVersion":999,"Scenes":[]})");
        QTest::newRow("no version") << QByteArray(R"({"Scenes":[]})");
        QTest::newRow("no scenes") << QByteArray(R"({"DigestVersion":2})");
        QTest::newRow("scene without id") << QByteArray(R"({"DigestVersion":2,"Scenes":[{"f":25}]})");
        QTest::newRow("frame count not a number")
            << QByteArray(R"({"DigestVersion":2,"Scenes":[{"id":"s","f":"25"}]})");
        QTest::newRow("scene not an object") << QByteArray(R"({"DigestVersion":2,"Scenes":[3]})");
    }

    void refusesWhatIsNotADigestOfThisVersion()
    {
        QFETCH(QByteArray, json);
        QVERIFY(!RunDigest::fromJson(QJsonDocument::fromJson(json).object()).has_value());
    }
};

QTEST_GUILESS_MAIN(TestRunDigest)
#include "tst_rundigest.moc"
