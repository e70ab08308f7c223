// gemdirect-studio — the desktop app's composition root: settings, logging, sandbox stand-ins, main window.

#include "MainWindow.h"
#include "ScreenshotTour.h"
#include "StartupProbe.h"
#include "Studio.h"

#include "common/AppPaths.h"
#include "common/Log.h"
#include "common/LogSink.h"
#include "pipeline/Settings.h"
#include "sandbox/SandboxStandIns.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTextStream>
#include <cstdio>

using namespace gd;

int main(int argc, char** argv)
{
    QElapsedTimer sinceMain; // start-up timing for StartupProbe (GD_STARTUP_PROBE)
    sinceMain.start();
    QStringList args;
    for (int i = 0; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "gemDirect Studio: write stories with a local LLM, render every scene through ComfyUI, watch, rate and chart "
        "them.\nWith --sandbox both servers are built-in stand-ins: no GPU and no servers needed."));
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    const QCommandLineOption version(QStringLiteral("version"), QStringLiteral("Print the version and exit."));
    const QCommandLineOption sandboxOption(
        QStringLiteral("sandbox"),
        QStringLiteral("Start the ComfyUI and LLM stand-ins in-process and use them for this session (saved URLs are kept)."));
    const QCommandLineOption settingsOption(QStringLiteral("settings"),
                                            QStringLiteral("Settings file to use (default: the app's config folder)."),
                                            QStringLiteral("FILE"));
    const QCommandLineOption screenshotsOption(
        QStringLiteral("screenshots"),
        QStringLiteral("With --sandbox: generate a story, run it and save PNGs of the window and each panel mid-run "
                       "into DIR, then quit (exit 0 when every shot was written). Uses a temporary settings file and "
                       "runs folder."),
        QStringLiteral("DIR"));
    parser.addOptions({help, version, sandboxOption, settingsOption, screenshotsOption});
    // Parsed before the QApplication exists so --help and --version work without a display.
    if (!parser.parse(args)) {
        std::fprintf(stderr, "gemdirect-studio: %s\n", qPrintable(parser.errorText()));
        return 2;
    }
    if (parser.isSet(help)) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    if (parser.isSet(version)) {
        std::printf("gemdirect-studio %s\n", GD_APP_VERSION);
        return 0;
    }
    const bool screenshots = parser.isSet(screenshotsOption);
    if (screenshots && !parser.isSet(sandboxOption)) {
        std::fputs("gemdirect-studio: --screenshots needs --sandbox (the tour renders through the stand-ins)\n", stderr);
        return 2;
    }

    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("gemDirect"));
    QCoreApplication::setApplicationName(QStringLiteral("gemDirect Studio"));
    QCoreApplication::setApplicationVersion(QStringLiteral(GD_APP_VERSION));

    // The screenshot tour keeps its settings, runs, history and logs out of the operator's folders.
    std::unique_ptr<QTemporaryDir> tourDir;
    if (screenshots) {
        tourDir = std::make_unique<QTemporaryDir>(QDir::temp().filePath(QStringLiteral("gemdirect-screenshots-XXXXXX")));
        if (!tourDir->isValid()) {
            std::fprintf(stderr, "gemdirect-studio: cannot create a temporary folder: %s\n",
                         qPrintable(tourDir->errorString()));
            return 1;
        }
    }
    const QString dataDir =
        screenshots ? tourDir->path() : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    log::init(QDir(dataDir).filePath(QStringLiteral("logs")), false);
    log::applyEnvLevel();
    auto sink = std::make_shared<log::LogSink>();
    log::addSink(sink);
    auto appLog = log::get("app");

    const QString settingsFile = screenshots                    ? tourDir->filePath(QStringLiteral("gemdirect-studio.ini"))
                                 : parser.isSet(settingsOption) ? parser.value(settingsOption)
                                                                : AppPaths::settingsFile();
    pipeline::Settings settings(settingsFile);
    appLog->info("gemDirect Studio {} started; settings {}", GD_APP_VERSION, settingsFile.toStdString());
    if (screenshots) {
        Error e = settings.set(pipeline::Settings::Key::RunsRoot, tourDir->filePath(QStringLiteral("runs")));
        if (e.isNull())
            e = settings.set(pipeline::Settings::Key::HistoryDb, tourDir->filePath(QStringLiteral("history.sqlite")));
        if (!e.isNull()) {
            std::fprintf(stderr, "gemdirect-studio: %s\n", qPrintable(e.message));
            return 1;
        }
    }

    sandbox::SandboxStandIns standIns;
    if (parser.isSet(sandboxOption)) {
        QString error;
        sandbox::SandboxConfig comfyConfig;
        // The tour must catch a scene mid-render: a slower sampler (8 steps of 0.4 s) gives it seconds, not ms.
        if (screenshots)
            comfyConfig.stepDelayMs = 400;
        // The LLM stand-in answers as a vision model too, so the end-of-run judges have something to ask.
        sandbox::SandboxLlmConfig llmConfig;
        llmConfig.visionModel = true;
        if (!standIns.start(settings.string(pipeline::Settings::Key::RunsRoot), comfyConfig, llmConfig, &error)) {
            appLog->error("sandbox: {}", error.toStdString());
            if (screenshots) {
                std::fprintf(stderr, "gemdirect-studio: the sandbox could not start: %s\n", qPrintable(error));
                return 3;
            }
            QMessageBox::critical(nullptr, QStringLiteral("gemDirect Studio"),
                                  QStringLiteral("The sandbox could not start: %1").arg(error));
            return 3;
        }
        studio::Studio::useStandIns(settings, standIns);
        appLog->info("sandbox: ComfyUI stand-in at {}, LLM stand-in at {}", standIns.comfyUrl().toString().toStdString(),
                     standIns.llmUrl().toString().toStdString());
    }

    int rc = 0;
    {
        studio::Studio studio(settings, sink);
        studio::MainWindow& window = *studio.window();
        if (standIns.isRunning())
            window.setWindowTitle(QStringLiteral("gemDirect Studio — sandbox"));
        std::unique_ptr<studio::StartupProbe> probe;
        if (studio::StartupProbe::requested())
            probe = std::make_unique<studio::StartupProbe>(&window, sinceMain);
        std::unique_ptr<studio::ScreenshotTour> tour;
        if (screenshots) {
            studio::ScreenshotTour::Options options;
            options.outputDir = QDir(parser.value(screenshotsOption)).absolutePath();
            tour = std::make_unique<studio::ScreenshotTour>(studio, options);
            QObject::connect(tour.get(), &studio::ScreenshotTour::finished, tour.get(), [&tour](int exitCode, const QString& message) {
                if (exitCode == 0) {
                    for (const QString& file : tour->writtenFiles())
                        std::printf("%s\n", qPrintable(QDir::toNativeSeparators(file)));
                    std::printf("gemdirect-studio: %s\n", qPrintable(message));
                } else {
                    std::fprintf(stderr, "gemdirect-studio: screenshots failed: %s\n", qPrintable(message));
                }
                std::fflush(stdout);
                QCoreApplication::exit(exitCode);
            });
        }
        window.show();
        studio.offerUnfinishedRuns();
        if (tour)
            tour->start();
        rc = QApplication::exec();
    }
    standIns.stop();
    log::removeSink(sink);
    return rc;
}
