#include "QualityCommands.h"

#include "CliCommon.h"
#include "HistoryCommands.h"
#include "SignalWatcher.h"

#include "common/Log.h"
#include "pipeline/RunQualityJob.h"
#include "quality/KpiEvaluator.h"
#include "store/Database.h"
#include "store/RunStore.h"

#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QThreadPool>
#include <unistd.h>

using namespace gd;

namespace cli {

pipeline::RunQualityResult computeQuality(const pipeline::RunQualityOptions& options, bool quiet,
                                          SignalWatcher* signals)
{
    pipeline::RunQualityJob job(options);
    pipeline::RunQualityResult result;
    QEventLoop loop;
    if (signals)
        QObject::connect(signals, &SignalWatcher::interrupted, &job, [&job](int count) {
            if (count > 1) {
                cli::err() << "Interrupted twice: exiting without waiting for the quality step." << Qt::endl;
                ::_exit(130);
            }
            if (!job.isCancellable()) {
                cli::err() << "Interrupt received: the local metrics finish in seconds (Ctrl-C again to exit at "
                              "once) ..."
                           << Qt::endl;
                return;
            }
            cli::err() << "Interrupt received: cancelling the model judges, then writing the other metrics "
                          "(Ctrl-C again to exit at once) ..."
                       << Qt::endl;
            job.cancel();
        });
    QObject::connect(&job, &pipeline::RunQualityJob::progress, &job, [quiet](const QString& text) {
        if (!quiet)
            cli::out() << text << Qt::endl;
    });
    QObject::connect(&job, &pipeline::RunQualityJob::finished, &loop, [&](const pipeline::RunQualityResult& r) {
        result = r;
        loop.quit();
    });
    QMetaObject::invokeMethod(&job, &pipeline::RunQualityJob::start, Qt::QueuedConnection);
    loop.exec();
    for (const QString& w : std::as_const(result.warnings))
        cli::err() << "WARNING: " << w << Qt::endl;
    return result;
}

pipeline::RunQualityResult finishRunQuality(const pipeline::RunQualityOptions& options, bool quiet,
                                            SignalWatcher* signals)
{
    // Let the frame statistics the pipeline computed in the background land first.
    QThreadPool::globalInstance()->waitForDone();
    const pipeline::RunQualityResult result = computeQuality(options, quiet, signals);
    const auto& q = result.computation;
    if (result.cancelled)
        cli::err() << "Quality step cancelled by the operator: the judge metrics not measured yet are UNMEASURED"
                   << Qt::endl;
    if (!q.error.isNull())
        cli::err() << "WARNING: quality metrics not computed: " << q.error.message << Qt::endl;
    else
        cli::out() << "Quality metrics written (" << q.qualityMetrics.value(QStringLiteral("Unmeasured")).toArray().size()
                   << " unmeasured); `gemdirect kpi " << options.runDir << "` shows the KPI table" << Qt::endl;
    return result;
}

} // namespace cli

namespace {

QVector<QJsonObject> artifactsOf(const QStringList& runDirs, QStringList* problems)
{
    QVector<QJsonObject> out;
    for (const QString& d : runDirs) {
        QJsonObject a;
        const Error e = quality::QualityCalculator::readArtifact(d, &a);
        if (!e.isNull())
            problems->append(e.message);
        else
            out << a;
    }
    return out;
}

} // namespace

int qualityCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Compute or refresh QualityMetrics for a run (quality-kpis.md) and print its KPI table. The model judges "
        "(coherence, prompt alignment, caption-embedding alignment) use the LLM server; without one they are reported "
        "UNMEASURED with the reason. Ctrl-C stops the judges: the metrics they had not measured are written UNMEASURED "
        "(\"cancelled by the operator\"), the others as usual, and the exit code is 130."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("quality"), QString());
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QString());
    p.addOption({QStringLiteral("llm-url"), QStringLiteral("LLM server for the judges (LOCAL_STORY_PROVIDER_URL)."), QStringLiteral("URL")});
    p.addOption({QStringLiteral("no-judges"), QStringLiteral("Only the metrics that need no model.")});
    p.addOption({QStringLiteral("history-db"), QStringLiteral("History database (GEMDIRECT_DB)."), QStringLiteral("PATH")});
    if (!p.parse(args)) {
        cli::err() << "gemdirect quality: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    if (p.positionalArguments().size() != 2) {
        cli::err() << "usage: gemdirect quality RUN_DIR [--llm-url URL] [--no-judges]" << Qt::endl;
        return 2;
    }
    gd::log::init(QString(), false);
    gd::log::applyEnvLevel();
    const QString runDir = p.positionalArguments().at(1);
    QString llmUrl = p.value(QStringLiteral("llm-url"));
    if (llmUrl.isEmpty())
        llmUrl = qEnvironmentVariable("LOCAL_STORY_PROVIDER_URL");
    if (p.isSet(QStringLiteral("no-judges")))
        llmUrl.clear();
    pipeline::RunQualityOptions options;
    options.runDir = runDir;
    options.judgeUrl = llmUrl;
    options.historyDb = historyDatabasePath(p.value(QStringLiteral("history-db")));
    options.recordKpis = false;
    SignalWatcher signals;
    const auto result = cli::computeQuality(options, false, &signals);
    const auto& c = result.computation;
    if (!c.error.isNull()) {
        cli::err() << "error: " << c.error.message << Qt::endl;
        return result.cancelled ? 130 : 2;
    }
    QStringList problems;
    const auto kpis = quality::KpiEvaluator::evaluate(artifactsOf({runDir}, &problems));
    cli::out() << quality::KpiEvaluator::table(kpis);
    for (const QJsonValue u : c.qualityMetrics.value(QStringLiteral("Unmeasured")).toArray())
        cli::out() << "unmeasured: " << u.toString() << Qt::endl;
    if (result.cancelled) {
        cli::err() << "Quality step cancelled by the operator (Ctrl-C): the judge metrics above marked \""
                   << pipeline::RunQualityJob::cancelledReason() << "\" were not measured." << Qt::endl;
        return 130;
    }
    return 0;
}

int kpiCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "PASS / WARN / FAIL / UNMEASURED for every KPI of quality-kpis.md over the given runs (or the last N in the "
        "history database). Exit 1 when any KPI fails, so a scheduled job can alert."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("kpi"), QString());
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QString(), QStringLiteral("[RUN_DIR…]"));
    p.addOption({QStringLiteral("last"), QStringLiteral("The last N runs of the history database (default 10)."), QStringLiteral("N")});
    p.addOption({QStringLiteral("json"), QStringLiteral("Print JSON.")});
    p.addOption({QStringLiteral("history-db"), QStringLiteral("History database (GEMDIRECT_DB)."), QStringLiteral("PATH")});
    if (!p.parse(args)) {
        cli::err() << "gemdirect kpi: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    const QStringList runDirs = p.positionalArguments().mid(1);
    QVector<telemetry::RunDigest> digests;
    if (runDirs.isEmpty()) {
        bool ok = true;
        const int n = p.isSet(QStringLiteral("last")) ? p.value(QStringLiteral("last")).toInt(&ok) : 10;
        if (!ok || n < 1) {
            cli::err() << "gemdirect kpi: --last must be a positive number" << Qt::endl;
            return 2;
        }
        store::Database db;
        const Error e = db.open(historyDatabasePath(p.value(QStringLiteral("history-db"))));
        if (!e.isNull()) {
            cli::err() << "error: " << e.message << Qt::endl;
            return 2;
        }
        // From the database: the digests stored when the runs were recorded (rebuilt from the run
        // directories for runs recorded before there were digests).
        QStringList problems;
        const Error le = store::RunStore(db).lastDigests(n, digests, &problems);
        for (const QString& pr : problems)
            cli::err() << "skipped: " << pr << Qt::endl;
        if (!le.isNull()) {
            cli::err() << "error: " << le.message << Qt::endl;
            return 2;
        }
        if (digests.isEmpty() && problems.isEmpty()) {
            cli::err() << "No runs in the history database yet: run something, or `gemdirect import DIR`." << Qt::endl;
            return 2;
        }
    } else {
        QStringList problems;
        for (const QJsonObject& a : artifactsOf(runDirs, &problems))
            digests.append(telemetry::RunDigest::fromArtifact(a));
        for (const QString& pr : problems)
            cli::err() << "skipped: " << pr << Qt::endl;
    }
    if (digests.isEmpty())
        return 2;
    const auto kpis = quality::KpiEvaluator::evaluateDigests(digests);
    if (p.isSet(QStringLiteral("json")))
        cli::out() << QJsonDocument(quality::KpiEvaluator::toJson(kpis)).toJson(QJsonDocument::Indented);
    else
        cli::out() << "KPIs over " << digests.size() << " run(s):\n" << quality::KpiEvaluator::table(kpis);
    cli::out().flush();
    return quality::KpiEvaluator::anyFail(kpis) ? 1 : 0;
}
