#include "llm/StoryService.h"

#include "llm/LlmClient.h"
#include "llm/LlmHealthCheck.h"
#include "net/PlainHttpCheck.h"

#include <QTimer>

#include <algorithm>

namespace gd::llm {

StoryService::StoryService(StoryServiceOptions options, QObject* parent) : QObject(parent), m_opt(std::move(options))
{
}

StoryService::~StoryService() = default;

QString StoryService::resolveProviderUrl(const QString& configured, const QProcessEnvironment& env)
{
    if (!configured.trimmed().isEmpty())
        return configured.trimmed();
    const QString fromEnv = env.value(QStringLiteral("LOCAL_STORY_PROVIDER_URL")).trimmed();
    return fromEnv.isEmpty() ? QStringLiteral("http://127.0.0.1:1234") : fromEnv;
}

void StoryService::start(const StoryRequest& request)
{
    m_request = request;
    if (request.idea.trimmed().isEmpty()) {
        // Checked here so that an empty idea never costs a request.
        QTimer::singleShot(0, this, [this] { finish(Outcome::BadInput, QStringLiteral("The idea is empty: say what the story is about (--idea \"...\")")); });
        return;
    }
    if (request.sceneCount < 1 || request.sceneCount > StoryGenerator::kMaxSceneCount) {
        QTimer::singleShot(0, this, [this] {
            finish(Outcome::BadInput, QStringLiteral("--scenes must be between 1 and %1").arg(StoryGenerator::kMaxSceneCount));
        });
        return;
    }
    connectToServer();
}

void StoryService::regenerateScene(const story::Story& story, const QString& sceneId, const StoryRequest& request)
{
    m_request = request;
    m_base = story;
    m_sceneId = sceneId;
    const bool known = std::any_of(story.scenes.cbegin(), story.scenes.cend(),
                                   [&sceneId](const story::StoryScene& sc) { return sc.id == sceneId; });
    if (!known) {
        // Checked here so that a stale selection never costs a request.
        QTimer::singleShot(0, this, [this] {
            finish(Outcome::BadInput, QStringLiteral("The story has no scene '%1': select a scene of the story and try again")
                                          .arg(m_sceneId));
        });
        return;
    }
    connectToServer();
}

void StoryService::connectToServer()
{
    QStringList problems;
    m_library = PromptLibrary::load(m_opt.templateDirs, &problems);
    for (const QString& p : problems)
        Q_EMIT warning(QStringLiteral("Prompt template skipped: ") + p);
    if (!m_request.templateKey.isEmpty() && !m_library.find(m_request.templateKey)) {
        QStringList keys;
        for (const auto& t : m_library.templates())
            keys << t.key();
        QTimer::singleShot(0, this, [this, keys] {
            finish(Outcome::BadInput, QStringLiteral("Unknown template '%1'. Known templates: %2")
                                          .arg(m_request.templateKey, keys.join(QStringLiteral(", "))));
        });
        return;
    }
    const QString url = resolveProviderUrl(m_opt.llmUrl, m_opt.env);
    m_client = new LlmClient(LlmClient::normaliseUrl(url), this);
    const QString plain = net::PlainHttpCheck::warningFor(m_client->root(), QStringLiteral("The LLM server"));
    if (!plain.isEmpty())
        Q_EMIT warning(plain);
    if (!m_opt.apiKey.isEmpty())
        m_client->setApiKey(m_opt.apiKey);
    m_client->setFirstTokenTimeoutMs(m_opt.firstTokenTimeoutMs);
    m_client->setInactivityTimeoutMs(m_opt.inactivityTimeoutMs);

    m_health = new LlmHealthCheck(url, m_opt.env, this);
    // A server with authentication on answers the health probe 401 without the key, too.
    m_health->setApiKey(m_opt.apiKey);
    connect(m_health, &LlmHealthCheck::finished, this,
            [this](const telemetry::LlmHealthInfo& info, const QString& line) {
                m_healthInfo = info;
                Q_EMIT healthChecked(info, line);
                if (m_cancelled) {
                    finish(Outcome::Cancelled, QStringLiteral("cancelled"));
                    return;
                }
                if (info.status == QLatin1String("failed")) {
                    finish(Outcome::LlmUnavailable,
                           QStringLiteral("The LLM server at %1 is not usable: %2. Start LM Studio's server (Developer → Start "
                                          "Server) or `ollama serve`, load a model, and check --llm-url / "
                                          "LOCAL_STORY_PROVIDER_URL.")
                               .arg(info.url, info.error));
                    return;
                }
                afterHealthCheck();
            });
    m_health->run();
}

void StoryService::afterHealthCheck()
{
    Q_EMIT message(QStringLiteral("Detecting the LLM server ..."));
    m_client->detect(this, [this](const ServerInfo& info) {
        if (m_cancelled) {
            finish(Outcome::Cancelled, QStringLiteral("cancelled"));
            return;
        }
        if (!info.error.isNull()) {
            finish(Outcome::LlmUnavailable,
                   QStringLiteral("The LLM server is not reachable: %1. Start LM Studio's server (Developer → Start Server) or "
                                  "`ollama serve`, and check --llm-url / LOCAL_STORY_PROVIDER_URL.")
                       .arg(info.error.message));
            return;
        }
        Error why;
        const auto model = LlmClient::pickModel(info, m_request.model, &why);
        if (!model) {
            finish(Outcome::LlmUnavailable, why.message.isEmpty() ? QStringLiteral("No usable model on the LLM server: load a "
                                                                                   "chat model in LM Studio or `ollama pull` one")
                                                                  : why.message);
            return;
        }
        Q_EMIT message(QStringLiteral("LLM: %1 server, model %2").arg(flavourName(info.flavour), *model));
        generate(*model);
    });
}

void StoryService::generate(const QString& model)
{
    StoryRequest req = m_request;
    req.model = model;
    m_generator = new StoryGenerator(m_client, m_library, this);
    m_generator->rawDir = m_opt.rawDir;
    m_generator->rawWriter = m_opt.rawWriter;
    m_generator->providerUrl = resolveProviderUrl(m_opt.llmUrl, m_opt.env);
    connect(m_generator, &StoryGenerator::stageStarted, this, &StoryService::stageStarted);
    connect(m_generator, &StoryGenerator::token, this, &StoryService::token);
    connect(m_generator, &StoryGenerator::warning, this, &StoryService::warning);
    connect(m_generator, &StoryGenerator::finished, this,
            [this](bool ok, const story::Story& story, const QJsonObject& llm, const QJsonArray& prompts, const QString& error) {
                if (m_finished)
                    return;
                m_finished = true;
                Outcome o = ok ? Outcome::Ok : (m_cancelled ? Outcome::Cancelled : Outcome::GenerationFailed);
                // A server that vanished or lost its model mid-way is "LLM unavailable" (exit 3), not a bad story.
                const QString kind = m_generator ? m_generator->lastErrorKind() : QString();
                if (!ok && (kind == QLatin1String("unreachable") || kind == QLatin1String("no_model")))
                    o = Outcome::LlmUnavailable;
                Q_EMIT finished(o, story, llm, prompts, m_healthInfo, error);
            });
    if (m_sceneId.isEmpty())
        m_generator->start(req);
    else
        m_generator->regenerateScene(m_base, m_sceneId, req);
}

void StoryService::cancel()
{
    m_cancelled = true;
    if (m_generator)
        m_generator->cancel();
}

void StoryService::finish(Outcome outcome, const QString& error)
{
    if (m_finished)
        return;
    m_finished = true;
    Q_EMIT finished(outcome, story::Story{}, QJsonObject{}, QJsonArray{}, m_healthInfo, error);
}

} // namespace gd::llm
