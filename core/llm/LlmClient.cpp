#include "llm/LlmClient.h"

#include "common/Log.h"
#include "llm/LlmChatJob.h"
#include "llm/ServerDetector.h"
#include "net/HttpClient.h"

#include <QJsonArray>

namespace gd::llm {

namespace {

bool isEmbedding(const ModelInfo& m)
{
    return m.type == QLatin1String("embeddings") || m.type == QLatin1String("embedding");
}

// OpenAI requires json_schema.name to match ^[a-zA-Z0-9_-]{1,64}$; LM Studio passes it through.
QString schemaName(const QString& name)
{
    QString out;
    for (const QChar c : name) {
        const bool ok = (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
                        (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) ||
                        (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('_') ||
                        c == QLatin1Char('-');
        out += ok ? c : QLatin1Char('_');
    }
    out.truncate(64);
    return out.isEmpty() ? QStringLiteral("response") : out;
}

} // namespace

LlmClient::LlmClient(const QUrl& root, QObject* parent)
    : QObject(parent), m_root(root), m_http(new net::HttpClient(root, this))
{
}

LlmClient::~LlmClient() = default;

QUrl LlmClient::normaliseUrl(const QString& text)
{
    QString t = text.trimmed();
    if (t.isEmpty())
        return {};
    if (!t.contains(QStringLiteral("://")))
        t.prepend(QStringLiteral("http://"));
    QUrl url(t, QUrl::TolerantMode);
    if (!url.isValid() || url.host().isEmpty())
        return {};
    // Ollama and llama.cpp bind IPv4 loopback only; "localhost" may resolve to ::1 and be refused.
    if (url.host().compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        url.setHost(QStringLiteral("127.0.0.1"));
    static const QStringList kRouteSuffixes = {
        QStringLiteral("/v1/chat/completions"),
        QStringLiteral("/v1/completions"),
        QStringLiteral("/v1/models"),
        QStringLiteral("/v1/embeddings"),
        QStringLiteral("/api/v0/chat/completions"),
        QStringLiteral("/api/v0/models"),
        QStringLiteral("/api/v1/models"),
        QStringLiteral("/api/chat"),
        QStringLiteral("/api/generate"),
        QStringLiteral("/api/tags"),
        QStringLiteral("/chat/completions"),
        QStringLiteral("/v1"),
    };
    QString path = url.path();
    bool changed = true;
    while (changed) {
        changed = false;
        while (path.endsWith(QLatin1Char('/'))) {
            path.chop(1);
            changed = true;
        }
        for (const QString& suffix : kRouteSuffixes) {
            if (path.endsWith(suffix, Qt::CaseInsensitive)) {
                path.chop(suffix.size());
                changed = true;
                break;
            }
        }
    }
    url.setPath(path);
    url.setQuery(QString());
    url.setFragment(QString());
    return url;
}

void LlmClient::setApiKey(const QString& key)
{
    m_apiKey = key;
    m_http->setBearerToken(key);
}

void LlmClient::setFirstTokenTimeoutMs(int ms)
{
    m_policy.firstTokenTimeoutMs = ms;
}

void LlmClient::setInactivityTimeoutMs(int ms)
{
    m_policy.inactivityTimeoutMs = ms;
}

void LlmClient::setRetryPolicy(int maxAttempts, int baseMs, int capMs)
{
    m_policy.maxAttempts = std::max(1, maxAttempts);
    m_policy.retryBaseMs = std::max(1, baseMs);
    m_policy.retryCapMs = std::max(m_policy.retryBaseMs, capMs);
}

void LlmClient::setConnectTimeoutMs(int ms)
{
    m_policy.connectTimeoutMs = ms;
}

void LlmClient::detect(QObject* ctx, std::function<void(const ServerInfo&)> done)
{
    // Concurrent callers (several jobs starting at once) share one probe run.
    m_waiting.append({QPointer<QObject>(ctx ? ctx : this), std::move(done)});
    if (m_detecting)
        return;
    m_detecting = true;
    auto* detector = new ServerDetector(m_http, this);
    connect(detector, &ServerDetector::finished, this, &LlmClient::onDetected);
    detector->start();
}

void LlmClient::onDetected(const ServerInfo& info)
{
    m_detecting = false;
    m_info = info;
    m_detected = info.error.isNull();
    const auto waiting = std::exchange(m_waiting, {});
    for (const auto& [ctx, done] : waiting) {
        if (ctx && done)
            done(info);
    }
}

ServerInfo LlmClient::serverInfo() const
{
    return m_info;
}

void LlmClient::invalidateServerInfo()
{
    m_detected = false;
}

std::optional<QString> LlmClient::pickModel(const ServerInfo& info, const QString& configured, Error* why)
{
    auto fail = [why](const Error& e) -> std::optional<QString> {
        if (why)
            *why = e;
        return std::nullopt;
    };
    if (!info.error.isNull())
        return fail(info.error);

    QVector<ModelInfo> llms;
    bool embeddingsListed = false;
    for (const ModelInfo& m : info.models) {
        if (isEmbedding(m))
            embeddingsListed = true;
        else
            llms.append(m);
    }
    // Ollama tags carry ":latest" implicitly: "llama3.2" names "llama3.2:latest".
    auto sameId = [&](const QString& listed) {
        return listed == configured ||
               (info.flavour == ServerFlavour::Ollama && listed == configured + QStringLiteral(":latest"));
    };
    if (!configured.isEmpty()) {
        for (const ModelInfo& m : llms) {
            if (sameId(m.id))
                return m.id; // listed: loaded, or JIT-loadable on a server that lists unloaded models
        }
    }
    for (const ModelInfo& m : llms) {
        if (m.loaded) {
            if (!configured.isEmpty())
                gd::log::get("llm")->warn("model '{}' is not on the server; using the loaded '{}'",
                                          configured.toStdString(), m.id.toStdString());
            return m.id;
        }
    }
    // JIT servers (LM Studio with JIT on, Ollama) list models that are not loaded yet; any of them is
    // loaded by the first request that names it.
    const bool jitServer = info.flavour == ServerFlavour::LmStudio || info.flavour == ServerFlavour::Ollama;
    if (jitServer && configured.isEmpty() && !llms.isEmpty())
        return llms.first().id;

    QStringList available;
    for (const ModelInfo& m : llms)
        available << m.id;
    QString message;
    if (!configured.isEmpty())
        message = QStringLiteral("Model '%1' is not available on the LLM server").arg(configured);
    else if (embeddingsListed)
        message = QStringLiteral("The LLM server has only embedding models loaded, no chat model");
    else
        message = QStringLiteral("The LLM server has no model loaded");
    if (!available.isEmpty())
        message += QStringLiteral(" (available: ") + available.join(QStringLiteral(", ")) + QLatin1Char(')');
    switch (info.flavour) {
    case ServerFlavour::Ollama:
        message += QStringLiteral(". Pull one with `ollama pull <model>`.");
        break;
    case ServerFlavour::LlamaCpp:
        message += QStringLiteral(". Start llama-server with a model (-m <file.gguf>).");
        break;
    default:
        message += QStringLiteral(". Load a model in LM Studio (Developer tab, or `lms load <model>`), or "
                                  "`ollama pull <model>` for Ollama.");
        break;
    }
    QJsonArray list;
    for (const QString& id : available)
        list.append(id);
    return fail({QStringLiteral("no_model"),
                 message,
                 {{QStringLiteral("configured"), configured}, {QStringLiteral("available"), list}}});
}

QString LlmClient::chatPath(ServerFlavour flavour)
{
    // One route for every flavour (§6.4). For Ollama this is its OpenAI layer, not native /api/chat: it
    // maps response_format.json_schema onto `format` (schema only), honours max_tokens, seed and
    // include_usage, and its one trap — temperature/top_p defaulting to 1.0 over the Modelfile — is
    // closed because both are always sent. What /v1 cannot do is set num_ctx/keep_alive: the operator
    // sets OLLAMA_CONTEXT_LENGTH; the loaded context is read from /api/ps during detection.
    Q_UNUSED(flavour);
    return QStringLiteral("/v1/chat/completions");
}

QString LlmClient::requestFormat(const ChatRequest& request, ServerFlavour flavour)
{
    Q_UNUSED(flavour);
    return request.jsonSchema.isEmpty() ? QStringLiteral("text") : QStringLiteral("json_schema");
}

QJsonObject LlmClient::chatBody(const ChatRequest& request, ServerFlavour flavour, const QString& model)
{
    QJsonArray messages;
    for (const ChatMessage& m : request.messages) {
        if (m.imageDataUrls.isEmpty()) {
            messages.append(
                QJsonObject{{QStringLiteral("role"), m.role}, {QStringLiteral("content"), m.content}});
            continue;
        }
        // OpenAI content parts (§5). image_url is always the {url: ...} object: Ollama also takes a bare
        // string, LM Studio and llama.cpp only the object.
        QJsonArray parts;
        if (!m.content.isEmpty())
            parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                     {QStringLiteral("text"), m.content}});
        for (const QString& url : m.imageDataUrls)
            parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")},
                                     {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), url}}}});
        messages.append(QJsonObject{{QStringLiteral("role"), m.role}, {QStringLiteral("content"), parts}});
    }

    QJsonObject body{
        {QStringLiteral("model"), model},
        {QStringLiteral("messages"), messages},
        {QStringLiteral("stream"), true},
        {QStringLiteral("temperature"), request.temperature},
        {QStringLiteral("top_p"), request.topP},
        {QStringLiteral("max_tokens"), request.maxTokens},
        {QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}}}};
    if (request.seed)
        body.insert(QStringLiteral("seed"), double(*request.seed));
    if (!request.jsonSchema.isEmpty()) {
        // LM Studio rejects json_object with 400; json_schema is the one form every server accepts.
        body.insert(QStringLiteral("response_format"),
                    QJsonObject{{QStringLiteral("type"), QStringLiteral("json_schema")},
                                {QStringLiteral("json_schema"),
                                 QJsonObject{{QStringLiteral("name"), schemaName(request.schemaName)},
                                             {QStringLiteral("strict"), true},
                                             {QStringLiteral("schema"), request.jsonSchema}}}});
    }
    if (flavour == ServerFlavour::LmStudio)
        body.insert(QStringLiteral("ttl"), 3600); // idle unload of a model this request JIT-loads
    return body;
}

ChatJob* LlmClient::startChat(const ChatRequest& request, QObject* parent)
{
    auto* job = new LlmChatJob(this, request, parent);
    job->start();
    return job;
}

} // namespace gd::llm
