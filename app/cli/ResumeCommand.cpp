#include "ResumeCommand.h"

#include "CliCommon.h"
#include "HistoryCommands.h"
#include "ProgressPrinter.h"
#include "QualityCommands.h"
#include "SignalWatcher.h"
#include "comfy/ComfyClient.h"
#include "common/Log.h"
#include "gpu/GpuMonitor.h"
#include "pipeline/ResumePlanner.h"
#include "pipeline/RunController.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QProcessEnvironment>
#include <QThreadPool>
#include <unistd.h>

using namespace gd;

int resumeCommand(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Resume a run that stopped before its end (the app crashed or was killed) from its "
                       "run directory alone: "
                       "prompts still queued or running on ComfyUI are re-attached by prompt id, prompts "
                       "that finished while the "
                       "app was down are collected from /history, and only lost work is submitted again; "
                       "finished scenes are never "
                       "rendered twice. run-summary.txt and artifact-metadata.json continue where they "
                       "stopped. The run keeps the "
                       "workflow and queue policy it started with.\n\n"
                       "Exit codes: 0 every scene succeeded, 1 some scene failed, 2 not resumable (not a run "
                       "directory, or it "
                       "stopped before its first scene was queued), 3 ComfyUI unreachable, 130 interrupted "
                       "(Ctrl-C). A run that "
                       "already finished exits 0 and changes nothing."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("resume"), QStringLiteral("The resume command."));
    parser.addPositionalArgument(QStringLiteral("RUN_DIR"), QStringLiteral("The run directory to continue."));
    parser.addOption(
        {QStringLiteral("comfy-url"),
         QStringLiteral(
             "Reach the run's ComfyUI server at this URL instead of the journaled one (same "
             "server under another address: its queue and history are where prompts are looked up)."),
         QStringLiteral("URL")});
    parser.addOption({QStringLiteral("comfy-output-dir"),
                      QStringLiteral("ComfyUI's local output directory, instead of the journaled one."),
                      QStringLiteral("DIR")});
    parser.addOption(
        {QStringLiteral("comfy-token"),
         QStringLiteral("Bearer token for a reverse proxy in front of ComfyUI (LOCAL_COMFY_TOKEN); "
                        "tokens are never journaled."),
         QStringLiteral("TOKEN")});
    parser.addOption({QStringLiteral("history-db"),
                      QStringLiteral("History database the finished run is recorded in (GEMDIRECT_DB)."),
                      QStringLiteral("PATH")});
    parser.addOption(
        {QStringLiteral("no-history"), QStringLiteral("Do not record the run in the history database.")});
    parser.addOption(
        {QStringLiteral("no-quality"), QStringLiteral("Do not compute quality metrics at the end.")});
    parser.addOption({QStringLiteral("llm-url"),
                      QStringLiteral("LLM server that judges quality at the end (as for `run`)."),
                      QStringLiteral("URL")});
    cli::addDiskFullHoldOption(parser);
    parser.addOption({QStringLiteral("quiet"), QStringLiteral("Print scene results only.")});
    parser.addOption({QStringLiteral("verbose"), QStringLiteral("Debug logging on stderr.")});
    if (!parser.parse(arguments)) {
        cli::err() << "gemdirect resume: " << parser.errorText() << "\nSee gemdirect resume --help."
                   << Qt::endl;
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        cli::out() << parser.helpText() << Qt::endl;
        return 0;
    }
    if (parser.positionalArguments().size() != 2) {
        cli::err() << "usage: gemdirect resume RUN_DIR [--comfy-url URL] [--comfy-token TOKEN]" << Qt::endl;
        return 2;
    }
    gd::log::init(QString(), parser.isSet(QStringLiteral("verbose")));
    gd::log::applyEnvLevel();
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QString runDirArg = QDir(parser.positionalArguments().at(1)).absolutePath();

    QElapsedTimer planClock;
    planClock.start();
    QString error;
    bool alreadyFinished = false;
    const auto plan = pipeline::ResumePlanner::plan(runDirArg, &error, &alreadyFinished);
    if (!plan) {
        if (alreadyFinished) {
            cli::out() << error << Qt::endl;
            cli::out() << "Run directory: " << runDirArg << Qt::endl;
            return 0;
        }
        cli::err() << "error: " << error << Qt::endl;
        return 2;
    }
    for (const QString& p : plan->problems)
        cli::err() << "WARNING: " << p << Qt::endl;
    pipeline::RunOptions opt;
    if (!pipeline::ResumePlanner::applyTo(*plan, &opt, &error)) {
        cli::err() << "error: " << error << Qt::endl;
        return 2;
    }
    if (parser.isSet(QStringLiteral("comfy-url"))) {
        const QUrl url = comfy::ComfyClient::normaliseUrl(parser.value(QStringLiteral("comfy-url")));
        if (!url.isValid() || url.host().isEmpty()) {
            cli::err() << "error: --comfy-url: '" << parser.value(QStringLiteral("comfy-url"))
                       << "' is not a usable URL" << Qt::endl;
            return 2;
        }
        opt.comfyUrl = url;
    }
    if (parser.isSet(QStringLiteral("comfy-output-dir")))
        opt.comfyOutputDir = parser.value(QStringLiteral("comfy-output-dir"));
    opt.bearerToken = parser.isSet(QStringLiteral("comfy-token"))
                          ? parser.value(QStringLiteral("comfy-token"))
                          : env.value(QStringLiteral("LOCAL_COMFY_TOKEN"));
    opt.profileSearchDirs = {cli::userProfileDir()};
    QStringList holdErrors;
    opt.diskFullHoldSeconds = cli::diskFullHoldSeconds(parser, opt.diskFullHoldSeconds, &holdErrors);
    if (!holdErrors.isEmpty()) {
        cli::err() << "error: " << holdErrors.first() << Qt::endl;
        return 2;
    }
    if (!parser.isSet(QStringLiteral("no-history")))
        opt.historyDatabase = historyDatabasePath(parser.value(QStringLiteral("history-db")));
    cli::out() << "Resuming " << plan->runDir << ": " << plan->describe() << " (journal read in "
               << planClock.elapsed() << " ms)" << Qt::endl;

    gpu::GpuMonitor monitor;
    monitor.start();
    auto* controller = new pipeline::RunController(opt, &monitor);
    SignalWatcher signals;
    int exitCode = cli::runToCompletion(controller, signals, parser.isSet(QStringLiteral("quiet")));
    const QString runDir = controller->runDir().isEmpty() ? plan->runDir : controller->runDir();
    delete controller;
    monitor.stop();

    const bool finishedRun =
        exitCode == int(pipeline::RunExit::Success) || exitCode == int(pipeline::RunExit::SomeFailed);
    if (finishedRun && !parser.isSet(QStringLiteral("no-quality"))) {
        pipeline::RunQualityOptions qualityOptions;
        qualityOptions.runDir = runDir;
        qualityOptions.judgeUrl = parser.value(QStringLiteral("llm-url"));
        qualityOptions.historyDb = opt.historyDatabase;
        if (cli::finishRunQuality(qualityOptions, parser.isSet(QStringLiteral("quiet")), &signals).cancelled)
            exitCode = 130; // Ctrl-C during the quality step
    }
    cli::out() << "Run directory: " << runDir << Qt::endl;
    return exitCode;
}
