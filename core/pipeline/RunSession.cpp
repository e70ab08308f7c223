#include "pipeline/RunSession.h"

#include "comfy/ComfyClient.h"
#include "gpu/GpuMonitor.h"
#include "pipeline/ResumePlanner.h"
#include "pipeline/RunController.h"
#include "pipeline/Settings.h"
#include "story/StoryLoader.h"

#include <QFileInfo>
#include <QFileSystemWatcher>

namespace gd::pipeline {

RunSession::RunSession(Settings& settings, gpu::GpuMonitor* monitor, QObject* parent)
    : QObject(parent), m_settings(settings), m_monitor(monitor)
{
}

RunSession::~RunSession()
{
    // Only reached on quit, after the app asked and cancelled; the views hold QPointers.
    delete m_controller;
}

bool RunSession::start(const story::Story& story, const QString& storyPath, const QueuePolicy& policy, QString* error)
{
    if (m_running) {
        *error = QStringLiteral("a run is already in progress: cancel it or wait for it to finish");
        return false;
    }
    if (story.scenes.isEmpty()) {
        *error = QStringLiteral("the story has no scenes: generate or open a story first");
        return false;
    }
    using Key = Settings::Key;
    // Relative keyframe paths resolve against the story file; a generated story has none.
    const QString storyDir =
        storyPath.isEmpty() ? m_settings.string(Key::RunsRoot) : QFileInfo(storyPath).absolutePath();
    // `gemdirect run`'s pre-check, in its words: a scene image that is not there would only fail its
    // scene after the others rendered, so the run does not start and every missing file is named.
    if (const QStringList missing = story::StoryLoader::missingImages(story, storyDir); !missing.isEmpty()) {
        QStringList lines;
        for (const QString& problem : missing)
            lines << (storyPath.isEmpty() ? QStringLiteral("story: ") : QStringLiteral("story %1: ").arg(storyPath)) +
                         problem;
        lines << QStringLiteral("Nothing was queued.");
        *error = lines.join(QLatin1Char('\n'));
        return false;
    }
    const QString comfyText = m_settings.string(Key::ComfyUrl);
    const QUrl comfyUrl = comfy::ComfyClient::normaliseUrl(comfyText);
    if (!comfyUrl.isValid() || comfyUrl.host().isEmpty()) {
        *error = QStringLiteral("the ComfyUI URL \"%1\" is not usable: fix it in Settings").arg(comfyText);
        return false;
    }

    RunOptions opt;
    opt.story = story;
    opt.storyDir = storyDir;
    opt.storyGenerator = storyPath.isEmpty() || m_generation ? QStringLiteral("local-llm") : QStringLiteral("file");
    if (m_generation) {
        std::tie(opt.storyLlm, opt.storyPrompts, opt.llmHealth) = *m_generation;
        m_generation.reset();
    }
    opt.runsRoot = m_settings.string(Key::RunsRoot);
    opt.comfyUrl = comfyUrl;
    opt.comfyOutputDir = m_settings.string(Key::ComfyOutputDir);
    opt.bearerToken = m_settings.string(Key::ComfyToken);
    if (!Settings::listEntries(m_settings.string(Key::ComfyServers)).isEmpty())
        opt.backends = m_settings.backends();
    opt.workflow = m_settings.string(Key::WorkflowProfile);
    opt.profileSearchDirs = Settings::profileSearchDirs();
    opt.policy = policy;
    opt.historyDatabase = m_settings.string(Key::HistoryDb);
    launch(opt);
    return true;
}

bool RunSession::resume(const QString& runDir, QString* error)
{
    if (m_running) {
        *error = QStringLiteral("a run is already in progress: cancel it or wait for it to finish");
        return false;
    }
    const auto plan = ResumePlanner::plan(runDir, error);
    if (!plan)
        return false;
    RunOptions opt;
    if (!ResumePlanner::applyTo(*plan, &opt, error))
        return false;
    using Key = Settings::Key;
    // The journal never keeps secrets: the token is today's setting for that server.
    const QUrl configured = comfy::ComfyClient::normaliseUrl(m_settings.string(Key::ComfyUrl));
    if (configured == opt.comfyUrl)
        opt.bearerToken = m_settings.string(Key::ComfyToken);
    for (BackendSpec& b : opt.backends)
        for (const BackendSpec& s : m_settings.backends())
            if (s.url == b.url)
                b.bearerToken = s.bearerToken;
    opt.profileSearchDirs = Settings::profileSearchDirs();
    opt.historyDatabase = m_settings.string(Key::HistoryDb);
    launch(opt);
    return true;
}

void RunSession::launch(const RunOptions& opt)
{
    if (m_controller) {
        m_controller->disconnect(this);
        m_controller->deleteLater();
    }
    RunOptions background = opt;
    background.backgroundWrites = true; // the GUI thread never waits in fsync (DESIGN.md §3)
    if (!m_markerWatcher)
        m_markerWatcher = new QFileSystemWatcher(this);
    background.markerWatcher = m_markerWatcher;
    m_controller = new RunController(background, m_monitor, this);
    connect(m_controller, &RunController::finished, this, &RunSession::onControllerFinished);
    connect(m_controller, &RunController::runDirectoryCreated, this, [this](const QString& dir) { m_lastRunDir = dir; });
    connect(m_controller, &RunController::message, this, &RunSession::message);
    m_running = true;
    Q_EMIT runStarted(m_controller);
    QMetaObject::invokeMethod(m_controller.data(), &RunController::start, Qt::QueuedConnection);
}

void RunSession::setStoryGeneration(const QJsonObject& llm, const QJsonArray& prompts,
                                    const telemetry::LlmHealthInfo& health)
{
    m_generation = std::make_tuple(llm, prompts, health);
}

void RunSession::cancel()
{
    if (m_running && m_controller)
        m_controller->cancel();
}

void RunSession::onControllerFinished(int exitCode, const QString& text)
{
    m_running = false;
    const QString runDir = m_controller ? m_controller->runDir() : QString();
    if (!runDir.isEmpty())
        m_lastRunDir = runDir;
    Q_EMIT runFinished(exitCode, text, runDir);

    RunQualityOptions q;
    q.judgeUrl = m_settings.string(Settings::Key::LlmUrl);
    q.historyDb = m_settings.string(Settings::Key::HistoryDb);
    RunQualityJob* job = RunQualityJob::forFinishedRun(runDir, exitCode, q, m_monitor, this);
    if (!job)
        return;
    if (m_quality)
        m_quality->deleteLater();
    m_quality = job;
    connect(m_quality, &RunQualityJob::progress, this, &RunSession::message);
    connect(m_quality, &RunQualityJob::finished, this,
            [this, runDir](const RunQualityResult& result) { Q_EMIT qualityFinished(runDir, result); });
    Q_EMIT qualityStarted(runDir, m_quality);
    m_quality->start();
}

} // namespace gd::pipeline
