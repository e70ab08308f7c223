#include "pipeline/RunController.h"

#include "comfy/ComfyClient.h"
#include "comfy/WorkflowBuilder.h"
#include "comfy/WorkflowProfileLoader.h"
#include "common/AtomicFile.h"
#include "common/DurableWriter.h"
#include "common/Log.h"
#include "gpu/GpuMonitor.h"
#include "gpu/SystemStatsParser.h"
#include "llm/LlmModelUnloader.h"
#include "net/PlainHttpCheck.h"
#include "story/StoryLoader.h"
#include "quality/BlankFrameDetector.h"
#include "store/Database.h"
#include "store/RunStore.h"
#include "telemetry/ArtifactWriter.h"
#include "telemetry/RecordCodec.h"
#include "telemetry/SummaryCalculator.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
#include <QThread>
#include <QThreadPool>

namespace gd::pipeline {

namespace {
// The finished scenes' frame statistics: one thread at idle priority (SCHED_IDLE on Linux), so this
// optional work never takes CPU from the event loop, the writer or anything else of the process, and
// scenes finishing together queue instead of decoding on every core at once. Function-local: the
// pool outlives every run and waits for its last task at exit.
QThreadPool* frameStatisticsPool()
{
    static QThreadPool pool;
    static const bool configured = [] {
        pool.setMaxThreadCount(1);
        pool.setThreadPriority(QThread::IdlePriority);
        return true;
    }();
    Q_UNUSED(configured);
    return &pool;
}

QString installHint()
{
    return QStringLiteral(
        "install it by copying the gemdirect_nodes folder (resources/comfyui/gemdirect_nodes in the "
        "gemDirect sources) into <ComfyUI>/custom_nodes/ and restarting ComfyUI");
}
} // namespace

RunController::RunController(RunOptions options, gpu::GpuMonitor* monitor, QObject* parent)
    : QObject(parent), m_opt(std::move(options)), m_monitor(monitor)
{
    QList<BackendSpec> specs = m_opt.backends;
    if (specs.isEmpty())
        specs << BackendSpec{m_opt.comfyUrl, QString(), m_opt.comfyOutputDir, m_opt.bearerToken};
    PoolOptions pool = m_opt.pool;
    if (m_opt.queuedPerServer >= 0)
        pool.queuedPerServer = m_opt.queuedPerServer;
    else if (specs.size() == 1)
        pool.queuedPerServer = 0;
    m_pool = new BackendPool(specs, pool, this);
    for (ComfyBackend* b : m_pool->backends())
        b->setLocalMonitor(monitor);
    m_client = m_pool->backend(0)->client();
    if (m_opt.resume) {
        // The prompts in flight were queued with these clientIds: reusing them routes their
        // WebSocket events to our new sockets (comfyui-api.md §5.1).
        const QJsonArray clients = m_opt.resume->options.value(QStringLiteral("Clients")).toArray();
        for (ComfyBackend* b : m_pool->backends())
            for (const QJsonValue c : clients)
                if (c.toObject().value(QStringLiteral("Url")).toString() == b->client()->url().toString())
                    b->client()->setClientId(c.toObject().value(QStringLiteral("ClientId")).toString());
        if (m_pool->size() == 1 && clients.size() == 1) // same server under an overriding --comfy-url
            m_client->setClientId(clients.first().toObject().value(QStringLiteral("ClientId")).toString());
    }
    connect(m_pool, &BackendPool::backendLost, this, &RunController::onBackendLost);
    // Queued: capacity changes come from inside attempt bookkeeping and must not re-enter it.
    connect(m_pool, &BackendPool::capacityChanged, this, &RunController::onCapacityChanged, Qt::QueuedConnection);
    m_holdTimer = new QTimer(this);
    m_holdTimer->setInterval(1000);
    connect(m_holdTimer, &QTimer::timeout, this, &RunController::onCapacityChanged);
    m_diskHold = new DiskFullHold(this);
    m_diskHold->setOptions({m_opt.diskFullHoldSeconds, m_opt.diskFullPollSeconds,
                            qint64(qMax(0, m_opt.diskFullMinFreeMB)) * 1024 * 1024});
    connect(m_diskHold, &DiskFullHold::spaceBack, this, &RunController::onDiskSpaceBack);
    connect(m_diskHold, &DiskFullHold::expired, this, &RunController::onDiskHoldExpired);
    m_writer = new DurableWriter(m_opt.backgroundWrites ? DurableWriter::Mode::Background : DurableWriter::Mode::Inline,
                                 this);
    m_journal.setWriter(m_writer);
    m_journal.setSyncFailureHandler([this](const Error& e) { onWriteFailure(e); });
}

RunController::~RunController() = default;

QString RunController::makeRunId(const QDateTime& localTime)
{
    return localTime.toString(QStringLiteral("yyyyMMdd-HHmmss"));
}

void RunController::start()
{
    if (m_started)
        return;
    m_started = true;
    preflightProfile();
}

void RunController::fail(RunExit code, const QString& message)
{
    finishRun(code, message);
}

void RunController::preflightProfile()
{
    QStringList errors;
    auto profile = comfy::WorkflowProfileLoader::resolve(m_opt.workflow, m_opt.profileSearchDirs, &errors);
    if (!profile) {
        fail(RunExit::BadInput, QStringLiteral("Workflow '%1' cannot be used:\n  %2")
                                    .arg(m_opt.workflow, errors.join(QStringLiteral("\n  "))));
        return;
    }
    const QStringList problems = comfy::WorkflowProfileLoader::validate(*profile);
    if (!problems.isEmpty()) {
        fail(RunExit::BadInput, QStringLiteral("Workflow '%1' is invalid:\n  %2")
                                    .arg(m_opt.workflow, problems.join(QStringLiteral("\n  "))));
        return;
    }
    m_profile = *profile;
    preflightServer();
}

void RunController::preflightServer()
{
    if (m_pool->size() == 1)
        Q_EMIT message(QStringLiteral("Connecting to ComfyUI at %1 ...").arg(m_client->url().toString()));
    else
        Q_EMIT message(QStringLiteral("Connecting to %1 ComfyUI servers ...").arg(m_pool->size()));
    m_pool->probeAll([this] {
        ComfyBackend* first = m_pool->backend(0);
        if (m_pool->size() == 1 && !first->isHealthy()) {
            fail(
                RunExit::Unreachable,
                QStringLiteral(
                    "ComfyUI is not reachable at %1: %2\nStart ComfyUI (for example `python main.py --listen "
                    "127.0.0.1 --port 8188`), or point --comfy-url / LOCAL_COMFY_URL at it.")
                    .arg(m_client->url().toString(), first->healthDetail()));
            return;
        }
        if (m_pool->healthyCount() == 0) {
            QStringList why;
            for (ComfyBackend* b : m_pool->backends())
                why << QStringLiteral("%1 (%2): %3").arg(b->label(), b->urlText(), b->healthDetail());
            fail(RunExit::Unreachable,
                 QStringLiteral("None of the %1 ComfyUI servers is reachable:\n  %2\nStart them, or fix the --comfy-url "
                                "values.")
                     .arg(m_pool->size())
                     .arg(why.join(QStringLiteral("\n  "))));
            return;
        }
        QStringList summaries;
        for (ComfyBackend* b : m_pool->backends()) {
            if (b->isHealthy()) {
                summaries << (m_pool->size() == 1 ? b->systemSummary() : b->label() + QLatin1Char('=') + b->systemSummary());
                continue;
            }
            const QString w = QStringLiteral("ComfyUI server %1 (%2) is not reachable (%3): the run starts without it "
                                             "and uses it once it answers")
                                  .arg(b->label(), b->urlText(), b->healthDetail());
            m_run.warnings << w;
            Q_EMIT warning(w);
        }
        m_systemSummary = summaries.join(QStringLiteral("; "));
        Q_EMIT message(QStringLiteral("Connected: ") + m_systemSummary);
        // Issue 6 §6: a server on another machine over plain http is a run-level warning (run-summary
        // WARNING line, artifact Warnings[], the warning signal the CLI prints on stderr). The story's
        // LLM server was reached before the run; its own warning came from StoryService.
        for (ComfyBackend* b : m_pool->backends()) {
            const QString comfyWarning = net::PlainHttpCheck::warningFor(b->client()->url(), QStringLiteral("ComfyUI"));
            if (!comfyWarning.isEmpty()) {
                m_run.warnings << comfyWarning;
                Q_EMIT warning(comfyWarning);
            }
        }
        if (m_opt.llmHealth.status != QLatin1String("skipped") && !m_opt.llmHealth.url.isEmpty()) {
            const QString llmWarning = net::PlainHttpCheck::warningFor(QUrl(m_opt.llmHealth.url),
                                                                       QStringLiteral("The LLM server"));
            if (!llmWarning.isEmpty())
                m_run.warnings << llmWarning;
        }
        // Open the socket before the first POST so no event of ours is routed to nobody.
        if (m_opt.useWebSocket)
            for (ComfyBackend* b : m_pool->backends())
                b->client()->openSocket();
        // Several servers: health and VRAM are watched so a dead server's scenes can move and a
        // recovered one gets work again. One server keeps exactly the traffic it had before.
        if (m_pool->size() > 1)
            m_pool->startProbing();
        checkClasses();
    });
}

void RunController::checkClasses()
{
    const QStringList classes = m_profile.classTypes();
    QVector<ComfyBackend*> servers;
    for (ComfyBackend* b : m_pool->backends())
        if (b->isHealthy())
            servers << b;
    auto pending = std::make_shared<int>(int(classes.size() * servers.size()));
    auto missing = std::make_shared<QMap<QString, QStringList>>(); // class → urls of servers lacking it
    auto errors = std::make_shared<QStringList>();
    auto errorUrls = std::make_shared<QStringList>();
    for (ComfyBackend* server : servers) {
        const QString url = server->client()->url().toString();
        for (const QString& cls : classes) {
            server->client()->objectInfo(
                cls, this, [this, cls, url, pending, missing, errors, errorUrls](const std::pair<bool, Error>& r) {
                    if (!r.second.isNull()) {
                        errors->append(QStringLiteral("%1: %2").arg(cls, r.second.message));
                        if (!errorUrls->contains(url))
                            errorUrls->append(url);
                    } else if (!r.first) {
                        (*missing)[cls].append(url);
                    }
                    if (--*pending > 0)
                        return;
                    if (!errors->isEmpty()) {
                        fail(RunExit::Unreachable,
                             QStringLiteral("ComfyUI at %1 did not answer the node checks: %2")
                                 .arg(errorUrls->join(QStringLiteral(", ")), errors->join(QStringLiteral("; "))));
                        return;
                    }
                    const QString marker = comfy::WorkflowProfile::markerClass();
                    m_markerExpected = !m_profile.markerNodeId().isEmpty();
                    if (missing->contains(marker)) {
                        // One graph for every server: when one lacks the node, all save with SaveImage.
                        const QStringList lacking = missing->take(marker);
                        QString markerNode;
                        m_profile.graph = comfy::WorkflowBuilder::replaceMarkerNode(m_profile.graph, &markerNode);
                        m_markerExpected = false;
                        m_run.warnings
                            << QStringLiteral(
                                   "ComfyUI at %1 does not have the %2 node: frames are saved with a core "
                                   "SaveImage and collected after the stability window instead of on a done "
                                   "marker. To get done markers, %3.")
                                   .arg(lacking.join(QStringLiteral(", ")), marker, installHint());
                        Q_EMIT warning(m_run.warnings.last());
                    }
                    if (!missing->isEmpty()) {
                        QStringList urls;
                        for (const QStringList& l : *missing)
                            for (const QString& u : l)
                                if (!urls.contains(u))
                                    urls << u;
                        fail(RunExit::BadInput,
                             QStringLiteral("Workflow '%1' uses node classes that ComfyUI at %2 does not have: "
                                            "%3. Install the custom "
                                            "node packages that provide them (ComfyUI Manager → Install Missing "
                                            "Custom Nodes) and "
                                            "restart ComfyUI, or choose another --workflow. Nothing was queued.")
                                 .arg(m_profile.name, urls.join(QStringLiteral(", ")),
                                      missing->keys().join(QStringLiteral(", "))));
                        return;
                    }
                    if (!m_markerExpected && m_opt.sentinelMarkers) {
                        m_markerExpected = true;
                        m_markerFromSentinel = true;
                    }
                    if (!m_opt.useDoneMarkers)
                        m_markerExpected = false;
                    prepareRunDirectory(); // goes on with hygieneThenBegin() once story.json is written
                });
        }
    }
    if (classes.isEmpty())
        fail(RunExit::BadInput, QStringLiteral("Workflow '%1' has no nodes").arg(m_profile.name));
}

void RunController::hygieneThenBegin()
{
    if (!m_opt.unloadLlmBeforeRender || !m_opt.llmUrl.isValid() || m_opt.llmUrl.isEmpty()) {
        beginScenes();
        return;
    }
    Q_EMIT message(QStringLiteral("Unloading the story LLM to free VRAM for ComfyUI ..."));
    auto* unloader = new llm::LlmModelUnloader(m_opt.llmUrl, m_opt.llmApiKey, this);
    unloader->unloadAll([this, unloader](const llm::UnloadOutcome& outcome) {
        unloader->deleteLater();
        m_llmUnload = outcome.toJson();
        if (outcome.status == QLatin1String("instructed") || outcome.status == QLatin1String("failed")) {
            m_run.warnings << outcome.message;
            Q_EMIT warning(outcome.message);
        } else {
            Q_EMIT message(outcome.message);
        }
        if (!m_finished)
            beginScenes();
    });
}

QString RunController::createRunDirectory(const QString& runsRoot, QString* error)
{
    if (!QDir().mkpath(runsRoot)) {
        *error = QStringLiteral("Cannot create the runs root %1").arg(runsRoot);
        return {};
    }
    const QString base = makeRunId(QDateTime::currentDateTime());
    QString runId = base;
    QDir root(QDir(runsRoot).absolutePath());
    // mkdir (not mkpath) fails when the directory exists: that is what makes the id unique.
    for (int n = 2; !root.mkdir(runId); ++n) {
        if (n > 1000) {
            *error = QStringLiteral("Cannot create a run directory under %1").arg(root.absolutePath());
            return {};
        }
        runId = base + QLatin1Char('-') + QString::number(n);
    }
    return root.filePath(runId);
}

void RunController::prepareRunDirectory()
{
    QString runDir = m_opt.existingRunDir;
    if (runDir.isEmpty()) {
        QString error;
        runDir = createRunDirectory(m_opt.runsRoot, &error);
        if (runDir.isEmpty()) {
            fail(RunExit::BadInput, error);
            return;
        }
    }
    const QString runId = QFileInfo(runDir).fileName();
    const QDateTime now = QDateTime::currentDateTime();
    m_run.runId = runId;
    m_run.runDir = QFileInfo(runDir).absoluteFilePath();
    m_run.timestamp = now.toUTC();
    m_run.appVersion = QStringLiteral(GD_APP_VERSION);
    m_run.queueConfig = m_opt.policy.queueConfig();
    m_run.llmHealth = m_opt.llmHealth;
    m_run.workflow = m_profile.name;
    for (ComfyBackend* b : m_pool->backends())
        m_run.backends << b->client()->url().toString();

    const story::Story& s = m_opt.story;
    m_run.story.id = s.storyId;
    m_run.story.title = s.title;
    m_run.story.logline = s.logline;
    m_run.story.directorsVision = s.directorsVision;
    m_run.story.genre = s.genre;
    m_run.story.templateId = s.templateId;
    m_run.story.templateVersion = s.templateVersion;
    m_run.story.generator = m_opt.storyGenerator;
    m_run.story.file = QStringLiteral("story/story.json");
    m_run.story.sceneCount = int(s.scenes.size());
    m_run.story.llm = m_opt.storyLlm;
    m_run.story.prompts = m_opt.storyPrompts;
    for (const auto& sc : s.scenes) {
        telemetry::SceneRecord r;
        r.sceneId = sc.id;
        r.title = sc.title;
        r.prompt = sc.prompt;
        r.negativePrompt = sc.negativePrompt;
        r.workflow = m_profile.name;
        // A reference sheet or keyframe profile renders one still: one frame is a success.
        r.frameFloor = m_profile.purpose == comfy::Purpose::Video ? m_opt.policy.frameFloorFor(sc.expectedFrames) : 1;
        m_run.scenes.push_back(r);
    }

    if (m_opt.resume) {
        // A resumed run continues the record it started: its start time, version, story and LLM
        // details and run-level notes come from the journal's header.
        const telemetry::RunRecord& h = m_opt.resume->header;
        if (h.timestamp.isValid())
            m_run.timestamp = h.timestamp;
        if (!h.appVersion.isEmpty())
            m_run.appVersion = h.appVersion;
        m_run.story = h.story;
        m_run.story.sceneCount = int(s.scenes.size());
        for (const QString& w : h.warnings)
            if (!m_run.warnings.contains(w))
                m_run.warnings.prepend(w);
        for (auto it = h.extra.begin(); it != h.extra.end(); ++it)
            if (!m_run.extra.contains(it.key()))
                m_run.extra.insert(it.key(), it.value());
        for (const QString& b : h.backends)
            if (!m_run.backends.contains(b))
                m_run.backends.prepend(b);
    }
    // The summary is opened first (no sync involved), so a run cancelled while story.json is being
    // written still gets its closing lines.
    const Error logErr = m_log.open(m_run.runDir, m_run.runId);
    if (m_opt.resume) {
        continueAfterRunDirectory({}, logErr);
        return;
    }
    m_writer->write(QDir(m_run.runDir).filePath(m_run.story.file),
                    QJsonDocument(story::StoryLoader::toJson(s)).toJson(QJsonDocument::Indented),
                    [this, logErr](const Error& e) { continueAfterRunDirectory(e, logErr); });
}

void RunController::continueAfterRunDirectory(const Error& storyErr, const Error& logErr)
{
    if (m_finished)
        return; // cancelled while story.json was written
    if (!storyErr.isNull() || !logErr.isNull()) {
        fail(RunExit::BadInput, (storyErr.isNull() ? logErr : storyErr).message);
        return;
    }
    Q_EMIT runDirectoryCreated(m_run.runDir);
    hygieneThenBegin();
}

void RunController::log(const QString& line)
{
    const Error e = m_log.append(line);
    if (!e.isNull()) {
        gd::log::get("pipeline")->error("run-summary.txt: {}", e.message.toStdString());
        onWriteFailure(e);
    }
}

void RunController::beginScenes()
{
    if (m_opt.resume) {
        beginResumed();
        return;
    }
    using L = telemetry::RunSummaryLog;
    log(L::storyReady(m_run.story.id, m_run.story.sceneCount));
    log(L::storyLogline(m_run.story.logline));
    log(L::directorsVision(m_run.story.directorsVision));
    const auto& h = m_run.llmHealth;
    if (h.status == QLatin1String("success"))
        log(L::llmHealthSuccess(h.url, h.models, h.overrideUrl));
    else if (h.status == QLatin1String("failed"))
        log(L::llmHealthFailed(h.error, h.url, h.overrideUrl));
    else
        log(L::llmHealthSkipped());
    log(L::queuePolicy(m_run.queueConfig));
    QStringList clientIds;
    for (ComfyBackend* b : m_pool->backends())
        clientIds << b->client()->clientId();
    log(QStringLiteral("ComfyUI: %1 | workflow=%2 | doneMarkers=%3 | clientId=%4")
            .arg(m_systemSummary, m_profile.name,
                 !m_markerExpected     ? QStringLiteral("off")
                 : m_markerFromSentinel ? QStringLiteral("sentinel")
                                        : QStringLiteral("producer"),
                 clientIds.join(QLatin1Char(','))));
    if (m_pool->size() > 1) {
        QStringList servers;
        QJsonArray pool;
        for (ComfyBackend* b : m_pool->backends()) {
            servers << QStringLiteral("%1=%2").arg(b->label(), b->urlText());
            pool.append(QJsonObject{{QStringLiteral("Label"), b->label()}, {QStringLiteral("Url"), b->urlText()}});
        }
        log(QStringLiteral("Backend pool: %1 servers (%2) | slots=1 running + %3 queued per server | infraRetryLimit=%4")
                .arg(m_pool->size())
                .arg(servers.join(QStringLiteral(", ")))
                .arg(m_pool->options().queuedPerServer)
                .arg(m_pool->options().infraRetryLimit));
        m_run.extra.insert(QStringLiteral("BackendPool"), pool);
    }
    const bool hygiene = m_opt.unloadLlmBeforeRender || m_opt.freeEveryScenes > 0;
    if (hygiene || (m_opt.vramGate && m_profile.minVramMB > 0 && m_pool->size() > 1)) {
        log(QStringLiteral("VRAM hygiene: llmUnload=%1 | freeEveryScenes=%2 | vramGate=%3")
                .arg(m_llmUnload.isEmpty() ? QStringLiteral("off") : m_llmUnload.value(QStringLiteral("Status")).toString(),
                     m_opt.freeEveryScenes > 0 ? QString::number(m_opt.freeEveryScenes) : QStringLiteral("off"),
                     m_opt.vramGate && m_profile.minVramMB > 0 ? QStringLiteral("%1MB").arg(m_profile.minVramMB)
                                                                : QStringLiteral("off")));
        if (!m_llmUnload.isEmpty())
            log(QStringLiteral("[LLM] VRAM: %1").arg(m_llmUnload.value(QStringLiteral("Message")).toString()));
    }
    if (hygiene)
        m_run.extra.insert(QStringLiteral("VramHygiene"),
                           QJsonObject{{QStringLiteral("LlmUnload"), m_llmUnload.isEmpty() ? QJsonValue() : QJsonValue(m_llmUnload)},
                                       {QStringLiteral("FreeEveryScenes"), m_opt.freeEveryScenes},
                                       {QStringLiteral("VramGateMB"), m_opt.vramGate ? m_profile.minVramMB : 0},
                                       {QStringLiteral("FreeCalls"), m_freeCalls}});
    m_begun = true;
    for (const QString& w : m_run.warnings)
        log(QStringLiteral("WARNING: ") + w);
    for (const auto& sc : m_run.scenes)
        writeSceneJson(sc);
    writeArtifacts();
    // The journal's header: with it (and the run's story/story.json) the run can be resumed from
    // its directory alone. Every scene is queued from here on.
    const Error je = m_journal.open(m_run.runDir);
    if (!je.isNull())
        Q_EMIT warning(je.message + QStringLiteral(": this run cannot be resumed after a crash"));
    QJsonObject header = telemetry::ArtifactWriter::toJson(m_run);
    header.remove(QStringLiteral("Scenes"));
    header.remove(QStringLiteral("Summary"));
    QJsonArray sceneIds;
    for (const auto& sc : m_run.scenes)
        sceneIds.append(sc.sceneId);
    QJsonArray clients;
    for (ComfyBackend* b : m_pool->backends())
        clients.append(QJsonObject{{QStringLiteral("Url"), b->client()->url().toString()},
                                   {QStringLiteral("Label"), b->label()},
                                   {QStringLiteral("OutputDir"), b->spec().outputDir},
                                   {QStringLiteral("ClientId"), b->client()->clientId()}});
    journal(RunJournal::run(), QString(),
            {{QStringLiteral("Run"), header},
             {QStringLiteral("Scenes"), sceneIds},
             {QStringLiteral("Clients"), clients},
             {QStringLiteral("ComfyUrl"), m_client->url().toString()},
             {QStringLiteral("ComfyOutputDir"), m_opt.comfyOutputDir},
             {QStringLiteral("Workflow"), m_opt.workflow},
             {QStringLiteral("StoryDir"), m_opt.storyDir},
             {QStringLiteral("Policy"), m_opt.policy.toJson()},
             {QStringLiteral("UseWebSocket"), m_opt.useWebSocket},
             {QStringLiteral("UseDoneMarkers"), m_opt.useDoneMarkers},
             {QStringLiteral("SentinelMarkers"), m_opt.sentinelMarkers},
             {QStringLiteral("ReconnectWaitSeconds"), m_opt.reconnectWaitSeconds}},
            true);
    m_pending.clear();
    for (int i = 0; i < m_run.scenes.size(); ++i)
        m_pending.append(i);
    nextScene();
}

void RunController::journal(const QString& type, const QString& sceneId, const QJsonObject& fields, bool sync)
{
    if (!m_journal.isOpen())
        return;
    const Error e = m_journal.append(type, sceneId, fields, sync);
    if (!e.isNull()) {
        gd::log::get("pipeline")->error("{}", e.message.toStdString());
        onWriteFailure(e);
    }
}

void RunController::beginResumed()
{
    const ResumePlan& plan = *m_opt.resume;
    m_begun = true;
    const Error je = m_journal.open(m_run.runDir);
    if (!je.isNull())
        Q_EMIT warning(je.message + QStringLiteral(": a further crash could not be resumed"));
    QStringList clientIds;
    for (ComfyBackend* b : m_pool->backends())
        clientIds << b->client()->clientId();
    journal(RunJournal::resumed(), QString(),
            {{QStringLiteral("Plan"), plan.describe()}, {QStringLiteral("ClientIds"), QJsonArray::fromStringList(clientIds)}});
    log(QStringLiteral("Resumed after an interruption: %1 | ComfyUI: %2 | clientId=%3")
            .arg(plan.describe(), m_systemSummary, clientIds.join(QLatin1Char(','))));
    for (const QString& p : plan.problems)
        log(QStringLiteral("WARNING: ") + p);
    using P = ResumeScene::Phase;
    QList<int> inFlight;
    QList<int> queued;
    QList<int> operatorLast;
    for (int i = 0; i < plan.scenes.size() && i < m_run.scenes.size(); ++i) {
        const ResumeScene& rs = plan.scenes[i];
        telemetry::SceneRecord& scene = m_run.scenes[i];
        scene.attempts = rs.attempts;
        scene.requeued = rs.requeued;
        if (rs.attemptBase > 0)
            m_attemptBase.insert(i, rs.attemptBase);
        if (rs.infraAttempts > 0)
            m_infraAttempts.insert(i, rs.infraAttempts);
        switch (rs.phase) {
        case P::Done:
            // Never rendered again; only the lines a crash cut off are written.
            scene.status = rs.status;
            scene.keptAttempt = rs.keptAttempt;
            scene.warnings = rs.warnings;
            scene.errors = rs.errors;
            scene.historyPath = rs.historyPath;
            if (rs.finalLinesMissing)
                logSceneOutcome(scene);
            break;
        case P::Decide:
            scene.status = QStringLiteral("running");
            if (rs.attemptLineMissing && !rs.attempts.isEmpty())
                log(telemetry::RunSummaryLog::attemptLine(scene.sceneId, rs.attempts.last()));
            m_resumeDecide.insert(i, rs);
            inFlight << i;
            break;
        case P::Reattach:
            scene.status = QStringLiteral("running");
            m_reattach.insert(i, rs.attach);
            inFlight << i;
            break;
        case P::Pending:
            scene.status = rs.requeued ? QStringLiteral("requeued") : QStringLiteral("queued");
            (rs.operatorRequeuePending ? operatorLast : queued) << i;
            break;
        }
    }
    Q_EMIT message(QStringLiteral("Resuming %1: %2").arg(m_run.runId, plan.describe()));
    writeArtifacts();
    m_pending = inFlight + queued + operatorLast;
    nextScene();
}

void RunController::writeSceneJson(const telemetry::SceneRecord& scene)
{
    QJsonArray attempts;
    for (const auto& a : scene.attempts)
        attempts.append(QJsonObject{{QStringLiteral("Attempt"), a.attempt},
                                    {QStringLiteral("Seed"), double(a.seed)},
                                    {QStringLiteral("FramePrefix"), a.framePrefix},
                                    {QStringLiteral("PromptId"), a.promptId}});
    const story::StoryScene* src = nullptr;
    for (const auto& s : m_opt.story.scenes)
        if (s.id == scene.sceneId)
            src = &s;
    QJsonObject o{{QStringLiteral("SceneId"), scene.sceneId},
                  {QStringLiteral("Title"), scene.title},
                  {QStringLiteral("Prompt"), scene.prompt},
                  {QStringLiteral("NegativePrompt"), scene.negativePrompt},
                  {QStringLiteral("Workflow"), scene.workflow},
                  {QStringLiteral("FrameFloor"), scene.frameFloor},
                  {QStringLiteral("ExpectedFrames"), src ? src->expectedFrames : 0},
                  {QStringLiteral("Seed"),
                   scene.attempts.isEmpty() ? QJsonValue() : QJsonValue(double(scene.attempts.last().seed))},
                  {QStringLiteral("Attempts"), attempts}};
    m_writer->write(QDir(m_run.runDir).filePath(scene.sceneId + QStringLiteral("/scene.json")),
                    QJsonDocument(o).toJson(QJsonDocument::Indented), [this](const Error& e) {
                        if (!e.isNull()) {
                            Q_EMIT warning(e.message);
                            onWriteFailure(e);
                        }
                    });
}

int RunController::indexOf(const QString& sceneId) const
{
    for (int i = 0; i < m_run.scenes.size(); ++i)
        if (m_run.scenes[i].sceneId == sceneId)
            return i;
    return -1;
}

int RunController::maxAttemptsOf(int index) const
{
    // Attempts ended by a dead server do not count against the retry budget.
    return m_attemptBase.value(index, 0) + m_opt.policy.sceneRetryBudget + 1 + m_infraAttempts.value(index, 0);
}

int RunController::dispatchCapacity() const
{
    // One server: one scene at a time, whatever its health (the attempt's own bounded waits decide).
    if (m_pool->size() == 1)
        return m_pool->slotsPerServer();
    int healthy = 0;
    for (const ComfyBackend* b : m_pool->backends())
        healthy += b->isHealthy() ? 1 : 0;
    return qMax(1, healthy) * m_pool->slotsPerServer();
}

void RunController::nextScene()
{
    // A scene being finalized (history.json on the writer) or the wind-down goes on by itself.
    if (m_finished || !m_begun || m_windingDown || !m_finalizing.isEmpty())
        return;
    if (m_diskGaveUp && !m_cancelling) {
        endHeldForDisk();
        return;
    }
    if (m_pending.isEmpty() || m_cancelling) {
        if (m_active.isEmpty())
            finishRun(m_cancelling ? RunExit::Interrupted : RunExit::Success, QString());
        return;
    }
    while (!m_pending.isEmpty() && !m_cancelling && !m_finished && m_active.size() < dispatchCapacity()) {
        // A paused queue holds one scene (with its message) rather than all of them.
        bool someoneHeld = false;
        bool diskHeld = false;
        for (const Active& a : m_active) {
            someoneHeld = someoneHeld || a.held;
            diskHeld = diskHeld || heldForDisk(a);
        }
        if (m_queuePaused && someoneHeld)
            return;
        // A full disk holds one scene (with its reason) rather than all of them.
        if (m_diskHold->isHolding() && diskHeld)
            return;
        const int index = m_pending.takeFirst();
        Active& a = m_active[index];
        a.token = ++m_startToken;
        if (m_pool->size() == 1 && m_opt.useWebSocket && !m_client->isSocketOpen() && m_opt.reconnectWaitSeconds > 0) {
            // The server went away during an earlier scene: give it a bounded chance to come back
            // before this scene is tried (and most likely fails at once).
            // Still connecting for the first time is not "gone away": say which, so the status
            // line does not suggest an outage at the start of every run.
            const bool firstConnect = m_client->socketState() == comfy::ComfyClient::SocketState::Connecting;
            Q_EMIT message((firstConnect ? QStringLiteral("Waiting up to %1 s for the WebSocket to ComfyUI to connect ...")
                                         : QStringLiteral("Waiting up to %1 s for ComfyUI to come back ..."))
                               .arg(m_opt.reconnectWaitSeconds));
            auto* timer = new QTimer(this);
            timer->setSingleShot(true);
            auto go = std::make_shared<bool>(false);
            auto proceed = [this, timer, go, index, token = a.token] {
                if (*go)
                    return;
                *go = true;
                timer->deleteLater();
                auto it = m_active.find(index);
                if (it != m_active.end() && it->token == token)
                    startAttempt(index);
            };
            connect(timer, &QTimer::timeout, this, proceed);
            connect(m_client, &comfy::ComfyClient::socketConnected, timer, proceed);
            timer->start(int(m_opt.reconnectWaitSeconds * 1000));
            return;
        }
        startAttempt(index);
    }
}

void RunController::hold(int index, const QString& reason)
{
    Active& a = m_active[index];
    if (a.holdSinceMs == 0)
        a.holdSinceMs = QDateTime::currentMSecsSinceEpoch();
    if (a.holdReason != reason) {
        a.holdReason = reason;
        const QString id = m_run.scenes[index].sceneId;
        log(QStringLiteral("[Scene %1] Held: %2").arg(id, reason));
        Q_EMIT message(QStringLiteral("%1 held: %2").arg(id, reason));
        Q_EMIT sceneState(id, QStringLiteral("held: ") + reason);
    }
    if (!m_holdTimer->isActive())
        m_holdTimer->start();
}

void RunController::onCapacityChanged()
{
    if (m_finished || !m_begun)
        return;
    const QList<int> waiting = m_active.keys();
    for (int index : waiting) {
        auto it = m_active.find(index);
        if (it != m_active.end() && !it->attempt && it->holdSinceMs > 0 && !it->held)
            startAttempt(index);
    }
    bool anyHeld = false;
    for (const Active& a : m_active)
        anyHeld = anyHeld || (a.holdSinceMs > 0 && !a.attempt);
    if (!anyHeld)
        m_holdTimer->stop();
    nextScene();
}

void RunController::startAttempt(int index)
{
    if (m_finished || m_finalizing.contains(index))
        return;
    auto it = m_active.find(index);
    if (it == m_active.end())
        return;
    Active& a = *it;
    if (m_resumeDecide.contains(index)) {
        // Resumed: the attempt was collected before the crash; only its requeue decision is left.
        const ResumeScene d = m_resumeDecide.take(index);
        if (d.infraMove) {
            startAttempt(index);
            return;
        }
        decideAfterAttempt(index, d.validationFailure, d.executionFailed, d.cancelled || m_cancelling, d.operatorCancelled);
        return;
    }
    if (m_cancelling) {
        finalizeScene(index, false, [this] { afterScene(); });
        return;
    }
    if (m_queuePaused) {
        // Resumed by setQueuePaused(false); cancel() and cancelScene() release the hold too.
        if (!a.held) {
            a.held = true;
            Q_EMIT message(QStringLiteral("Queue paused: %1 waits until the queue is resumed")
                               .arg(m_run.scenes[index].sceneId));
        }
        return;
    }
    a.held = false;
    if (m_diskHold->isHolding() || m_diskGaveUp) {
        // Nothing is submitted while the run directory cannot take its frames; DiskFullHold polls
        // the free space and onDiskSpaceBack() / onDiskHoldExpired() release the scene.
        hold(index, m_diskHold->reason());
        if (m_diskGaveUp)
            nextScene();
        return;
    }
    // Back-pressure: the pool picks the least-loaded healthy server with a free slot and enough
    // free VRAM; when none qualifies the scene waits with the reason shown. Both waits are bounded:
    // past the gate's bound the VRAM figure is ignored, past the reconnect wait the health is.
    const double heldSeconds = a.holdSinceMs > 0 ? (QDateTime::currentMSecsSinceEpoch() - a.holdSinceMs) / 1000.0 : 0;
    const int minVram = m_opt.vramGate ? m_profile.minVramMB : 0;
    const bool gateExpired = heldSeconds >= m_pool->options().vramGateMaxWaitSeconds;
    BackendPool::Choice choice = m_pool->choose(minVram, a.lostOn, gateExpired);
    if (m_reattach.contains(index)) {
        // A journaled prompt lives on the server it was queued on: no choice to make.
        const QString url = m_reattach.value(index).backend;
        choice.backend = m_pool->backend(0);
        for (ComfyBackend* b : m_pool->backends())
            if (b->client()->url().toString() == url)
                choice.backend = b;
        choice.freeMB = choice.backend->vramFreeMB();
    }
    QString gateNote;
    if (!choice.backend && m_pool->size() == 1 && !choice.vramOnly) {
        // One server that is down: try it anyway, as before the pool (the attempt fails or waits on its own).
        choice.backend = m_pool->backend(0);
        choice.freeMB = choice.backend->vramFreeMB();
    }
    if (!choice.backend && !choice.vramOnly && m_pool->healthyCount() == 0 &&
        heldSeconds >= qMax(1.0, m_opt.reconnectWaitSeconds)) {
        // No server answered for the whole reconnect wait: send it to the least-loaded one so the
        // attempt's own bounded waits decide, instead of holding forever.
        for (ComfyBackend* b : m_pool->backends())
            if (b->inFlight() < m_pool->slotsPerServer() && (!choice.backend || b->inFlight() < choice.backend->inFlight()))
                choice.backend = b;
        if (choice.backend)
            gateNote = QStringLiteral("no ComfyUI server answered for %1 s; sent to %2 anyway")
                           .arg(qRound(heldSeconds))
                           .arg(choice.backend->label());
    }
    if (!choice.backend) {
        hold(index, choice.holdReason);
        return;
    }
    if (gateExpired && heldSeconds > 0 && minVram > 0)
        gateNote = QStringLiteral("VRAM gate bound (%1 s) reached: submitted to %2 with %3 MB free for a %4 MB profile")
                       .arg(m_pool->options().vramGateMaxWaitSeconds)
                       .arg(choice.backend->label())
                       .arg(choice.freeMB ? QString::number(qRound(*choice.freeMB)) : QStringLiteral("unknown"))
                       .arg(minVram);
    ComfyBackend* backend = choice.backend;
    a.gate = QJsonObject{
        {QStringLiteral("RequiredMB"), minVram},
        {QStringLiteral("FreeMB"), choice.freeMB ? QJsonValue(qRound(*choice.freeMB * 10) / 10.0) : QJsonValue()},
        {QStringLiteral("Source"), choice.freeMB ? backend->vramSource() : QStringLiteral("missing")},
        {QStringLiteral("HeldSeconds"), qRound(heldSeconds * 10) / 10.0},
        {QStringLiteral("HoldReason"), a.holdReason.isEmpty() ? QJsonValue() : QJsonValue(a.holdReason)},
        {QStringLiteral("Passed"), minVram <= 0 || !choice.freeMB || *choice.freeMB >= minVram},
        {QStringLiteral("Note"), gateNote.isEmpty() ? QJsonValue() : QJsonValue(gateNote)},
    };
    if (!gateNote.isEmpty())
        Q_EMIT warning(QStringLiteral("%1: %2").arg(m_run.scenes[index].sceneId, gateNote));
    a.holdSinceMs = 0;
    a.holdReason.clear();
    a.backend = backend;
    m_pool->acquire(backend);

    telemetry::SceneRecord& scene = m_run.scenes[index];
    const story::StoryScene& src = m_opt.story.scenes.at(index);
    AttemptSpec spec;
    spec.runId = m_run.runId;
    spec.runDir = m_run.runDir;
    spec.sceneId = scene.sceneId;
    spec.attempt = int(scene.attempts.size()) + 1;
    if (m_reattach.contains(index))
        spec.attempt = m_reattach.value(index).attempt;
    spec.frameFloor = scene.frameFloor;
    spec.profile = m_profile;
    spec.params.prompt = src.prompt;
    spec.params.negativePrompt = src.negativePrompt;
    spec.params.frameCount = m_profile.purpose != comfy::Purpose::Video ? 1
                             : src.expectedFrames > 0                      ? src.expectedFrames
                                                                           : scene.frameFloor;
    spec.markerExpected = m_markerExpected;
    spec.policy = m_opt.policy;
    spec.comfyOutputDir = backend->spec().outputDir;
    spec.journal = m_journal.isOpen() ? &m_journal : nullptr;
    if (!spec.comfyOutputDir.isEmpty()) {
        if (!m_markerWatcher)
            m_markerWatcher = m_opt.markerWatcher ? m_opt.markerWatcher : new QFileSystemWatcher(this);
        spec.markerWatcher = m_markerWatcher;
    }
    const QDir storyDir(m_opt.storyDir.isEmpty() ? QDir::currentPath() : m_opt.storyDir);
    if (!src.keyframe.isEmpty())
        spec.keyframePath = storyDir.absoluteFilePath(src.keyframe);
    for (auto it = src.images.constBegin(); it != src.images.constEnd(); ++it)
        spec.images.insert(it.key(), storyDir.absoluteFilePath(it.value()));
    // story.json scene "seed" pins the sampler seed of every attempt (the storyboard's candidates).
    if (const QJsonValue seed = src.raw.value(QStringLiteral("seed")); seed.isDouble() && seed.toDouble() >= 0)
        spec.seed = seed.toInteger();
    scene.status = QStringLiteral("running");
    // A scene moved off a dead server: the change record learns where it went.
    QJsonArray changes = scene.extra.value(QStringLiteral("BackendChanges")).toArray();
    if (!changes.isEmpty() && changes.last().toObject().value(QStringLiteral("To")).isNull()) {
        QJsonObject last = changes.last().toObject();
        last.insert(QStringLiteral("To"), backend->client()->url().toString());
        last.insert(QStringLiteral("ToLabel"), backend->label());
        last.insert(QStringLiteral("NextAttempt"), spec.attempt);
        changes.replace(changes.size() - 1, last);
        scene.extra.insert(QStringLiteral("BackendChanges"), changes);
        log(QStringLiteral("[Scene %1] Backend change: attempt %2 goes to %3 (%4)")
                .arg(scene.sceneId)
                .arg(spec.attempt)
                .arg(backend->label(), backend->urlText()));
    }

    auto* attempt = new SceneAttempt(backend->client(), m_monitor, spec, this);
    a.attempt = attempt;
    const QString id = scene.sceneId;
    connect(attempt, &SceneAttempt::stateChanged, this,
            [this, id](SceneAttempt::State state, const QString& text) {
                Q_EMIT attemptState(id, state);
                Q_EMIT sceneState(id, text);
            });
    connect(attempt, &SceneAttempt::progress, this,
            [this, id](double f, const QString& detail) { Q_EMIT sceneProgress(id, f, detail); });
    connect(attempt, &SceneAttempt::finished, this, [this, index] { onAttemptFinished(index); });
    if (m_reattach.contains(index)) {
        const ResumeAttach reattach = m_reattach.take(index);
        m_attached.insert(index);
        // The attempt number is the journaled one (it equals attempts + 1 unless the journal was cut).
        Q_EMIT attemptStarted(id, reattach.attempt, maxAttemptsOf(index));
        attempt->attach(reattach);
        return;
    }
    Q_EMIT attemptStarted(id, spec.attempt, maxAttemptsOf(index));
    attempt->start();
}

void RunController::onBackendLost(ComfyBackend* backend, const QString& reason)
{
    // Before the scenes begin, preflight reports unreachable servers itself.
    if (m_finished || m_cancelling || !m_begun || m_pool->size() < 2)
        return;
    bool elsewhere = false;
    for (const ComfyBackend* b : m_pool->backends())
        elsewhere = elsewhere || (b != backend && b->isHealthy());
    log(QStringLiteral("Backend %1 (%2) is down: %3").arg(backend->label(), backend->urlText(), reason));
    Q_EMIT warning(QStringLiteral("ComfyUI server %1 (%2) is down: %3").arg(backend->label(), backend->urlText(), reason));
    if (!elsewhere)
        return; // nowhere to go: the attempts' own bounded waits (reconnect, history) decide
    for (auto it = m_active.begin(); it != m_active.end(); ++it) {
        Active& a = *it;
        if (a.backend != backend || !a.attempt || !a.moveReason.isEmpty())
            continue;
        // Frames already being collected stay where they are; only work the server still owed moves.
        const SceneAttempt::State st = a.attempt->state();
        if (st != SceneAttempt::State::Preparing && st != SceneAttempt::State::Submitting &&
            st != SceneAttempt::State::Queued && st != SceneAttempt::State::Running &&
            st != SceneAttempt::State::AwaitingHistory)
            continue;
        a.moveReason = QStringLiteral("ComfyUI server %1 (%2) went down: %3").arg(backend->label(), backend->urlText(), reason);
        a.lostOn.insert(backend);
        backend->countFailover();
        a.attempt->cancel(); // ends at once: the dead server refuses the interrupt
    }
}

void RunController::maybeFreeVram(ComfyBackend* backend)
{
    if (m_opt.freeEveryScenes <= 0 || !backend)
        return;
    const int n = ++m_scenesOn[backend];
    if (n % m_opt.freeEveryScenes != 0)
        return;
    // ComfyUI applies /free between prompts (or at once when idle): a queued prompt is not disturbed.
    backend->client()->freeMemory(true, true, this, [this, backend, n](const Error& e) {
        const QString at = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
        m_freeCalls.append(QJsonObject{{QStringLiteral("Backend"), backend->client()->url().toString()},
                                       {QStringLiteral("AfterScenes"), n},
                                       {QStringLiteral("At"), at},
                                       {QStringLiteral("Error"), e.isNull() ? QJsonValue() : QJsonValue(e.message)}});
        QJsonObject hygiene = m_run.extra.value(QStringLiteral("VramHygiene")).toObject();
        hygiene.insert(QStringLiteral("FreeCalls"), m_freeCalls);
        m_run.extra.insert(QStringLiteral("VramHygiene"), hygiene);
        if (!m_finished)
            log(QStringLiteral("[VRAM] POST /free on %1 after %2 scenes: %3")
                    .arg(backend->label())
                    .arg(n)
                    .arg(e.isNull() ? QStringLiteral("ok") : e.message));
    });
}

void RunController::onAttemptFinished(int index)
{
    auto it = m_active.find(index);
    if (it == m_active.end())
        return;
    Active& active = *it;
    SceneAttempt* attempt = active.attempt;
    if (!attempt)
        return;
    if (active.moveReason.isEmpty() && !active.failureProbed && active.backend && m_pool->size() > 1 &&
        !m_cancelling && !active.cancelCurrent && !attempt->cancelled() && !attempt->validationFailure() &&
        attempt->record().frameCount == 0) {
        // An attempt that failed with nothing to show may have lost its server (the refused POST
        // can arrive before the health probe notices): ask the server before spending the retry
        // budget. A dead server moves the scene; a live one means a real failure.
        active.failureProbed = true;
        ComfyBackend* suspect = active.backend;
        suspect->probe([this, index, suspect] {
            auto found = m_active.find(index);
            if (found == m_active.end())
                return;
            bool elsewhere = false;
            for (const ComfyBackend* b : m_pool->backends())
                elsewhere = elsewhere || (b != suspect && b->isHealthy());
            if (!suspect->isHealthy() && elsewhere && found->moveReason.isEmpty()) {
                found->moveReason = QStringLiteral("ComfyUI server %1 (%2) went down: %3")
                                        .arg(suspect->label(), suspect->urlText(), suspect->healthDetail());
                found->lostOn.insert(suspect);
                suspect->countFailover();
            }
            onAttemptFinished(index);
        });
        return;
    }
    active.failureProbed = false;
    ComfyBackend* backend = active.backend;
    active.backend = nullptr;
    telemetry::SceneRecord& scene = m_run.scenes[index];
    telemetry::AttemptRecord rec = attempt->record();
    const bool validation = attempt->validationFailure();
    const bool execFailed = attempt->executionFailed();
    const bool operatorCancelled = active.cancelCurrent;
    const QString moveReason = m_cancelling || operatorCancelled ? QString() : active.moveReason;
    active.moveReason.clear();
    const bool cancelled = (attempt->cancelled() || m_cancelling || operatorCancelled) && moveReason.isEmpty();
    if (auto s = attempt->serverExecutionSeconds())
        m_serverExec << *s;
    attempt->deleteLater();
    active.attempt = nullptr;
    if (backend) {
        // The attempt's "VRAM after" reading is the freshest view of that server, at no cost (a
        // local NVML reading only describes a server on this machine).
        if (backend->spec().isLoopback() || rec.telemetry.gpu.source == QLatin1String("system_stats"))
            backend->noteReading(rec.telemetry.gpu.vramFreeAfterBytes, rec.telemetry.gpu.vramTotalBytes,
                                 rec.telemetry.gpu.source);
        m_pool->release(backend);
        if (!cancelled && moveReason.isEmpty())
            maybeFreeVram(backend);
    }
    if (!active.gate.isEmpty())
        rec.telemetry.extra.insert(QStringLiteral("VramGate"), active.gate);
    if (backend && m_pool->size() > 1)
        rec.telemetry.extra.insert(QStringLiteral("BackendLabel"), backend->label());
    if (m_attached.remove(index) && attempt->promptLost()) {
        // The journaled prompt never reached the server (the app died right after journaling it)
        // or the server restarted meanwhile: lost work, not the scene's fault — it is submitted
        // again without spending the retry budget.
        ++m_infraAttempts[index];
        rec.errors << QStringLiteral("Submitted again after the resume (the retry budget is not spent)");
    }

    bool diskFull = false;
    for (const QString& text : rec.errors + rec.warnings)
        diskFull = diskFull || DiskFullHold::isDiskFull(text);
    if (diskFull && moveReason.isEmpty() && !cancelled) {
        // Its frames could not be written: the queue holds until there is space, and the attempt
        // the disk spoiled does not spend the scene's retry budget.
        for (const QString& text : rec.errors + rec.warnings)
            if (DiskFullHold::isDiskFull(text)) {
                onWriteFailure({QStringLiteral("io"), text, {}});
                break;
            }
        if (rec.frameCount < scene.frameFloor) {
            ++m_infraAttempts[index];
            rec.errors << QStringLiteral("The disk was full: the scene is tried again once there is space (the retry "
                                         "budget is not spent)");
        }
    }

    if (!moveReason.isEmpty()) {
        // Infrastructure failure: the attempt is kept for the audit trail but does not spend the
        // scene's retry budget; the scene goes to another server at once.
        const int moves = ++m_infraAttempts[index];
        const int limit = m_pool->options().infraRetryLimit;
        rec.status = QStringLiteral("failed");
        rec.errors.removeAll(QStringLiteral("Cancelled by the operator"));
        rec.errors << QStringLiteral("%1; the scene moves to another server (infrastructure retry %2/%3, the retry "
                                     "budget is not spent)")
                          .arg(moveReason)
                          .arg(moves)
                          .arg(limit);
        journal(RunJournal::collected(), scene.sceneId,
                {{QStringLiteral("Attempt"), rec.attempt},
                 {QStringLiteral("Record"), telemetry::RecordCodec::attemptToJson(m_run.runDir, rec)},
                 {QStringLiteral("InfraMove"), true},
                 {QStringLiteral("InfraAttempts"), moves}});
        scene.attempts.push_back(rec);
        log(telemetry::RunSummaryLog::attemptLine(scene.sceneId, rec));
        log(QStringLiteral("[Scene %1][Attempt %2] Backend=%3 (%4)")
                .arg(scene.sceneId)
                .arg(rec.attempt)
                .arg(backend ? backend->label() : QString(), rec.backend));
        writeSceneJson(scene);
        Q_EMIT attemptFinished(scene.sceneId, rec);
        QJsonArray changes = scene.extra.value(QStringLiteral("BackendChanges")).toArray();
        changes.append(QJsonObject{{QStringLiteral("Attempt"), rec.attempt},
                                   {QStringLiteral("From"), rec.backend},
                                   {QStringLiteral("FromLabel"), backend ? backend->label() : QString()},
                                   {QStringLiteral("To"), QJsonValue()},
                                   {QStringLiteral("Reason"), moveReason},
                                   {QStringLiteral("At"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)}});
        scene.extra.insert(QStringLiteral("BackendChanges"), changes);
        scene.extra.insert(QStringLiteral("InfrastructureRetries"), moves);
        if (moves <= limit) {
            log(QStringLiteral("[Scene %1] Backend change requested (infrastructure retry %2/%3) reason: %4")
                    .arg(scene.sceneId)
                    .arg(moves)
                    .arg(limit)
                    .arg(moveReason));
            scene.status = QStringLiteral("requeued");
            Q_EMIT sceneState(scene.sceneId, QStringLiteral("moving to another server"));
            writeArtifacts();
            startAttempt(index);
            return;
        }
        scene.errors << QStringLiteral("ComfyUI servers failed under this scene %1 times (infrastructure retry limit %2)")
                            .arg(moves)
                            .arg(limit);
        finalizeScene(index, false, [this] { afterScene(); });
        return;
    }

    journal(RunJournal::collected(), scene.sceneId,
            {{QStringLiteral("Attempt"), rec.attempt},
             {QStringLiteral("Record"), telemetry::RecordCodec::attemptToJson(m_run.runDir, rec)},
             {QStringLiteral("ValidationFailure"), validation},
             {QStringLiteral("ExecutionFailed"), execFailed},
             {QStringLiteral("Cancelled"), cancelled},
             {QStringLiteral("OperatorCancelled"), operatorCancelled},
             {QStringLiteral("InfraAttempts"), m_infraAttempts.value(index)}});
    scene.attempts.push_back(rec);
    if (!rec.frames.isEmpty()) {
        // Frame statistics for the blank-frame metric, computed now in the background while the
        // next scene renders, so the end-of-run quality step does not decode every frame again.
        const QString dir = QDir(m_run.runDir).filePath(rec.framesDir);
        const QStringList frames = rec.frames;
        (void)QtConcurrent::run(frameStatisticsPool(),
                                [dir, frames] { quality::BlankFrameDetector::writeCache(dir, frames); });
    }
    log(telemetry::RunSummaryLog::attemptLine(scene.sceneId, rec));
    if (m_pool->size() > 1)
        log(QStringLiteral("[Scene %1][Attempt %2] Backend=%3 (%4)")
                .arg(scene.sceneId)
                .arg(rec.attempt)
                .arg(backend ? backend->label() : QString(), rec.backend));
    writeSceneJson(scene);
    Q_EMIT attemptFinished(scene.sceneId, rec);
    decideAfterAttempt(index, validation, execFailed, cancelled, operatorCancelled);
}

void RunController::decideAfterAttempt(int index, bool validation, bool execFailed, bool cancelled,
                                       bool operatorCancelled)
{
    telemetry::SceneRecord& scene = m_run.scenes[index];
    const telemetry::AttemptRecord& rec = scene.attempts.last();
    const quint64 token = m_active.value(index).token;

    // Contract §2.2 step 8: requeue only for no frames, too few frames, or a non-validation
    // execution error, within the retry budget; a missing history entry alone never requeues.
    QString reason;
    if (rec.frameCount == 0)
        reason = rec.errors.isEmpty() ? QStringLiteral("no frames")
                                      : QStringLiteral("no frames (%1)").arg(rec.errors.last());
    else if (rec.frameCount < scene.frameFloor)
        reason = QStringLiteral("frame count below floor (%1/%2)").arg(rec.frameCount).arg(scene.frameFloor);
    else if (execFailed)
        reason =
            QStringLiteral("execution error: %1").arg(rec.errors.isEmpty() ? QString() : rec.errors.last());
    // An operator requeue gives the scene a fresh retry budget counted from its attempts then.
    const int maxAttempts = maxAttemptsOf(index);
    const int next = int(scene.attempts.size()) + 1;
    if (!reason.isEmpty() && !validation && !cancelled && next <= maxAttempts) {
        scene.requeued = true;
        scene.status = QStringLiteral("requeued");
        journal(RunJournal::requeued(), scene.sceneId,
                {{QStringLiteral("NextAttempt"), next},
                 {QStringLiteral("Reason"), reason},
                 {QStringLiteral("AttemptBase"), m_attemptBase.value(index)},
                 {QStringLiteral("InfraAttempts"), m_infraAttempts.value(index)}});
        log(telemetry::RunSummaryLog::requeue(scene.sceneId, next, maxAttempts, reason));
        Q_EMIT sceneState(scene.sceneId, QStringLiteral("requeued"));
        writeArtifacts();
        QTimer::singleShot(int(m_opt.policy.requeuePauseSeconds * 1000), this, [this, index, token] {
            auto found = m_active.find(index);
            if (found != m_active.end() && found->token == token)
                startAttempt(index);
        });
        return;
    }
    finalizeScene(index, operatorCancelled, [this, index, operatorCancelled] {
        if (operatorCancelled && m_run.scenes[index].status == QLatin1String("cancelled"))
            Q_EMIT sceneCancelled(m_run.scenes[index].sceneId);
        afterScene();
    });
}

void RunController::finalizeScene(int index, bool operatorCancelled, std::function<void()> then)
{
    telemetry::SceneRecord& scene = m_run.scenes[index];
    // The scene's result is its best attempt (most frames), not the last one.
    int best = -1;
    for (int i = 0; i < scene.attempts.size(); ++i)
        if (best < 0 || scene.attempts[i].frameCount > scene.attempts[best].frameCount)
            best = i;
    scene.keptAttempt = best;
    const telemetry::AttemptRecord* kept = scene.kept();
    if (!kept) {
        scene.status = QStringLiteral("cancelled");
        scene.errors << QStringLiteral("Cancelled before it was rendered");
    } else if ((m_cancelling || operatorCancelled) && kept->frameCount == 0) {
        // The kept attempt may be an earlier failed one (a requeued scene cancelled before it ran
        // again): the scene still needs an ERROR line saying why it ended.
        if (operatorCancelled && kept->status != QLatin1String("cancelled"))
            scene.errors << QStringLiteral("Cancelled by the operator");
        scene.status = QStringLiteral("cancelled");
    } else {
        scene.status = kept->frameCount > 0 && kept->status == QLatin1String("succeeded")
                           ? QStringLiteral("succeeded")
                           : QStringLiteral("failed");
    }
    if (!kept || kept->historyEntry.isEmpty()) {
        for (auto& a : scene.attempts)
            a.historyEntry = QJsonObject();
        finalizeSceneOutcome(index, operatorCancelled);
        if (then)
            then();
        return;
    }
    scene.historyPath = scene.sceneId + QStringLiteral("/history.json");
    const QByteArray history = QJsonDocument(kept->historyEntry).toJson(QJsonDocument::Indented);
    // history.json is the durable copy; a long run must not keep every graph in memory.
    for (auto& a : scene.attempts)
        a.historyEntry = QJsonObject();
    // The final entry names history.json (or the warning that it could not be written), so the
    // rest waits for the write; meanwhile the scene is neither started, cancelled nor requeued.
    m_finalizing.insert(index);
    const bool background = m_writer->mode() == DurableWriter::Mode::Background;
    m_writer->write(QDir(m_run.runDir).filePath(scene.historyPath), history,
                    [this, index, operatorCancelled, then, background](const Error& e) {
                        telemetry::SceneRecord& sc = m_run.scenes[index];
                        if (!e.isNull()) {
                            sc.historyPath.clear();
                            sc.warnings << e.message;
                            onWriteFailure(e);
                        }
                        m_finalizing.remove(index);
                        finalizeSceneOutcome(index, operatorCancelled);
                        if (then)
                            then();
                        // Dispatch waited for this scene (nextScene() does nothing while one is finalizing).
                        if (background)
                            nextScene();
                    });
}

void RunController::finalizeSceneOutcome(int index, bool operatorCancelled)
{
    telemetry::SceneRecord& scene = m_run.scenes[index];
    using L = telemetry::RunSummaryLog;
    const telemetry::AttemptRecord* kept = scene.kept();
    const int frames = kept ? kept->frameCount : 0;
    if (kept && frames < scene.frameFloor &&
        !scene.warnings.contains(L::belowFloorWarning(frames, scene.frameFloor)))
        scene.warnings << L::belowFloorWarning(frames, scene.frameFloor);
    if (frames == 0 && (!kept || kept->errors.isEmpty()) && scene.errors.isEmpty())
        scene.errors << QStringLiteral("No frames were collected");

    // Journaled (and synced) before its lines: after a crash the scene is done, never run again.
    journal(RunJournal::finalState(), scene.sceneId,
            {{QStringLiteral("Status"), scene.status},
             {QStringLiteral("KeptAttempt"), scene.keptAttempt},
             {QStringLiteral("Warnings"), QJsonArray::fromStringList(scene.warnings)},
             {QStringLiteral("Errors"), QJsonArray::fromStringList(scene.errors)},
             {QStringLiteral("HistoryPath"), scene.historyPath},
             {QStringLiteral("OperatorCancelled"), operatorCancelled}},
            true);
    logSceneOutcome(scene);
    writeArtifacts();
    // The scene is no longer active for listeners of sceneFinished (they may requeue it).
    m_active.remove(index);
    Q_EMIT sceneFinished(scene);
}

void RunController::logSceneOutcome(const telemetry::SceneRecord& scene)
{
    using L = telemetry::RunSummaryLog;
    const telemetry::AttemptRecord* kept = scene.kept();
    telemetry::AttemptTelemetry t = kept ? kept->telemetry : telemetry::AttemptTelemetry{};
    if (!kept) {
        t.maxWaitSeconds = m_opt.policy.maxWaitSeconds;
        t.pollIntervalSeconds = m_opt.policy.pollIntervalSeconds;
        t.historyAttemptLimit = m_opt.policy.historyMaxAttempts;
        t.postExecutionTimeoutSeconds = m_opt.policy.postExecutionTimeoutSeconds;
        t.sceneRetryBudget = m_opt.policy.sceneRetryBudget;
    }
    log(L::telemetryLine(scene.sceneId, t));
    QStringList warnings = kept ? kept->warnings : QStringList();
    warnings << scene.warnings;
    for (const QString& w : warnings)
        log(L::warning(scene.sceneId, w));
    QStringList errors = kept ? kept->errors : QStringList();
    errors << scene.errors;
    for (const QString& e : errors)
        log(L::error(scene.sceneId, e));
    if (kept && !kept->historyRetrieved) {
        const QString why = kept->historyErrors.isEmpty()
                                ? QStringLiteral("history entry not retrieved (%1)").arg(t.historyExitReason)
                                : kept->historyErrors.last();
        log(L::historyWarning(scene.sceneId, why));
    }
}

void RunController::afterScene()
{
    if (m_cancelling) {
        if (m_active.isEmpty())
            windDown();
        return;
    }
    nextScene();
}

void RunController::windDown()
{
    // Every remaining scene is recorded as cancelled, each with its own lines.
    if (m_windingDown)
        return;
    m_windingDown = true;
    const QList<int> rest = m_pending;
    m_pending.clear();
    finalizeEach(rest, [this] { finishRun(RunExit::Interrupted, QString()); });
}

void RunController::finalizeEach(QList<int> indices, std::function<void()> then)
{
    // One after the other: each scene's entries and lines stay together, in queue order.
    if (indices.isEmpty()) {
        then();
        return;
    }
    const int index = indices.takeFirst();
    finalizeScene(index, false, [this, indices, then] { finalizeEach(indices, then); });
}

bool RunController::heldForDisk(const Active& a) const
{
    return !a.attempt && a.holdSinceMs > 0 && !a.holdReason.isEmpty() && a.holdReason == m_diskHold->reason();
}

void RunController::onWriteFailure(const Error& error)
{
    if (m_finished || m_cancelling || m_run.runDir.isEmpty() || m_diskGaveUp || m_diskHold->isHolding() ||
        !DiskFullHold::isDiskFull(error.message))
        return;
    // The run needs at least room for another scene like the largest one so far before it goes on.
    qint64 largest = 0;
    for (const auto& sc : m_run.scenes)
        for (const auto& att : sc.attempts) {
            const QDir dir(QDir(m_run.runDir).filePath(att.framesDir));
            qint64 bytes = 0;
            for (const QString& f : att.frames)
                bytes += QFileInfo(dir.filePath(f)).size();
            largest = qMax(largest, bytes);
        }
    m_diskHold->begin(m_run.runDir, error.message, largest);
    QJsonArray holds = m_run.extra.value(QStringLiteral("DiskFullHolds")).toArray();
    holds.append(m_diskHold->toJson());
    m_run.extra.insert(QStringLiteral("DiskFullHolds"), holds);
    const QString text = QStringLiteral("Queue held: %1. Free space there; after %2 s the run ends and `gemdirect "
                                        "resume %3` continues it")
                             .arg(m_diskHold->reason())
                             .arg(m_diskHold->options().maxHoldSeconds)
                             .arg(m_run.runDir);
    Q_EMIT warning(text);
    log(QStringLiteral("WARNING: ") + text); // lost too when the summary shares the full disk
    // The scenes still in flight go on (what they wrote stays); whatever waits is held at its start.
    for (auto it = m_active.begin(); it != m_active.end(); ++it)
        if (!it->attempt && it->holdSinceMs > 0 && !it->held)
            hold(it.key(), m_diskHold->reason());
}

void RunController::onDiskSpaceBack(qint64 freeBytes)
{
    if (m_finished)
        return;
    QJsonArray holds = m_run.extra.value(QStringLiteral("DiskFullHolds")).toArray();
    if (!holds.isEmpty())
        holds.replace(holds.size() - 1, m_diskHold->toJson());
    m_run.extra.insert(QStringLiteral("DiskFullHolds"), holds);
    const QString text = QStringLiteral("Disk space is back under %1 (%2 free) after %3 s: the queue goes on")
                             .arg(m_diskHold->directory(),
                                  freeBytes >= 0 ? DiskFullHold::formatBytes(freeBytes) : QStringLiteral("unknown"))
                             .arg(qRound(m_diskHold->heldSeconds()));
    log(text);
    Q_EMIT message(text);
    writeArtifacts();
    const QList<int> held = m_active.keys();
    for (int index : held) {
        auto it = m_active.find(index);
        if (it == m_active.end() || !heldForDisk(*it))
            continue;
        it->holdSinceMs = 0;
        it->holdReason.clear();
        startAttempt(index);
    }
    nextScene();
}

void RunController::onDiskHoldExpired(qint64 freeBytes)
{
    if (m_finished)
        return;
    QJsonArray holds = m_run.extra.value(QStringLiteral("DiskFullHolds")).toArray();
    if (!holds.isEmpty())
        holds.replace(holds.size() - 1, m_diskHold->toJson());
    m_run.extra.insert(QStringLiteral("DiskFullHolds"), holds);
    m_diskGaveUp = true;
    m_diskGaveUpWhy = QStringLiteral("the disk under %1 stayed full for %2 s (%3 free, %4 needed)")
                          .arg(m_diskHold->directory())
                          .arg(qRound(m_diskHold->heldSeconds()))
                          .arg(freeBytes >= 0 ? DiskFullHold::formatBytes(freeBytes) : QStringLiteral("unknown"),
                               DiskFullHold::formatBytes(m_diskHold->neededBytes()));
    Q_EMIT warning(QStringLiteral("Disk-full hold ended: %1; the run stops once the scene in flight ends").arg(m_diskGaveUpWhy));
    nextScene();
}

void RunController::endHeldForDisk()
{
    for (const Active& a : m_active)
        if (a.attempt)
            return; // the attempt in flight ends first; its onAttemptFinished() comes back here
    // Held scenes (and those between attempts) go back to the queue: none is recorded final, so
    // the journal leaves them to `gemdirect resume`.
    QList<int> rest = m_active.keys();
    m_active.clear();
    for (int index : std::as_const(m_pending))
        if (!rest.contains(index))
            rest << index;
    m_pending.clear();
    const QString note = QStringLiteral("Not started: %1; `gemdirect resume %2` continues the run once there is space")
                             .arg(m_diskGaveUpWhy, m_run.runDir);
    for (int index : std::as_const(rest)) {
        telemetry::SceneRecord& scene = m_run.scenes[index];
        scene.errors << note;
        log(telemetry::RunSummaryLog::error(scene.sceneId, note));
        Q_EMIT sceneState(scene.sceneId, QStringLiteral("not started: disk full"));
    }
    finishRun(RunExit::SomeFailed,
              QStringLiteral("Stopped: %1. %2 scene(s) not started; free space, then `gemdirect resume %3` continues "
                             "the run")
                  .arg(m_diskGaveUpWhy)
                  .arg(rest.size())
                  .arg(m_run.runDir));
}

void RunController::setQueuePaused(bool paused)
{
    if (m_queuePaused == paused)
        return;
    m_queuePaused = paused;
    Q_EMIT queuePausedChanged(paused);
    if (paused) {
        bool running = false;
        for (const Active& a : m_active)
            running = running || a.attempt;
        Q_EMIT message(running ? QStringLiteral("Queue paused: the running scene continues; no new scene or "
                                                  "attempt is submitted until the queue is resumed")
                                 : QStringLiteral("Queue paused: no new scene or attempt is submitted until "
                                                  "the queue is resumed"));
        return;
    }
    Q_EMIT message(QStringLiteral("Queue resumed"));
    if (m_finished)
        return;
    const QList<int> held = m_active.keys();
    for (int index : held) {
        auto it = m_active.find(index);
        if (it != m_active.end() && it->held) {
            it->held = false;
            startAttempt(index);
        }
    }
    nextScene();
}

bool RunController::canCancelScene(const QString& sceneId) const
{
    if (m_finished || m_cancelling || m_run.runDir.isEmpty())
        return false;
    const int index = indexOf(sceneId);
    return index >= 0 && !m_finalizing.contains(index) && (m_active.contains(index) || m_pending.contains(index));
}

bool RunController::canRequeueScene(const QString& sceneId) const
{
    if (m_finished || m_cancelling || m_run.runDir.isEmpty())
        return false;
    const int index = indexOf(sceneId);
    if (index < 0 || m_active.contains(index) || m_pending.contains(index) || m_finalizing.contains(index))
        return false;
    const QString& status = m_run.scenes[index].status;
    return status == QLatin1String("failed") || status == QLatin1String("cancelled");
}

bool RunController::cancelScene(const QString& sceneId)
{
    if (!canCancelScene(sceneId))
        return false;
    const int index = indexOf(sceneId);
    auto active = m_active.find(index);
    if (active != m_active.end() && active->attempt) {
        Q_EMIT message(QStringLiteral("Cancelling %1: interrupting its prompt ...").arg(sceneId));
        active->cancelCurrent = true;
        active->attempt->cancel(); // onAttemptFinished() records it and goes on with the next scene
        return true;
    }
    if (active != m_active.end()) {
        // Between two attempts (requeue pause, reconnect wait, paused queue, back-pressure): nothing
        // runs on the server, so the scene is recorded at once and the scheduled start is abandoned
        // (finalizeScene removes it from the active scenes, which the scheduled start checks).
        finalizeScene(index, true, [this, sceneId] {
            Q_EMIT sceneCancelled(sceneId);
            afterScene();
        });
        return true;
    }
    m_pending.removeAll(index);
    finalizeScene(index, true, [this, sceneId] { Q_EMIT sceneCancelled(sceneId); });
    return true;
}

bool RunController::requeueScene(const QString& sceneId)
{
    if (!canRequeueScene(sceneId))
        return false;
    const int index = indexOf(sceneId);
    telemetry::SceneRecord& scene = m_run.scenes[index];
    const int attempts = int(scene.attempts.size());
    m_attemptBase.insert(index, attempts);
    const int next = attempts + 1;
    scene.requeued = true;
    scene.status = QStringLiteral("requeued");
    // Scene-level notes described the outcome that is being retried; the attempts keep theirs.
    scene.errors.clear();
    scene.warnings.clear();
    m_pending.append(index);
    journal(RunJournal::requeued(), sceneId,
            {{QStringLiteral("NextAttempt"), next},
             {QStringLiteral("Operator"), true},
             {QStringLiteral("AttemptBase"), attempts},
             {QStringLiteral("InfraAttempts"), m_infraAttempts.value(index)}});
    log(telemetry::RunSummaryLog::requeue(sceneId, next, maxAttemptsOf(index),
                                          QStringLiteral("operator requeue")));
    writeArtifacts();
    Q_EMIT message(QStringLiteral("%1 requeued: attempt %2 runs after the scenes still queued").arg(sceneId).arg(next));
    Q_EMIT sceneState(sceneId, QStringLiteral("requeued"));
    Q_EMIT sceneRequeued(sceneId, next);
    return true;
}

void RunController::recordInHistory()
{
    if (m_opt.historyDatabase.isEmpty())
        return;
    // The run directory stays the source of truth; a database problem is a warning, never a lost run.
    // The connection is made, used and closed inside the job, on the writer's thread.
    const QString path = m_opt.historyDatabase;
    const QString runDir = m_run.runDir;
    const QJsonObject artifact = telemetry::ArtifactWriter::toJson(m_run);
    m_writer->post(
        [path, runDir, artifact]() -> Error {
            store::Database db;
            Error e = db.open(path);
            if (e.isNull()) {
                store::RunStore runs(db);
                e = runs.recordRun(artifact, runDir);
            }
            return e;
        },
        [this, runDir](const Error& e) {
            if (!e.isNull())
                Q_EMIT warning(QStringLiteral("The run was not recorded in the history database (%1); `gemdirect import "
                                              "%2` adds it later")
                                   .arg(e.message, runDir));
        });
}

void RunController::writeArtifacts()
{
    if (m_run.runDir.isEmpty())
        return;
    // The feedback panel rates scenes while the run goes on (FeedbackService rewrites the artifact
    // with the rating in Feedback[]); a file changed since our last write is read back so those
    // ratings survive this rewrite and reach the history database at the end of the run. Both the
    // read-back and the write happen in the job, right before the write: with background writes a
    // rating that lands while this write waits in the queue is kept too.
    const QString runDir = m_run.runDir;
    const QString path = QDir(runDir).filePath(telemetry::ArtifactWriter::fileName());
    QJsonObject artifact = telemetry::ArtifactWriter::toJson(m_run);
    // Each write replaces the whole file: a write still waiting in the writer's queue takes the
    // newer snapshot instead of a second write queuing behind it (the scenes of a dispatch round
    // finishing together cost one artifact sync, not one each).
    if (m_artifactWrite) {
        std::lock_guard<std::mutex> lock(m_artifactWrite->mutex);
        if (!m_artifactWrite->started) {
            m_artifactWrite->snapshot = std::move(artifact);
            return;
        }
    }
    auto pending = std::make_shared<PendingArtifactWrite>();
    pending->snapshot = std::move(artifact);
    m_artifactWrite = pending;
    const std::shared_ptr<QDateTime> writtenAt = m_artifactWrittenAt; // only the jobs touch it, in order
    auto feedback = std::make_shared<QJsonArray>();
    m_writer->post(
        [runDir, path, pending, writtenAt, feedback] {
            QJsonObject artifact;
            {
                std::lock_guard<std::mutex> lock(pending->mutex);
                pending->started = true;
                artifact = std::move(pending->snapshot);
            }
            const QFileInfo file(path);
            if (file.exists() && file.lastModified() != *writtenAt) {
                QJsonObject onDisk;
                if (store::RunStore::readArtifact(runDir, onDisk).isNull()) {
                    const QJsonArray rated = onDisk.value(QStringLiteral("Feedback")).toArray();
                    if (rated.size() > artifact.value(QStringLiteral("Feedback")).toArray().size()) {
                        artifact.insert(QStringLiteral("Feedback"), rated);
                        *feedback = rated;
                    }
                }
            }
            const Error e = AtomicFile::write(path, QJsonDocument(artifact).toJson(QJsonDocument::Indented));
            *writtenAt = QFileInfo(path).lastModified();
            return e;
        },
        [this, feedback, pending](const Error& e) {
            if (m_artifactWrite == pending)
                m_artifactWrite.reset();
            if (feedback->size() > m_run.feedback.size())
                m_run.feedback = *feedback;
            if (!e.isNull()) {
                gd::log::get("pipeline")->error("{}", e.message.toStdString());
                Q_EMIT warning(QStringLiteral("Could not write artifact-metadata.json: %1").arg(e.message));
                onWriteFailure(e);
            }
        });
}

void RunController::cancel()
{
    if (m_finished || m_cancelling)
        return;
    m_cancelling = true;
    Q_EMIT message(
        QStringLiteral("Cancelling: interrupting the running prompt and deleting pending ones ..."));
    if (m_run.runDir.isEmpty()) {
        finishRun(RunExit::Interrupted, QStringLiteral("Cancelled before anything was queued"));
        return;
    }
    const QList<int> active = m_active.keys();
    // Winds down once the last of these is recorded (at once without background writes), unless an
    // attempt is still in flight: then the last attempt to finish does.
    auto outstanding = std::make_shared<int>(1);
    auto settle = [this, outstanding] {
        if (--*outstanding == 0 && m_active.isEmpty())
            afterScene();
    };
    for (int index : active) {
        auto it = m_active.find(index);
        if (it == m_active.end() || m_finalizing.contains(index))
            continue;
        if (it->attempt) {
            it->attempt->cancel();
        } else {
            ++*outstanding;
            finalizeScene(index, false, settle); // held or between attempts: nothing runs on a server
        }
    }
    settle();

}

void RunController::finishRun(RunExit code, const QString& msg)
{
    if (m_finished)
        return;
    m_finished = true;
    QString text = msg;
    if (!m_run.runDir.isEmpty()) {
        const auto stats = telemetry::SummaryCalculator::compute(m_run);
        bool allSucceeded = stats.scenesSucceeded == stats.scenesTotal;
        for (const auto& sc : m_run.scenes)
            allSucceeded = allSucceeded && sc.status == QLatin1String("succeeded");
        if (code == RunExit::Success && !allSucceeded)
            code = RunExit::SomeFailed;
        journal(RunJournal::finished(), QString(),
                {{QStringLiteral("ExitCode"), int(code)}, {QStringLiteral("Resumable"), m_diskGaveUp}}, true);
        m_journal.close();
        log(telemetry::RunSummaryLog::sceneSummary(stats.scenesSucceeded, stats.scenesTotal,
                                                   stats.totalFrames, stats.requeues));
        int captured = 0;
        for (const auto& s : m_run.scenes)
            if (s.kept() && s.kept()->frameCount > 0)
                ++captured;
        // A run ended by a full disk is unfinished: without the index `gemdirect resume` (and the
        // app's resume offer) continues it.
        if (!m_diskGaveUp)
            m_log.appendRaw(
                telemetry::RunSummaryLog::artifactIndex(QStringLiteral("story"), captured, stats.totalFrames));
        m_log.close();
        writeArtifacts();
        recordInHistory();
        if (text.isEmpty())
            text = QStringLiteral("%1/%2 scenes succeeded, %3 frames, %4 requeues")
                       .arg(stats.scenesSucceeded)
                       .arg(stats.scenesTotal)
                       .arg(stats.totalFrames)
                       .arg(stats.requeues);
    }
    m_pool->stopProbing();
    m_holdTimer->stop();
    m_diskHold->stop();
    for (ComfyBackend* b : m_pool->backends())
        b->client()->closeSocket();
    // Everything queued (the artifact, the journal's last sync, the history database) is on disk
    // before anyone hears that the run ended: the command line exits right after.
    m_writer->whenIdle([this, code, text] { Q_EMIT finished(static_cast<int>(code), text); });
}

} // namespace gd::pipeline
