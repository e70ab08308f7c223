#include "sandbox/SandboxLlmServer.h"

#include "net/HttpRequest.h"
#include "sandbox/SandboxVision.h"
#include "sandbox/StoryCorpus.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutexLocker>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSet>
#include <QTcpServer>
#include <QTcpSocket>
#include <array>
#include <cmath>

namespace gd::sandbox {

namespace {

bool isFlavour(const SandboxLlmConfig& config, const char* name)
{
    return config.flavour.compare(QLatin1String(name), Qt::CaseInsensitive) == 0;
}

// Token-ish pieces the stream is cut into: a word with its leading space, or a run of punctuation. Close to
// the chars/4 rule of thumb for English prose and compact JSON, which is what usage numbers look like on real
// servers.
QStringList tokenize(const QString& text)
{
    static const QRegularExpression piece(
        QStringLiteral("\\s?[\\p{L}\\p{N}']+|\\s?[^\\p{L}\\p{N}'\\s]+|\\s+"),
        QRegularExpression::UseUnicodePropertiesOption);
    QStringList out;
    auto it = piece.globalMatch(text);
    int consumed = 0;
    while (it.hasNext()) {
        const auto m = it.next();
        if (m.capturedStart() > consumed)
            out << text.mid(consumed, m.capturedStart() - consumed);
        out << m.captured(0);
        consumed = int(m.capturedEnd());
    }
    if (consumed < text.size())
        out << text.mid(consumed);
    return out;
}

int estimateTokens(const QString& text)
{
    return int((text.size() + 3) / 4);
}

QString messageText(const QJsonValue& content)
{
    if (content.isString())
        return content.toString();
    QStringList parts;
    for (const QJsonValue& part : content.toArray()) {
        const QJsonObject o = part.toObject();
        if (o.value(QStringLiteral("type")).toString() == QLatin1String("text"))
            parts << o.value(QStringLiteral("text")).toString();
    }
    return parts.join(QLatin1Char('\n'));
}

QByteArray sse(const QJsonObject& object)
{
    return "data: " + QJsonDocument(object).toJson(QJsonDocument::Compact) + "\n\n";
}

const QSet<QString> kEmbeddingStopWords{
    QStringLiteral("a"),    QStringLiteral("an"),  QStringLiteral("the"), QStringLiteral("in"),
    QStringLiteral("on"),   QStringLiteral("at"),  QStringLiteral("of"),  QStringLiteral("and"),
    QStringLiteral("or"),   QStringLiteral("to"),  QStringLiteral("is"),  QStringLiteral("are"),
    QStringLiteral("with"), QStringLiteral("for"), QStringLiteral("by"),  QStringLiteral("from"),
    QStringLiteral("as"),   QStringLiteral("it"),  QStringLiteral("its"), QStringLiteral("this"),
    QStringLiteral("that"), QStringLiteral("be"),  QStringLiteral("was"), QStringLiteral("were"),
    QStringLiteral("into")};

const QString kNoModels = QStringLiteral(
    "No models loaded. Please load a model in the developer page or use the `lms load` command.");

} // namespace

struct SandboxLlmServer::ModelState
{
    bool llmListed = true; // the LLM is downloaded and visible in catalogues
    bool llmLoaded = true;
    bool embeddingListed = true;
    bool embeddingLoaded = true;
    bool jit = true;
};

SandboxLlmServer::SandboxLlmServer(const SandboxLlmConfig& config, QObject* parent)
    : QObject(parent), m_config(config), m_tcp(new QTcpServer(this)),
      m_created(QDateTime::currentSecsSinceEpoch() - 86400), m_embeddingLoaded(config.embeddingModelLoaded),
      m_modelLoaded(config.modelLoaded)
{
    m_faults = config.faults;
    connect(m_tcp, &QTcpServer::newConnection, this, &SandboxLlmServer::onNewConnection);
}

SandboxLlmServer::~SandboxLlmServer()
{
    close();
}

bool SandboxLlmServer::listen(quint16 port, QString* errorText)
{
    if (!m_tcp->listen(QHostAddress::LocalHost, port)) {
        if (errorText)
            *errorText =
                QStringLiteral("cannot listen on 127.0.0.1:%1: %2").arg(port).arg(m_tcp->errorString());
        return false;
    }
    m_port = m_tcp->serverPort();
    return true;
}

void SandboxLlmServer::close()
{
    m_tcp->close();
    const auto connections = m_connections;
    m_connections.clear();
    for (const auto& c : connections)
        if (c)
            c->abort();
}

QUrl SandboxLlmServer::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
}

quint16 SandboxLlmServer::port() const
{
    return m_port;
}

void SandboxLlmServer::addFault(const LlmFaultRule& rule)
{
    m_faults.append(rule);
}

void SandboxLlmServer::setModelLoaded(bool loaded)
{
    QMutexLocker lock(&m_mutex);
    m_modelLoaded = loaded;
}

int SandboxLlmServer::chatRequestCount() const
{
    QMutexLocker lock(&m_mutex);
    return m_chatRequests;
}

QJsonObject SandboxLlmServer::lastChatRequest() const
{
    QMutexLocker lock(&m_mutex);
    return m_lastChatRequest;
}

int SandboxLlmServer::abortedStreams() const
{
    QMutexLocker lock(&m_mutex);
    return m_abortedStreams;
}

int SandboxLlmServer::embeddingRequestCount() const
{
    QMutexLocker lock(&m_mutex);
    return m_embeddingRequests;
}

int SandboxLlmServer::visionRequestCount() const
{
    QMutexLocker lock(&m_mutex);
    return m_visionRequests;
}

bool SandboxLlmServer::visionListed() const
{
    return m_config.visionModel && !m_config.visionModelId.isEmpty() && modelState().llmListed;
}

QJsonObject SandboxLlmServer::lmStudioV0VisionModel() const
{
    // Loaded from the start (the sandbox VLM needs no load step) until an unload takes it out.
    QJsonObject o{{QStringLiteral("id"), m_config.visionModelId},
                  {QStringLiteral("object"), QStringLiteral("model")},
                  {QStringLiteral("type"), QStringLiteral("vlm")},
                  {QStringLiteral("publisher"), QStringLiteral("gemdirect-sandbox")},
                  {QStringLiteral("arch"), QStringLiteral("qwen2_vl")},
                  {QStringLiteral("compatibility_type"), QStringLiteral("gguf")},
                  {QStringLiteral("quantization"), QStringLiteral("Q4_K_M")},
                  {QStringLiteral("state"), m_visionLoaded ? QStringLiteral("loaded") : QStringLiteral("not-loaded")},
                  {QStringLiteral("max_context_length"), m_config.maxContextLength}};
    if (m_visionLoaded)
        o.insert(QStringLiteral("loaded_context_length"), m_config.contextLength);
    return o;
}

QJsonObject SandboxLlmServer::lmStudioV1VisionModel() const
{
    const QString key = m_config.visionModelId;
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("llm")},
        {QStringLiteral("publisher"), QStringLiteral("gemdirect-sandbox")},
        {QStringLiteral("key"), key},
        {QStringLiteral("display_name"), QStringLiteral("Sandbox Vision 2B")},
        {QStringLiteral("architecture"), QStringLiteral("qwen2_vl")},
        {QStringLiteral("quantization"), QJsonObject{{QStringLiteral("name"), QStringLiteral("Q4_K_M")},
                                                     {QStringLiteral("bits_per_weight"), 4.8}}},
        {QStringLiteral("size_bytes"), 1500000000.0},
        {QStringLiteral("params_string"), QStringLiteral("2B")},
        {QStringLiteral("loaded_instances"),
         !m_visionLoaded ? QJsonArray() : QJsonArray{QJsonObject{{QStringLiteral("id"), key},
                                {QStringLiteral("config"),
                                 QJsonObject{{QStringLiteral("context_length"), m_config.contextLength},
                                             {QStringLiteral("eval_batch_size"), 512},
                                             {QStringLiteral("parallel"), 4},
                                             {QStringLiteral("flash_attention"), false},
                                             {QStringLiteral("offload_kv_cache_to_gpu"), true}}}}}},
        {QStringLiteral("max_context_length"), m_config.maxContextLength},
        {QStringLiteral("format"), QStringLiteral("gguf")},
        {QStringLiteral("capabilities"), QJsonObject{{QStringLiteral("vision"), true},
                                                     {QStringLiteral("trained_for_tool_use"), false}}},
        {QStringLiteral("description"), QJsonValue()},
        {QStringLiteral("variants"), QJsonArray{QString(key + QStringLiteral("@q4_k_m"))}},
        {QStringLiteral("selected_variant"), QString(key + QStringLiteral("@q4_k_m"))}};
}

bool SandboxLlmServer::modelLoaded() const
{
    QMutexLocker lock(&m_mutex);
    return m_modelLoaded;
}

void SandboxLlmServer::noteAbortedStream()
{
    {
        QMutexLocker lock(&m_mutex);
        ++m_abortedStreams;
    }
    Q_EMIT streamAborted();
}

void SandboxLlmServer::onNewConnection()
{
    while (QTcpSocket* socket = m_tcp->nextPendingConnection()) {
        // Like the real servers (uvicorn/node set TCP_NODELAY): small SSE chunks go out at once
        // instead of waiting on Nagle + delayed ACK, which would distort time-to-first-token.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        m_connections.removeAll(nullptr);
        m_connections.append(new LlmStreamConnection(socket, this));
    }
}

std::optional<LlmFaultRule> SandboxLlmServer::peekFault() const
{
    if (m_faults.isEmpty())
        return std::nullopt;
    return m_faults.first();
}

std::optional<LlmFaultRule> SandboxLlmServer::takeFault()
{
    if (m_faults.isEmpty())
        return std::nullopt;
    const LlmFaultRule rule = m_faults.first();
    if (rule.times > 0) {
        if (rule.times == 1)
            m_faults.removeFirst();
        else
            --m_faults.first().times;
    }
    return rule;
}

SandboxLlmServer::ModelState SandboxLlmServer::modelState() const
{
    ModelState state;
    state.jit = m_config.jitLoading;
    state.llmLoaded = modelLoaded();
    state.embeddingLoaded = m_embeddingLoaded;
    state.embeddingListed = !m_config.embeddingModelId.isEmpty();
    if (const auto fault = peekFault()) {
        if (fault->kind == LlmFaultKind::NoModel) {
            // Nothing loaded and JIT off: LM Studio's "No models loaded" situation.
            state.llmLoaded = false;
            state.embeddingLoaded = false;
            state.jit = false;
        } else if (fault->kind == LlmFaultKind::EmbeddingOnly) {
            state.llmListed = false;
            state.llmLoaded = false;
            state.embeddingLoaded = true;
            state.jit = false;
        }
    }
    return state;
}

QString SandboxLlmServer::newCompletionId() const
{
    auto* rng = QRandomGenerator::global();
    if (isFlavour(m_config, "ollama"))
        return QStringLiteral("chatcmpl-%1").arg(rng->bounded(999)); // not unique on the real server either
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    const int length = isFlavour(m_config, "llamacpp") ? 32 : 21;
    QString id = QStringLiteral("chatcmpl-");
    for (int i = 0; i < length; ++i)
        id += QLatin1Char(alphabet[rng->bounded(36)]);
    return id;
}

SandboxLlmServer::Plan SandboxLlmServer::json(int status, const QJsonValue& body) const
{
    Plan plan;
    plan.status = status;
    if (isFlavour(m_config, "lmstudio"))
        plan.headers.append(QPair<QByteArray, QByteArray>("X-Powered-By", "Express"));
    if (isFlavour(m_config, "llamacpp"))
        plan.headers.append(QPair<QByteArray, QByteArray>("Server", "llama.cpp"));
    plan.headers.append(QPair<QByteArray, QByteArray>("Content-Type", "application/json; charset=utf-8"));
    plan.body = body.isObject() ? QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact)
                                : QJsonDocument(body.toArray()).toJson(QJsonDocument::Compact);
    return plan;
}

SandboxLlmServer::Plan SandboxLlmServer::error(int status, const QString& message, const QString& type,
                                               const QString& code, const QString& param) const
{
    if (isFlavour(m_config, "llamacpp")) {
        QString t = type;
        if (t.isEmpty())
            t = status == 401   ? QStringLiteral("authentication_error")
                : status == 404 ? QStringLiteral("not_found_error")
                : status == 503 ? QStringLiteral("unavailable_error")
                : status >= 500 ? QStringLiteral("server_error")
                                : QStringLiteral("invalid_request_error");
        return json(status,
                    QJsonObject{{QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), status},
                                                                      {QStringLiteral("message"), message},
                                                                      {QStringLiteral("type"), t}}}});
    }
    if (isFlavour(m_config, "ollama")) {
        // The /v1 layer re-wraps native errors OpenAI-style, keeping the status.
        const QString t = status == 400   ? QStringLiteral("invalid_request_error")
                          : status == 404 ? QStringLiteral("not_found_error")
                                          : QStringLiteral("api_error");
        return json(status, QJsonObject{{QStringLiteral("error"),
                                         QJsonObject{{QStringLiteral("message"), message},
                                                     {QStringLiteral("type"), t},
                                                     {QStringLiteral("param"), QJsonValue()},
                                                     {QStringLiteral("code"), QJsonValue()}}}});
    }
    // LM Studio: most errors are a bare string; a few (unknown model) use the OpenAI object.
    if (type.isEmpty())
        return json(status, QJsonObject{{QStringLiteral("error"), message}});
    QJsonObject object{{QStringLiteral("message"), message}, {QStringLiteral("type"), type}};
    object.insert(QStringLiteral("param"), param.isEmpty() ? QJsonValue() : QJsonValue(param));
    object.insert(QStringLiteral("code"), code.isEmpty() ? QJsonValue() : QJsonValue(code));
    return json(status, QJsonObject{{QStringLiteral("error"), object}});
}

void SandboxLlmServer::handle(LlmStreamConnection* connection, const net::HttpRequest& request)
{
    Plan plan;
    if (!m_config.apiKey.isEmpty() && request.path != QLatin1String("/health") &&
        request.header("Authorization").trimmed() != "Bearer " + m_config.apiKey.toUtf8()) {
        plan = isFlavour(m_config, "llamacpp")
                   ? error(401, QStringLiteral("Invalid API Key"))
                   : error(401,
                           QStringLiteral(
                               "Invalid or missing API token. Pass it as 'Authorization: Bearer <token>'."),
                           QStringLiteral("invalid_request_error"), QStringLiteral("invalid_api_key"));
    } else if (isFlavour(m_config, "ollama")) {
        plan = routeOllama(request);
    } else if (isFlavour(m_config, "llamacpp")) {
        plan = routeLlamaCpp(request);
    } else {
        plan = routeLmStudio(request);
    }
    if (request.method == "HEAD") {
        plan.streaming = false;
        plan.pieces.clear();
        plan.headOnly = true;
    }
    connection->respond(plan);
}

QJsonObject SandboxLlmServer::lmStudioV0Model(bool llm) const
{
    const ModelState state = modelState();
    const bool loaded = llm ? state.llmLoaded : state.embeddingLoaded;
    QJsonObject o{{QStringLiteral("id"), llm ? m_config.modelId : m_config.embeddingModelId},
                  {QStringLiteral("object"), QStringLiteral("model")},
                  {QStringLiteral("type"), llm ? QStringLiteral("llm") : QStringLiteral("embeddings")},
                  {QStringLiteral("publisher"), QStringLiteral("gemdirect-sandbox")},
                  {QStringLiteral("arch"), llm ? QStringLiteral("llama") : QStringLiteral("nomic-bert")},
                  {QStringLiteral("compatibility_type"), QStringLiteral("gguf")},
                  {QStringLiteral("quantization"), QStringLiteral("Q4_K_M")},
                  {QStringLiteral("state"), loaded ? QStringLiteral("loaded") : QStringLiteral("not-loaded")},
                  {QStringLiteral("max_context_length"), llm ? m_config.maxContextLength : 2048}};
    if (loaded)
        o.insert(QStringLiteral("loaded_context_length"), llm ? m_config.contextLength : 2048);
    if (llm)
        o.insert(QStringLiteral("capabilities"), QJsonArray{QStringLiteral("tool_use")});
    return o;
}

QJsonObject SandboxLlmServer::lmStudioV1Model(bool llm) const
{
    const ModelState state = modelState();
    const bool loaded = llm ? state.llmLoaded : state.embeddingLoaded;
    const QString key = llm ? m_config.modelId : m_config.embeddingModelId;
    QJsonArray instances;
    if (loaded)
        instances.append(
            QJsonObject{{QStringLiteral("id"), key},
                        {QStringLiteral("config"),
                         QJsonObject{{QStringLiteral("context_length"), llm ? m_config.contextLength : 2048},
                                     {QStringLiteral("eval_batch_size"), 512},
                                     {QStringLiteral("parallel"), 4},
                                     {QStringLiteral("flash_attention"), false},
                                     {QStringLiteral("offload_kv_cache_to_gpu"), true}}}});
    QJsonObject capabilities{{QStringLiteral("vision"), false},
                             {QStringLiteral("trained_for_tool_use"), llm}};
    return QJsonObject{
        {QStringLiteral("type"), llm ? QStringLiteral("llm") : QStringLiteral("embedding")},
        {QStringLiteral("publisher"), QStringLiteral("gemdirect-sandbox")},
        {QStringLiteral("key"), key},
        {QStringLiteral("display_name"),
         llm ? QStringLiteral("Sandbox Story 7B Instruct") : QStringLiteral("Nomic Embed Text v1.5")},
        {QStringLiteral("architecture"), llm ? QStringLiteral("llama") : QStringLiteral("nomic-bert")},
        {QStringLiteral("quantization"), QJsonObject{{QStringLiteral("name"), QStringLiteral("Q4_K_M")},
                                                     {QStringLiteral("bits_per_weight"), 4.8}}},
        {QStringLiteral("size_bytes"), llm ? 4683073952.0 : 84106624.0},
        {QStringLiteral("params_string"), llm ? QStringLiteral("7B") : QStringLiteral("137M")},
        {QStringLiteral("loaded_instances"), instances},
        {QStringLiteral("max_context_length"), llm ? m_config.maxContextLength : 2048},
        {QStringLiteral("format"), QStringLiteral("gguf")},
        {QStringLiteral("capabilities"), capabilities},
        {QStringLiteral("description"), QJsonValue()},
        {QStringLiteral("variants"), QJsonArray{QString(key + QStringLiteral("@q4_k_m"))}},
        {QStringLiteral("selected_variant"), QString(key + QStringLiteral("@q4_k_m"))}};
}

SandboxLlmServer::Plan SandboxLlmServer::routeLmStudio(const net::HttpRequest& request)
{
    const QString path = request.path;
    const bool get = request.method == "GET" || request.method == "HEAD";
    const bool post = request.method == "POST";
    const ModelState state = modelState();
    const bool listLlm = state.llmListed && (state.llmLoaded || state.jit);
    const bool listEmbedding = state.embeddingListed && (state.embeddingLoaded || state.jit);

    if (get && path == QLatin1String("/v1/models")) {
        QJsonArray data;
        auto entry = [](const QString& id) {
            return QJsonObject{{QStringLiteral("id"), id},
                               {QStringLiteral("object"), QStringLiteral("model")},
                               {QStringLiteral("owned_by"), QStringLiteral("organization_owner")}};
        };
        if (listLlm)
            data.append(entry(m_config.modelId));
        if (visionListed())
            data.append(entry(m_config.visionModelId));
        if (listEmbedding)
            data.append(entry(m_config.embeddingModelId));
        return json(200, QJsonObject{{QStringLiteral("data"), data},
                                     {QStringLiteral("object"), QStringLiteral("list")}});
    }
    if (get && path.startsWith(QLatin1String("/v1/models/"))) {
        const QString id = path.mid(11);
        if ((listLlm && id == m_config.modelId) || (listEmbedding && id == m_config.embeddingModelId) ||
            (visionListed() && id == m_config.visionModelId))
            return json(200, QJsonObject{{QStringLiteral("id"), id},
                                         {QStringLiteral("object"), QStringLiteral("model")},
                                         {QStringLiteral("owned_by"), QStringLiteral("organization_owner")}});
        return error(404, QStringLiteral("Model with identifier '%1' not found").arg(id),
                     QStringLiteral("invalid_request_error"), QStringLiteral("model_not_found"),
                     QStringLiteral("model"));
    }
    if (get && path == QLatin1String("/api/v0/models")) {
        QJsonArray data;
        if (listLlm)
            data.append(lmStudioV0Model(true));
        if (visionListed())
            data.append(lmStudioV0VisionModel());
        if (listEmbedding)
            data.append(lmStudioV0Model(false));
        return json(200, QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                                     {QStringLiteral("data"), data}});
    }
    if (get && path.startsWith(QLatin1String("/api/v0/models/"))) {
        const QString id = path.mid(15);
        if (listLlm && id == m_config.modelId)
            return json(200, lmStudioV0Model(true));
        if (visionListed() && id == m_config.visionModelId)
            return json(200, lmStudioV0VisionModel());
        if (listEmbedding && id == m_config.embeddingModelId)
            return json(200, lmStudioV0Model(false));
        return error(404, QStringLiteral("Model \"%1\" not found").arg(id));
    }
    if (get && path == QLatin1String("/api/v1/models") && m_config.lmStudioApiV1) {
        // The v1 catalogue lists every downloaded model; loaded ones carry loaded_instances.
        QJsonArray models;
        if (state.llmListed)
            models.append(lmStudioV1Model(true));
        if (visionListed())
            models.append(lmStudioV1VisionModel());
        if (state.embeddingListed)
            models.append(lmStudioV1Model(false));
        return json(200, QJsonObject{{QStringLiteral("models"), models}});
    }
    if (post && path == QLatin1String("/api/v1/models/load") && m_config.lmStudioApiV1)
        return loadModel(request, true);
    if (post && path == QLatin1String("/api/v1/models/unload") && m_config.lmStudioApiV1)
        return loadModel(request, false);
    if (post &&
        (path == QLatin1String("/v1/chat/completions") || path == QLatin1String("/api/v0/chat/completions")))
        return chat(request, path.startsWith(QLatin1String("/api/v0")));
    if (post && (path == QLatin1String("/v1/embeddings") || path == QLatin1String("/api/v0/embeddings")))
        return embeddings(request);
    const QString what = QStringLiteral("Unexpected endpoint or method. (%1 %2)")
                             .arg(QString::fromLatin1(request.method), path);
    if (m_config.legacyUnknownEndpoint200)
        return json(200, QJsonObject{{QStringLiteral("error"), what}}); // "Returning 200 anyway"
    return error(404, what);
}

SandboxLlmServer::Plan SandboxLlmServer::loadModel(const net::HttpRequest& request, bool load)
{
    const QJsonObject body = QJsonDocument::fromJson(request.body).object();
    const QString id = body.value(load ? QStringLiteral("model") : QStringLiteral("instance_id")).toString();
    const bool llm = id == m_config.modelId;
    const bool vision = visionListed() && id == m_config.visionModelId;
    if (!llm && !vision && id != m_config.embeddingModelId)
        return error(404, QStringLiteral("Model \"%1\" not found").arg(id), QStringLiteral("model_not_found"),
                     QStringLiteral("model_not_found"));
    if (!load) {
        // instance_id names a loaded instance: once unloaded it is gone from loaded_instances, and
        // unloading it again fails like any unknown instance.
        const bool loaded = llm ? modelState().llmLoaded : vision ? m_visionLoaded : m_embeddingLoaded;
        if (!loaded)
            return error(404, QStringLiteral("No loaded model instance with identifier \"%1\"").arg(id),
                         QStringLiteral("model_not_found"), QStringLiteral("model_not_found"));
    }
    if (llm)
        setModelLoaded(load);
    else if (vision)
        m_visionLoaded = load;
    else
        m_embeddingLoaded = load;
    if (!load)
        return json(200, QJsonObject{{QStringLiteral("instance_id"), id}});
    if (llm && body.value(QStringLiteral("context_length")).isDouble())
        m_config.contextLength = body.value(QStringLiteral("context_length")).toInt();
    Plan plan = json(
        200, QJsonObject{{QStringLiteral("type"), llm ? QStringLiteral("llm") : QStringLiteral("embedding")},
                         {QStringLiteral("instance_id"), id},
                         {QStringLiteral("load_time_seconds"), m_config.jitLoadDelayMs / 1000.0},
                         {QStringLiteral("status"), QStringLiteral("loaded")}});
    plan.holdMs = m_config.jitLoadDelayMs;
    return plan;
}

SandboxLlmServer::Plan SandboxLlmServer::routeOllama(const net::HttpRequest& request)
{
    const QString path = request.path;
    const bool get = request.method == "GET" || request.method == "HEAD";
    const bool post = request.method == "POST";
    const ModelState state = modelState();
    const QString tag = m_config.modelId.contains(QLatin1Char(':'))
                            ? m_config.modelId
                            : m_config.modelId + QStringLiteral(":latest");
    const QString modified = QDateTime::fromSecsSinceEpoch(m_created, Qt::UTC).toString(Qt::ISODate);
    auto details = [] {
        return QJsonObject{{QStringLiteral("parent_model"), QString()},
                           {QStringLiteral("format"), QStringLiteral("gguf")},
                           {QStringLiteral("family"), QStringLiteral("llama")},
                           {QStringLiteral("families"), QJsonArray{QStringLiteral("llama")}},
                           {QStringLiteral("parameter_size"), QStringLiteral("7.2B")},
                           {QStringLiteral("quantization_level"), QStringLiteral("Q4_K_M")}};
    };
    if (get && path == QLatin1String("/")) {
        Plan plan;
        plan.headers.append(QPair<QByteArray, QByteArray>("Content-Type", "text/plain; charset=utf-8"));
        plan.body = "Ollama is running";
        return plan;
    }
    if (get && path == QLatin1String("/api/version"))
        return json(200, QJsonObject{{QStringLiteral("version"), m_config.version}});
    if (get && path == QLatin1String("/api/tags")) {
        QJsonArray models;
        if (state.llmListed)
            models.append(QJsonObject{{QStringLiteral("name"), tag},
                                      {QStringLiteral("model"), tag},
                                      {QStringLiteral("modified_at"), modified},
                                      {QStringLiteral("size"), 4683073952.0},
                                      {QStringLiteral("digest"), QStringLiteral("sha256:5a9e1b2f")},
                                      {QStringLiteral("details"), details()}});
        return json(200, QJsonObject{{QStringLiteral("models"), models}});
    }
    if (get && path == QLatin1String("/api/ps")) {
        QJsonArray models;
        if (state.llmLoaded)
            models.append(
                QJsonObject{{QStringLiteral("name"), tag},
                            {QStringLiteral("model"), tag},
                            {QStringLiteral("size"), 6200000000.0},
                            {QStringLiteral("digest"), QStringLiteral("sha256:5a9e1b2f")},
                            {QStringLiteral("details"), details()},
                            {QStringLiteral("expires_at"),
                             QDateTime::currentDateTimeUtc().addSecs(300).toString(Qt::ISODateWithMs)},
                            {QStringLiteral("size_vram"), 6200000000.0},
                            {QStringLiteral("context_length"), m_config.contextLength}});
        return json(200, QJsonObject{{QStringLiteral("models"), models}});
    }
    if (post && path == QLatin1String("/api/show")) {
        const QString name =
            QJsonDocument::fromJson(request.body).object().value(QStringLiteral("model")).toString();
        if (name != m_config.modelId && name != tag)
            return json(404, QJsonObject{{QStringLiteral("error"),
                                          QStringLiteral("model '%1' not found").arg(name)}});
        return json(
            200,
            QJsonObject{{QStringLiteral("details"), details()},
                        {QStringLiteral("parameters"), QStringLiteral("stop \"<|eot_id|>\"")},
                        {QStringLiteral("template"), QStringLiteral("{{ .Prompt }}")},
                        {QStringLiteral("model_info"),
                         QJsonObject{{QStringLiteral("llama.context_length"), m_config.maxContextLength}}},
                        {QStringLiteral("capabilities"), QJsonArray{QStringLiteral("completion")}}});
    }
    if (get && path == QLatin1String("/v1/models")) {
        QJsonArray data;
        if (state.llmListed)
            data.append(QJsonObject{{QStringLiteral("id"), tag},
                                    {QStringLiteral("object"), QStringLiteral("model")},
                                    {QStringLiteral("created"), m_created},
                                    {QStringLiteral("owned_by"), QStringLiteral("library")}});
        return json(200, QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                                     {QStringLiteral("data"), data}});
    }
    if (post && path == QLatin1String("/v1/chat/completions"))
        return chat(request, false);
    if (post && path == QLatin1String("/v1/embeddings"))
        return embeddings(request);
    Plan plan; // Go's net/http default
    plan.status = 404;
    plan.headers.append(QPair<QByteArray, QByteArray>("Content-Type", "text/plain"));
    plan.body = "404 page not found";
    return plan;
}

SandboxLlmServer::Plan SandboxLlmServer::routeLlamaCpp(const net::HttpRequest& request)
{
    const QString path = request.path;
    const bool get = request.method == "GET" || request.method == "HEAD";
    const bool post = request.method == "POST";
    const ModelState state = modelState();
    if (get && (path == QLatin1String("/health") || path == QLatin1String("/v1/health"))) {
        if (!state.llmLoaded)
            return error(503, QStringLiteral("Loading model"), QStringLiteral("unavailable_error"));
        return json(200, QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}});
    }
    if (get && path == QLatin1String("/props")) {
        return json(
            200, QJsonObject{
                     {QStringLiteral("default_generation_settings"),
                      QJsonObject{{QStringLiteral("n_ctx"), m_config.contextLength},
                                  {QStringLiteral("params"), QJsonObject{{QStringLiteral("temperature"), 0.8},
                                                                         {QStringLiteral("top_p"), 0.95}}}}},
                     {QStringLiteral("total_slots"), 1},
                     {QStringLiteral("model_path"), QStringLiteral("/models/%1.gguf").arg(m_config.modelId)},
                     {QStringLiteral("chat_template"), QStringLiteral("{% for message in messages %}...")},
                     {QStringLiteral("modalities"), QJsonObject{{QStringLiteral("vision"), false}}},
                     {QStringLiteral("build_info"), QStringLiteral("b6097-9515c613")}});
    }
    if (get && (path == QLatin1String("/v1/models") || path == QLatin1String("/models"))) {
        const QJsonValue meta =
            state.llmLoaded
                ? QJsonValue(QJsonObject{{QStringLiteral("vocab_type"), 2},
                                         {QStringLiteral("n_vocab"), 128256},
                                         {QStringLiteral("n_ctx_train"), m_config.maxContextLength},
                                         {QStringLiteral("n_embd"), 4096},
                                         {QStringLiteral("n_params"), 7241732096.0},
                                         {QStringLiteral("size"), 4683073952.0}})
                : QJsonValue();
        return json(
            200, QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                             {QStringLiteral("data"),
                              QJsonArray{QJsonObject{{QStringLiteral("id"), m_config.modelId},
                                                     {QStringLiteral("object"), QStringLiteral("model")},
                                                     {QStringLiteral("created"), m_created},
                                                     {QStringLiteral("owned_by"), QStringLiteral("llamacpp")},
                                                     {QStringLiteral("meta"), meta}}}}});
    }
    if (post && (path == QLatin1String("/v1/chat/completions") || path == QLatin1String("/chat/completions")))
        return chat(request, false);
    if (post && (path == QLatin1String("/v1/embeddings") || path == QLatin1String("/embeddings")))
        return error(501,
                     QStringLiteral("This server does not support embeddings. Start it with `--embeddings`"),
                     QStringLiteral("not_supported_error"));
    return error(404, QStringLiteral("File Not Found"), QStringLiteral("not_found_error"));
}

SandboxLlmServer::Plan SandboxLlmServer::chat(const net::HttpRequest& request, bool nativeV0)
{
    const bool lmstudio = isFlavour(m_config, "lmstudio");
    const bool ollama = isFlavour(m_config, "ollama");
    const bool llamacpp = isFlavour(m_config, "llamacpp");
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body, &parseError);
    const QJsonObject body = doc.object();
    {
        QMutexLocker lock(&m_mutex);
        ++m_chatRequests;
        m_lastChatRequest = body;
    }
    Q_EMIT chatRequestReceived(body);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return error(400,
                     QStringLiteral("Unexpected token in JSON body at position %1").arg(parseError.offset));
    const QJsonValue messagesValue = body.value(QStringLiteral("messages"));
    if (!messagesValue.isArray())
        return error(400, QStringLiteral("'messages' field is required"));
    const QJsonArray messages = messagesValue.toArray();
    if (messages.isEmpty() && ollama)
        return error(400, QStringLiteral("[] is too short - 'messages'"));

    const ModelState state = modelState();
    const std::optional<LlmFaultRule> fault = takeFault();
    const auto is = [&fault](LlmFaultKind kind) { return fault && fault->kind == kind; };

    // Which model answers (LM Studio's rules; the other flavours serve their one model whatever is named).
    const QString requested = body.value(QStringLiteral("model")).toString();
    int holdMs = 0;
    QString model = m_config.modelId;
    if (lmstudio) {
        if (is(LlmFaultKind::NoModel))
            return error(400, kNoModels);
        if (!requested.isEmpty() && requested == m_config.embeddingModelId &&
            !is(LlmFaultKind::EmbeddingOnly))
            return error(
                400,
                QStringLiteral("Model \"%1\" is an embedding model and cannot be used for chat completions.")
                    .arg(requested));
        const bool visionRequested = visionListed() && requested == m_config.visionModelId;
        if (visionRequested)
            model = m_config.visionModelId;
        if (visionRequested && !m_visionLoaded) {
            if (!state.jit)
                return error(400, kNoModels);
            holdMs += m_config.jitLoadDelayMs; // unloaded by /api/v1/models/unload: JIT-loaded again
            m_visionLoaded = true;
        }
        if (is(LlmFaultKind::EmbeddingOnly) ||
            (!requested.isEmpty() && requested != m_config.modelId && !visionRequested)) {
            const QString example = state.llmListed ? m_config.modelId : m_config.embeddingModelId;
            return error(
                400,
                QStringLiteral("Invalid model identifier \"%1\". Please specify a valid downloaded model "
                               "(e.g., %2).")
                    .arg(requested.isEmpty() ? QStringLiteral("(none)") : requested, example),
                QStringLiteral("invalid_request_error"), QStringLiteral("model_not_found"),
                QStringLiteral("model"));
        }
        if (!state.llmLoaded && !visionRequested) {
            if (!state.jit)
                return error(400, kNoModels);
            holdMs += m_config.jitLoadDelayMs; // JIT load: the request blocks, silent, until the model is up
            setModelLoaded(true);
        }
    } else if (ollama) {
        if (!requested.isEmpty() && requested != m_config.modelId &&
            requested != m_config.modelId + QStringLiteral(":latest"))
            return error(404, QStringLiteral("model \"%1\" not found, try pulling it first").arg(requested));
        if (is(LlmFaultKind::NoModel) || is(LlmFaultKind::EmbeddingOnly))
            return error(404, QStringLiteral("model \"%1\" not found, try pulling it first").arg(requested));
        if (!state.llmLoaded) {
            holdMs += m_config.jitLoadDelayMs; // Ollama loads on demand and holds the response meanwhile
            setModelLoaded(true);
        }
        model = requested.isEmpty() ? m_config.modelId : requested;
    } else if (llamacpp) {
        if (!state.llmLoaded || is(LlmFaultKind::NoModel) || is(LlmFaultKind::EmbeddingOnly))
            return error(503, QStringLiteral("Loading model"), QStringLiteral("unavailable_error"));
    }

    if (is(LlmFaultKind::Loading503)) {
        if (lmstudio)
            return error(
                503,
                QStringLiteral("Model \"%1\" is still loading. Please try again once loading has finished.")
                    .arg(m_config.modelId));
        if (ollama)
            return error(503,
                         QStringLiteral("server busy, please try again.  maximum pending requests exceeded"));
        return error(503, QStringLiteral("Loading model"), QStringLiteral("unavailable_error"));
    }

    // Images (§5): only the vision model takes them; each server refuses them for a text-only model in its
    // own words.
    SandboxVision::Images images;
    if (SandboxVision::hasImageParts(messages)) {
        {
            QMutexLocker lock(&m_mutex);
            ++m_visionRequests;
        }
        if (model != m_config.visionModelId || !visionListed()) {
            if (llamacpp)
                return error(500,
                             QStringLiteral("image input is not supported - hint: if this is unexpected, you may "
                                            "need to provide the mmproj"),
                             QStringLiteral("server_error"));
            if (ollama)
                return error(400, QStringLiteral("this model is missing data required for image input"));
            return error(400, QStringLiteral("Model does not support images. Please use a model that does."));
        }
        images = SandboxVision::images(messages);
        if (!images.error.isEmpty())
            return error(400, images.error);
    }

    // Structured output.
    QJsonObject schema;
    bool wantJson = false;
    const QJsonValue formatValue = body.value(QStringLiteral("response_format"));
    if (formatValue.isObject()) {
        const QJsonObject format = formatValue.toObject();
        const QString type = format.value(QStringLiteral("type")).toString();
        if (type == QLatin1String("json_schema")) {
            const QJsonObject js = format.value(QStringLiteral("json_schema")).toObject();
            const QJsonValue strict = js.value(QStringLiteral("strict"));
            if (!strict.isUndefined() && !strict.isBool() && !strict.isString() && !strict.isNull())
                return error(400, QStringLiteral("'response_format.json_schema.strict' must be a boolean"));
            if (!js.value(QStringLiteral("schema")).isObject())
                return error(400, QStringLiteral("'response_format.json_schema.schema' must be an object"));
            schema = js.value(QStringLiteral("schema")).toObject();
            wantJson = true;
        } else if (type == QLatin1String("json_object") && !lmstudio) {
            schema = format.value(QStringLiteral("schema")).toObject();
            wantJson = true;
        } else if (type != QLatin1String("text")) {
            if (lmstudio)
                return error(400, QStringLiteral("'response_format.type' must be 'json_schema' or 'text'"));
            return error(
                400, QStringLiteral(
                         "response_format type must be one of \"text\", \"json_object\", \"json_schema\""));
        }
    } else if (llamacpp && body.value(QStringLiteral("json_schema")).isObject()) {
        schema = body.value(QStringLiteral("json_schema")).toObject();
        wantJson = true;
    }
    if (wantJson && schema.isEmpty())
        schema =
            QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                        {QStringLiteral("properties"),
                         QJsonObject{{QStringLiteral("title"),
                                      QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}},
                                     {QStringLiteral("summary"),
                                      QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}}}};

    // Prompt size and the loaded context.
    int promptTokens = 0;
    QString lastUser;
    for (const QJsonValue& m : messages) {
        const QJsonObject message = m.toObject();
        const QString text = messageText(message.value(QStringLiteral("content")));
        promptTokens += estimateTokens(text) + 4;
        if (message.value(QStringLiteral("role")).toString() == QLatin1String("user"))
            lastUser = text;
    }
    if (wantJson)
        promptTokens +=
            estimateTokens(QString::fromUtf8(QJsonDocument(schema).toJson(QJsonDocument::Compact)));
    promptTokens += 8; // chat template overhead
    if (is(LlmFaultKind::ContextOverflow))
        promptTokens = fault->param > 0 ? fault->param : m_config.contextLength + 1024;
    if (promptTokens > m_config.contextLength && !ollama) { // Ollama truncates silently instead
        if (llamacpp)
            return json(
                400, QJsonObject{
                         {QStringLiteral("error"),
                          QJsonObject{{QStringLiteral("code"), 400},
                                      {QStringLiteral("type"), QStringLiteral("exceed_context_size_error")},
                                      {QStringLiteral("n_prompt_tokens"), promptTokens},
                                      {QStringLiteral("n_ctx"), m_config.contextLength},
                                      {QStringLiteral("message"),
                                       QStringLiteral("request (%1 tokens) exceeds the available context "
                                                      "size (%2 tokens), try increasing it")
                                           .arg(promptTokens)
                                           .arg(m_config.contextLength)}}}});
        return error(400, QStringLiteral(
                              "The number of tokens to keep from the initial prompt is greater than the "
                              "context length (n_keep: %1>= n_ctx: %2). Try to load the model with a larger "
                              "context length, or provide a shorter input.")
                              .arg(promptTokens)
                              .arg(m_config.contextLength));
    }

    // Sampling: temperature 0 is greedy (the seed no longer matters); top_p narrows the corpus' word lists.
    // Ollama's /v1 layer defaults both to 1.0 when omitted, overriding the Modelfile.
    const double defaultTemperature = ollama ? 1.0 : 0.8;
    const double defaultTopP = ollama ? 1.0 : 0.95;
    const double temperature = body.value(QStringLiteral("temperature")).toDouble(defaultTemperature);
    const double topP = body.value(QStringLiteral("top_p")).toDouble(defaultTopP);
    quint64 seed = StoryCorpus::seedForRequest(body);
    if (temperature <= 0.0) {
        QJsonObject greedy = body;
        greedy.remove(QStringLiteral("seed"));
        seed = StoryCorpus::seedForRequest(greedy);
    }
    StoryCorpus corpus(seed, lastUser, temperature <= 0.0 ? 1.0 : topP);

    QString content;
    QString reasoning;
    QString finishReason = QStringLiteral("stop");
    const std::optional<QJsonObject> judged =
        wantJson ? SandboxVision::judge(schema, lastUser, images.images) : std::nullopt;
    if (judged) {
        // Judge answers follow from the request's content (see SandboxVision), not from the corpus.
        content = QString::fromUtf8(QJsonDocument(*judged).toJson(QJsonDocument::Compact));
    } else if (!images.images.isEmpty() && !wantJson) {
        content = SandboxVision::caption(images.images.first());
    } else if (wantJson) {
        const QJsonValue value = corpus.fill(schema, is(LlmFaultKind::FewerItems));
        content = value.isObject()
                      ? QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact))
                  : value.isArray()
                      ? QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact))
                      : QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact))
                            .mid(1)
                            .chopped(1);
    } else {
        content = corpus.paragraph();
    }
    if (is(LlmFaultKind::MalformedJson)) {
        // A trailing comma and the closing brace missing: what a sampler without grammar produces when it
        // runs off.
        const int close = int(content.lastIndexOf(QLatin1Char('}')));
        if (close > 0)
            content = content.left(close) + QStringLiteral(",\n");
        else
            content += QStringLiteral(", {");
    } else if (is(LlmFaultKind::FencedThink)) {
        content =
            QStringLiteral("<think>\nThe user wants %1. I will keep the characters consistent and answer "
                           "in the requested shape.\n</think>\n\n```json\n%2\n```")
                .arg(wantJson ? QStringLiteral("JSON matching the schema")
                              : QStringLiteral("a short passage"),
                     content);
    } else if (is(LlmFaultKind::ReasoningOnly)) {
        reasoning = QStringLiteral("Let me think about this carefully. ") + corpus.paragraph() +
                    QLatin1Char(' ') + corpus.paragraph() +
                    QStringLiteral(" Now let me reconsider the structure once more. ") + corpus.paragraph();
        content.clear();
        finishReason = QStringLiteral("length");
    } else if (is(LlmFaultKind::Truncated)) {
        const QStringList pieces = tokenize(content);
        content = pieces.mid(0, qMax(1, int(pieces.size() * 55 / 100))).join(QString());
        finishReason = QStringLiteral("length");
    }
    // stop sequences, then the max_tokens budget.
    QStringList stops;
    const QJsonValue stopValue = body.value(QStringLiteral("stop"));
    if (stopValue.isString())
        stops << stopValue.toString();
    for (const QJsonValue& s : stopValue.toArray())
        stops << s.toString();
    for (const QString& stop : stops) {
        const int at = stop.isEmpty() ? -1 : int(content.indexOf(stop));
        if (at >= 0) {
            content.truncate(at);
            finishReason = QStringLiteral("stop");
        }
    }
    QStringList contentPieces = tokenize(content);
    const QStringList reasoningPieces = tokenize(reasoning);
    const int maxTokens = body.value(QStringLiteral("max_tokens")).toInt(-1);
    if (maxTokens > 0 && contentPieces.size() + reasoningPieces.size() > maxTokens) {
        contentPieces = contentPieces.mid(0, qMax(0, maxTokens - int(reasoningPieces.size())));
        content = contentPieces.join(QString());
        finishReason = QStringLiteral("length");
    }
    const int completionTokens = int(contentPieces.size() + reasoningPieces.size());
    QJsonObject usage{{QStringLiteral("prompt_tokens"), promptTokens},
                      {QStringLiteral("completion_tokens"), completionTokens},
                      {QStringLiteral("total_tokens"), promptTokens + completionTokens}};
    const QString reasoningField = ollama ? QStringLiteral("reasoning") : QStringLiteral("reasoning_content");
    const QString fingerprint = ollama     ? QStringLiteral("fp_ollama")
                                : llamacpp ? QStringLiteral("b6097-9515c613")
                                           : model;
    const QString id = newCompletionId();
    const qint64 created = QDateTime::currentSecsSinceEpoch();
    if (is(LlmFaultKind::ColdLoad))
        holdMs += fault->param;
    const double generationSeconds = completionTokens * qMax(1, m_config.tokenDelayMs) / 1000.0;
    const double ttft = qMax(1, m_config.firstTokenDelayMs) / 1000.0;

    const bool stream = body.value(QStringLiteral("stream")).toBool(false);
    const QString streamErrorText =
        QStringLiteral("The model has crashed without additional information. (Exit code: null)");
    if (!stream) {
        QJsonObject message{{QStringLiteral("role"), QStringLiteral("assistant")},
                            {QStringLiteral("content"), content}};
        if (!reasoning.isEmpty())
            message.insert(reasoningField, reasoning);
        QJsonObject response{{QStringLiteral("id"), id},
                             {QStringLiteral("object"), QStringLiteral("chat.completion")},
                             {QStringLiteral("created"), created},
                             {QStringLiteral("model"), model},
                             {QStringLiteral("system_fingerprint"), fingerprint},
                             {QStringLiteral("choices"),
                              QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                                                     {QStringLiteral("logprobs"), QJsonValue()},
                                                     {QStringLiteral("finish_reason"), finishReason},
                                                     {QStringLiteral("message"), message}}}},
                             {QStringLiteral("usage"), usage}};
        if (lmstudio && !nativeV0) {
            response.insert(QStringLiteral("stats"), QJsonObject()); // present but empty on /v1 (issue #601)
        } else if (lmstudio) {
            response.insert(
                QStringLiteral("stats"),
                QJsonObject{{QStringLiteral("tokens_per_second"),
                             generationSeconds > 0 ? completionTokens / generationSeconds : 0.0},
                            {QStringLiteral("time_to_first_token"), ttft},
                            {QStringLiteral("generation_time"), generationSeconds},
                            {QStringLiteral("stop_reason"), finishReason == QLatin1String("length")
                                                                ? QStringLiteral("maxPredictedTokensReached")
                                                                : QStringLiteral("eosFound")}});
            response.insert(QStringLiteral("model_info"),
                            QJsonObject{{QStringLiteral("arch"), QStringLiteral("llama")},
                                        {QStringLiteral("quant"), QStringLiteral("Q4_K_M")},
                                        {QStringLiteral("format"), QStringLiteral("gguf")},
                                        {QStringLiteral("context_length"), m_config.contextLength}});
            response.insert(
                QStringLiteral("runtime"),
                QJsonObject{
                    {QStringLiteral("name"), QStringLiteral("llama.cpp-linux-x86_64-nvidia-cuda-avx2")},
                    {QStringLiteral("version"), QStringLiteral("1.52.0")},
                    {QStringLiteral("supported_formats"), QJsonArray{QStringLiteral("gguf")}}});
        } else if (llamacpp) {
            response.insert(
                QStringLiteral("timings"),
                QJsonObject{{QStringLiteral("prompt_n"), promptTokens},
                            {QStringLiteral("prompt_ms"), ttft * 1000},
                            {QStringLiteral("predicted_n"), completionTokens},
                            {QStringLiteral("predicted_ms"), generationSeconds * 1000},
                            {QStringLiteral("predicted_per_second"),
                             generationSeconds > 0 ? completionTokens / generationSeconds : 0.0}});
        }
        Plan plan;
        if (is(LlmFaultKind::StreamError))
            plan = error(500, streamErrorText);
        else
            plan = json(200, response);
        // A non-streaming answer arrives only once generation is over.
        plan.holdMs = holdMs + m_config.firstTokenDelayMs + completionTokens * m_config.tokenDelayMs;
        if (is(LlmFaultKind::Stall)) {
            plan.holdMs = -1; // the answer never comes; the socket stays open until the client gives up
        }
        if (is(LlmFaultKind::EofNoDone))
            plan.sendBodyBytes = int(plan.body.size() / 2);
        return plan;
    }

    // Streaming.
    Plan plan;
    plan.holdMs = holdMs;
    plan.streaming = true;
    plan.countsAsStream = true;
    if (lmstudio)
        plan.headers.append(QPair<QByteArray, QByteArray>("X-Powered-By", "Express"));
    plan.headers.append(QPair<QByteArray, QByteArray>("Content-Type", "text/event-stream"));
    plan.headers.append(QPair<QByteArray, QByteArray>("Cache-Control", "no-cache"));
    plan.headers.append(QPair<QByteArray, QByteArray>("Connection", "keep-alive"));
    auto chunk = [&](const QJsonObject& delta, const QJsonValue& finish) {
        return QJsonObject{
            {QStringLiteral("id"), id},
            {QStringLiteral("object"), QStringLiteral("chat.completion.chunk")},
            {QStringLiteral("created"), created},
            {QStringLiteral("model"), model},
            {QStringLiteral("system_fingerprint"), fingerprint},
            {QStringLiteral("choices"), QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                                                               {QStringLiteral("delta"), delta},
                                                               {QStringLiteral("logprobs"), QJsonValue()},
                                                               {QStringLiteral("finish_reason"), finish}}}}};
    };
    QJsonObject roleDelta{{QStringLiteral("role"), QStringLiteral("assistant")}};
    if (llamacpp)
        roleDelta.insert(QStringLiteral("content"), QJsonValue());
    plan.pieces.append({0, sse(chunk(roleDelta, QJsonValue()))});
    QList<LlmStreamConnection::Piece> tokens;
    for (const QString& piece : reasoningPieces)
        tokens.append(
            {m_config.tokenDelayMs, sse(chunk(QJsonObject{{reasoningField, piece}}, QJsonValue()))});
    for (const QString& piece : contentPieces)
        tokens.append({m_config.tokenDelayMs,
                       sse(chunk(QJsonObject{{QStringLiteral("content"), piece}}, QJsonValue()))});
    if (!tokens.isEmpty())
        tokens.first().delayMs = qMax(m_config.firstTokenDelayMs, m_config.tokenDelayMs);

    const int cutAt = int(tokens.size()) * 2 / 5; // where mid-stream faults strike
    if (is(LlmFaultKind::StreamError)) {
        plan.pieces.append(tokens.mid(0, cutAt));
        const QJsonObject err{
            {QStringLiteral("error"), QJsonObject{{QStringLiteral("message"), streamErrorText}}},
            {QStringLiteral("message"), streamErrorText}};
        QByteArray event;
        if (llamacpp)
            event = "data: " +
                    QJsonDocument(
                        QJsonObject{{QStringLiteral("error"),
                                     QJsonObject{{QStringLiteral("code"), 500},
                                                 {QStringLiteral("message"), streamErrorText},
                                                 {QStringLiteral("type"), QStringLiteral("server_error")}}}})
                        .toJson(QJsonDocument::Compact) +
                    "\n\n";
        else
            event = "event: error\ndata: " + QJsonDocument(err).toJson(QJsonDocument::Compact) + "\n\n";
        plan.pieces.append({m_config.tokenDelayMs, event});
        return plan;
    }
    if (is(LlmFaultKind::Stall)) {
        plan.pieces.append(tokens.mid(0, cutAt));
        plan.end = LlmStreamConnection::End::Stall;
        return plan;
    }
    if (is(LlmFaultKind::EofNoDone)) {
        plan.pieces.append(tokens.mid(0, int(tokens.size()) * 3 / 5));
        return plan; // the response ends cleanly, the SSE stream without finish_reason or [DONE]
    }
    plan.pieces.append(tokens);
    QJsonObject finish = chunk(QJsonObject(), finishReason);
    if (llamacpp) {
        // llama.cpp puts usage and timings on the finish chunk, include_usage or not.
        finish.insert(QStringLiteral("usage"), usage);
        finish.insert(QStringLiteral("timings"),
                      QJsonObject{{QStringLiteral("prompt_n"), promptTokens},
                                  {QStringLiteral("predicted_n"), completionTokens},
                                  {QStringLiteral("predicted_per_second"),
                                   generationSeconds > 0 ? completionTokens / generationSeconds : 0.0}});
    }
    plan.pieces.append({m_config.tokenDelayMs, sse(finish)});
    const bool includeUsage = body.value(QStringLiteral("stream_options"))
                                  .toObject()
                                  .value(QStringLiteral("include_usage"))
                                  .toBool(false);
    if (includeUsage && !llamacpp) {
        QJsonObject usageChunk{{QStringLiteral("id"), id},
                               {QStringLiteral("object"), QStringLiteral("chat.completion.chunk")},
                               {QStringLiteral("created"), created},
                               {QStringLiteral("model"), model},
                               {QStringLiteral("system_fingerprint"), fingerprint},
                               {QStringLiteral("choices"), QJsonArray()},
                               {QStringLiteral("usage"), usage}};
        plan.pieces.append({0, sse(usageChunk)});
    }
    plan.pieces.append({0, QByteArrayLiteral("data: [DONE]\n\n")});
    return plan;
}

SandboxLlmServer::Plan SandboxLlmServer::embeddings(const net::HttpRequest& request)
{
    const bool lmstudio = isFlavour(m_config, "lmstudio");
    {
        QMutexLocker lock(&m_mutex);
        ++m_embeddingRequests;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return error(400,
                     QStringLiteral("Unexpected token in JSON body at position %1").arg(parseError.offset));
    const QJsonObject body = doc.object();
    const ModelState state = modelState();
    const QString requested = body.value(QStringLiteral("model")).toString();
    if (lmstudio) {
        if (const auto fault = peekFault(); fault && fault->kind == LlmFaultKind::NoModel)
            return error(400, kNoModels);
        if (requested == m_config.modelId)
            return error(400,
                         QStringLiteral("Model \"%1\" is not an embedding model. Please use a model of type "
                                        "'embeddings' for /v1/embeddings.")
                             .arg(requested));
        if (!requested.isEmpty() && requested != m_config.embeddingModelId)
            return error(
                400,
                QStringLiteral("Invalid model identifier \"%1\". Please specify a valid downloaded model "
                               "(e.g., %2).")
                    .arg(requested, m_config.embeddingModelId),
                QStringLiteral("invalid_request_error"), QStringLiteral("model_not_found"),
                QStringLiteral("model"));
        if (!state.embeddingLoaded && !state.jit)
            return error(400, kNoModels);
        m_embeddingLoaded = true;
    } else if (requested != m_config.embeddingModelId) {
        return error(isFlavour(m_config, "ollama") ? 400 : 501,
                     QStringLiteral("\"%1\" does not support embeddings").arg(requested));
    }
    QStringList inputs;
    const QJsonValue input = body.value(QStringLiteral("input"));
    if (input.isString()) {
        inputs << input.toString();
    } else if (input.isArray()) {
        for (const QJsonValue& v : input.toArray()) {
            if (!v.isString())
                return error(400, QStringLiteral("'input' field must be a string or an array of strings"));
            inputs << v.toString();
        }
    } else {
        return error(400, QStringLiteral("'input' field must be a string or an array of strings"));
    }
    // 256-dim hashed bag of words, unit length: texts sharing words are close, unrelated texts are not.
    static const QRegularExpression word(QStringLiteral("[\\p{L}\\p{N}']+"),
                                         QRegularExpression::UseUnicodePropertiesOption);
    QJsonArray data;
    int tokens = 0;
    for (int i = 0; i < inputs.size(); ++i) {
        std::array<double, 256> v{};
        QStringList all;
        auto it = word.globalMatch(inputs.at(i).toLower());
        while (it.hasNext())
            all << it.next().captured(0);
        QStringList content;
        for (const QString& w : all)
            if (!kEmbeddingStopWords.contains(w))
                content << w;
        const QStringList& counted = content.isEmpty() ? all : content; // function words only: keep them
        const int words = int(all.size());
        for (const QString& w : counted) {
            // FNV's low bits are weak for short words: finalise (murmur3 fmix64) before bucketing.
            quint64 h = StoryCorpus::hash(w.toUtf8());
            h ^= h >> 33;
            h *= 0xff51afd7ed558ccdULL;
            h ^= h >> 33;
            h *= 0xc4ceb9fe1a85ec53ULL;
            h ^= h >> 33;
            v[h % 256] += (h >> 63) ? -1.0 : 1.0;
        }
        tokens += words;
        double norm = 0;
        for (double x : v)
            norm += x * x;
        if (norm == 0) {
            v[StoryCorpus::hash(inputs.at(i).toUtf8()) % 256] = 1.0;
            norm = 1.0;
        }
        norm = std::sqrt(norm);
        QJsonArray vector;
        for (double x : v)
            vector.append(x / norm);
        data.append(QJsonObject{{QStringLiteral("object"), QStringLiteral("embedding")},
                                {QStringLiteral("embedding"), vector},
                                {QStringLiteral("index"), i}});
    }
    const int reported = lmstudio ? 0 : tokens; // LM Studio reports zeros (doc example)
    return json(
        200, QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                         {QStringLiteral("data"), data},
                         {QStringLiteral("model"), m_config.embeddingModelId},
                         {QStringLiteral("usage"), QJsonObject{{QStringLiteral("prompt_tokens"), reported},
                                                               {QStringLiteral("total_tokens"), reported}}}});
}

} // namespace gd::sandbox
