// The end-of-run quality step's storyboard metrics: a storyboard video run's recorded verdicts
// (storyboard-judgements.json) become QualityMetrics and KPI values; other runs have none.
// The end-of-run quality step's Cancel: the model judges stop at once (the LLM request in flight is
// aborted), the metrics they had not measured are written UNMEASURED "cancelled by the operator",
// everything else is written as usual, and the log says so.

#include "RunHarness.h"
#include "common/Log.h"
#include "pipeline/RunQualityJob.h"
#include "quality/StoryboardJudgements.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QtTest>

#include <spdlog/sinks/ostream_sink.h>
#include <sstream>

using gd::pipeline::RunQualityJob;
using gd::pipeline::RunQualityOptions;
using gd::pipeline::RunQualityResult;

namespace {

gd::story::Story twoScenes()
{
    QJsonArray scenes;
    const QStringList prompts = {QStringLiteral("wide shot of a lighthouse in a storm at night"),
                                 QStringLiteral("close up of a keeper lighting a lamp")};
    for (int i = 0; i < prompts.size(); ++i)
        scenes.append(QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-%1").arg(i + 1, 3, 10, QLatin1Char('0'))},
                                  {QStringLiteral("title"), QStringLiteral("Part %1").arg(i + 1)},
                                  {QStringLiteral("prompt"), prompts.at(i)},
                                  {QStringLiteral("expectedFrames"), 5}});
    QStringList problems;
    return *gd::story::StoryLoader::fromObject(
        QJsonObject{{QStringLiteral("storyId"), QStringLiteral("story-cancel")},
                    {QStringLiteral("logline"), QStringLiteral("A keeper and a storm.")},
                    {QStringLiteral("scenes"), scenes}},
        &problems);
}

QJsonObject qualityMetrics(const QString& runDir)
{
    QJsonObject artifact;
    if (!gd::quality::QualityCalculator::readArtifact(runDir, &artifact).isNull())
        return {};
    return artifact.value(QStringLiteral("QualityMetrics")).toObject();
}

// Two shots rendered as the run's two scenes, both judged; the pair between them judged different.
gd::quality::StoryboardJudgements twoJudgedShots()
{
    gd::quality::StoryboardJudgements j;
    for (int i = 1; i <= 2; ++i) {
        gd::quality::ShotJudgement s;
        s.sceneId = QStringLiteral("scene-%1").arg(i, 3, 10, QLatin1Char('0'));
        s.shotId = QStringLiteral("scene-00%1/shot-01").arg(i);
        s.expectedCharacters = 1;
        gd::quality::KeyframeVerdict v;
        v.score = 9;
        v.descriptionMatch = 4;
        v.characterCount = 1;
        v.identity = {{QStringLiteral("Mara Voss"), i == 1 ? 4 : 2}};
        v.model = QStringLiteral("vision-a");
        s.keyframe = v;
        gd::quality::AlignmentVerdict a;
        a.judge = QJsonObject{{QStringLiteral("Scene"), 4}, {QStringLiteral("Action"), 3}, {QStringLiteral("Camera"), 2},
                              {QStringLiteral("Mean"), 3.0}};
        a.model = QStringLiteral("vision-a");
        s.alignment = a;
        j.shots.append(s);
    }
    gd::quality::SamenessVerdict same;
    same.model = QStringLiteral("vision-a");
    j.pairs.append({j.shots.at(0).shotId, j.shots.at(1).shotId, same});
    return j;
}

const gd::quality::KpiResult* kpi(const RunQualityResult& r, const QString& id)
{
    for (const auto& k : r.kpis)
        if (k.id == id)
            return &k;
    return nullptr;
}

} // namespace

class TstRunQualityJob : public QObject
{
    Q_OBJECT

private:
    RunHarness m_harness;
    QString m_runDir;

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_harness.startServer(&error), qPrintable(error));
        const RunOutcome out = m_harness.run(twoScenes());
        QVERIFY2(out.exitCode == 0, qPrintable(out.message));
        m_runDir = out.runDir;
    }

    void cancelStopsTheJudgesAndWritesTheRest()
    {
        // An LLM that takes a minute before its first token: without an abort the step would hang on it.
        gd::sandbox::SandboxLlmConfig llm;
        llm.visionModel = true;
        llm.firstTokenDelayMs = 60000;
        gd::sandbox::SandboxLlmHost host;
        QString error;
        QVERIFY2(host.start(llm, 0, &error), qPrintable(error));

        std::ostringstream logText;
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logText);
        gd::log::addSink(sink);

        RunQualityOptions options;
        options.runDir = m_runDir;
        options.judgeUrl = host.url().toString();
        options.historyDb = m_harness.root.filePath(QStringLiteral("history.sqlite"));
        RunQualityJob job(options);
        QSignalSpy finished(&job, &RunQualityJob::finished);
        QSignalSpy cancellable(&job, &RunQualityJob::cancellableChanged);
        QVERIFY(!job.cancel()); // not started: nothing to cancel
        job.start();
        QCOMPARE(cancellable.count(), 1);
        QCOMPARE(cancellable.at(0).at(0).toBool(), true);
        // The coherence judge's first call is on the server, waiting for its first token.
        QTRY_VERIFY_WITH_TIMEOUT(host.server()->chatRequestCount() >= 1, 20000);
        QVERIFY(job.isCancellable());

        QVERIFY(job.cancel());
        QVERIFY(!job.cancel()); // once
        // Well before the server's first token would come: the request was aborted, not waited for.
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        gd::log::removeSink(sink);
        QCOMPARE(cancellable.last().at(0).toBool(), false);
        QCOMPARE(host.server()->chatRequestCount(), 1); // no further judge call after the cancel
        QTRY_COMPARE_WITH_TIMEOUT(host.server()->abortedStreams(), 1, 10000);

        const auto result = finished.at(0).at(0).value<RunQualityResult>();
        QVERIFY(result.cancelled);
        QVERIFY2(result.computation.error.isNull(), qPrintable(result.computation.error.message));
        QVERIFY(!result.kpis.isEmpty());

        // The artifact: judge metrics null with the reason, the deterministic metrics measured, still valid.
        const QJsonObject q = qualityMetrics(m_runDir);
        QVERIFY(q.contains(QStringLiteral("CoherenceJudgeScore")));
        QVERIFY(q.value(QStringLiteral("CoherenceJudgeScore")).isNull());
        QVERIFY(q.value(QStringLiteral("PromptAlignmentJudgeMean")).isNull());
        QVERIFY(q.value(QStringLiteral("SemanticAlignmentMean")).isNull());
        QStringList unmeasured;
        for (const QJsonValue& v : q.value(QStringLiteral("Unmeasured")).toArray())
            unmeasured << v.toString();
        for (const char* metric : {"CoherenceJudgeScore", "PromptAlignmentJudgeMean", "SemanticAlignmentMean"})
            QVERIFY2(unmeasured.contains(QLatin1String(metric) + QStringLiteral(": cancelled by the operator")),
                     qPrintable(unmeasured.join(QLatin1Char('\n'))));
        QCOMPARE(q.value(QStringLiteral("ScenesRun")).toInt(), 2);
        QCOMPARE(q.value(QStringLiteral("ExecutionSuccessRate")).toDouble(), 1.0);
        QVERIFY(gd::telemetry::RunValidator::validate(m_runDir).passed());

        // The log says the operator cancelled it.
        QVERIFY2(QString::fromStdString(logText.str()).contains(QStringLiteral("cancelled by the operator")),
                 logText.str().c_str());
    }

    void storyboardVerdictsBecomeQualityMetrics_data()
    {
        QTest::addColumn<QString>("file"); // "" = none, "valid", or the raw text of a broken file
        QTest::addColumn<bool>("measured");
        QTest::addColumn<QString>("reason"); // the character-identity KPI's reason when unmeasured
        QTest::newRow("ordinary run") << QString() << false << QStringLiteral("no storyboard in this run");
        QTest::newRow("storyboard run") << QStringLiteral("valid") << true << QString();
        QTest::newRow("broken verdicts file") << QStringLiteral("{\"version\": 1, \"shots\": 3}") << false
                                              << QStringLiteral("\"shots\" and \"pairs\" must be arrays");
    }

    void storyboardVerdictsBecomeQualityMetrics()
    {
        QFETCH(QString, file);
        QFETCH(bool, measured);
        QFETCH(QString, reason);
        const QString path = QDir(m_runDir).filePath(gd::quality::StoryboardJudgements::fileName());
        QFile::remove(path);
        if (file == QLatin1String("valid")) {
            QVERIFY(twoJudgedShots().write(m_runDir).isNull());
        } else if (!file.isEmpty()) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(file.toUtf8());
        }
        RunQualityOptions options;
        options.runDir = m_runDir;
        RunQualityJob job(options);
        QSignalSpy finished(&job, &RunQualityJob::finished);
        job.start();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QFile::remove(path);
        const auto result = finished.at(0).at(0).value<RunQualityResult>();
        QVERIFY(result.computation.error.isNull());
        const QJsonObject q = qualityMetrics(m_runDir);
        const gd::quality::KpiResult* identity = kpi(result, QStringLiteral("character-identity"));
        const gd::quality::KpiResult* sameness = kpi(result, QStringLiteral("sameness-guard"));
        QVERIFY(identity && sameness);
        if (!measured) {
            QCOMPARE(identity->status, QStringLiteral("UNMEASURED"));
            QVERIFY2(identity->reason.contains(reason), qPrintable(identity->reason));
            QCOMPARE(sameness->status, QStringLiteral("UNMEASURED"));
            return;
        }
        QCOMPARE(q.value(QStringLiteral("CharacterIdentityMean")).toDouble(), 3.0);
        QCOMPARE(q.value(QStringLiteral("CharacterCountMatch")).toDouble(), 100.0);
        QCOMPARE(q.value(QStringLiteral("KeyframeAlignmentJudgeMean")).toDouble(), 3.0);
        QCOMPARE(q.value(QStringLiteral("SamenessFlaggedPairs")).toInt(), 0);
        QCOMPARE(q.value(QStringLiteral("CharacterIdentityModel")).toString(), QStringLiteral("vision-a"));
        // Mean 3.0 sits on the threshold (WARN); the second scene's own mean (2) is below it: named.
        QCOMPARE(identity->status, QStringLiteral("WARN"));
        QCOMPARE(*identity->value, 3.0);
        QCOMPARE(identity->failingScenes, QStringList{QStringLiteral("scene-002")});
        QCOMPARE(sameness->status, QStringLiteral("PASS"));
        QJsonObject artifact;
        QVERIFY(gd::quality::QualityCalculator::readArtifact(m_runDir, &artifact).isNull());
        const QJsonObject scene2 =
            artifact.value(QStringLiteral("Scenes")).toArray().at(1).toObject().value(QStringLiteral("QualityMetrics")).toObject();
        QCOMPARE(scene2.value(QStringLiteral("CharacterIdentityMean")).toDouble(), 2.0);
        QVERIFY(scene2.value(QStringLiteral("Shots")).toObject().contains(QStringLiteral("scene-002/shot-01")));
    }

    void nothingToCancelWithoutJudges()
    {
        RunQualityOptions options;
        options.runDir = m_runDir;
        RunQualityJob job(options);
        QSignalSpy finished(&job, &RunQualityJob::finished);
        job.start();
        // No LLM server: only local work, which always completes.
        QVERIFY(!job.isCancellable());
        QVERIFY(!job.cancel());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        const auto result = finished.at(0).at(0).value<RunQualityResult>();
        QVERIFY(!result.cancelled);
        QVERIFY(result.computation.error.isNull());
        const QJsonObject q = qualityMetrics(m_runDir);
        QVERIFY(!q.value(QStringLiteral("Unmeasured")).toArray().contains(
            QStringLiteral("CoherenceJudgeScore: cancelled by the operator")));
    }
};

QTEST_MAIN(TstRunQualityJob)
#include "tst_runqualityjob.moc"
