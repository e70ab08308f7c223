#include "pipeline/RunQualityJob.h"

#include "common/Log.h"
#include "gpu/GpuMonitor.h"
#include "pipeline/RunController.h"
#include "llm/LlmClient.h"
#include "quality/JudgeResults.h"
#include "quality/ModelJudges.h"
#include "quality/QualityWriter.h"
#include "quality/StoryboardJudgements.h"
#include "store/Database.h"
#include "store/RunStore.h"

#include <QFutureWatcher>
#include <QJsonArray>
#include <QtConcurrent>

namespace gd::pipeline {

namespace {

// A storyboard video run keeps the verdicts of the shots it rendered in the run directory
// (StoryboardJudgements): their storyboard metrics are merged like the other judges' results, without
// asking the judge again. A run without that file has no storyboard metrics (the KPI report says so).
quality::JudgeResults withStoryboardMetrics(const QString& runDir, quality::JudgeResults judged)
{
    Error e;
    const auto recorded = quality::StoryboardJudgements::read(runDir, &e);
    if (!e.isNull()) {
        for (const QString& metric : {QStringLiteral("KeyframeAlignmentJudgeMean"), QStringLiteral("CharacterIdentityMean"),
                                      QStringLiteral("CharacterCountMatch"), QStringLiteral("SamenessFlaggedPairs")}) {
            judged.run.insert(metric, QJsonValue());
            judged.unmeasured << metric + QStringLiteral(": ") + e.message;
        }
        return judged;
    }
    if (!recorded)
        return judged;
    const quality::JudgeResults sb = quality::StoryboardMetrics::compute(recorded->shots, recorded->pairs);
    for (auto it = sb.run.begin(); it != sb.run.end(); ++it)
        judged.run.insert(it.key(), it.value());
    for (auto it = sb.scenes.cbegin(); it != sb.scenes.cend(); ++it) {
        QJsonObject& scene = judged.scenes[it.key()];
        for (auto k = it.value().begin(); k != it.value().end(); ++k)
            scene.insert(k.key(), k.value());
    }
    judged.unmeasured << sb.unmeasured;
    return judged;
}

// Runs on a worker thread: file and database work only.
RunQualityResult computeAndRecordBlocking(const RunQualityOptions& opt, const quality::JudgeResults& judged)
{
    RunQualityResult result;
    result.computation = quality::QualityCalculator::compute(opt.runDir, withStoryboardMetrics(opt.runDir, judged));
    if (!result.computation.error.isNull())
        return result;
    if (const Error w = quality::QualityWriter::write(opt.runDir, result.computation); !w.isNull()) {
        result.computation.error = w;
        return result;
    }
    QJsonObject artifact;
    if (const Error e = quality::QualityCalculator::readArtifact(opt.runDir, &artifact); !e.isNull()) {
        result.computation.error = e;
        return result;
    }
    result.kpis = quality::KpiEvaluator::evaluate({artifact});
    if (opt.historyDb.isEmpty())
        return result;

    store::Database db;
    Error e = db.open(opt.historyDb);
    if (e.isNull())
        e = store::RunStore(db).recordRun(artifact, opt.runDir);
    if (!e.isNull()) {
        result.warnings << QStringLiteral("quality metrics not recorded in the history database: ") + e.message;
        return result;
    }
    if (!opt.recordKpis)
        return result;
    store::RunStore runs(db);
    const QString runId = artifact.value(QStringLiteral("RunId")).toString();
    QVector<store::KpiResult> rows;
    for (const auto& k : std::as_const(result.kpis))
        rows.push_back({k.id, k.value, k.threshold, k.status,
                        QJsonObject{{QStringLiteral("Name"), k.name},
                                    {QStringLiteral("Reason"), k.reason},
                                    {QStringLiteral("FailingScenes"), QJsonArray::fromStringList(k.failingScenes)}}});
    e = runs.recordKpiResults(runId, opt.runDir, rows);
    if (e.isNull() && !opt.gpuSamples.isEmpty())
        e = runs.recordGpuSamples(runId, opt.runDir, opt.gpuSamples);
    if (!e.isNull())
        result.warnings << QStringLiteral("KPI results / GPU samples not recorded: ") + e.message;
    return result;
}

} // namespace

RunQualityJob::RunQualityJob(RunQualityOptions options, QObject* parent) : QObject(parent), m_opt(std::move(options))
{
    qRegisterMetaType<gd::pipeline::RunQualityResult>();
}

RunQualityJob::~RunQualityJob() = default;

RunQualityJob* RunQualityJob::forFinishedRun(const QString& runDir, int exitCode, RunQualityOptions options,
                                             gpu::GpuMonitor* monitor, QObject* parent)
{
    // Same rule as `gemdirect run`: a run that rendered ends with its QualityMetrics.
    const bool rendered = exitCode == int(RunExit::Success) || exitCode == int(RunExit::SomeFailed);
    if (!rendered || runDir.isEmpty())
        return nullptr;
    options.runDir = runDir;
    if (monitor)
        options.gpuSamples = monitor->history();
    return new RunQualityJob(std::move(options), parent);
}

void RunQualityJob::start()
{
    if (m_running)
        return;
    m_running = true;
    if (m_opt.judgeUrl.isEmpty()) {
        quality::JudgeResults judged;
        const QString why = QStringLiteral("no LLM server to judge with (give --llm-url or LOCAL_STORY_PROVIDER_URL)");
        judged.unmeasured << QStringLiteral("CoherenceJudgeScore: ") + why
                          << QStringLiteral("PromptAlignmentJudgeMean: ") + why
                          << QStringLiteral("SemanticAlignmentMean: ") + why;
        computeAndRecord(judged);
        return;
    }
    Q_EMIT progress(QStringLiteral("Judging with the LLM at %1 ...").arg(m_opt.judgeUrl));
    m_client = std::make_unique<llm::LlmClient>(llm::LlmClient::normaliseUrl(m_opt.judgeUrl));
    m_client->setRetryPolicy(2, 500, 2000);
    m_judges = new quality::ModelJudges(this);
    connect(m_judges, &quality::ModelJudges::finished, this, [this](const quality::JudgeResults& judged) {
        Q_EMIT cancellableChanged(false);
        computeAndRecord(judged);
    });
    m_judges->run(m_opt.runDir, m_client.get(), quality::JudgeOptions{});
    Q_EMIT cancellableChanged(true);
}

bool RunQualityJob::isCancellable() const
{
    return m_running && m_judges && m_judges->isRunning();
}

bool RunQualityJob::cancel()
{
    if (!isCancellable() || m_cancelled)
        return false;
    m_cancelled = true;
    gd::log::get("quality")
        ->warn("quality step of {} cancelled by the operator: the model judges stop, the metrics they had not "
               "measured are written UNMEASURED",
               m_opt.runDir.toStdString());
    Q_EMIT progress(QStringLiteral("Quality step cancelled by the operator: judge metrics not measured yet are "
                                   "recorded UNMEASURED; writing the local metrics ..."));
    // finished() of the judges comes synchronously from here and starts the local step.
    m_judges->cancel(cancelledReason());
    return true;
}

void RunQualityJob::computeAndRecord(const quality::JudgeResults& judged)
{
    Q_EMIT progress(QStringLiteral("Computing quality metrics for %1 ...").arg(m_opt.runDir));
    auto* watcher = new QFutureWatcher<RunQualityResult>(this);
    connect(watcher, &QFutureWatcher<RunQualityResult>::finished, this, [this, watcher] {
        RunQualityResult result = watcher->result();
        result.cancelled = m_cancelled;
        watcher->deleteLater();
        m_running = false;
        Q_EMIT finished(result);
    });
    const RunQualityOptions opt = m_opt;
    watcher->setFuture(QtConcurrent::run([opt, judged] { return computeAndRecordBlocking(opt, judged); }));
}

} // namespace gd::pipeline
