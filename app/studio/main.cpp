// gemdirect-studio — the desktop app's composition root: settings, logging, sandbox stand-ins, main window.

#include "MainWindow.h"
#include "Studio.h"

#include "common/AppPaths.h"
#include "common/Log.h"
#include "common/LogSink.h"
#include "pipeline/Settings.h"
#include "sandbox/SandboxStandIns.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>
#include <QStandardPaths>
#include <QTextStream>
#include <cstdio>

using namespace gd;

int main(int argc, char** argv)
{
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
    parser.addOptions({help, version, sandboxOption, settingsOption});
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

    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("gemDirect"));
    QCoreApplication::setApplicationName(QStringLiteral("gemDirect Studio"));
    QCoreApplication::setApplicationVersion(QStringLiteral(GD_APP_VERSION));

    const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    log::init(QDir(dataDir).filePath(QStringLiteral("logs")), false);
    log::applyEnvLevel();
    auto sink = std::make_shared<log::LogSink>();
    log::addSink(sink);
    auto appLog = log::get("app");

    const QString settingsFile = parser.isSet(settingsOption) ? parser.value(settingsOption) : AppPaths::settingsFile();
    pipeline::Settings settings(settingsFile);
    appLog->info("gemDirect Studio {} started; settings {}", GD_APP_VERSION, settingsFile.toStdString());

    sandbox::SandboxStandIns standIns;
    if (parser.isSet(sandboxOption)) {
        QString error;
        // The LLM stand-in answers as a vision model too, so the end-of-run judges have something to ask.
        sandbox::SandboxLlmConfig llmConfig;
        llmConfig.visionModel = true;
        if (!standIns.start(settings.string(pipeline::Settings::Key::RunsRoot), sandbox::SandboxConfig{}, llmConfig,
                            &error)) {
            appLog->error("sandbox: {}", error.toStdString());
            QMessageBox::critical(nullptr, QStringLiteral("gemDirect Studio"),
                                  QStringLiteral("The sandbox could not start: %1").arg(error));
            return 3;
        }
        using Key = pipeline::Settings::Key;
        // Session overrides only: the operator's saved URLs stay as they are.
        settings.setSessionOverride(Key::LlmUrl, standIns.llmUrl().toString());
        settings.setSessionOverride(Key::LlmApiKey, QString());
        settings.setSessionOverride(Key::ComfyUrl, standIns.comfyUrl().toString());
        settings.setSessionOverride(Key::ComfyToken, QString());
        settings.setSessionOverride(Key::ComfyOutputDir, standIns.comfyOutputDir());
        settings.setSessionOverride(Key::WorkflowProfile, QStringLiteral("sandbox"));
        appLog->info("sandbox: ComfyUI stand-in at {}, LLM stand-in at {}", standIns.comfyUrl().toString().toStdString(),
                     standIns.llmUrl().toString().toStdString());
    }

    int rc = 0;
    {
        studio::Studio studio(settings, sink);
        studio::MainWindow& window = *studio.window();
        if (standIns.isRunning())
            window.setWindowTitle(QStringLiteral("gemDirect Studio — sandbox"));
        window.show();
        studio.offerUnfinishedRuns();
        rc = QApplication::exec();
    }
    standIns.stop();
    log::removeSink(sink);
    return rc;
}
