#include "pipeline/RunController.h"

#include "comfy/ComfyClient.h"
#include "comfy/WorkflowBuilder.h"
#include "comfy/WorkflowProfileLoader.h"
#include "common/AtomicFile.h"
#include "common/Log.h"
#include "gpu/GpuMonitor.h"
#include "gpu/SystemStatsParser.h"
#include "story/StoryLoader.h"
#include "quality/BlankFrameDetector.h"
#include "store/Database.h"
#include "store/RunStore.h"
#include "telemetry/ArtifactWriter.h"
#include "telemetry/SummaryCalculator.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

namespace gd::pipeline {

namespace {
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
    m_client = new comfy::ComfyClient(m_opt.comfyUrl, this);
    if (!m_opt.bearerToken.isEmpty())
        m_client->setBearerToken(m_opt.bearerToken);
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
    Q_EMIT message(QStringLiteral("Connecting to ComfyUI at %1 ...").arg(m_client->url().toString()));
    m_client->systemStats(this, [this](const std::pair<QJsonObject, Error>& r) {
        if (!r.second.isNull()) {
            fail(
                RunExit::Unreachable,
                QStringLiteral(
                    "ComfyUI is not reachable at %1: %2\nStart ComfyUI (for example `python main.py --listen "
                    "127.0.0.1 --port 8188`), or point --comfy-url / LOCAL_COMFY_URL at it.")
                    .arg(m_client->url().toString(), r.second.message));
            return;
        }
        const QJsonObject system = r.first.value(QStringLiteral("system")).toObject();
        QString err;
        const auto gpu = gpu::SystemStatsParser::parse(r.first, &err);
        m_systemSummary = QStringLiteral("ComfyUI %1 at %2%3")
                              .arg(system.value(QStringLiteral("comfyui_version"))
                                       .toString(QStringLiteral("(version unknown)")),
                                   m_client->url().toString(),
                                   gpu ? QStringLiteral(", device %1").arg(gpu->name) : QString());
        Q_EMIT message(QStringLiteral("Connected: ") + m_systemSummary);
        // Open the socket before the first POST so no event of ours is routed to nobody.
        if (m_opt.useWebSocket)
            m_client->openSocket();
        checkClasses();
    });
}

void RunController::checkClasses()
{
    const QStringList classes = m_profile.classTypes();
    auto pending = std::make_shared<int>(int(classes.size()));
    auto missing = std::make_shared<QStringList>();
    auto errors = std::make_shared<QStringList>();
    for (const QString& cls : classes) {
        m_client->objectInfo(
            cls, this, [this, cls, pending, missing, errors](const std::pair<bool, Error>& r) {
                if (!r.second.isNull())
                    errors->append(QStringLiteral("%1: %2").arg(cls, r.second.message));
                else if (!r.first)
                    missing->append(cls);
                if (--*pending > 0)
                    return;
                if (!errors->isEmpty()) {
                    fail(RunExit::Unreachable,
                         QStringLiteral("ComfyUI at %1 did not answer the node checks: %2")
                             .arg(m_client->url().toString(), errors->join(QStringLiteral("; "))));
                    return;
                }
                missing->sort();
                const QString marker = comfy::WorkflowProfile::markerClass();
                m_markerExpected = !m_profile.markerNodeId().isEmpty();
                if (missing->contains(marker)) {
                    missing->removeAll(marker);
                    QString markerNode;
                    m_profile.graph = comfy::WorkflowBuilder::replaceMarkerNode(m_profile.graph, &markerNode);
                    m_markerExpected = false;
                    m_run.warnings
                        << QStringLiteral(
                               "ComfyUI at %1 does not have the %2 node: frames are saved with a core "
                               "SaveImage and collected after the stability window instead of on a done "
                               "marker. To get done markers, %3.")
                               .arg(m_client->url().toString(), marker, installHint());
                    Q_EMIT warning(m_run.warnings.last());
                }
                if (!missing->isEmpty()) {
                    fail(RunExit::BadInput,
                         QStringLiteral("Workflow '%1' uses node classes that ComfyUI at %2 does not have: "
                                        "%3. Install the custom "
                                        "node packages that provide them (ComfyUI Manager → Install Missing "
                                        "Custom Nodes) and "
                                        "restart ComfyUI, or choose another --workflow. Nothing was queued.")
                             .arg(m_profile.name, m_client->url().toString(),
                                  missing->join(QStringLiteral(", "))));
                    return;
                }
                if (!m_markerExpected && m_opt.sentinelMarkers) {
                    m_markerExpected = true;
                    m_markerFromSentinel = true;
                }
                if (!m_opt.useDoneMarkers)
                    m_markerExpected = false;
                if (!prepareRunDirectory())
                    return;
                beginScenes();
            });
    }
    if (classes.isEmpty())
        fail(RunExit::BadInput, QStringLiteral("Workflow '%1' has no nodes").arg(m_profile.name));
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

bool RunController::prepareRunDirectory()
{
    QString runDir = m_opt.existingRunDir;
    if (runDir.isEmpty()) {
        QString error;
        runDir = createRunDirectory(m_opt.runsRoot, &error);
        if (runDir.isEmpty()) {
            fail(RunExit::BadInput, error);
            return false;
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
    m_run.backends = {m_client->url().toString()};

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
        r.frameFloor = m_opt.policy.frameFloorFor(sc.expectedFrames);
        m_run.scenes.push_back(r);
    }

    const Error storyErr =
        AtomicFile::write(QDir(m_run.runDir).filePath(m_run.story.file),
                          QJsonDocument(story::StoryLoader::toJson(s)).toJson(QJsonDocument::Indented));
    const Error logErr = m_log.open(m_run.runDir, m_run.runId);
    if (!storyErr.isNull() || !logErr.isNull()) {
        fail(RunExit::BadInput, (storyErr.isNull() ? logErr : storyErr).message);
        return false;
    }
    Q_EMIT runDirectoryCreated(m_run.runDir);
    return true;
}

void RunController::log(const QString& line)
{
    const Error e = m_log.append(line);
    if (!e.isNull())
        gd::log::get("pipeline")->error("run-summary.txt: {}", e.message.toStdString());
}

void RunController::beginScenes()
{
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
    log(QStringLiteral("ComfyUI: %1 | workflow=%2 | doneMarkers=%3 | clientId=%4")
            .arg(m_systemSummary, m_profile.name,
                 !m_markerExpected     ? QStringLiteral("off")
                 : m_markerFromSentinel ? QStringLiteral("sentinel")
                                        : QStringLiteral("producer"),
                 m_client->clientId()));
    for (const QString& w : m_run.warnings)
        log(QStringLiteral("WARNING: ") + w);
    for (const auto& sc : m_run.scenes)
        writeSceneJson(sc);
    writeArtifacts();
    m_pending.clear();
    for (int i = 0; i < m_run.scenes.size(); ++i)
        m_pending.append(i);
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
    const Error e =
        AtomicFile::write(QDir(m_run.runDir).filePath(scene.sceneId + QStringLiteral("/scene.json")),
                          QJsonDocument(o).toJson(QJsonDocument::Indented));
    if (!e.isNull())
        Q_EMIT warning(e.message);
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
    return m_attemptBase.value(index, 0) + m_opt.policy.sceneRetryBudget + 1;
}

void RunController::nextScene()
{
    if (m_finished)
        return;
    ++m_startToken;
    m_cancelCurrent = false;
    m_held = false;
    if (m_pending.isEmpty() || m_cancelling) {
        m_sceneIndex = -1;
        finishRun(m_cancelling ? RunExit::Interrupted : RunExit::Success, QString());
        return;
    }
    m_sceneIndex = m_pending.takeFirst();
    if (m_opt.useWebSocket && !m_client->isSocketOpen() && m_opt.reconnectWaitSeconds > 0) {
        // The server went away during an earlier scene: give it a bounded chance to come back
        // before this scene is tried (and most likely fails at once).
        Q_EMIT message(QStringLiteral("Waiting up to %1 s for ComfyUI to come back ...")
                           .arg(m_opt.reconnectWaitSeconds));
        auto* timer = new QTimer(this);
        timer->setSingleShot(true);
        auto go = std::make_shared<bool>(false);
        auto proceed = [this, timer, go, token = m_startToken] {
            if (*go)
                return;
            *go = true;
            timer->deleteLater();
            if (token == m_startToken)
                startAttempt();
        };
        connect(timer, &QTimer::timeout, this, proceed);
        connect(m_client, &comfy::ComfyClient::socketConnected, timer, proceed);
        timer->start(int(m_opt.reconnectWaitSeconds * 1000));
        return;
    }
    startAttempt();
}

void RunController::startAttempt()
{
    if (m_finished)
        return;
    if (m_sceneIndex < 0)
        return;
    if (m_cancelling) {
        finalizeScene(m_sceneIndex, false);
        afterScene();
        return;
    }
    if (m_queuePaused) {
        // Resumed by setQueuePaused(false); cancel() and cancelScene() release the hold too.
        if (!m_held) {
            m_held = true;
            Q_EMIT message(QStringLiteral("Queue paused: %1 waits until the queue is resumed")
                               .arg(m_run.scenes[m_sceneIndex].sceneId));
        }
        return;
    }
    m_held = false;
    telemetry::SceneRecord& scene = m_run.scenes[m_sceneIndex];
    const story::StoryScene& src = m_opt.story.scenes.at(m_sceneIndex);
    AttemptSpec spec;
    spec.runId = m_run.runId;
    spec.runDir = m_run.runDir;
    spec.sceneId = scene.sceneId;
    spec.attempt = int(scene.attempts.size()) + 1;
    spec.frameFloor = scene.frameFloor;
    spec.profile = m_profile;
    spec.params.prompt = src.prompt;
    spec.params.negativePrompt = src.negativePrompt;
    spec.params.frameCount = src.expectedFrames > 0 ? src.expectedFrames : scene.frameFloor;
    spec.markerExpected = m_markerExpected;
    spec.policy = m_opt.policy;
    spec.comfyOutputDir = m_opt.comfyOutputDir;
    if (!src.keyframe.isEmpty())
        spec.keyframePath = QDir(m_opt.storyDir.isEmpty() ? QDir::currentPath() : m_opt.storyDir)
                                .absoluteFilePath(src.keyframe);
    scene.status = QStringLiteral("running");

    auto* attempt = new SceneAttempt(m_client, m_monitor, spec, this);
    m_attempt = attempt;
    const QString id = scene.sceneId;
    connect(attempt, &SceneAttempt::stateChanged, this,
            [this, id](SceneAttempt::State state, const QString& text) {
                Q_EMIT attemptState(id, state);
                Q_EMIT sceneState(id, text);
            });
    connect(attempt, &SceneAttempt::progress, this,
            [this, id](double f, const QString& detail) { Q_EMIT sceneProgress(id, f, detail); });
    connect(attempt, &SceneAttempt::finished, this, &RunController::onAttemptFinished);
    Q_EMIT attemptStarted(id, spec.attempt, maxAttemptsOf(m_sceneIndex));
    attempt->start();
}

void RunController::onAttemptFinished()
{
    SceneAttempt* attempt = m_attempt;
    if (!attempt)
        return;
    telemetry::SceneRecord& scene = m_run.scenes[m_sceneIndex];
    telemetry::AttemptRecord rec = attempt->record();
    const bool validation = attempt->validationFailure();
    const bool execFailed = attempt->executionFailed();
    const bool operatorCancelled = m_cancelCurrent;
    const bool cancelled = attempt->cancelled() || m_cancelling || operatorCancelled;
    if (auto s = attempt->serverExecutionSeconds())
        m_serverExec << *s;
    attempt->deleteLater();
    m_attempt = nullptr;

    scene.attempts.push_back(rec);
    if (!rec.frames.isEmpty()) {
        // Frame statistics for the blank-frame metric, computed now in the background while the
        // next scene renders, so the end-of-run quality step does not decode every frame again.
        const QString dir = QDir(m_run.runDir).filePath(rec.framesDir);
        const QStringList frames = rec.frames;
        (void)QtConcurrent::run([dir, frames] { quality::BlankFrameDetector::writeCache(dir, frames); });
    }
    log(telemetry::RunSummaryLog::attemptLine(scene.sceneId, rec));
    writeSceneJson(scene);
    Q_EMIT attemptFinished(scene.sceneId, rec);

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
    const int maxAttempts = maxAttemptsOf(m_sceneIndex);
    const int next = int(scene.attempts.size()) + 1;
    if (!reason.isEmpty() && !validation && !cancelled && next <= maxAttempts) {
        scene.requeued = true;
        scene.status = QStringLiteral("requeued");
        log(telemetry::RunSummaryLog::requeue(scene.sceneId, next, maxAttempts, reason));
        Q_EMIT sceneState(scene.sceneId, QStringLiteral("requeued"));
        writeArtifacts();
        QTimer::singleShot(int(m_opt.policy.requeuePauseSeconds * 1000), this, [this, token = m_startToken] {
            if (token == m_startToken)
                startAttempt();
        });
        return;
    }
    const int index = m_sceneIndex;
    finalizeScene(index, operatorCancelled);
    if (operatorCancelled && m_run.scenes[index].status == QLatin1String("cancelled"))
        Q_EMIT sceneCancelled(m_run.scenes[index].sceneId);
    afterScene();
}

void RunController::finalizeScene(int index, bool operatorCancelled)
{
    telemetry::SceneRecord& scene = m_run.scenes[index];
    using L = telemetry::RunSummaryLog;
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
    if (kept && !kept->historyEntry.isEmpty()) {
        scene.historyPath = scene.sceneId + QStringLiteral("/history.json");
        const Error e = AtomicFile::write(QDir(m_run.runDir).filePath(scene.historyPath),
                                          QJsonDocument(kept->historyEntry).toJson(QJsonDocument::Indented));
        if (!e.isNull()) {
            scene.historyPath.clear();
            scene.warnings << e.message;
        }
    }
    // history.json is the durable copy; a long run must not keep every graph in memory.
    for (auto& a : scene.attempts)
        a.historyEntry = QJsonObject();
    const int frames = kept ? kept->frameCount : 0;
    if (kept && frames < scene.frameFloor &&
        !scene.warnings.contains(L::belowFloorWarning(frames, scene.frameFloor)))
        scene.warnings << L::belowFloorWarning(frames, scene.frameFloor);
    if (frames == 0 && (!kept || kept->errors.isEmpty()) && scene.errors.isEmpty())
        scene.errors << QStringLiteral("No frames were collected");

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
    writeArtifacts();
    // The scene is no longer the current one for listeners of sceneFinished (they may requeue it).
    if (index == m_sceneIndex)
        m_sceneIndex = -1;
    Q_EMIT sceneFinished(scene);
}

void RunController::afterScene()
{
    m_sceneIndex = -1;
    if (m_cancelling)
        windDown();
    else
        nextScene();
}

void RunController::windDown()
{
    // Every remaining scene is recorded as cancelled, each with its own lines.
    const QList<int> rest = m_pending;
    m_pending.clear();
    for (int index : rest)
        finalizeScene(index, false);
    finishRun(RunExit::Interrupted, QString());
}

void RunController::setQueuePaused(bool paused)
{
    if (m_queuePaused == paused)
        return;
    m_queuePaused = paused;
    Q_EMIT queuePausedChanged(paused);
    if (paused) {
        Q_EMIT message(m_attempt ? QStringLiteral("Queue paused: the running scene continues; no new scene or "
                                                  "attempt is submitted until the queue is resumed")
                                 : QStringLiteral("Queue paused: no new scene or attempt is submitted until "
                                                  "the queue is resumed"));
        return;
    }
    Q_EMIT message(QStringLiteral("Queue resumed"));
    if (m_held && !m_finished) {
        m_held = false;
        startAttempt();
    }
}

bool RunController::canCancelScene(const QString& sceneId) const
{
    if (m_finished || m_cancelling || m_run.runDir.isEmpty())
        return false;
    const int index = indexOf(sceneId);
    return index >= 0 && (index == m_sceneIndex || m_pending.contains(index));
}

bool RunController::canRequeueScene(const QString& sceneId) const
{
    if (m_finished || m_cancelling || m_run.runDir.isEmpty())
        return false;
    const int index = indexOf(sceneId);
    if (index < 0 || index == m_sceneIndex || m_pending.contains(index))
        return false;
    const QString& status = m_run.scenes[index].status;
    return status == QLatin1String("failed") || status == QLatin1String("cancelled");
}

bool RunController::cancelScene(const QString& sceneId)
{
    if (!canCancelScene(sceneId))
        return false;
    const int index = indexOf(sceneId);
    if (index == m_sceneIndex && m_attempt) {
        Q_EMIT message(QStringLiteral("Cancelling %1: interrupting its prompt ...").arg(sceneId));
        m_cancelCurrent = true;
        m_attempt->cancel(); // onAttemptFinished() records it and goes on with the next scene
        return true;
    }
    if (index == m_sceneIndex) {
        // Between two attempts (requeue pause, reconnect wait, paused queue): nothing runs on the
        // server, so the scene is recorded at once and the scheduled start is abandoned.
        ++m_startToken;
        m_held = false;
        finalizeScene(index, true);
        Q_EMIT sceneCancelled(sceneId);
        afterScene();
        return true;
    }
    m_pending.removeAll(index);
    finalizeScene(index, true);
    Q_EMIT sceneCancelled(sceneId);
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
    store::Database db;
    Error e = db.open(m_opt.historyDatabase);
    if (e.isNull()) {
        store::RunStore runs(db);
        e = runs.recordRun(telemetry::ArtifactWriter::toJson(m_run), m_run.runDir);
    }
    if (!e.isNull())
        Q_EMIT warning(QStringLiteral("The run was not recorded in the history database (%1); `gemdirect import %2` adds it later")
                           .arg(e.message, m_run.runDir));
}

void RunController::writeArtifacts()
{
    if (m_run.runDir.isEmpty())
        return;
    // The feedback panel rates scenes while the run goes on (FeedbackService rewrites the artifact
    // with the rating in Feedback[]); a file changed since our last write is read back so those
    // ratings survive this rewrite and reach the history database at the end of the run.
    const QFileInfo artifactFile(QDir(m_run.runDir).filePath(telemetry::ArtifactWriter::fileName()));
    if (artifactFile.exists() && artifactFile.lastModified() != m_artifactWrittenAt) {
        QJsonObject onDisk;
        if (store::RunStore::readArtifact(m_run.runDir, onDisk).isNull()) {
            const QJsonArray feedback = onDisk.value(QStringLiteral("Feedback")).toArray();
            if (feedback.size() > m_run.feedback.size())
                m_run.feedback = feedback;
        }
    }
    const Error e = telemetry::ArtifactWriter::write(m_run);
    m_artifactWrittenAt = QFileInfo(artifactFile.absoluteFilePath()).lastModified();
    if (!e.isNull()) {
        gd::log::get("pipeline")->error("{}", e.message.toStdString());
        Q_EMIT warning(QStringLiteral("Could not write artifact-metadata.json: %1").arg(e.message));
    }
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
    if (m_attempt) {
        m_attempt->cancel();
    } else if (m_held) {
        m_held = false;
        startAttempt(); // sees m_cancelling and winds down
    }
    // Otherwise nextScene()/startAttempt() see m_cancelling and wind down.
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
        log(telemetry::RunSummaryLog::sceneSummary(stats.scenesSucceeded, stats.scenesTotal,
                                                   stats.totalFrames, stats.requeues));
        int captured = 0;
        for (const auto& s : m_run.scenes)
            if (s.kept() && s.kept()->frameCount > 0)
                ++captured;
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
    m_client->closeSocket();
    Q_EMIT finished(static_cast<int>(code), text);
}

} // namespace gd::pipeline
