#pragma once

#include "gpu/GpuSnapshot.h"
#include "quality/KpiEvaluator.h"
#include "quality/QualityCalculator.h"

#include <QObject>
#include <QPointer>
#include <QVector>

#include <memory>

namespace gd::llm {
class LlmClient;
}
namespace gd::quality {
class ModelJudges;
}

namespace gd::pipeline {

struct RunQualityOptions
{
    QString runDir;
    QString judgeUrl;   // LLM server the model judges ask; empty = those metrics UNMEASURED with the reason
    QString historyDb;  // empty = files only
    // Recorded with the run's KPI verdicts when the history database is given (the night's GPU trail).
    QVector<gpu::GpuSnapshot> gpuSamples;
    bool recordKpis = true;
};

struct RunQualityResult
{
    quality::QualityComputation computation; // computation.error set when the metrics could not be written
    QVector<quality::KpiResult> kpis;         // this run's KPI verdicts (empty when the computation failed)
    QStringList warnings;                     // history database problems: the files are written regardless
};

// The end-of-run quality step shared by `gemdirect run`, `gemdirect quality` and the desktop app:
// the model judges (network, on this object's thread), then the deterministic metrics, the
// artifact's QualityMetrics, and the history database (run, KPI verdicts, GPU samples) on a worker
// thread so a GUI never blocks. finished() comes exactly once.
class RunQualityJob : public QObject
{
    Q_OBJECT
public:
    explicit RunQualityJob(RunQualityOptions options, QObject* parent = nullptr);
    ~RunQualityJob() override;

    void start();
    bool isRunning() const { return m_running; }

Q_SIGNALS:
    void progress(const QString& text);
    void finished(const gd::pipeline::RunQualityResult& result);

private:
    void computeAndRecord(const quality::JudgeResults& judged);

    RunQualityOptions m_opt;
    std::unique_ptr<llm::LlmClient> m_client;
    QPointer<quality::ModelJudges> m_judges;
    bool m_running = false;
};

} // namespace gd::pipeline

Q_DECLARE_METATYPE(gd::pipeline::RunQualityResult)
