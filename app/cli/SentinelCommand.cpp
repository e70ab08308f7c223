#include "SentinelCommand.h"

#include "CliCommon.h"
#include "SignalWatcher.h"
#include "comfy/ComfyClient.h"
#include "common/Log.h"
#include "pipeline/DoneMarkerSentinel.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>

using namespace gd;

namespace {

QString stamp()
{
    return QDateTime::currentDateTime().toString(QStringLiteral("[yyyy-MM-dd HH:mm:ss]"));
}

} // namespace

int sentinelCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("Write done markers for workflows that cannot use the GemDirectSaveFrames node.\n"
                       "Watches ComfyUI output folders (and their subfolders), groups frames by prefix (the "
                       "file name without "
                       "ComfyUI's _NNNNN_ counter) and writes <prefix>.done atomically once a group has at "
                       "least --min-frames "
                       "frames and nothing changed for --stable-seconds. With --comfy-url it also marks the "
                       "outputs of prompts "
                       "that /history reports complete, at once. Markers say \"writer\": \"sentinel\"; a "
                       "marker the node wrote is "
                       "never replaced. Runs until Ctrl-C; --once makes one pass and exits (for cron).\n"
                       "Exit codes: 0 ok, 1 (--once) ComfyUI's /history could not be read, 2 bad options or "
                       "a missing folder."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("sentinel"), QString());
    p.addOption({QStringLiteral("output-dir"), QStringLiteral("ComfyUI output folder to watch (repeatable)."),
                 QStringLiteral("DIR")});
    p.addOption({QStringLiteral("stable-seconds"),
                 QStringLiteral(
                     "Seconds without new files or size/mtime changes before a group is marked (default 3)."),
                 QStringLiteral("S"), QStringLiteral("3")});
    p.addOption({QStringLiteral("min-frames"),
                 QStringLiteral("Frames a group needs before it is marked (default 1)."), QStringLiteral("N"),
                 QStringLiteral("1")});
    p.addOption({QStringLiteral("comfy-url"),
                 QStringLiteral("Also poll this ComfyUI's /history and mark completed prompts at once."),
                 QStringLiteral("URL")});
    p.addOption({QStringLiteral("once"),
                 QStringLiteral("One pass (stability judged by file modification times), then exit.")});
    p.addOption({QStringLiteral("verbose"), QStringLiteral("Log debug details to stderr.")});
    if (!p.parse(args)) {
        cli::err() << "gemdirect sentinel: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    if (p.positionalArguments().size() != 1) {
        cli::err() << "gemdirect sentinel: unexpected argument " << p.positionalArguments().value(1)
                   << " (folders go after --output-dir)" << Qt::endl;
        return 2;
    }
    gd::log::init(QString(), p.isSet(QStringLiteral("verbose")));
    gd::log::applyEnvLevel();

    pipeline::DoneMarkerSentinel::Options opt;
    for (const QString& dir : p.values(QStringLiteral("output-dir")))
        opt.outputDirs << QDir(dir).absolutePath();
    bool ok = false;
    opt.stableSeconds = p.value(QStringLiteral("stable-seconds")).toDouble(&ok);
    if (!ok) {
        cli::err() << "gemdirect sentinel: --stable-seconds must be a number" << Qt::endl;
        return 2;
    }
    opt.minFrames = p.value(QStringLiteral("min-frames")).toInt(&ok);
    if (!ok) {
        cli::err() << "gemdirect sentinel: --min-frames must be a whole number" << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("comfy-url")))
        opt.comfyUrl = comfy::ComfyClient::normaliseUrl(p.value(QStringLiteral("comfy-url")));
    const QStringList problems = pipeline::DoneMarkerSentinel::validate(opt);
    if (!problems.isEmpty()) {
        for (const QString& problem : problems)
            cli::err() << "gemdirect sentinel: " << problem << Qt::endl;
        return 2;
    }
    for (const QString& dir : opt.outputDirs) {
        if (!QFileInfo(dir).isDir()) {
            cli::err() << "gemdirect sentinel: output folder " << dir << " does not exist" << Qt::endl;
            return 2;
        }
    }

    pipeline::DoneMarkerSentinel sentinel(opt);
    QObject::connect(&sentinel, &pipeline::DoneMarkerSentinel::markerWritten,
                     [](const QString& path, int frames, const QString& trigger) {
                         cli::out() << stamp() << " marked " << path << " (" << frames << " frames, "
                                    << trigger << ")" << Qt::endl;
                     });
    QObject::connect(&sentinel, &pipeline::DoneMarkerSentinel::problem,
                     [](const QString& text) { cli::err() << stamp() << " warning: " << text << Qt::endl; });

    if (p.isSet(QStringLiteral("once"))) {
        int written = sentinel.scanNow(true);
        bool historyOk = true;
        if (!opt.comfyUrl.isEmpty()) {
            QEventLoop loop;
            int fromHistory = 0;
            QObject::connect(&sentinel, &pipeline::DoneMarkerSentinel::markerWritten, &loop,
                             [&] { ++fromHistory; });
            QObject::connect(&sentinel, &pipeline::DoneMarkerSentinel::historyChecked, &loop,
                             [&](bool answered) {
                                 historyOk = answered;
                                 loop.quit();
                             });
            sentinel.checkHistoryNow();
            loop.exec(); // bounded: every /history request has a 10 s transfer timeout
            written += fromHistory;
        }
        cli::out() << stamp() << " " << written << " marker(s) written" << Qt::endl;
        return historyOk ? 0 : 1;
    }

    const Error e = sentinel.start();
    if (!e.isNull()) {
        cli::err() << "gemdirect sentinel: " << e.message << Qt::endl;
        return 2;
    }
    cli::out() << stamp() << " watching " << opt.outputDirs.join(QStringLiteral(", ")) << " (stable "
               << opt.stableSeconds << " s, min frames " << opt.minFrames
               << (opt.comfyUrl.isEmpty() ? QString()
                                          : QStringLiteral(", history of ") + opt.comfyUrl.toString())
               << "); Ctrl-C stops" << Qt::endl;
    SignalWatcher signals;
    QObject::connect(&signals, &SignalWatcher::interrupted, QCoreApplication::instance(),
                     [] { QCoreApplication::exit(0); });
    const int rc = QCoreApplication::exec();
    sentinel.stop();
    cli::out() << stamp() << " stopped" << Qt::endl;
    return rc;
}
