// gemdirect — command-line entry point: dispatches sub-commands to core services.

#include "CliCommon.h"
#include "ComfyCommand.h"
#include "HealthCommand.h"
#include "HistoryCommands.h"
#include "QualityCommands.h"
#include "ResumeCommand.h"
#include "RunCommand.h"
#include "SentinelCommand.h"
#include "StoryCommand.h"
#include "StoryboardCommand.h"
#include "SignalWatcher.h"

#include <memory>
#include "comfy/LegacyProfileImporter.h"
#include "comfy/WorkflowProfileLoader.h"
#include "common/Log.h"
#include "sandbox/FaultRule.h"
#include "sandbox/SandboxHost.h"
#include "sandbox/SandboxLlmHost.h"
#include "telemetry/RunValidator.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QGuiApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>

using namespace gd;

namespace {

const char* kUsage =
    "Usage: gemdirect <command> [options]\n"
    "\n"
    "Commands:\n"
    "  run        Render a story (--story FILE, or --idea TEXT to write it first) through ComfyUI (or --sandbox)\n"
    "  resume     Continue a run that stopped before its end (crash, kill): `resume RUN_DIR`\n"
    "  story      Write a story.json with a local LLM (LM Studio, Ollama, llama.cpp)\n"
    "  storyboard Sheets, keyframes (judged best-of-N) and approvals before video: `storyboard create|all|status ...`\n"
    "  templates  List the story prompt templates and their versions\n"
    "  validate   Check a run directory against the telemetry contract (exit 0 valid, 1 violations, 2 "
    "missing)\n"
    "  sandbox    Start a stand-in server: `gemdirect sandbox comfyui --port 8188 --output-dir DIR`,\n"
    "             `gemdirect sandbox llm --port 1234`\n"
    "  profile    Workflow profiles: `profile list`, `profile import FILE [-o DIR]`\n"
    "  comfy      `comfy install-node --comfy-dir PATH`: install the done-marker node into ComfyUI\n"
    "  sentinel   Write <prefix>.done markers for workflows without the node: `sentinel --output-dir DIR`\n"
    "  health     Check LLM, ComfyUI, GPU and disk (exit 0 healthy, 1 degraded, 2 down; --json)\n"
    "  import     Add run directories (ours or the earlier pipeline's) to the history database\n"
    "  rate       Rate a scene: `rate RUN_DIR SCENE_ID --stars 1-5 [--coherence 1-5] [--comment TEXT]`\n"
    "  sweep      Aggregate runs from the history database: `sweep [--since DATE] -o OUT_DIR`\n"
    "  quality    Compute QualityMetrics for a run and print its KPI table: `quality RUN_DIR`\n"
    "  kpi        PASS/WARN/FAIL/UNMEASURED per KPI: `kpi [--last N | RUN_DIR…]` (exit 1 if any FAIL)\n"
    "\n"
    "`gemdirect <command> --help` describes each command's options.\n";

int validateCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("Validate a run directory against the telemetry contract (§5).\n"
                       "Exit codes: 0 valid, 1 violations (one ERROR line each), 2 no such run."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("validate"), QString());
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QStringLiteral("The run directory."));
    if (!p.parse(args)) {
        cli::err() << "gemdirect validate: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    if (p.positionalArguments().size() != 2) {
        cli::err() << "usage: gemdirect validate RUN_DIR" << Qt::endl;
        return 2;
    }
    return telemetry::RunValidator::run(p.positionalArguments().at(1), cli::out());
}

// `--fault SPEC` values → rules; false (after saying which spec is wrong) on the first bad one.
template <typename Rule>
bool parseFaults(const QStringList& specs, QList<Rule>* rules, const char* who)
{
    for (const QString& spec : specs) {
        QString e;
        auto rule = Rule::parse(spec, &e);
        if (!rule) {
            cli::err() << who << ": --fault " << spec << ": " << e << Qt::endl;
            return false;
        }
        rules->append(*rule);
    }
    return true;
}

// Serves a started stand-in until Ctrl-C, then stops it.
template <typename Host>
int serveUntilInterrupted(Host& host)
{
    cli::out() << "Press Ctrl-C to stop." << Qt::endl;
    SignalWatcher signals;
    QObject::connect(&signals, &SignalWatcher::interrupted, QCoreApplication::instance(),
                     [] { QCoreApplication::exit(0); });
    const int rc = QCoreApplication::exec();
    host.stop();
    return rc;
}

int sandboxCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("Run a protocol-faithful stand-in server on loopback until Ctrl-C.\n"
                       "  gemdirect sandbox comfyui --port 8188 --output-dir DIR"));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("sandbox"), QString());
    p.addPositionalArgument(QStringLiteral("comfyui|llm"), QStringLiteral("Which server to stand in for."));
    p.addOption({QStringLiteral("port"), QStringLiteral("TCP port on 127.0.0.1 (default 8188)."),
                 QStringLiteral("PORT"), QStringLiteral("8188")});
    p.addOption({QStringLiteral("output-dir"),
                 QStringLiteral("ComfyUI output directory (default ./sandbox-output)."),
                 QStringLiteral("DIR"), QStringLiteral("sandbox-output")});
    p.addOption({QStringLiteral("fault"),
                 QStringLiteral("Inject a fault: kind[:match[:times[:param]]] (repeatable). Kinds: ") +
                     sandbox::FaultRule::kindNames().join(QStringLiteral(", ")),
                 QStringLiteral("SPEC")});
    p.addOption(
        {QStringLiteral("no-marker-node"), QStringLiteral("Pretend GemDirectSaveFrames is not installed.")});
    p.addOption({QStringLiteral("step-delay-ms"), QStringLiteral("Delay per sampler step (default 10)."),
                 QStringLiteral("MS")});
    if (!p.parse(args)) {
        cli::err() << "gemdirect sandbox: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    const QStringList pos = p.positionalArguments();
    const QString which = pos.value(1);
    if (pos.size() != 2 || (which != QLatin1String("comfyui") && which != QLatin1String("llm"))) {
        cli::err() << "usage: gemdirect sandbox comfyui --port 8188 --output-dir DIR | gemdirect sandbox llm --port 1234"
                   << Qt::endl;
        return 2;
    }
    bool ok = false;
    const QString portText = p.isSet(QStringLiteral("port")) ? p.value(QStringLiteral("port"))
                                                              : (which == QLatin1String("llm") ? QStringLiteral("1234")
                                                                                               : QStringLiteral("8188"));
    const int port = portText.toInt(&ok);
    if (!ok || port < 0 || port > 65535) {
        cli::err() << "gemdirect sandbox: --port must be 0-65535" << Qt::endl;
        return 2;
    }
    if (which == QLatin1String("llm")) {
        sandbox::SandboxLlmConfig cfg;
        if (!parseFaults<sandbox::LlmFaultRule>(p.values(QStringLiteral("fault")), &cfg.faults, "gemdirect sandbox llm"))
            return 2;
        sandbox::SandboxLlmHost host;
        QString e;
        if (!host.start(cfg, quint16(port), &e)) {
            cli::err() << "gemdirect sandbox llm: " << e << Qt::endl;
            return 3;
        }
        cli::out() << "Sandbox LLM (LM Studio behaviour) listening on " << host.url().toString() << " (model "
                   << cfg.modelId << ")" << Qt::endl;
        return serveUntilInterrupted(host);
    }
    sandbox::SandboxConfig cfg;
    cfg.outputDir = QDir(p.value(QStringLiteral("output-dir"))).absolutePath();
    cfg.markerNodeInstalled = !p.isSet(QStringLiteral("no-marker-node"));
    if (p.isSet(QStringLiteral("step-delay-ms")))
        cfg.stepDelayMs = p.value(QStringLiteral("step-delay-ms")).toInt();
    if (!parseFaults<sandbox::FaultRule>(p.values(QStringLiteral("fault")), &cfg.faults, "gemdirect sandbox"))
        return 2;
    sandbox::SandboxHost host;
    QString e;
    if (!host.start(cfg, quint16(port), &e)) {
        cli::err() << "gemdirect sandbox: " << e << Qt::endl;
        return 3;
    }
    cli::out() << "Sandbox ComfyUI listening on " << host.url().toString() << " (output: " << cfg.outputDir
               << ")" << Qt::endl;
    return serveUntilInterrupted(host);
}

int profileCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("Workflow profiles.\n  gemdirect profile list\n  gemdirect "
                                               "profile import legacy-profiles.json [-o DIR]\n"
                                               "Import converts the earlier app's profiles (workflowJson + "
                                               "mapping) into <name>.json + <name>.profile.json."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("profile"), QString());
    p.addPositionalArgument(QStringLiteral("action"), QStringLiteral("list | import"));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("legacy-profiles.json (import)"));
    p.addOption({{QStringLiteral("o"), QStringLiteral("output-dir")},
                 QStringLiteral("Where imported profiles go (default: the app's workflows folder)."),
                 QStringLiteral("DIR")});
    if (!p.parse(args)) {
        cli::err() << "gemdirect profile: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    const QStringList pos = p.positionalArguments();
    const QString action = pos.value(1);
    if (action == QLatin1String("list")) {
        cli::out() << "Built-in profiles:" << Qt::endl;
        for (const QString& name : comfy::WorkflowProfileLoader::builtinNames()) {
            QStringList errs;
            auto prof = comfy::WorkflowProfileLoader::resolve(name, {}, &errs);
            cli::out() << "  " << name << (prof ? QStringLiteral(" — ") + prof->description : QString())
                       << Qt::endl;
        }
        const QDir user(cli::userProfileDir());
        const QStringList own = user.entryList({QStringLiteral("*.profile.json")}, QDir::Files, QDir::Name);
        if (!own.isEmpty()) {
            cli::out() << "Profiles in " << user.absolutePath() << ":" << Qt::endl;
            for (const QString& f : own)
                cli::out() << "  " << f.chopped(13) << Qt::endl;
        }
        return 0;
    }
    if (action != QLatin1String("import") || pos.size() != 3) {
        cli::err() << "usage: gemdirect profile list | gemdirect profile import FILE [-o DIR]" << Qt::endl;
        return 2;
    }
    QFile f(pos.at(2));
    if (!f.open(QIODevice::ReadOnly)) {
        cli::err() << "gemdirect profile import: cannot open " << pos.at(2) << ": " << f.errorString()
                   << Qt::endl;
        return 2;
    }
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        cli::err() << "gemdirect profile import: " << pos.at(2) << " is not a JSON object ("
                   << pe.errorString() << " at offset " << pe.offset << ")" << Qt::endl;
        return 2;
    }
    const auto result = comfy::LegacyProfileImporter::import(doc.object());
    const QString dir =
        p.isSet(QStringLiteral("output-dir")) ? p.value(QStringLiteral("output-dir")) : cli::userProfileDir();
    int written = 0;
    for (const auto& prof : result.profiles) {
        const Error e = comfy::LegacyProfileImporter::writeProfile(prof, dir);
        if (!e.isNull()) {
            cli::err() << "error: " << e.message << Qt::endl;
            continue;
        }
        ++written;
        cli::out() << "imported " << prof.name << " -> "
                   << QDir(dir).filePath(prof.name + QStringLiteral(".json")) << Qt::endl;
    }
    for (const QString& problem : result.problems)
        cli::out() << "note: " << problem << Qt::endl;
    cli::out() << written << " profile(s) written to " << QDir(dir).absolutePath() << Qt::endl;
    return written > 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    // Only `sweep` draws (charts need fonts, i.e. a QGuiApplication); it does so off-screen.
    std::unique_ptr<QCoreApplication> app;
    if (argc > 1 && qstrcmp(argv[1], "sweep") == 0) {
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        app = std::make_unique<QGuiApplication>(argc, argv);
    } else {
        app = std::make_unique<QCoreApplication>(argc, argv);
    }
    QCoreApplication::setOrganizationName(QStringLiteral("gemDirect"));
    QCoreApplication::setApplicationName(QStringLiteral("gemDirect Studio"));
    QCoreApplication::setApplicationVersion(QStringLiteral(GD_APP_VERSION));
    const QStringList args = QCoreApplication::arguments();
    const QString cmd = args.value(1);
    if (cmd.isEmpty() || cmd == QLatin1String("help") || cmd == QLatin1String("--help") ||
        cmd == QLatin1String("-h")) {
        cli::out() << kUsage;
        return cmd.isEmpty() ? 2 : 0;
    }
    if (cmd == QLatin1String("--version")) {
        cli::out() << "gemdirect " << GD_APP_VERSION << Qt::endl;
        return 0;
    }
    QStringList sub = args;
    if (cmd == QLatin1String("run"))
        return runCommand(sub);
    if (cmd == QLatin1String("resume"))
        return resumeCommand(sub);
    if (cmd == QLatin1String("validate"))
        return validateCommand(sub);
    if (cmd == QLatin1String("sandbox"))
        return sandboxCommand(sub);
    if (cmd == QLatin1String("profile"))
        return profileCommand(sub);
    if (cmd == QLatin1String("comfy"))
        return comfyCommand(sub);
    if (cmd == QLatin1String("sentinel"))
        return sentinelCommand(sub);
    if (cmd == QLatin1String("health"))
        return healthCommand(sub);
    if (cmd == QLatin1String("import"))
        return importCommand(sub);
    if (cmd == QLatin1String("rate"))
        return rateCommand(sub);
    if (cmd == QLatin1String("sweep"))
        return sweepCommand(sub);
    if (cmd == QLatin1String("quality"))
        return qualityCommand(sub);
    if (cmd == QLatin1String("kpi"))
        return kpiCommand(sub);
    if (cmd == QLatin1String("story"))
        return cli::storyCommand(sub);
    if (cmd == QLatin1String("storyboard"))
        return storyboardCommand(sub);
    if (cmd == QLatin1String("templates"))
        return cli::templatesCommand(sub);
    cli::err() << "gemdirect: unknown command '" << cmd << "'\n\n" << kUsage;
    return 2;
}
