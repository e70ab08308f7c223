#include "ProgressPrinter.h"

#include "CliCommon.h"

#include <QCoreApplication>
#include <unistd.h>

using namespace gd;

namespace cli {

ProgressPrinter::ProgressPrinter(pipeline::RunController* c, bool quiet) : QObject(c)
{
    QTextStream& o = cli::out();
    connect(c, &pipeline::RunController::message, this, [&o](const QString& m) { o << m << Qt::endl; });
    connect(c, &pipeline::RunController::warning, this,
            [](const QString& m) { cli::err() << "WARNING: " << m << Qt::endl; });
    connect(c, &pipeline::RunController::runDirectoryCreated, this,
            [&o](const QString& d) { o << "Run directory created: " << d << Qt::endl; });
    connect(c, &pipeline::RunController::attemptStarted, this, [this, &o](const QString& id, int a, int max) {
        m_lastDecile[id] = -1;
        o << "[" << id << "] attempt " << a << "/" << max << " started" << Qt::endl;
    });
    if (!quiet) {
        connect(c, &pipeline::RunController::sceneState, this,
                [&o](const QString& id, const QString& s) { o << "[" << id << "] " << s << Qt::endl; });
        connect(c, &pipeline::RunController::sceneProgress, this,
                [this, &o](const QString& id, double f, const QString& detail) {
                    const int decile = int(f * 10);
                    if (decile <= m_lastDecile.value(id, -1))
                        return;
                    m_lastDecile[id] = decile;
                    o << "[" << id << "] progress " << int(f * 100) << "%"
                      << (detail.isEmpty() ? QString() : QStringLiteral(" (") + detail + QLatin1Char(')'))
                      << Qt::endl;
                });
    }
    connect(c, &pipeline::RunController::attemptFinished, this,
            [&o](const QString& id, const telemetry::AttemptRecord& a) {
                o << "[" << id << "] attempt " << a.attempt << " " << a.status << ": frames=" << a.frameCount
                  << " duration=" << QString::number(a.durationSeconds, 'f', 1) << "s"
                  << " marker=" << (a.telemetry.doneMarkerDetected ? "yes" : "no")
                  << (a.telemetry.forcedCopyTriggered ? " forced-copy" : "") << Qt::endl;
                for (const QString& e : a.errors)
                    o << "[" << id << "]   error: " << e << Qt::endl;
            });
    connect(c, &pipeline::RunController::sceneFinished, this, [&o](const telemetry::SceneRecord& s) {
        const auto* k = s.kept();
        o << "[" << s.sceneId << "] " << s.status << ": " << (k ? k->frameCount : 0) << "/" << s.frameFloor
          << " frames, " << s.attempts.size() << " attempt(s)" << Qt::endl;
    });
}

int runToCompletion(gd::pipeline::RunController* controller, SignalWatcher& signals, bool quiet)
{
    using gd::pipeline::RunController;
    using gd::pipeline::RunExit;
    new ProgressPrinter(controller, quiet);
    QObject::connect(&signals, &SignalWatcher::interrupted, controller, [controller](int count) {
        if (count > 1) {
            cli::err() << "Interrupted twice: exiting without waiting." << Qt::endl;
            ::_exit(130);
        }
        cli::err() << "Interrupt received: cancelling the run (Ctrl-C again to exit at once) ..." << Qt::endl;
        controller->cancel();
    });
    int exitCode = 0;
    QObject::connect(controller, &RunController::finished, controller, [&exitCode](int code, const QString& msg) {
        exitCode = code;
        if (code == int(RunExit::BadInput) || code == int(RunExit::Unreachable))
            cli::err() << "error: " << msg << Qt::endl;
        else
            cli::out() << "Run finished: " << msg << Qt::endl;
        QCoreApplication::exit(code);
    });
    QMetaObject::invokeMethod(controller, &RunController::start, Qt::QueuedConnection);
    QCoreApplication::exec();
    return exitCode;
}

} // namespace cli
