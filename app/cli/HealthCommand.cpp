#include "HealthCommand.h"

#include "CliCommon.h"

#include "comfy/ComfyClient.h"
#include "common/Log.h"
#include "pipeline/HealthProbe.h"
#include "sandbox/SandboxStandIns.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QJsonDocument>

using namespace gd;

int healthCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Check everything a render depends on: the LLM (models and a tiny chat), ComfyUI (/system_stats, /queue, the "
        "workflow's node classes, the done-marker node), the GPU (NVML, nvidia-smi, else /system_stats) and free disk "
        "space under the runs root (warning below 10 GB). Meant for cron and systemd timers.\n"
        "Exit codes: 0 healthy, 1 degraded, 2 down."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("health"), QString());
    p.addOption({QStringLiteral("json"), QStringLiteral("Print JSON instead of a table.")});
    p.addOption({QStringLiteral("llm-url"), QStringLiteral("LLM server (LOCAL_STORY_PROVIDER_URL; default http://127.0.0.1:1234)."), QStringLiteral("URL")});
    p.addOption({QStringLiteral("model"), QStringLiteral("LLM model id to test (default: the loaded one)."), QStringLiteral("ID")});
    p.addOption({QStringLiteral("no-llm"), QStringLiteral("Do not check the LLM (stories come from files).")});
    p.addOption({QStringLiteral("comfy-url"), QStringLiteral("ComfyUI URL (LOCAL_COMFY_URL; default http://127.0.0.1:8188)."), QStringLiteral("URL")});
    p.addOption({QStringLiteral("workflow"), QStringLiteral("Workflow profile whose node classes must exist (default: default)."), QStringLiteral("NAME|PATH")});
    p.addOption({QStringLiteral("runs-root"), QStringLiteral("Where runs are written (default: the app data directory/runs)."), QStringLiteral("DIR")});
    p.addOption({QStringLiteral("min-free-gb"), QStringLiteral("Free space below which the disk counts as degraded (default 10)."), QStringLiteral("GB")});
    p.addOption({QStringLiteral("sandbox"), QStringLiteral("Check the built-in stand-ins instead (a self-test of this installation).")});
    if (!p.parse(args)) {
        cli::err() << "gemdirect health: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    gd::log::init(QString(), false);
    gd::log::applyEnvLevel();
    pipeline::HealthOptions opt;
    opt.llmUrl = p.value(QStringLiteral("llm-url"));
    opt.llmModel = p.value(QStringLiteral("model"));
    opt.checkLlm = !p.isSet(QStringLiteral("no-llm"));
    QString comfy = p.value(QStringLiteral("comfy-url"));
    if (comfy.isEmpty())
        comfy = opt.env.value(QStringLiteral("LOCAL_COMFY_URL"), QStringLiteral("http://127.0.0.1:8188"));
    opt.comfyUrl = comfy::ComfyClient::normaliseUrl(comfy);
    opt.workflow = p.isSet(QStringLiteral("workflow")) ? p.value(QStringLiteral("workflow")) : QStringLiteral("default");
    opt.profileSearchDirs = {cli::userProfileDir()};
    if (p.isSet(QStringLiteral("min-free-gb"))) {
        bool ok = false;
        const double gb = p.value(QStringLiteral("min-free-gb")).toDouble(&ok);
        if (!ok || gb < 0) {
            cli::err() << "gemdirect health: --min-free-gb must be a number >= 0" << Qt::endl;
            return 2;
        }
        opt.diskWarnBytes = qint64(gb * 1024 * 1024 * 1024);
    }
    opt.runsRoot = p.isSet(QStringLiteral("runs-root")) ? p.value(QStringLiteral("runs-root")) : cli::defaultRunsRoot();

    sandbox::SandboxStandIns standIns;
    if (p.isSet(QStringLiteral("sandbox"))) {
        QString e;
        if (!standIns.start(QString(), sandbox::SandboxConfig{}, sandbox::SandboxLlmConfig{}, &e)) {
            cli::err() << "error: " << e << Qt::endl;
            return 2;
        }
        opt.comfyUrl = standIns.comfyUrl();
        opt.llmUrl = standIns.llmUrl().toString();
        if (!p.isSet(QStringLiteral("workflow")))
            opt.workflow = QStringLiteral("sandbox");
    }

    pipeline::HealthProbe probe(opt);
    QVector<pipeline::HealthItem> items;
    int code = 2;
    QEventLoop loop;
    QObject::connect(&probe, &pipeline::HealthProbe::finished, &loop,
                     [&](const QVector<pipeline::HealthItem>& result, int exitCode) {
                         items = result;
                         code = exitCode;
                         loop.quit();
                     });
    QMetaObject::invokeMethod(&probe, &pipeline::HealthProbe::run, Qt::QueuedConnection);
    loop.exec();
    if (p.isSet(QStringLiteral("json")))
        cli::out() << QJsonDocument(pipeline::HealthProbe::toJson(items)).toJson(QJsonDocument::Indented);
    else
        cli::out() << pipeline::HealthProbe::table(items);
    cli::out().flush();
    return code;
}
