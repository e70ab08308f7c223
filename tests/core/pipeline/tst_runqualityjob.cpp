// The end-of-run quality step's Cancel: the model judges stop at once (the LLM request in flight is
// aborted), the metrics they had not measured are written UNMEASURED "cancelled by the operator",
// everything else is written as usual, and the log says so.

#include "RunHarness.h"
#include "common/Log.h"
#include "pipeline/RunQualityJob.h"
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
