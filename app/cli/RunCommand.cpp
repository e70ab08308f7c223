#include "RunCommand.h"

#include "CliCommon.h"
#include "HistoryCommands.h"
#include "ProgressPrinter.h"
#include "QualityCommands.h"

#include "quality/KpiEvaluator.h"
#include "store/Database.h"
#include "store/RunStore.h"
#include "SignalWatcher.h"
#include "StoryCommand.h"
#include "StoryboardVideoRun.h"
#include "comfy/ComfyClient.h"
#include "common/Log.h"
#include "gpu/GpuMonitor.h"
#include "pipeline/MetricsExporter.h"
#include "pipeline/RunController.h"
#include "sandbox/FaultRule.h"
#include "sandbox/SandboxHost.h"
#include "sandbox/SandboxLlmHost.h"
#include "story/StoryLoader.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHostAddress>
#include <QHash>
#include <QJsonArray>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QThreadPool>
#include <QTimer>
#include <memory>
#include <unistd.h>

using namespace gd;

namespace {

struct KnobOption
{
    const char* name;
    const char* help;
};

const KnobOption kKnobs[] = {
    {"scene-max-wait",
     "History max wait per attempt, seconds (SCENE_MAX_WAIT_SECONDS; default 600, fast 30)."},
    {"scene-history-max-attempts",
     "History request limit per attempt, 0 = unbounded (SCENE_HISTORY_MAX_ATTEMPTS)."},
    {"scene-history-poll-interval",
     "History poll interval, seconds (SCENE_HISTORY_POLL_INTERVAL_SECONDS; default 2)."},
    {"scene-post-execution-timeout",
     "Wait for the history entry after success, seconds (SCENE_POST_EXECUTION_TIMEOUT_SECONDS)."},
    {"scene-retry-budget", "Requeues per scene; 1 = two attempts (SCENE_RETRY_BUDGET)."},
    {"frame-floor",
     "Minimum frames per scene; default: the scene's expectedFrames, else 25 (SCENE_FRAME_FLOOR)."},
    {"done-marker-timeout",
     "Wait for the producer's done marker, seconds (SCENE_DONE_MARKER_TIMEOUT_SECONDS)."},
    {"stability-window", "Newest frame must be this old before copying without a marker, seconds."},
    {"stability-retries", "Stability checks before a forced copy."},
};

bool applyKnob(const QString& name, const QString& value, pipeline::QueuePolicy& p, QStringList* errors)
{
    bool ok = false;
    const double d = value.toDouble(&ok);
    if (!ok) {
        errors->append(QStringLiteral("--%1: '%2' is not a number").arg(name, value));
        return false;
    }
    const bool whole = d == double(qint64(d));
    auto needWhole = [&] {
        if (!whole)
            errors->append(QStringLiteral("--%1: '%2' must be a whole number").arg(name, value));
        return whole;
    };
    if (name == QLatin1String("scene-max-wait"))
        p.maxWaitSeconds = d;
    else if (name == QLatin1String("scene-history-max-attempts") && needWhole())
        p.historyMaxAttempts = int(d);
    else if (name == QLatin1String("scene-history-poll-interval"))
        p.pollIntervalSeconds = d;
    else if (name == QLatin1String("scene-post-execution-timeout"))
        p.postExecutionTimeoutSeconds = d;
    else if (name == QLatin1String("scene-retry-budget") && needWhole())
        p.sceneRetryBudget = int(d);
    else if (name == QLatin1String("frame-floor") && needWhole())
        p.frameFloor = int(d);
    else if (name == QLatin1String("done-marker-timeout"))
        p.doneMarkerTimeoutSeconds = d;
    else if (name == QLatin1String("stability-window"))
        p.stabilityWindowSeconds = d;
    else if (name == QLatin1String("stability-retries") && needWhole())
        p.stabilityRetries = int(d);
    return true;
}

} // namespace

int runCommand(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Render a story through ComfyUI: every scene is queued, watched to completion, its frames collected "
        "into the run "
        "directory, and the telemetry contract written (artifact-metadata.json, run-summary.txt).\n\n"
        "Exit codes: 0 every scene succeeded, 1 some scene failed, 2 bad input or usage (nothing queued), "
        "3 ComfyUI (or, with --idea, the LLM) unreachable, 130 interrupted (Ctrl-C)."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("run"), QStringLiteral("The run command."));
    cli::addStoryOptions(parser);
    parser.addOption({QStringLiteral("story"),
                      QStringLiteral("story.json to render (bundled examples: examples/lighthouse.json); or --idea to write one first."),
                      QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("storyboard"),
                      QStringLiteral("Render the clips of a storyboard directory (story.json + storyboard.json): one "
                                     "per approved shot whose keyframe is fresh and whose clip is missing or stale; "
                                     "chained shots render after the shot they continue from. Clips are stored under "
                                     "DIR/clips, runs under DIR/runs."),
                      QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("shots"),
                      QStringLiteral("With --storyboard: only these shots (comma-separated keys, e.g. "
                                     "scene-001/shot-01,scene-002/shot-01)."),
                      QStringLiteral("KEY,...")});
    parser.addOption({QStringLiteral("all"),
                      QStringLiteral("With --storyboard: render approved shots whose clip is fresh again too.")});
    parser.addOption({QStringLiteral("comfy-url"),
                      QStringLiteral("ComfyUI server URL (LOCAL_COMFY_URL; default http://127.0.0.1:8188). Repeat it "
                                     "for a backend pool of several servers; LABEL=URL names one (then --comfy-token "
                                     "and --comfy-output-dir take LABEL=VALUE)."),
                      QStringLiteral("URL")});
    parser.addOption({QStringLiteral("comfy-token-file"),
                      QStringLiteral("File of LABEL=TOKEN or URL=TOKEN lines, one per ComfyUI server (keep it 0600)."),
                      QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("queued-per-server"),
                      QStringLiteral("Prompts queued on each server besides the running one (default: 1 with several "
                                     "servers, 0 with one)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("unload-llm"),
                      QStringLiteral("Unload the LM Studio model (/api/v1/models/unload) before rendering to free "
                                     "its VRAM; other servers get an instruction line.")});
    parser.addOption({QStringLiteral("free-every"),
                      QStringLiteral("POST /free (unload models, free memory) on a ComfyUI server after every N "
                                     "scenes it rendered (default 0 = never)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("no-vram-gate"),
                      QStringLiteral("Submit without waiting for the workflow profile's minVramMB to be free.")});
    cli::addDiskFullHoldOption(parser);
    parser.addOption({QStringLiteral("comfy-output-dir"),
                      QStringLiteral("ComfyUI's output directory when it is on this machine: done markers "
                                     "are watched on disk and frames hard-linked (LOCAL_COMFY_OUTPUT_DIR)."),
                      QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("sentinel-markers"),
                      QStringLiteral("A `gemdirect sentinel` marks this ComfyUI's outputs: when the workflow has no "
                                     "GemDirectSaveFrames node, wait for its <prefix>.done instead of going "
                                     "straight to the stability window.")});
    parser.addOption(
        {QStringLiteral("comfy-token"),
         QStringLiteral("Bearer token for a reverse proxy in front of ComfyUI (LOCAL_COMFY_TOKEN)."),
         QStringLiteral("TOKEN")});
    parser.addOption({QStringLiteral("workflow"),
                      QStringLiteral("Workflow profile name or path (default: default)."),
                      QStringLiteral("NAME|PATH")});
    parser.addOption(
        {QStringLiteral("runs-root"),
         QStringLiteral("Where run directories are created (default: the app data directory/runs)."),
         QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("fast"), QStringLiteral("Use the FastIteration queue policy preset.")});
    parser.addOption(
        {QStringLiteral("sandbox"),
         QStringLiteral("Use the built-in ComfyUI stand-in (and, with --idea, the LLM stand-in): no GPU, no servers.")});
    parser.addOption(
        {QStringLiteral("sandbox-fault"),
         QStringLiteral("Inject a sandbox fault: kind[:match[:times[:param]]] (repeatable). Kinds: ") +
             sandbox::FaultRule::kindNames().join(QStringLiteral(", ")),
         QStringLiteral("SPEC")});
    parser.addOption(
        {QStringLiteral("sandbox-remote"),
         QStringLiteral("With --sandbox: collect frames over HTTP (/view) as from a remote server.")});
    parser.addOption(
        {QStringLiteral("sandbox-no-marker-node"),
         QStringLiteral("With --sandbox: pretend the GemDirectSaveFrames node is not installed.")});
    parser.addOption({QStringLiteral("quiet"),
                      QStringLiteral("Print scene results only: no streamed tokens, no per-state progress.")});
    parser.addOption({QStringLiteral("history-db"),
                      QStringLiteral("History database the finished run is recorded in (GEMDIRECT_DB; default: the "
                                     "app data directory)."),
                      QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("no-history"), QStringLiteral("Do not record the run in the history database.")});
    parser.addOption({QStringLiteral("no-quality"), QStringLiteral("Do not compute quality metrics at the end of the run.")});
    parser.addOption({QStringLiteral("verbose"), QStringLiteral("Debug logging on stderr.")});
    parser.addOption({QStringLiteral("metrics-port"),
                      QStringLiteral("Serve OpenMetrics for Prometheus at http://127.0.0.1:PORT/metrics while the run "
                                     "lasts (loopback only; 0 picks a free port)."),
                      QStringLiteral("PORT")});
    parser.addOption({QStringLiteral("metrics-linger"),
                      QStringLiteral("With --metrics-port: keep serving this many seconds after the run and its "
                                     "quality step, so the last scrape sees the final figures and KPIs (default 0)."),
                      QStringLiteral("SECONDS")});
    for (const auto& k : kKnobs)
        parser.addOption({QLatin1String(k.name), QLatin1String(k.help), QStringLiteral("N")});

    if (!parser.parse(arguments)) {
        cli::err() << "gemdirect run: " << parser.errorText() << "\nSee gemdirect run --help." << Qt::endl;
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        cli::out() << parser.helpText() << Qt::endl;
        return 0;
    }
    gd::log::init(QString(), parser.isSet(QStringLiteral("verbose")));
    gd::log::applyEnvLevel();

    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    QStringList errors;
    const bool fromIdea = parser.isSet(QStringLiteral("idea"));
    const bool fromStoryboard = parser.isSet(QStringLiteral("storyboard"));
    if (!parser.isSet(QStringLiteral("story")) && !fromIdea && !fromStoryboard)
        errors << QStringLiteral("--story PATH, --idea TEXT or --storyboard DIR is required");
    if (int(parser.isSet(QStringLiteral("story"))) + int(fromIdea) + int(fromStoryboard) > 1)
        errors << QStringLiteral("--story, --idea and --storyboard exclude each other");
    if (!fromStoryboard && (parser.isSet(QStringLiteral("shots")) || parser.isSet(QStringLiteral("all"))))
        errors << QStringLiteral("--shots and --all need --storyboard DIR");
    if (fromStoryboard && !QFileInfo(cli::resolveInputPath(parser.value(QStringLiteral("storyboard")))).isDir())
        errors << QStringLiteral("--storyboard: '%1' is not a directory").arg(parser.value(QStringLiteral("storyboard")));
    const llm::StoryRequest storyRequest = cli::storyRequestFrom(parser, &errors);
    pipeline::QueuePolicy policy = parser.isSet(QStringLiteral("fast"))
                                       ? pipeline::QueuePolicy::fastIteration()
                                       : pipeline::QueuePolicy::standard();
    policy.applyEnvironment(env, &errors);
    for (const auto& k : kKnobs)
        if (parser.isSet(QLatin1String(k.name)))
            applyKnob(QLatin1String(k.name), parser.value(QLatin1String(k.name)), policy, &errors);
    errors << policy.validate();
    std::optional<quint16> metricsPort;
    if (parser.isSet(QStringLiteral("metrics-port"))) {
        bool ok = false;
        const int port = parser.value(QStringLiteral("metrics-port")).toInt(&ok);
        if (!ok || port < 0 || port > 65535)
            errors << QStringLiteral("--metrics-port: '%1' is not a port number (0-65535)")
                          .arg(parser.value(QStringLiteral("metrics-port")));
        else
            metricsPort = quint16(port);
    }
    double metricsLingerSeconds = 0;
    if (parser.isSet(QStringLiteral("metrics-linger"))) {
        bool ok = false;
        metricsLingerSeconds = parser.value(QStringLiteral("metrics-linger")).toDouble(&ok);
        if (!ok || metricsLingerSeconds < 0)
            errors << QStringLiteral("--metrics-linger: '%1' is not a number of seconds")
                          .arg(parser.value(QStringLiteral("metrics-linger")));
        else if (!parser.isSet(QStringLiteral("metrics-port")))
            errors << QStringLiteral("--metrics-linger needs --metrics-port");
    }

    std::optional<story::Story> story;
    if (parser.isSet(QStringLiteral("story")) && !fromIdea) {
        const QString path = cli::resolveInputPath(parser.value(QStringLiteral("story")));
        QStringList problems;
        story = story::StoryLoader::load(path, &problems);
        if (story)
            problems << story::StoryLoader::missingImages(*story, QFileInfo(path).absolutePath());
        for (const QString& p : problems)
            errors << QStringLiteral("story %1: %2").arg(parser.value(QStringLiteral("story")), p);
    }
    QList<sandbox::FaultRule> faults;
    for (const QString& spec : parser.values(QStringLiteral("sandbox-fault"))) {
        QString e;
        if (auto f = sandbox::FaultRule::parse(spec, &e))
            faults << *f;
        else
            errors << QStringLiteral("--sandbox-fault %1: %2").arg(spec, e);
    }
    const bool useSandbox = parser.isSet(QStringLiteral("sandbox"));
    QString urlText = parser.value(QStringLiteral("comfy-url"));
    if (urlText.isEmpty())
        urlText = env.value(QStringLiteral("LOCAL_COMFY_URL"), QStringLiteral("http://127.0.0.1:8188"));
    QUrl comfyUrl = comfy::ComfyClient::normaliseUrl(urlText);
    // Several --comfy-url values (or a LABEL=URL one) make a backend pool; one plain URL keeps the
    // single-server options exactly as before.
    QList<pipeline::BackendSpec> backends;
    const QStringList urlValues = parser.values(QStringLiteral("comfy-url"));
    const bool labelled = urlValues.size() == 1 && urlValues.first().section(QLatin1Char('='), 0, 0).indexOf(QLatin1Char(':')) < 0 &&
                          urlValues.first().contains(QLatin1Char('='));
    if (!useSandbox && (urlValues.size() > 1 || labelled || parser.isSet(QStringLiteral("comfy-token-file")))) {
        QStringList urls = urlValues;
        if (urls.isEmpty())
            urls << urlText;
        backends = pipeline::BackendSpec::fromOptions(urls, parser.values(QStringLiteral("comfy-token")),
                                                      parser.values(QStringLiteral("comfy-output-dir")),
                                                      parser.value(QStringLiteral("comfy-token-file")), &errors);
        if (!backends.isEmpty())
            comfyUrl = backends.first().url;
    } else if (!useSandbox && !comfyUrl.isValid()) {
        errors << QStringLiteral("--comfy-url: '%1' is not a usable URL").arg(urlText);
    }
    const double diskFullHold = cli::diskFullHoldSeconds(parser, pipeline::RunOptions().diskFullHoldSeconds, &errors);
    int queuedPerServer = -1;
    int freeEvery = 0;
    for (auto [name, target] : {std::pair{"queued-per-server", &queuedPerServer}, std::pair{"free-every", &freeEvery}}) {
        if (!parser.isSet(QLatin1String(name)))
            continue;
        bool ok = false;
        *target = parser.value(QLatin1String(name)).toInt(&ok);
        if (!ok || *target < 0)
            errors << QStringLiteral("--%1 must be a whole number ≥ 0").arg(QLatin1String(name));
    }
    // Bound before anything else starts, so a port in use is a usage error with nothing queued.
    pipeline::MetricsExporter metrics;
    if (errors.isEmpty() && metricsPort) {
        QString e;
        if (!metrics.listen(QHostAddress(QHostAddress::LocalHost), *metricsPort, &e))
            errors << QStringLiteral("--metrics-port: %1").arg(e);
    }
    if (!errors.isEmpty()) {
        for (const QString& e : errors)
            cli::err() << "error: " << e << Qt::endl;
        cli::err() << "Nothing was queued." << Qt::endl;
        return 2;
    }
    if (metrics.isListening())
        cli::out() << "Metrics (OpenMetrics) at " << metrics.url().toString() << Qt::endl;

    pipeline::RunOptions opt;
    if (story) {
        opt.story = *story;
        opt.storyDir = QFileInfo(cli::resolveInputPath(parser.value(QStringLiteral("story")))).absolutePath();
    }
    opt.runsRoot = parser.isSet(QStringLiteral("runs-root")) ? parser.value(QStringLiteral("runs-root"))
                                                             : cli::defaultRunsRoot();
    // A storyboard keeps its runs with it (the sandbox's output folder then shares their filesystem).
    const QString storyboardDir =
        fromStoryboard ? QFileInfo(cli::resolveInputPath(parser.value(QStringLiteral("storyboard")))).absoluteFilePath()
                       : QString();
    if (fromStoryboard)
        opt.runsRoot = QDir(storyboardDir).filePath(QStringLiteral("runs"));
    opt.comfyOutputDir = parser.isSet(QStringLiteral("comfy-output-dir"))
                             ? parser.value(QStringLiteral("comfy-output-dir"))
                             : env.value(QStringLiteral("LOCAL_COMFY_OUTPUT_DIR"));
    opt.sentinelMarkers = parser.isSet(QStringLiteral("sentinel-markers"));
    opt.bearerToken = parser.isSet(QStringLiteral("comfy-token"))
                          ? parser.value(QStringLiteral("comfy-token"))
                          : env.value(QStringLiteral("LOCAL_COMFY_TOKEN"));
    opt.workflow = parser.isSet(QStringLiteral("workflow"))
                       ? parser.value(QStringLiteral("workflow"))
                       : fromStoryboard ? (useSandbox ? QStringLiteral("sandbox-i2v") : QStringLiteral("wan22-flf2v"))
                                        : (useSandbox ? QStringLiteral("sandbox") : QStringLiteral("default"));
    opt.profileSearchDirs = {cli::userProfileDir()};
    opt.policy = policy;
    if (!parser.isSet(QStringLiteral("no-history")))
        opt.historyDatabase = historyDatabasePath(parser.value(QStringLiteral("history-db")));
    opt.llmHealth.status = QStringLiteral("skipped");
    opt.llmHealth.skipped = true;
    opt.llmHealth.skipReason = QStringLiteral("story supplied from a file (--story)");
    opt.llmHealth.timestamp = QDateTime::currentDateTimeUtc();

    // The sandbox LLM that wrote the story; with --unload-llm it lives until the unload before rendering.
    std::unique_ptr<sandbox::SandboxLlmHost> llmHost;
    if (fromIdea) {
        // Story first, in a run directory of its own so the LLM's raw answers are kept with the run.
        QString dirError;
        const QString runDir = pipeline::RunController::createRunDirectory(opt.runsRoot, &dirError);
        if (runDir.isEmpty()) {
            cli::err() << "error: " << dirError << Qt::endl;
            return 2;
        }
        llm::StoryServiceOptions storyOptions = cli::storyServiceOptionsFrom(parser);
        storyOptions.rawDir = QDir(runDir).filePath(QStringLiteral("story/raw"));
        if (useSandbox) {
            llmHost = std::make_unique<sandbox::SandboxLlmHost>();
            QString e;
            if (!llmHost->start(sandbox::SandboxLlmConfig{}, 0, &e)) {
                cli::err() << "error: cannot start the sandbox LLM: " << e << Qt::endl;
                return 3;
            }
            storyOptions.llmUrl = llmHost->url().toString();
            cli::out() << "Sandbox LLM running at " << storyOptions.llmUrl << Qt::endl;
        }
        const cli::StoryOutcome r = cli::generateStory(storyRequest, storyOptions, parser.isSet(QStringLiteral("quiet")));
        if (llmHost && (!parser.isSet(QStringLiteral("unload-llm")) || r.outcome != llm::StoryService::Outcome::Ok))
            llmHost.reset();
        if (r.outcome != llm::StoryService::Outcome::Ok) {
            cli::err() << "error: " << r.error << Qt::endl;
            if (QDir(storyOptions.rawDir).exists()) {
                cli::err() << "The model's raw answers are in " << storyOptions.rawDir << Qt::endl;
                cli::out() << "Run directory: " << runDir << Qt::endl;
            } else {
                QDir(runDir).removeRecursively(); // nothing was produced: leave no empty run behind
            }
            return int(r.outcome);
        }
        opt.story = r.story;
        opt.storyGenerator = QStringLiteral("local-llm");
        opt.storyLlm = r.llm;
        opt.storyPrompts = r.prompts;
        opt.llmHealth = r.health;
        opt.existingRunDir = runDir;
        cli::out() << "Story ready: " << r.story.title << " (" << r.story.scenes.size() << " scenes)" << Qt::endl;
    }

    std::unique_ptr<sandbox::SandboxHost> host;
    std::unique_ptr<QTemporaryDir> sandboxDir;
    if (useSandbox) {
        QDir().mkpath(opt.runsRoot);
        // Inside the runs root so frames can be hard-linked (same filesystem).
        sandboxDir =
            std::make_unique<QTemporaryDir>(QDir(opt.runsRoot).filePath(QStringLiteral(".sandbox-XXXXXX")));
        sandbox::SandboxConfig cfg;
        cfg.outputDir = QDir(sandboxDir->path()).filePath(QStringLiteral("output"));
        cfg.markerNodeInstalled = !parser.isSet(QStringLiteral("sandbox-no-marker-node"));
        cfg.faults = faults;
        host = std::make_unique<sandbox::SandboxHost>();
        QString e;
        if (!host->start(cfg, 0, &e)) {
            cli::err() << "error: cannot start the sandbox ComfyUI: " << e << Qt::endl;
            return 3;
        }
        comfyUrl = host->url();
        if (!parser.isSet(QStringLiteral("sandbox-remote")))
            opt.comfyOutputDir = cfg.outputDir;
        cli::out() << "Sandbox ComfyUI running at " << comfyUrl.toString() << Qt::endl;
    }
    opt.comfyUrl = comfyUrl;
    opt.backends = backends;
    opt.queuedPerServer = queuedPerServer;
    opt.freeEveryScenes = freeEvery;
    opt.diskFullHoldSeconds = diskFullHold;
    opt.vramGate = !parser.isSet(QStringLiteral("no-vram-gate"));
    if (parser.isSet(QStringLiteral("unload-llm"))) {
        opt.unloadLlmBeforeRender = true;
        opt.llmUrl = llmHost ? llmHost->url()
                             : QUrl(llm::StoryService::resolveProviderUrl(parser.value(QStringLiteral("llm-url")), env));
        // The story's key (--llm-token / LOCAL_LLM_API_KEY): an LM Studio that requires
        // authentication refuses the unload without it.
        opt.llmApiKey = cli::storyServiceOptionsFrom(parser).apiKey;
    }

    gpu::GpuMonitor monitor;
    monitor.start();
    metrics.setGpuMonitor(&monitor);
    SignalWatcher signals;
    // A finished run ends with its QualityMetrics (or UNMEASURED with reasons): the judges use the
    // story's LLM server, or with --sandbox the LLM stand-in (with its vision model). Every storyboard
    // pass is a run of its own and gets the same step.
    auto qualityStep = [&](const QString& runDir, int exitCode) {
        const bool finishedRun =
            exitCode == int(pipeline::RunExit::Success) || exitCode == int(pipeline::RunExit::SomeFailed);
        if (!finishedRun || runDir.isEmpty() || parser.isSet(QStringLiteral("no-quality")))
            return exitCode;
        std::unique_ptr<sandbox::SandboxLlmHost> judgeHost;
        QString judgeUrl;
        if (useSandbox) {
            sandbox::SandboxLlmConfig cfg;
            cfg.visionModel = true;
            judgeHost = std::make_unique<sandbox::SandboxLlmHost>();
            QString e;
            if (judgeHost->start(cfg, 0, &e))
                judgeUrl = judgeHost->url().toString();
        } else if (fromIdea || parser.isSet(QStringLiteral("llm-url")) || env.contains(QStringLiteral("LOCAL_STORY_PROVIDER_URL"))) {
            judgeUrl = llm::StoryService::resolveProviderUrl(parser.value(QStringLiteral("llm-url")), env);
        }
        pipeline::RunQualityOptions qualityOptions;
        qualityOptions.runDir = runDir;
        qualityOptions.judgeUrl = judgeUrl;
        qualityOptions.historyDb = opt.historyDatabase;
        // KPI verdicts and the GPU samples of the night go into the history database too.
        qualityOptions.gpuSamples = monitor.history();
        const auto result = cli::finishRunQuality(qualityOptions, parser.isSet(QStringLiteral("quiet")), &signals);
        if (judgeHost)
            judgeHost->stop();
        if (result.computation.error.isNull())
            metrics.setKpiResults(result.kpis);
        // Ctrl-C during the quality step: interrupted, as during the render.
        return result.cancelled ? int(pipeline::RunExit::Interrupted) : exitCode;
    };

    int exitCode = 0;
    QString runDir;
    if (fromStoryboard) {
        cli::StoryboardVideoArgs sb;
        sb.dir = storyboardDir;
        sb.videoProfile = opt.workflow;
        for (const QString& key : parser.value(QStringLiteral("shots")).split(QLatin1Char(','), Qt::SkipEmptyParts))
            sb.shots << key.trimmed();
        sb.all = parser.isSet(QStringLiteral("all"));
        sb.quiet = parser.isSet(QStringLiteral("quiet"));
        sb.sandbox = useSandbox;
        sb.runStarted = [&metrics](pipeline::RunController* controller) { metrics.attach(controller); };
        sb.runFinished = qualityStep;
        exitCode = cli::runStoryboardVideo(sb, opt, &monitor, signals, &runDir);
        monitor.stop();
        if (host)
            host->stop();
    } else {
        auto* controller = new pipeline::RunController(opt, &monitor);
        metrics.attach(controller);
        exitCode = cli::runToCompletion(controller, signals, parser.isSet(QStringLiteral("quiet")));
        runDir = controller->runDir();
        delete controller;
        monitor.stop();
        if (host)
            host->stop();
        exitCode = qualityStep(runDir, exitCode);
    }
    if (metrics.isListening() && metricsLingerSeconds > 0) {
        cli::out() << "Serving the final metrics for " << metricsLingerSeconds << " s more ..." << Qt::endl;
        QObject::connect(&signals, &SignalWatcher::interrupted, QCoreApplication::instance(),
                         [] { QCoreApplication::exit(0); });
        QTimer::singleShot(int(metricsLingerSeconds * 1000), QCoreApplication::instance(),
                           [] { QCoreApplication::exit(0); });
        QCoreApplication::exec();
    }
    metrics.stopListening();
    // The last stdout line, whatever happened after the render (contract with operators' scripts).
    if (!runDir.isEmpty())
        cli::out() << "Run directory: " << QDir(runDir).absolutePath() << Qt::endl;
    return exitCode;
}
