#pragma once

#include "gpu/GpuSnapshot.h"
#include "quality/KpiEvaluator.h"
#include "quality/QualityCalculator.h"

#include <QObject>
#include <QPointer>
#include <QVector>

#include <memory>

namespace gd::gpu {
class GpuMonitor;
}
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
    bool cancelled = false;                   // the operator stopped the model judges (see RunQualityJob::cancel)
};

// The end-of-run quality step shared by `gemdirect run`, `gemdirect quality` and the desktop app:
// the model judges (network, on this object's thread), then the deterministic metrics, the
// artifact's QualityMetrics, and the history database (run, KPI verdicts, GPU samples) on a worker
// thread so a GUI never blocks. finished() comes exactly once. Only the judges (minutes of LLM
// calls) can be cancelled; the local step after them is bounded file work that always completes,
// so a cancelled run still ends with a valid artifact (docs/QUALITY_METRICS.md, "Cancelling").
// A storyboard video run's <runDir>/storyboard-judgements.json (quality::StoryboardJudgements) adds
// the storyboard metrics of the shots it rendered, computed from those recorded verdicts.
class RunQualityJob : public QObject
{
    Q_OBJECT
public:
    explicit RunQualityJob(RunQualityOptions options, QObject* parent = nullptr);
    ~RunQualityJob() override;

    // The end-of-run step of a run that ended with `exitCode` in `runDir`, as the desktop app runs it
    // (RunSession) and the storyboard video stage for each pass: only a run that rendered (exit 0 or 1)
    // with a run directory gets one, else null. `options` carries the judge URL and history database;
    // runDir and the GPU trail (the monitor's history, when there is a monitor) are set here. Not
    // started: connect, then start().
    static RunQualityJob* forFinishedRun(const QString& runDir, int exitCode, RunQualityOptions options,
                                         gpu::GpuMonitor* monitor, QObject* parent);

    // The reason recorded in QualityMetrics.Unmeasured for the judge metrics a cancel left out.
    static QString cancelledReason() { return QStringLiteral("cancelled by the operator"); }

    void start();
    bool isRunning() const { return m_running; }
    // True while the model judges run: cancel() has an effect only then.
    bool isCancellable() const;
    // Stops the model judges now (the LLM request in flight is aborted); every judge metric not
    // measured yet is written null and listed UNMEASURED with cancelledReason(), the local metrics,
    // KPI verdicts and history database are written as usual, and finished() carries cancelled = true.
    // Ignored (false) when the judges are not running.
    bool cancel();

Q_SIGNALS:
    void progress(const QString& text);
    // The judges finished or were cancelled: from here on the step cannot be cancelled.
    void cancellableChanged(bool cancellable);
    void finished(const gd::pipeline::RunQualityResult& result);

private:
    void computeAndRecord(const quality::JudgeResults& judged);

    RunQualityOptions m_opt;
    std::unique_ptr<llm::LlmClient> m_client;
    QPointer<quality::ModelJudges> m_judges;
    bool m_running = false;
    bool m_cancelled = false;
};

} // namespace gd::pipeline

Q_DECLARE_METATYPE(gd::pipeline::RunQualityResult)
