#include "pipeline/SceneAttempt.h"

#include "comfy/WorkflowRole.h"
#include "common/Log.h"
#include "common/SafePath.h"
#include "gpu/GpuMonitor.h"
#include "gpu/SystemStatsParser.h"
#include "pipeline/FrameCollector.h"
#include "pipeline/FrameDownloader.h"
#include "pipeline/FrameVerifier.h"
#include "pipeline/RunJournal.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QUuid>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <cmath>

namespace gd::pipeline {

namespace {
qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}
int toMs(double seconds)
{
    return static_cast<int>(std::lround(std::max(0.0, seconds) * 1000.0));
}
constexpr qint64 kMaxFrameBytes = 512LL * 1024 * 1024;
constexpr qint64 kMaxMarkerBytes = 1024 * 1024;
} // namespace

QString SceneAttempt::filenamePrefix(const QString& runId, const QString& sceneId, int attempt)
{
    return QStringLiteral("gemdirect/%1/%2_a%3").arg(runId, sceneId).arg(attempt);
}

SceneAttempt::SceneAttempt(comfy::ComfyClient* client, gpu::GpuMonitor* monitor, AttemptSpec spec,
                           QObject* parent)
    : QObject(parent), m_client(client), m_monitor(monitor), m_spec(std::move(spec))
{
    m_pollTimer.setSingleShot(false);
    m_maxWaitTimer.setSingleShot(true);
    m_markerTimer.setSingleShot(true);
    connect(&m_pollTimer, &QTimer::timeout, this, &SceneAttempt::pollTick);
    connect(&m_maxWaitTimer, &QTimer::timeout, this, [this] {
        giveUpWaiting(QStringLiteral("No completion within the history max wait of %1 s")
                          .arg(m_spec.policy.maxWaitSeconds),
                      QStringLiteral("maxWait"));
    });
}

SceneAttempt::~SceneAttempt()
{
    if (m_monitor && m_peakWindow >= 0)
        m_monitor->endPeakWindow(m_peakWindow);
}

void SceneAttempt::setState(State s, const QString& text)
{
    m_state = s;
    Q_EMIT stateChanged(s, text);
}

double SceneAttempt::secondsSince(qint64 ms) const
{
    return ms <= 0 ? 0.0 : (nowMs() - ms) / 1000.0;
}

void SceneAttempt::addNote(const QString& note)
{
    if (!m_rec.telemetry.fallbackNotes.contains(note))
        m_rec.telemetry.fallbackNotes << note;
}

bool SceneAttempt::prepareRecord(qint64 seed, const QString& framePrefix)
{
    const QueuePolicy& p = m_spec.policy;
    m_rec.attempt = m_spec.attempt;
    m_rec.timestamp = QDateTime::currentDateTimeUtc();
    m_rec.status = QStringLiteral("running");
    m_rec.framePrefix = framePrefix;
    m_rec.framesDir = m_spec.sceneId + QStringLiteral("/attempt-") + QString::number(m_spec.attempt);
    m_rec.backend = m_client->url().toString();
    m_rec.seed = seed;
    m_subfolder = m_rec.framePrefix.section(QLatin1Char('/'), 0, -2);
    m_basename = m_rec.framePrefix.section(QLatin1Char('/'), -1);
    m_attemptDirAbs = QDir(m_spec.runDir).filePath(m_rec.framesDir);

    auto& t = m_rec.telemetry;
    t.maxWaitSeconds = p.maxWaitSeconds;
    t.pollIntervalSeconds = p.pollIntervalSeconds;
    t.historyAttemptLimit = p.historyMaxAttempts;
    t.postExecutionTimeoutSeconds = p.postExecutionTimeoutSeconds;
    t.sceneRetryBudget = p.sceneRetryBudget;

    if (!QDir().mkpath(m_attemptDirAbs)) {
        m_rec.errors << QStringLiteral("Cannot create %1").arg(m_attemptDirAbs);
        t.queueStart = t.queueEnd = QDateTime::currentDateTimeUtc();
        finishAttempt();
        return false;
    }
    if (m_monitor)
        m_peakWindow = m_monitor->beginPeakWindow();
    return true;
}

void SceneAttempt::start()
{
    if (!prepareRecord(m_spec.seed ? *m_spec.seed : comfy::WorkflowBuilder::randomSeed(),
                       filenamePrefix(m_spec.runId, m_spec.sceneId, m_spec.attempt)))
        return;
    setState(State::Preparing, QStringLiteral("reading GPU state"));
    readGpu([this](const GpuReading& r) {
        m_before = r;
        submit();
    });
}

void SceneAttempt::attach(const ResumeAttach& prompt)
{
    if (!prepareRecord(prompt.seed, prompt.framePrefix.isEmpty()
                                        ? filenamePrefix(m_spec.runId, m_spec.sceneId, m_spec.attempt)
                                        : prompt.framePrefix))
        return;
    if (prompt.submittedAt.isValid())
        m_rec.timestamp = prompt.submittedAt;
    m_promptId = prompt.promptId;
    m_rec.promptId = prompt.promptId;
    // QueueStart stays the journaled POST time: the duration covers the time the app was down.
    m_rec.telemetry.queueStart = prompt.submittedAt.isValid() ? prompt.submittedAt : QDateTime::currentDateTimeUtc();
    addNote(QStringLiteral("Re-attached to prompt %1 after gemDirect restarted; GPU state before was read at re-attach")
                .arg(m_promptId));
    setState(State::Preparing, QStringLiteral("re-attaching"));
    readGpu([this](const GpuReading& r) {
        m_before = r;
        if (m_cancelled) {
            finishAttempt();
            return;
        }
        connect(m_client, &comfy::ComfyClient::event, this, &SceneAttempt::onEvent);
        connect(m_client, &comfy::ComfyClient::socketConnected, this, &SceneAttempt::onSocketConnected);
        m_submitMs = nowMs();
        m_lastEventMs = m_submitMs;
        setState(State::Queued, QStringLiteral("re-attached"));
        startWatching();
        // Events sent while nobody listened are gone: the server says where the prompt stands.
        reconcile(QStringLiteral("re-attached after a restart of gemDirect"));
    });
}

void SceneAttempt::startWatching()
{
    m_submitted = true;
    m_maxWaitTimer.start(toMs(m_spec.policy.maxWaitSeconds));
    // The poll timer runs always; each tick decides whether polling is needed (socket down or
    // silent). Sub-second ticks are allowed when push events are live.
    m_pollTimer.start(std::max(100, toMs(m_spec.policy.pollIntervalSeconds)));
}

void SceneAttempt::journal(const QString& type, QJsonObject fields, bool sync)
{
    if (!m_spec.journal)
        return;
    fields.insert(QStringLiteral("Attempt"), m_spec.attempt);
    fields.insert(QStringLiteral("PromptId"), m_promptId);
    const Error e = m_spec.journal->append(type, m_spec.sceneId, fields, sync);
    if (!e.isNull())
        gd::log::get("pipeline")->error("{}", e.message.toStdString());
}

void SceneAttempt::readGpu(std::function<void(const GpuReading&)> then)
{
    auto reading = std::make_shared<GpuReading>();
    auto pending = std::make_shared<int>(2);
    auto done = [this, reading, pending, then] {
        if (--*pending == 0 && !m_finished)
            then(*reading);
    };
    if (m_monitor) {
        auto* watcher = new QFutureWatcher<gpu::GpuSnapshot>(this);
        connect(watcher, &QFutureWatcher<gpu::GpuSnapshot>::finished, this, [watcher, reading, done] {
            reading->local = watcher->result();
            watcher->deleteLater();
            done();
        });
        watcher->setFuture(m_monitor->sampleNow());
    } else {
        reading->local.notes << QStringLiteral("no local GPU monitor");
        done();
    }
    m_client->systemStats(this, [reading, done](const std::pair<QJsonObject, Error>& r) {
        reading->systemStats = r.first;
        reading->systemStatsError = r.second;
        done();
    });
}

void SceneAttempt::submit()
{
    if (m_cancelled) {
        m_rec.telemetry.queueStart = m_rec.telemetry.queueEnd = QDateTime::currentDateTimeUtc();
        finishAttempt();
        return;
    }
    const QString missing = planUploads();
    if (!missing.isEmpty()) {
        // Same class as a 400: the graph cannot run without it, and a retry would not help. Nothing
        // was uploaded or submitted, so no GPU time is spent.
        m_validationFailure = true;
        m_rec.errors << missing;
        m_rec.telemetry.queueStart = QDateTime::currentDateTimeUtc();
        finishAttempt();
        return;
    }
    m_uploadIndex = 0;
    uploadNext();
}

QString SceneAttempt::planUploads()
{
    using comfy::Role;
    const comfy::WorkflowProfile& prof = m_spec.profile;
    const QMap<QString, QString>& images = m_spec.images;
    const QString purpose = comfy::purposeName(prof.purpose);
    QVector<QPair<QString, QString>> wanted; // role → local path
    // keyframe_image and start_image stand in for each other (WorkflowBuilder does the same with names).
    QString keyframe = images.value(QStringLiteral("keyframe_image"));
    if (keyframe.isEmpty())
        keyframe = m_spec.keyframePath;
    if (keyframe.isEmpty())
        keyframe = images.value(QStringLiteral("start_image"));
    const QString start = images.value(QStringLiteral("start_image"), keyframe);
    if (prof.hasRole(Role::KeyframeImage)) {
        if (keyframe.isEmpty())
            return QStringLiteral("%1 profile '%2' maps keyframe_image, but scene %3 has no image for it (\"keyframe\", "
                                  "images.keyframe_image or images.start_image): Workflow '%2' needs a keyframe image")
                .arg(purpose, prof.name, m_spec.sceneId);
        wanted.append({QStringLiteral("keyframe_image"), keyframe});
    }
    if (prof.hasRole(Role::StartImage)) {
        if (start.isEmpty())
            return QStringLiteral("%1 profile '%2' maps start_image, but scene %3 has no image for it (\"keyframe\", "
                                  "images.start_image or images.keyframe_image): the clip has no first frame")
                .arg(purpose, prof.name, m_spec.sceneId);
        wanted.append({QStringLiteral("start_image"), start});
    }
    // end_image is optional: WorkflowBuilder gives it the start image (a single-image shot on a bookend
    // profile drifts and returns).
    if (prof.hasRole(Role::EndImage) && images.contains(QStringLiteral("end_image")))
        wanted.append({QStringLiteral("end_image"), images.value(QStringLiteral("end_image"))});
    // A mapped reference slot left empty would send the graph's placeholder file, which the server
    // rejects at validation (or, worse, renders with): refuse before anything is uploaded or queued.
    if (prof.hasRole(Role::StyleReferenceImage)) {
        if (!images.contains(QStringLiteral("style_reference_image")))
            return QStringLiteral("%1 profile '%2' maps style_reference_image, but scene %3 has no image for it "
                                  "(images.style_reference_image): the story's style has no reference image")
                .arg(purpose, prof.name, m_spec.sceneId);
        wanted.append({QStringLiteral("style_reference_image"), images.value(QStringLiteral("style_reference_image"))});
    }
    if (prof.hasRole(Role::CharacterReferenceImage)) {
        const QString first = comfy::roleName(Role::CharacterReferenceImage, 0);
        if (!images.contains(first))
            return QStringLiteral("%1 profile '%2' maps %3, but scene %4 has no image for it (images.%3): it cannot "
                                  "anchor characters, and a shot without characters needs a profile without "
                                  "character references")
                .arg(purpose, prof.name, first, m_spec.sceneId);
        // Slots after the given ones repeat the last reference (WorkflowBuilder).
        for (int n = 0; n < comfy::kMaxCharacterReferences; ++n) {
            const QString name = comfy::roleName(Role::CharacterReferenceImage, n);
            if (images.contains(name))
                wanted.append({name, images.value(name)});
        }
    }
    m_uploads.clear();
    m_uploadedNames.clear();
    for (const auto& [role, path] : wanted) {
        if (!QFileInfo(path).isFile())
            return QStringLiteral("%1 profile '%2': scene %3's %4 '%5' is not a readable file")
                .arg(purpose, prof.name, m_spec.sceneId, role, path);
        const QString abs = QFileInfo(path).absoluteFilePath();
        auto it = std::find_if(m_uploads.begin(), m_uploads.end(),
                               [&abs](const PendingUpload& u) { return u.path == abs; });
        if (it == m_uploads.end())
            m_uploads.append({abs, {role}});
        else
            it->roles << role;
    }
    return {};
}

// Uploads the planned images one after the other, then posts. Each attempt uploads afresh: a retry may
// run on another server, which has never seen the files.
void SceneAttempt::uploadNext()
{
    if (m_uploadIndex >= m_uploads.size()) {
        if (!m_uploadedNames.isEmpty()) {
            QJsonObject names;
            for (auto it = m_uploadedNames.constBegin(); it != m_uploadedNames.constEnd(); ++it)
                names.insert(it.key(), it.value());
            m_rec.telemetry.extra.insert(QStringLiteral("UploadedImages"), names);
        }
        post();
        return;
    }
    const PendingUpload& u = m_uploads.at(m_uploadIndex);
    setState(State::Submitting, QStringLiteral("uploading %1").arg(u.roles.join(QStringLiteral(", "))));
    m_client->uploadImage(u.path, QStringLiteral("gemdirect/") + m_spec.runId, this,
                          [this](const comfy::UploadResult& r) {
                              if (m_finished)
                                  return;
                              const PendingUpload& up = m_uploads.at(m_uploadIndex);
                              if (!r.error.isNull()) {
                                  m_rec.errors << QStringLiteral("Image upload failed (%1): %2")
                                                      .arg(up.roles.join(QStringLiteral(", ")), r.error.message);
                                  m_rec.telemetry.queueStart = QDateTime::currentDateTimeUtc();
                                  finishAttempt();
                                  return;
                              }
                              // Always use the name the server returned: it renames on collisions.
                              const QString name =
                                  r.subfolder.isEmpty() ? r.name : r.subfolder + QLatin1Char('/') + r.name;
                              for (const QString& role : up.roles)
                                  m_uploadedNames.insert(role, name);
                              ++m_uploadIndex;
                              uploadNext();
                          });
}

void SceneAttempt::post()
{
    comfy::WorkflowBuilder::SceneParams params = m_spec.params;
    params.seed = m_rec.seed;
    params.filenamePrefix = m_rec.framePrefix;
    params.keyframeImage = m_uploadedNames.value(QStringLiteral("keyframe_image"));
    params.startImage = m_uploadedNames.value(QStringLiteral("start_image"));
    params.endImage = m_uploadedNames.value(QStringLiteral("end_image"));
    params.styleReferenceImage = m_uploadedNames.value(QStringLiteral("style_reference_image"));
    params.characterReferenceImages.clear();
    for (int n = 0; n < comfy::kMaxCharacterReferences; ++n) {
        const QString name = m_uploadedNames.value(comfy::roleName(comfy::Role::CharacterReferenceImage, n));
        if (!name.isEmpty())
            params.characterReferenceImages << name;
    }
    params.jobId = m_spec.sceneId + QStringLiteral("_a") + QString::number(m_spec.attempt);
    QStringList buildWarnings;
    const QJsonObject graph = comfy::WorkflowBuilder::build(m_spec.profile, params, &buildWarnings);
    m_rec.warnings << buildWarnings;

    m_promptId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_rec.promptId = m_promptId;
    // Subscribe before the POST: on an idle server execution_start can beat the HTTP answer.
    connect(m_client, &comfy::ComfyClient::event, this, &SceneAttempt::onEvent);
    connect(m_client, &comfy::ComfyClient::socketConnected, this, &SceneAttempt::onSocketConnected);
    setState(State::Submitting, QStringLiteral("submitting"));
    // Journaled (and synced) before the POST: a resumed run finds this prompt by its id instead
    // of submitting the scene a second time. The sync may run on the run's writer thread: the
    // POST waits for it there, the caller's thread does not.
    if (!m_spec.journal) {
        postJournaled(graph);
        return;
    }
    const QJsonObject entry{{QStringLiteral("ClientId"), m_client->clientId()},
                            {QStringLiteral("Backend"), m_rec.backend},
                            {QStringLiteral("Seed"), double(m_rec.seed)},
                            {QStringLiteral("FramePrefix"), m_rec.framePrefix},
                            {QStringLiteral("Attempt"), m_spec.attempt},
                            {QStringLiteral("PromptId"), m_promptId}};
    QPointer<SceneAttempt> self(this);
    m_spec.journal->appendDurable(RunJournal::submitted(), m_spec.sceneId, entry, [self, graph](const Error& e) {
        if (!e.isNull())
            gd::log::get("pipeline")->error("{}", e.message.toStdString());
        // A cancel() meanwhile waits for the submit answer (it needs the server's prompt id).
        if (self && !self->m_finished)
            self->postJournaled(graph);
    });
}

void SceneAttempt::postJournaled(const QJsonObject& graph)
{
    m_submitMs = nowMs();
    m_lastEventMs = m_submitMs;
    m_rec.telemetry.queueStart = QDateTime::currentDateTimeUtc();
    m_client->submit(graph, m_promptId, this, [this](const comfy::SubmitResult& r) {
        if (m_finished)
            return;
        if (!r.error.isNull()) {
            m_validationFailure = r.validationFailure;
            m_rec.errors << r.error.message;
            if (!r.validationFailure)
                m_rec.historyErrors << r.error.message;
            finishAttempt();
            return;
        }
        if (!r.nodeErrors.isEmpty()) {
            // 200 with node_errors: the server dropped some outputs. Fatal when it dropped one we need.
            const QStringList needed = m_spec.profile.outputNodeIds();
            bool fatal = false;
            for (auto it = r.nodeErrors.begin(); it != r.nodeErrors.end(); ++it) {
                if (needed.contains(it.key()))
                    fatal = true;
                for (const QJsonValue v :
                     it.value().toObject().value(QStringLiteral("dependent_outputs")).toArray())
                    if (needed.contains(v.toString()))
                        fatal = true;
            }
            const QString text = comfy::ComfyClient::describeNodeErrors(
                QJsonObject{{QStringLiteral("message"), QStringLiteral("Prompt accepted with node errors")}},
                r.nodeErrors);
            if (fatal) {
                m_validationFailure = true;
                m_rec.errors << text;
                m_client->deleteFromQueue({r.promptId}, this, [](const Error&) {});
                finishAttempt();
                return;
            }
            m_rec.warnings << text;
        }
        if (r.promptId != m_promptId) {
            m_rec.warnings << QStringLiteral(
                                  "The server ignored our prompt id and used %1 (ComfyUI older than 0.3.45)")
                                  .arg(r.promptId);
            m_promptId = r.promptId;
            m_rec.promptId = r.promptId;
        }
        if (m_state == State::Submitting)
            setState(State::Queued, QStringLiteral("queued"));
        startWatching();
        if (m_cancelled)
            cancel();
    });
}

void SceneAttempt::onEvent(const comfy::ComfyEvent& ev)
{
    if (m_finished || m_completed)
        return;
    const bool ours = !ev.promptId.isEmpty() && ev.promptId == m_promptId;
    // After a reconnect with the same clientId the server re-announces the running node without
    // a prompt id (§5.1); it is ours only when we are the one running.
    const bool reconnectExecuting = ev.type == comfy::ComfyEvent::Type::Executing && ev.promptId.isEmpty() &&
                                    !ev.nodeIsNull && m_state == State::Running;
    if (!ours && !reconnectExecuting)
        return;
    m_lastEventMs = nowMs();
    using T = comfy::ComfyEvent::Type;
    switch (ev.type) {
    case T::ExecutionStart:
        m_execStartServerMs = static_cast<qint64>(ev.data.value(QStringLiteral("timestamp")).toDouble());
        journal(RunJournal::running());
        setState(State::Running, QStringLiteral("running"));
        break;
    case T::ExecutionCached:
        m_nodesDone += ev.data.value(QStringLiteral("nodes")).toArray().size();
        if (m_state != State::Running)
            setState(State::Running, QStringLiteral("running"));
        emitProgress();
        break;
    case T::Executing:
        if (ev.nodeIsNull) {
            onCompletion(QStringLiteral("websocket"));
            return;
        }
        if (m_state != State::Running)
            setState(State::Running, QStringLiteral("running"));
        if (ev.node != m_currentNode && !ev.promptId.isEmpty()) {
            ++m_nodesDone;
            m_currentNode = ev.node;
            m_lastStepValue = 0;
        }
        emitProgress();
        break;
    case T::Progress:
        if (ev.value > m_lastStepValue) {
            m_stepsDone += ev.value - m_lastStepValue;
            m_lastStepValue = ev.value;
        }
        emitProgress();
        break;
    case T::Executed:
        if (!ev.data.value(QStringLiteral("output")).isNull())
            m_executedOutputs.insert(ev.node, ev.data.value(QStringLiteral("output")).toObject());
        break;
    case T::ExecutionSuccess: {
        m_successSeen = true;
        m_outcome = QStringLiteral("success");
        const double ts = ev.data.value(QStringLiteral("timestamp")).toDouble();
        m_rec.telemetry.executionSuccessDetected = true;
        m_rec.telemetry.executionSuccessAt =
            ts > 0 ? QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(ts), Qt::UTC) : ev.receivedAt;
        if (m_execStartServerMs > 0 && ts > 0)
            m_serverExecSeconds = (ts - m_execStartServerMs) / 1000.0;
        break;
    }
    case T::ExecutionError: {
        m_outcome = QStringLiteral("error");
        m_executionFailed = true;
        const QString text = comfy::ComfyClient::executionErrorText(ev.data);
        m_rec.errors << text;
        if (ev.data.value(QStringLiteral("exception_type")).toString().contains(QLatin1String("OutOfMemory")))
            m_rec.warnings << QStringLiteral("The GPU ran out of memory (ComfyUI unloaded its models)");
        // Never wait out max-wait on a dead job: the attempt ends now.
        onCompletion(QStringLiteral("websocket"));
        break;
    }
    case T::ExecutionInterrupted:
        m_outcome = QStringLiteral("interrupted");
        m_executionFailed = !m_cancelled;
        m_rec.errors << QStringLiteral("Execution interrupted in node %1 (%2)")
                            .arg(ev.node, ev.data.value(QStringLiteral("node_type")).toString());
        onCompletion(QStringLiteral("websocket"));
        break;
    default:
        break;
    }
}

void SceneAttempt::emitProgress()
{
    // krita's weighting: 20 % node count, 80 % sampler steps (spec/comfyui-api.md §9).
    const int nodes = std::max(1, int(m_spec.profile.graph.size()) + 1);
    const int steps = m_spec.profile.totalSamplerSteps();
    double f = 0.2 * std::min(1.0, double(m_nodesDone) / nodes);
    f += steps > 0 ? 0.8 * std::min(1.0, double(m_stepsDone) / steps)
                   : 0.8 * std::min(1.0, double(m_nodesDone) / nodes);
    QString detail = m_currentNode.isEmpty() ? QString() : QStringLiteral("node %1").arg(m_currentNode);
    if (m_lastStepValue > 0)
        detail += QStringLiteral(" step %1").arg(m_lastStepValue);
    Q_EMIT progress(std::min(f, 0.99), detail.trimmed());
}

void SceneAttempt::onSocketConnected()
{
    // Events sent while we were disconnected are gone for good: ask the server where we stand.
    if (m_submitted && !m_completed && !m_finished)
        reconcile(QStringLiteral("WebSocket reconnected"));
}

void SceneAttempt::pollTick()
{
    if (m_finished || m_completed || !m_submitted)
        return;
    const double silence = secondsSince(m_lastEventMs);
    const bool socketDown = !m_client->isSocketOpen();
    const bool silent = silence >= m_spec.policy.socketSilenceSeconds;
    if (!socketDown && !silent)
        return;
    if (silent && !socketDown && silence >= 2 * m_spec.policy.socketSilenceSeconds) {
        // Still silent after polling: the §5.1 stale-routing case. Re-register our socket.
        m_lastEventMs = nowMs() - toMs(m_spec.policy.socketSilenceSeconds);
        m_client->rehandshake(
            QStringLiteral("no events for %1 s while prompt %2 runs").arg(int(silence)).arg(m_promptId));
    }
    reconcile(socketDown ? QStringLiteral("WebSocket down") : QStringLiteral("WebSocket silent"));
}

void SceneAttempt::reconcile(const QString& why)
{
    if (m_historyInFlight || m_completed || m_finished)
        return;
    const int limit = m_spec.policy.historyMaxAttempts;
    if (limit > 0 && m_rec.telemetry.historyAttempts >= limit) {
        giveUpWaiting(QStringLiteral("History attempt limit of %1 reached (%2)").arg(limit).arg(why),
                      QStringLiteral("attemptLimit"));
        return;
    }
    m_historyInFlight = true;
    ++m_rec.telemetry.historyAttempts;
    m_client->history(m_promptId, this, [this, why](const comfy::HistoryResult& r) {
        m_historyInFlight = false;
        if (m_finished || m_completed)
            return;
        if (!r.error.isNull()) {
            m_rec.historyErrors << r.error.message;
            return;
        }
        if (r.found) {
            onHistoryEntry(r.entry, true);
            return;
        }
        // `{}` means queued, running or unknown: /queue tells which.
        m_client->queue(this, [this, why](const comfy::QueueResult& q) {
            if (m_finished || m_completed || !q.error.isNull())
                return;
            if (q.running.contains(m_promptId) || q.pending.contains(m_promptId))
                return;
            // Neither queued nor finished: a second look at history closes the race with a
            // prompt that finished between the two requests.
            ++m_rec.telemetry.historyAttempts;
            m_client->history(m_promptId, this, [this, why](const comfy::HistoryResult& h) {
                if (m_finished || m_completed)
                    return;
                if (h.found) {
                    onHistoryEntry(h.entry, true);
                    return;
                }
                if (h.error.isNull()) {
                    m_promptLost = true;
                    m_rec.errors
                        << QStringLiteral(
                               "Prompt %1 was lost by the server: neither queued nor in history (%2; "
                               "ComfyUI restarted?)")
                               .arg(m_promptId, why);
                    m_executionFailed = true;
                    giveUpWaiting(QString(), QStringLiteral("unknown"));
                }
            });
        });
    });
}

void SceneAttempt::onHistoryEntry(const QJsonObject& entry, bool viaPolling)
{
    m_historyEntry = entry;
    m_rec.historyRetrieved = true;
    m_rec.historyEntry = entry;
    m_rec.telemetry.historyExitReason = QStringLiteral("success");
    const QJsonObject status = entry.value(QStringLiteral("status")).toObject();
    for (const QJsonValue v : status.value(QStringLiteral("messages")).toArray()) {
        const QJsonArray m = v.toArray();
        const QString name = m.at(0).toString();
        const QJsonObject data = m.at(1).toObject();
        if (name == QLatin1String("execution_start") && m_execStartServerMs == 0)
            m_execStartServerMs = static_cast<qint64>(data.value(QStringLiteral("timestamp")).toDouble());
        if (name == QLatin1String("execution_success") && !m_rec.telemetry.executionSuccessDetected) {
            m_rec.telemetry.executionSuccessDetected = true;
            const double ts = data.value(QStringLiteral("timestamp")).toDouble();
            m_rec.telemetry.executionSuccessAt =
                ts > 0 ? QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(ts), Qt::UTC)
                       : QDateTime::currentDateTimeUtc();
            if (m_execStartServerMs > 0 && ts > 0)
                m_serverExecSeconds = (ts - m_execStartServerMs) / 1000.0;
        }
        if (name == QLatin1String("execution_error") && m_outcome != QLatin1String("error")) {
            m_outcome = QStringLiteral("error");
            m_executionFailed = true;
            m_rec.errors << comfy::ComfyClient::executionErrorText(data);
        }
        if (name == QLatin1String("execution_interrupted") && m_outcome != QLatin1String("interrupted")) {
            m_outcome = QStringLiteral("interrupted");
            m_executionFailed = !m_cancelled;
            m_rec.errors << QStringLiteral("Execution interrupted in node %1")
                                .arg(data.value(QStringLiteral("node_id")).toString());
        }
    }
    if (m_outcome.isEmpty())
        m_outcome = status.value(QStringLiteral("status_str")).toString() == QLatin1String("success")
                        ? QStringLiteral("success")
                        : QStringLiteral("unknown");
    if (viaPolling && !m_completed) {
        onCompletion(QStringLiteral("history"));
        return;
    }
    if (m_state == State::AwaitingHistory)
        afterHistory();
}

void SceneAttempt::onCompletion(const QString& signal)
{
    if (m_completed)
        return;
    m_completed = true;
    m_completedMs = nowMs();
    m_rec.telemetry.completionSignal = signal;
    journal(RunJournal::executed(), {{QStringLiteral("Outcome"), m_outcome}});
    m_maxWaitTimer.stop();
    m_pollTimer.stop();
    if (m_outcome == QLatin1String("error") || m_outcome == QLatin1String("interrupted")) {
        finishAttempt();
        return;
    }
    if (m_historyEntry.isEmpty()) {
        setState(State::AwaitingHistory, QStringLiteral("reading history"));
        // The post-execution window ends the wait even while a history request is still being
        // answered: a proxy that trickles the body (slow-loris) would otherwise hold the attempt for
        // the whole request timeout. A late answer is ignored (state moved on).
        QTimer::singleShot(toMs(m_spec.policy.postExecutionTimeoutSeconds), this, [this] {
            if (m_finished || m_state != State::AwaitingHistory || !m_historyEntry.isEmpty())
                return;
            m_rec.telemetry.historyPostExecutionTimeoutReached = true;
            m_rec.telemetry.historyExitReason = QStringLiteral("postExecution");
            afterHistory();
        });
        fetchHistoryAfterCompletion();
    } else {
        afterHistory();
    }
}

void SceneAttempt::fetchHistoryAfterCompletion()
{
    if (m_finished || !m_historyEntry.isEmpty() || m_state != State::AwaitingHistory)
        return;
    const int limit = m_spec.policy.historyMaxAttempts;
    if (limit > 0 && m_rec.telemetry.historyAttempts >= limit) {
        m_rec.telemetry.historyExitReason = QStringLiteral("attemptLimit");
        afterHistory();
        return;
    }
    if (secondsSince(m_completedMs) >= m_spec.policy.postExecutionTimeoutSeconds) {
        m_rec.telemetry.historyPostExecutionTimeoutReached = true;
        m_rec.telemetry.historyExitReason = QStringLiteral("postExecution");
        afterHistory();
        return;
    }
    ++m_rec.telemetry.historyAttempts;
    m_client->history(m_promptId, this, [this](const comfy::HistoryResult& r) {
        if (m_finished || m_state != State::AwaitingHistory)
            return;
        if (r.found) {
            onHistoryEntry(r.entry, false);
            return;
        }
        if (!r.error.isNull())
            m_rec.historyErrors << r.error.message;
        // `{}` right after success is the §5.4 race, not an error: retry. Push events are live,
        // so retry faster than the legacy poll interval.
        const int retryMs = std::min(toMs(m_spec.policy.pollIntervalSeconds), 250);
        QTimer::singleShot(retryMs, this, &SceneAttempt::fetchHistoryAfterCompletion);
    });
}

void SceneAttempt::afterHistory()
{
    if (m_finished || m_state == State::AwaitingOutputs || m_state == State::Collecting)
        return;
    if (!m_rec.historyRetrieved) {
        const QString w =
            m_rec.telemetry.historyPostExecutionTimeoutReached
                ? QStringLiteral("History entry not available %1 s after execution finished")
                      .arg(m_spec.policy.postExecutionTimeoutSeconds)
                : QStringLiteral("History entry not retrieved (%1)").arg(m_rec.telemetry.historyExitReason);
        m_rec.historyErrors << w;
    }
    if (m_outcome == QLatin1String("error") || m_outcome == QLatin1String("interrupted")) {
        finishAttempt();
        return;
    }
    setState(State::AwaitingOutputs, QStringLiteral("waiting for outputs"));
    awaitMarker();
}

QVector<comfy::OutputFile> SceneAttempt::reportedFiles() const
{
    QVector<comfy::OutputFile> files;
    const QJsonObject outputs = m_historyEntry.value(QStringLiteral("outputs")).toObject();
    if (!outputs.isEmpty()) {
        files = comfy::ComfyClient::outputFiles(outputs);
    } else {
        for (auto it = m_executedOutputs.cbegin(); it != m_executedOutputs.cend(); ++it)
            files += comfy::ComfyClient::outputFilesOfNode(it.key(), it.value());
    }
    return files;
}

QString SceneAttempt::localPathOf(const comfy::OutputFile& f) const
{
    return SafePath::join(m_spec.comfyOutputDir, f.subfolder, f.filename);
}

void SceneAttempt::awaitMarker()
{
    m_markerClock.start();
    if (!m_spec.markerExpected) {
        stabilityCheck();
        return;
    }
    // Marker location: as reported in the UI output (done_marker), else derived from our prefix.
    QString sub = m_subfolder;
    QString name = m_basename + QStringLiteral(".done");
    for (const auto& f : reportedFiles())
        if (f.key == QLatin1String("done_marker") && SafePath::isSafeFileName(f.filename) &&
            SafePath::isSafeSubfolder(f.subfolder)) {
            sub = f.subfolder;
            name = f.filename;
        }
    m_markerPath = sub.isEmpty() ? name : sub + QLatin1Char('/') + name;
    m_rec.telemetry.doneMarkerPath = m_markerPath;
    if (!m_spec.comfyOutputDir.isEmpty()) {
        // inotify wakes us the moment the marker is renamed into place; the timer in markerCheck()
        // stays as the fallback for filesystems that deliver no events (network shares).
        const QString dir = SafePath::join(m_spec.comfyOutputDir, sub, name).section(QLatin1Char('/'), 0, -2);
        if (!dir.isEmpty() && QFileInfo(dir).isDir() && m_spec.markerWatcher) {
            QFileSystemWatcher* shared = m_spec.markerWatcher;
            if (!shared->directories().contains(dir))
                shared->addPath(dir);
            // The connection ends with this attempt; the watcher and its watch stay for the next.
            connect(shared, &QFileSystemWatcher::directoryChanged, this, [this, dir](const QString& changed) {
                if (changed == dir && !m_markerDone)
                    markerCheck();
            });
        } else if (!dir.isEmpty() && QFileInfo(dir).isDir()) {
            auto* watcher = new QFileSystemWatcher({dir}, this);
            connect(watcher, &QFileSystemWatcher::directoryChanged, this, [this, watcher] {
                if (!m_markerDone)
                    markerCheck();
                else
                    watcher->deleteLater();
            });
        }
    }
    markerCheck();
}

void SceneAttempt::markerCheck()
{
    if (m_finished || m_markerDone)
        return;
    auto retry = [this] {
        if (m_markerClock.elapsed() >= toMs(m_spec.policy.doneMarkerTimeoutSeconds)) {
            markerGaveUp();
            return;
        }
        m_markerTimer.disconnect();
        connect(&m_markerTimer, &QTimer::timeout, this, &SceneAttempt::markerCheck);
        m_markerTimer.start(m_spec.comfyOutputDir.isEmpty() ? 500 : 250);
    };
    if (!m_spec.comfyOutputDir.isEmpty()) {
        const QString local =
            SafePath::join(m_spec.comfyOutputDir, m_markerPath.section(QLatin1Char('/'), 0, -2),
                           m_markerPath.section(QLatin1Char('/'), -1));
        QFile f(local);
        if (f.exists() && f.open(QIODevice::ReadOnly)) {
            const QJsonObject marker = QJsonDocument::fromJson(f.read(kMaxMarkerBytes)).object();
            markerFound(local, marker);
            return;
        }
        retry();
        return;
    }
    comfy::OutputFile mf{QString(), QStringLiteral("done_marker"), m_markerPath.section(QLatin1Char('/'), -1),
                         m_markerPath.section(QLatin1Char('/'), 0, -2), QStringLiteral("output")};
    m_client->viewBytes(mf, kMaxMarkerBytes, this, [this, retry](const std::pair<QByteArray, Error>& r) {
        if (m_finished || m_markerDone)
            return;
        if (r.second.isNull()) {
            markerFound(m_markerPath, QJsonDocument::fromJson(r.first).object());
            return;
        }
        retry();
    });
}

void SceneAttempt::markerFound(const QString& path, const QJsonObject& marker)
{
    m_markerDone = true;
    m_markerTimer.stop();
    auto& t = m_rec.telemetry;
    t.doneMarkerDetected = true;
    t.doneMarkerPath = path;
    t.doneMarkerWaitSeconds = m_markerClock.elapsed() / 1000.0;
    // Markers from `gemdirect sentinel` say so; the node's markers (and older ones) carry no writer.
    t.doneMarkerSource = marker.value(QStringLiteral("writer")).toString() == QLatin1String("sentinel")
                             ? QStringLiteral("sentinel")
                             : QStringLiteral("node");
    if (!marker.isEmpty() && marker.value(QStringLiteral("prompt_id")).toString() != m_promptId &&
        !marker.value(QStringLiteral("prompt_id")).toString().isEmpty())
        m_rec.warnings << QStringLiteral("Done marker names prompt %1, expected %2")
                              .arg(marker.value(QStringLiteral("prompt_id")).toString(), m_promptId);
    collect();
}

void SceneAttempt::markerGaveUp()
{
    m_markerDone = true;
    m_markerTimer.stop();
    auto& t = m_rec.telemetry;
    t.doneMarkerWaitSeconds = m_markerClock.elapsed() / 1000.0;
    addNote(QStringLiteral("Done marker not found after %1 seconds (waited %2 seconds)")
                .arg(m_spec.policy.doneMarkerTimeoutSeconds)
                .arg(QString::number(t.doneMarkerWaitSeconds, 'f', 1)));
    t.doneMarkerPath.clear();
    m_stabilityTry = 0;
    stabilityCheck();
}

QStringList SceneAttempt::localCandidates(QStringList* debugLines) const
{
    // Frames of this attempt: everything named by the outputs plus whatever carries our prefix in
    // the prefix folder (history may be missing). The unique prefix keeps stale files out.
    QStringList files;
    QStringList dirs;
    const QString prefixDir =
        SafePath::join(m_spec.comfyOutputDir, m_subfolder, m_basename).section(QLatin1Char('/'), 0, -2);
    dirs << prefixDir;
    for (const auto& f : reportedFiles()) {
        if (f.key == QLatin1String("done_marker"))
            continue;
        const QString p = localPathOf(f);
        if (p.isEmpty())
            continue;
        if (!files.contains(p) && QFileInfo::exists(p))
            files << p;
        const QString d = QFileInfo(p).absolutePath();
        if (!dirs.contains(d))
            dirs << d;
    }
    for (const QString& d : dirs) {
        int n = 0;
        QDateTime latest;
        const QFileInfoList list =
            QDir(d).entryInfoList({m_basename + QStringLiteral("_*")}, QDir::Files, QDir::Name);
        for (const QFileInfo& fi : list) {
            if (fi.fileName().endsWith(QLatin1String(".tmp")) ||
                fi.fileName().endsWith(QLatin1String(".done")))
                continue;
            ++n;
            if (!latest.isValid() || fi.lastModified() > latest)
                latest = fi.lastModified();
            if (!files.contains(fi.absoluteFilePath()))
                files << fi.absoluteFilePath();
        }
        if (debugLines)
            *debugLines << QStringLiteral("Candidate: %1 frames=%2 latest=%3")
                               .arg(d)
                               .arg(n)
                               .arg(latest.isValid() ? latest.toUTC().toString(Qt::ISODateWithMs)
                                                     : QStringLiteral("none"));
    }
    return files;
}

void SceneAttempt::stabilityCheck()
{
    if (m_finished)
        return;
    const QueuePolicy& p = m_spec.policy;
    if (m_spec.comfyOutputDir.isEmpty()) {
        // Remote server: files named by history were complete when the node reported them; the
        // window is a single grace period for nodes that report before flushing.
        if (m_stabilityTry++ == 0 && p.stabilityWindowSeconds > 0 && !m_spec.markerExpected) {
            QTimer::singleShot(toMs(p.stabilityWindowSeconds), this, &SceneAttempt::collect);
            return;
        }
        collect();
        return;
    }
    const QStringList files = localCandidates(nullptr);
    QDateTime newest;
    for (const QString& f : files) {
        const QDateTime m = QFileInfo(f).lastModified();
        if (!newest.isValid() || m > newest)
            newest = m;
    }
    const double ageSeconds = newest.isValid() ? newest.msecsTo(QDateTime::currentDateTime()) / 1000.0 : 0.0;
    const bool stable = !files.isEmpty() && ageSeconds >= p.stabilityWindowSeconds;
    if (stable) {
        collect();
        return;
    }
    if (m_stabilityTry < p.stabilityRetries) {
        ++m_stabilityTry;
        QTimer::singleShot(std::max(100, toMs(p.stabilityWindowSeconds)), this,
                           &SceneAttempt::stabilityCheck);
        return;
    }
    // Still unstable after every retry: copy anyway, and leave an auditable trail of why.
    QStringList candidates;
    const QStringList all = localCandidates(&candidates);
    QString newestName;
    for (const QString& f : all)
        if (QFileInfo(f).lastModified() == newest)
            newestName = f;
    const QString ts = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMddHHmmss"));
    const QString rel = m_spec.sceneId + QStringLiteral("/forced-copy-debug-") + ts + QStringLiteral(".txt");
    QStringList lines;
    lines << QStringLiteral("Timestamp: %1").arg(QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs))
          << QStringLiteral("Scene prefix: %1").arg(m_rec.framePrefix)
          << QStringLiteral("Output directory: %1")
                 .arg(SafePath::join(m_spec.comfyOutputDir, m_subfolder, m_basename)
                          .section(QLatin1Char('/'), 0, -2))
          << QStringLiteral("Frame count: %1").arg(all.size())
          << QStringLiteral("Newest file: %1").arg(newestName.isEmpty() ? QStringLiteral("none") : newestName)
          << QStringLiteral("Newest file age: %1 s").arg(QString::number(ageSeconds, 'f', 1))
          << QStringLiteral("Stability retries: %1").arg(p.stabilityRetries)
          << QStringLiteral("Stability window: %1 s").arg(p.stabilityWindowSeconds)
          << QStringLiteral("Done marker waited for: %1")
                 .arg(m_spec.markerExpected ? m_markerPath
                                            : QStringLiteral("none (profile has no marker node)"));
    lines << candidates;
    QFile dbg(QDir(m_spec.runDir).filePath(rel));
    if (dbg.open(QIODevice::WriteOnly | QIODevice::Text)) {
        dbg.write(lines.join(QLatin1Char('\n')).toUtf8() + '\n');
        dbg.close();
    }
    m_rec.telemetry.forcedCopyTriggered = true;
    m_rec.telemetry.forcedCopyDebugPath = rel;
    addNote(QStringLiteral("Forced copy after stability retries; see %1").arg(rel));
    collect();
}

void SceneAttempt::collect()
{
    if (m_finished || m_state == State::Collecting)
        return;
    journal(RunJournal::collecting());
    setState(State::Collecting, QStringLiteral("collecting"));
    // Confine every server-supplied name before touching the disk.
    QVector<comfy::OutputFile> files;
    for (const auto& f : reportedFiles()) {
        if (f.key == QLatin1String("done_marker"))
            continue;
        if (!SafePath::isSafeFileName(f.filename) || !SafePath::isSafeSubfolder(f.subfolder)) {
            m_rec.errors
                << QStringLiteral(
                       "Refused output path from the server: filename '%1' subfolder '%2' escapes the "
                       "output directory")
                       .arg(f.filename, f.subfolder);
            continue;
        }
        if (f.type == QLatin1String("input"))
            continue;
        files.push_back(f);
    }
    FrameCollector::Request req;
    req.attemptDir = m_attemptDirAbs;
    if (!m_spec.comfyOutputDir.isEmpty()) {
        req.localFiles = localCandidates(nullptr);
        auto* watcher = new QFutureWatcher<FrameCollector::Result>(this);
        connect(watcher, &QFutureWatcher<FrameCollector::Result>::finished, this, [this, watcher] {
            const auto r = watcher->result();
            watcher->deleteLater();
            onCollected(r);
        });
        watcher->setFuture(QtConcurrent::run([req] { return FrameCollector::collectLocal(req); }));
        return;
    }
    auto* downloader = new FrameDownloader(m_client, files, m_attemptDirAbs, kMaxFrameBytes, this);
    connect(downloader, &FrameDownloader::finished, this, [this, downloader](const QStringList& errors) {
        downloader->deleteLater();
        FrameCollector::Request vreq;
        vreq.attemptDir = m_attemptDirAbs;
        vreq.localFiles = downloader->downloadedFiles();
        vreq.alreadyInPlace = true;
        auto* watcher = new QFutureWatcher<FrameCollector::Result>(this);
        connect(watcher, &QFutureWatcher<FrameCollector::Result>::finished, this, [this, watcher, errors] {
            auto r = watcher->result();
            watcher->deleteLater();
            r.errors += errors;
            onCollected(r);
        });
        watcher->setFuture(QtConcurrent::run([vreq] { return FrameCollector::collectLocal(vreq); }));
    });
    downloader->start();
}

void SceneAttempt::onCollected(const FrameCollector::Result& r)
{
    m_rec.frames = r.frames;
    m_rec.warnings << r.warnings;
    m_rec.errors << r.errors;
    m_collectionFailed = !r.errors.isEmpty();
    if (!r.videoFile.isEmpty()) {
        m_rec.videoFile = m_rec.framesDir + QLatin1Char('/') + r.videoFile;
        m_rec.frameCount = r.videoFrameCount;
        if (!r.videoError.isEmpty())
            m_rec.errors << QStringLiteral("Video %1: %2").arg(r.videoFile, r.videoError);
    } else {
        m_rec.frameCount = int(r.frames.size());
    }
    finishAttempt();
}

void SceneAttempt::giveUpWaiting(const QString& reason, const QString& exitReason)
{
    if (m_finished || m_completed)
        return;
    m_completed = true;
    m_maxWaitTimer.stop();
    m_pollTimer.stop();
    m_rec.telemetry.historyExitReason = exitReason;
    if (!reason.isEmpty())
        m_rec.errors << reason;
    // Don't leave our job occupying the GPU or the queue after we stopped waiting for it.
    const QString id = m_promptId;
    m_client->interrupt(id, this, [](const Error&) {});
    m_client->deleteFromQueue({id}, this, [](const Error&) {});
    finishAttempt();
}

void SceneAttempt::cancel()
{
    if (m_finished)
        return;
    m_cancelled = true;
    if (!m_submitted) {
        if (m_state != State::Submitting) {
            m_rec.errors << QStringLiteral("Cancelled before submission");
            if (!m_rec.telemetry.queueStart.isValid())
                m_rec.telemetry.queueStart = QDateTime::currentDateTimeUtc();
            finishAttempt();
        }
        return; // the submit callback calls cancel() again once the id is known
    }
    if (m_completed) {
        return; // collecting: let it finish, the run controller marks the scene cancelled
    }
    m_completed = true;
    m_maxWaitTimer.stop();
    m_pollTimer.stop();
    m_rec.errors << QStringLiteral("Cancelled by the operator");
    auto pending = std::make_shared<int>(2);
    auto done = [this, pending](const Error&) {
        if (--*pending == 0)
            finishAttempt();
    };
    m_client->interrupt(m_promptId, this, done);
    m_client->deleteFromQueue({m_promptId}, this, done);
}

void SceneAttempt::finishAttempt()
{
    if (m_finished || m_state == State::Finishing)
        return;
    m_maxWaitTimer.stop();
    m_pollTimer.stop();
    m_markerTimer.stop();
    setState(State::Finishing, QStringLiteral("reading GPU state"));
    m_rec.telemetry.queueEnd = QDateTime::currentDateTimeUtc();
    if (!m_rec.telemetry.queueStart.isValid())
        m_rec.telemetry.queueStart = m_rec.telemetry.queueEnd;
    auto complete = [this](const GpuReading& after) {
        auto& t = m_rec.telemetry;
        std::optional<double> peak;
        if (m_monitor && m_peakWindow >= 0) {
            peak = m_monitor->endPeakWindow(m_peakWindow);
            m_peakWindow = -1;
        }
        auto fill = [&](const GpuReading& r, bool before) {
            const QString when = before ? QStringLiteral("before") : QStringLiteral("after");
            QString err;
            std::optional<gpu::GpuSnapshot> fromStats;
            if (r.systemStatsError.isNull()) {
                (before ? t.systemBefore : t.systemAfter) =
                    gpu::SystemStatsParser::systemBlock(r.systemStats);
                fromStats = gpu::SystemStatsParser::parse(r.systemStats, &err);
            } else {
                addNote(
                    r.local.source == QLatin1String("nvidia-smi")
                        ? QStringLiteral("/system_stats unavailable %1 execution; used nvidia-smi fallback")
                              .arg(when)
                        : QStringLiteral("/system_stats unavailable %1 execution").arg(when));
            }
            // Source order: NVML, nvidia-smi, then /system_stats.
            gpu::GpuSnapshot s = r.local;
            if (!s.hasVram() && fromStats && fromStats->hasVram())
                s = *fromStats;
            return s;
        };
        const gpu::GpuSnapshot b = fill(m_before, true);
        const gpu::GpuSnapshot a = fill(after, false);
        const gpu::GpuSnapshot& named = a.hasVram() ? a : b;
        t.gpu.name = named.name;
        t.gpu.type = named.type;
        t.gpu.index = named.index;
        t.gpu.vramTotalBytes = named.vramTotalBytes;
        t.gpu.source = b.hasVram() || a.hasVram() ? named.source : QStringLiteral("missing");
        if (b.hasVram() && (!a.hasVram() || a.source == b.source))
            t.gpu.vramFreeBeforeBytes = b.vramFreeBytes;
        if (a.hasVram() && (!b.hasVram() || a.source == b.source))
            t.gpu.vramFreeAfterBytes = a.vramFreeBytes;
        std::optional<double> used;
        for (const auto* s : {&b, &a})
            if (s->vramUsedBytes)
                used = std::max(used.value_or(0.0), *s->vramUsedBytes / (1024.0 * 1024.0));
        if (peak)
            used = std::max(used.value_or(0.0), *peak);
        t.gpu.vramPeakUsedMB = used;
        t.durationSeconds = t.queueStart.msecsTo(t.queueEnd) / 1000.0;
        if (!m_completed && m_submitted && t.historyExitReason == QLatin1String("unknown") && m_cancelled)
            t.historyExitReason = QStringLiteral("unknown");

        m_rec.durationSeconds = t.durationSeconds;
        m_rec.serverExecutionSeconds = m_serverExecSeconds;
        m_rec.historyAttempts = t.historyAttempts;
        m_rec.success = m_rec.frameCount > 0;
        m_rec.meetsFrameFloor = m_rec.frameCount >= m_spec.frameFloor;
        // Frames > 0 is the contract's Success; an attempt whose collection broke off (e.g. a full
        // disk) still failed, whatever it managed to copy.
        if (m_cancelled)
            m_rec.status = QStringLiteral("cancelled");
        else if (m_rec.success && !m_collectionFailed)
            m_rec.status = QStringLiteral("succeeded");
        else
            m_rec.status = QStringLiteral("failed");
        m_finished = true;
        disconnect(m_client, nullptr, this, nullptr);
        setState(State::Done, m_rec.status);
        Q_EMIT finished();
    };
    // A cancelled or unsubmitted attempt still records its GPU "after" reading: auditors compare it.
    readGpu([complete](const GpuReading& r) { complete(r); });
}

} // namespace gd::pipeline
