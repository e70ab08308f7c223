#include "quality/KpiEvaluator.h"
#include "quality/QualityCalculator.h"
#include "quality/QualityWriter.h"
#include "telemetry/RunValidator.h"

#include "../telemetry/SampleRun.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

using namespace gd::quality;

namespace {

QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

bool writeFrames(const QString& dir, int count, int blankCount)
{
    QDir().mkpath(dir);
    QRandomGenerator rng(11);
    for (int i = 0; i < count; ++i) {
        QImage img(32, 18, QImage::Format_RGB32);
        if (i < blankCount)
            img.fill(qRgb(0, 0, 0));
        else
            for (int y = 0; y < img.height(); ++y)
                for (int x = 0; x < img.width(); ++x)
                    img.setPixel(x, y, qRgb(rng.bounded(256), rng.bounded(256), rng.bounded(256)));
        if (!img.save(QDir(dir).filePath(QStringLiteral("f_%1_.png").arg(i + 1, 5, 10, QLatin1Char('0')))))
            return false;
    }
    return true;
}

bool writeStory(const QString& runDir)
{
    const QJsonObject story{
        {QStringLiteral("storyId"), QStringLiteral("story-123")},
        {QStringLiteral("logline"), QStringLiteral("A keeper finds a signal in the fog.")},
        {QStringLiteral("bible"),
         QJsonObject{{QStringLiteral("characters"),
                      QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("Mara Voss")}}}}}},
        {QStringLiteral("scenes"),
         QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-001")},
                                {QStringLiteral("summary"), QStringLiteral("Mara Voss sees the fog.")},
                                {QStringLiteral("prompt"), QStringLiteral("a lighthouse in fog, she climbs")},
                                {QStringLiteral("themes"), QJsonArray{QStringLiteral("action"), QStringLiteral("action")}}},
                    QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-002")},
                                {QStringLiteral("summary"), QStringLiteral("Her lamp blinks.")},
                                {QStringLiteral("prompt"), QStringLiteral("a blinking light")},
                                {QStringLiteral("themes"), QJsonArray{QStringLiteral("drama"), QStringLiteral("drama")}}},
                    QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-003")},
                                {QStringLiteral("summary"), QStringLiteral("They drown.")},
                                {QStringLiteral("prompt"), QStringLiteral("waves crash")}}}}};
    QDir().mkpath(runDir + QStringLiteral("/story"));
    QFile f(runDir + QStringLiteral("/story/story.json"));
    return f.open(QIODevice::WriteOnly) && f.write(QJsonDocument(story).toJson()) > 0;
}

} // namespace

// QualityCalculator + QualityWriter on a complete run written by the telemetry writers.
class TstQualityWriter : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_runDir;

    void makeRun(bool withFramesAndStory, const QJsonArray& feedback = {})
    {
        m_runDir = m_dir.filePath(QStringLiteral("run-%1").arg(QRandomGenerator::global()->generate()));
        QVERIFY(QDir().mkpath(m_runDir));
        gd::telemetry::RunRecord r = sample::run(m_runDir);
        r.feedback = feedback;
        QVERIFY(gd::telemetry::ArtifactWriter::write(r).isNull());
        QVERIFY(sample::writeSummary(r).isNull());
        if (withFramesAndStory) {
            QVERIFY(writeFrames(m_runDir + QStringLiteral("/scene-001/attempt-1"), 30, 0));
            QVERIFY(writeFrames(m_runDir + QStringLiteral("/scene-002/attempt-2"), 26, 2));
            QVERIFY(writeStory(m_runDir));
        }
        QVERIFY(gd::telemetry::RunValidator::validate(m_runDir).passed());
    }

private Q_SLOTS:
    void computesFromRunDirectory()
    {
        makeRun(true, QJsonArray{QJsonObject{{QStringLiteral("SceneId"), QStringLiteral("scene-001")},
                                             {QStringLiteral("Stars"), 4},
                                             {QStringLiteral("Coherence"), 5}},
                                 QJsonObject{{QStringLiteral("SceneId"), QStringLiteral("scene-002")},
                                             {QStringLiteral("Stars"), 2},
                                             {QStringLiteral("Coherence"), 3}}});
        const QualityComputation c = QualityCalculator::compute(m_runDir);
        QVERIFY(c.error.isNull());
        const QJsonObject& q = c.qualityMetrics;
        // Mentions: "Mara Voss", "she" (linked), "Her" (linked by scene 1), "They" (scene 2 had no bible name) → 3/4.
        QCOMPARE(q.value(QStringLiteral("EntityLinkageScore")).toDouble(), 0.75);
        // Tags action, action, drama, drama → 1 bit of a possible 2.
        QCOMPARE(q.value(QStringLiteral("SceneDiversityEntropy")).toDouble(), 1.0);
        QCOMPARE(q.value(QStringLiteral("SceneDiversityMaxPossible")).toDouble(), 2.0);
        QCOMPARE(q.value(QStringLiteral("SceneDiversityNormalized")).toDouble(), 0.5);
        QCOMPARE(q.value(QStringLiteral("SceneDiversityMaxRepetitionRatio")).toDouble(), 0.5);
        QCOMPARE(q.value(QStringLiteral("HumanCoherenceScore")).toDouble(), 4.0);
        QCOMPARE(c.sceneMetrics.value(QStringLiteral("scene-002")).value(QStringLiteral("BlankFrames")).toInt(), 2);
        QCOMPARE(c.sceneMetrics.value(QStringLiteral("scene-002")).value(QStringLiteral("BlankFrameRatio")).toDouble(), 2.0 / 26);
        QCOMPARE(c.sceneMetrics.value(QStringLiteral("scene-001")).value(QStringLiteral("BlankFrameRatio")).toDouble(), 0.0);
        QVERIFY(c.sceneMetrics.value(QStringLiteral("scene-003")).value(QStringLiteral("BlankFrameRatio")).isNull());
        // Pipeline: 3 scenes ran; one producer marker, one forced copy, one zero-frame scene.
        QCOMPARE(q.value(QStringLiteral("DoneMarkerDetectionRate")).toDouble(), 1.0 / 3);
        QCOMPARE(q.value(QStringLiteral("ForcedCopyRate")).toDouble(), 1.0 / 3);
        QCOMPARE(q.value(QStringLiteral("ZeroFrameRate")).toDouble(), 1.0 / 3);
        QCOMPARE(q.value(QStringLiteral("DurationP50Seconds")).toDouble(), 12.3);
        QCOMPARE(q.value(QStringLiteral("DurationP95Seconds")).toDouble(), 75.4);
        QCOMPARE(q.value(QStringLiteral("TelemetryCompleteness")).toDouble(), 1.0);
        // The judges did not run: their metrics are null with a reason.
        QVERIFY(q.value(QStringLiteral("CoherenceJudgeScore")).isNull());
        const QStringList unmeasured = q.value(QStringLiteral("Unmeasured")).toVariant().toStringList();
        QVERIFY(unmeasured.contains(QStringLiteral("BlankFrameRatio: scene-003: no frames")));
        QVERIFY(std::any_of(unmeasured.begin(), unmeasured.end(),
                            [](const QString& u) { return u.startsWith(QStringLiteral("CoherenceJudgeScore: ")); }));
    }

    void judgedResultsAreMerged()
    {
        makeRun(true);
        JudgeResults judged;
        judged.run.insert(QStringLiteral("CoherenceJudgeScore"), 4.5);
        judged.run.insert(QStringLiteral("CoherenceJudgeModel"), QStringLiteral("judge-7b"));
        judged.scenes.insert(QStringLiteral("scene-001"),
                             QJsonObject{{QStringLiteral("SemanticAlignmentScore"), 0.8}});
        judged.unmeasured = {QStringLiteral("SemanticAlignment: no embedding model on the server")};
        const QualityComputation c = QualityCalculator::compute(m_runDir, judged);
        QCOMPARE(c.qualityMetrics.value(QStringLiteral("CoherenceJudgeScore")).toDouble(), 4.5);
        QCOMPARE(c.sceneMetrics.value(QStringLiteral("scene-001")).value(QStringLiteral("SemanticAlignmentScore")).toDouble(), 0.8);
        const QStringList unmeasured = c.qualityMetrics.value(QStringLiteral("Unmeasured")).toVariant().toStringList();
        QVERIFY(unmeasured.contains(QStringLiteral("SemanticAlignment: no embedding model on the server")));
        QVERIFY(!std::any_of(unmeasured.begin(), unmeasured.end(),
                             [](const QString& u) { return u.startsWith(QStringLiteral("CoherenceJudgeScore")); }));
    }

    void writerPreservesFieldsAndValidatorPasses()
    {
        makeRun(true);
        const QString path = m_runDir + QStringLiteral("/artifact-metadata.json");
        const QJsonObject before = readJson(path);
        const QualityComputation c = QualityCalculator::compute(m_runDir);
        QVERIFY(QualityWriter::write(m_runDir, c).isNull());
        const QJsonObject after = readJson(path);

        QCOMPARE(after.value(QStringLiteral("QualityMetrics")).toObject(), c.qualityMetrics);
        for (auto it = before.begin(); it != before.end(); ++it) {
            if (it.key() == QStringLiteral("QualityMetrics") || it.key() == QStringLiteral("Scenes"))
                continue;
            QCOMPARE(after.value(it.key()), it.value());
        }
        const QJsonArray sb = before.value(QStringLiteral("Scenes")).toArray();
        const QJsonArray sa = after.value(QStringLiteral("Scenes")).toArray();
        QCOMPARE(sa.size(), sb.size());
        for (qsizetype i = 0; i < sb.size(); ++i) {
            QJsonObject withoutQuality = sa.at(i).toObject();
            const QString id = withoutQuality.value(QStringLiteral("SceneId")).toString();
            QCOMPARE(withoutQuality.value(QStringLiteral("QualityMetrics")).toObject(), c.sceneMetrics.value(id));
            withoutQuality.remove(QStringLiteral("QualityMetrics"));
            QJsonObject original = sb.at(i).toObject();
            original.remove(QStringLiteral("QualityMetrics"));
            QCOMPARE(withoutQuality, original);
        }
        const auto validation = gd::telemetry::RunValidator::validate(m_runDir);
        QVERIFY2(validation.passed(), qPrintable(validation.errors.join(QLatin1Char('\n'))));
    }

    void unmeasurableRunIsNeverZero()
    {
        // No story file, no frames on disk, no ratings, no judges.
        makeRun(false);
        const QualityComputation c = QualityCalculator::compute(m_runDir);
        QVERIFY(c.error.isNull());
        const QJsonObject& q = c.qualityMetrics;
        for (const char* key : {"EntityLinkageScore", "SceneDiversityEntropy", "HumanCoherenceScore", "BlankFrameRatio",
                                "CoherenceJudgeScore", "PromptAlignmentJudgeMean", "SemanticAlignmentMargin",
                                "LlmGenerationSeconds"})
            QVERIFY2(q.value(QString::fromLatin1(key)).isNull(), key);
        const QStringList unmeasured = q.value(QStringLiteral("Unmeasured")).toVariant().toStringList();
        QVERIFY(unmeasured.contains(QStringLiteral("HumanCoherenceScore: no ratings yet")));
        QVERIFY(std::any_of(unmeasured.begin(), unmeasured.end(), [](const QString& u) {
            return u.startsWith(QStringLiteral("EntityLinkageScore: story/story.json unreadable"));
        }));

        QVERIFY(QualityWriter::write(m_runDir, c).isNull());
        const auto kpis = KpiEvaluator::evaluate({readJson(m_runDir + QStringLiteral("/artifact-metadata.json"))});
        for (const KpiResult& k : kpis) {
            if (k.id == QStringLiteral("entity-linkage") || k.id == QStringLiteral("human-coherence") ||
                k.id == QStringLiteral("blank-frames") || k.id == QStringLiteral("coherence-judge") ||
                k.id == QStringLiteral("scene-diversity")) {
                QCOMPARE(k.status, QStringLiteral("UNMEASURED"));
                QVERIFY(!k.value.has_value());
                QVERIFY(!k.reason.isEmpty());
            }
        }
    }

    void missingRunIsAnError()
    {
        const QualityComputation c = QualityCalculator::compute(m_dir.filePath(QStringLiteral("nope")));
        QCOMPARE(c.error.kind, QStringLiteral("notFound"));
        QVERIFY(!QualityWriter::write(m_dir.filePath(QStringLiteral("nope")), c).isNull());
    }

    void corruptArtifactIsRefusedAndUntouched()
    {
        makeRun(false);
        const QString path = m_runDir + QStringLiteral("/artifact-metadata.json");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write("{\"RunId\": ");
        f.close();
        const QualityComputation c = QualityCalculator::compute(m_runDir);
        QCOMPARE(c.error.kind, QStringLiteral("parse"));
        QVERIFY(c.error.message.contains(path));
        QVERIFY(!QualityWriter::write(m_runDir, c).isNull());
        QFile again(path);
        QVERIFY(again.open(QIODevice::ReadOnly));
        QCOMPARE(again.readAll(), QByteArray("{\"RunId\": "));
    }
};

QTEST_GUILESS_MAIN(TstQualityWriter)
#include "tst_qualitywriter.moc"
