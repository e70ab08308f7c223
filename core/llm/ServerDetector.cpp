#include "llm/ServerDetector.h"

#include "common/Log.h"
#include "net/HttpClient.h"
#include "net/HttpJob.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

namespace gd::llm {

namespace {

// §6.2: connect 2 s, whole probe 4 s. A local server answers these in milliseconds.
const net::HttpLimits kProbeLimits{2000, 4000, 8LL * 1024 * 1024};

QString normalisedType(const QString& type)
{
    const QString t = type.toLower();
    if (t == QLatin1String("embedding") || t == QLatin1String("embeddings"))
        return QStringLiteral("embeddings");
    if (t == QLatin1String("vlm"))
        return QStringLiteral("vlm");
    return QStringLiteral("llm");
}

} // namespace

ServerDetector::ServerDetector(net::HttpClient* http, QObject* parent) : QObject(parent), m_http(http) {}

QJsonObject ServerDetector::ProbeResult::json() const
{
    return QJsonDocument::fromJson(body).object();
}

bool ServerDetector::looksLikeEmbeddingModel(const QString& id)
{
    const QString lower = id.toLower();
    return lower.contains(QLatin1String("embed")) || lower.startsWith(QLatin1String("all-minilm")) ||
           lower.contains(QLatin1String("bge-")) || lower.contains(QLatin1String("e5-"));
}

std::optional<QVector<ModelInfo>> ServerDetector::parseLmStudioV1(const QJsonObject& body)
{
    const QJsonValue models = body.value(QStringLiteral("models"));
    if (!models.isArray())
        return std::nullopt;
    QVector<ModelInfo> out;
    for (const QJsonValue& v : models.toArray()) {
        const QJsonObject m = v.toObject();
        if (!m.contains(QStringLiteral("key")) && !m.contains(QStringLiteral("loaded_instances")))
            return std::nullopt; // Ollama's /api/tags also has models[], but with name/digest items
        ModelInfo info;
        info.id = m.value(QStringLiteral("key")).toString();
        const QJsonArray instances = m.value(QStringLiteral("loaded_instances")).toArray();
        if (info.id.isEmpty() && !instances.isEmpty())
            info.id = instances.first().toObject().value(QStringLiteral("id")).toString();
        if (info.id.isEmpty())
            continue;
        info.type = normalisedType(m.value(QStringLiteral("type")).toString());
        info.loaded = !instances.isEmpty();
        // The loaded context is what the prompt must fit, not the trained maximum.
        info.contextLength = instances.isEmpty() ? m.value(QStringLiteral("max_context_length")).toInt()
                                                 : instances.first()
                                                       .toObject()
                                                       .value(QStringLiteral("config"))
                                                       .toObject()
                                                       .value(QStringLiteral("context_length"))
                                                       .toInt();
        info.vision =
            m.value(QStringLiteral("capabilities")).toObject().value(QStringLiteral("vision")).toBool();
        out.append(info);
    }
    return out;
}

std::optional<QVector<ModelInfo>> ServerDetector::parseLmStudioV0(const QJsonObject& body)
{
    const QJsonValue data = body.value(QStringLiteral("data"));
    if (!data.isArray())
        return std::nullopt;
    QVector<ModelInfo> out;
    for (const QJsonValue& v : data.toArray()) {
        const QJsonObject m = v.toObject();
        if (!m.contains(QStringLiteral("state")) || !m.contains(QStringLiteral("type")))
            return std::nullopt;
        ModelInfo info;
        info.id = m.value(QStringLiteral("id")).toString();
        if (info.id.isEmpty())
            continue;
        info.type = normalisedType(m.value(QStringLiteral("type")).toString());
        info.vision = info.type == QLatin1String("vlm");
        info.loaded = m.value(QStringLiteral("state")).toString() == QLatin1String("loaded");
        info.contextLength = m.contains(QStringLiteral("loaded_context_length"))
                                 ? m.value(QStringLiteral("loaded_context_length")).toInt()
                                 : m.value(QStringLiteral("max_context_length")).toInt();
        out.append(info);
    }
    return out;
}

std::optional<QVector<ModelInfo>> ServerDetector::parseOpenAiModels(const QJsonObject& body)
{
    const QJsonValue data = body.value(QStringLiteral("data"));
    if (body.value(QStringLiteral("object")).toString() != QLatin1String("list") || !data.isArray())
        return std::nullopt;
    QVector<ModelInfo> out;
    for (const QJsonValue& v : data.toArray()) {
        const QJsonObject m = v.toObject();
        ModelInfo info;
        info.id = m.value(QStringLiteral("id")).toString();
        if (info.id.isEmpty())
            continue;
        // /v1/models has no type or load state; a listed model is one the server will serve.
        info.type = looksLikeEmbeddingModel(info.id) ? QStringLiteral("embeddings") : QStringLiteral("llm");
        info.loaded = true;
        info.contextLength =
            m.value(QStringLiteral("meta")).toObject().value(QStringLiteral("n_ctx_train")).toInt();
        out.append(info);
    }
    return out;
}

QVector<ModelInfo> ServerDetector::parseOllama(const QJsonObject& tags, const QJsonObject& ps)
{
    QHash<QString, int> loadedContext;
    for (const QJsonValue& v : ps.value(QStringLiteral("models")).toArray()) {
        const QJsonObject m = v.toObject();
        QString name = m.value(QStringLiteral("name")).toString();
        if (name.isEmpty())
            name = m.value(QStringLiteral("model")).toString();
        if (!name.isEmpty())
            loadedContext.insert(name, m.value(QStringLiteral("context_length")).toInt());
    }
    QVector<ModelInfo> out;
    QSet<QString> seen;
    auto add = [&](const QString& name, const QString& family) {
        if (name.isEmpty() || seen.contains(name))
            return;
        seen.insert(name);
        ModelInfo info;
        info.id = name;
        // Ollama states "embedding" only through /api/show capabilities; name and family are the cheap tell.
        const bool embedding = looksLikeEmbeddingModel(name) || family.contains(QLatin1String("bert"));
        info.type = embedding ? QStringLiteral("embeddings") : QStringLiteral("llm");
        info.loaded = loadedContext.contains(name);
        info.contextLength = loadedContext.value(name, 0);
        out.append(info);
    };
    for (const QJsonValue& v : tags.value(QStringLiteral("models")).toArray()) {
        const QJsonObject m = v.toObject();
        QString name = m.value(QStringLiteral("name")).toString();
        if (name.isEmpty())
            name = m.value(QStringLiteral("model")).toString();
        add(name, m.value(QStringLiteral("details")).toObject().value(QStringLiteral("family")).toString());
    }
    for (auto it = loadedContext.cbegin(); it != loadedContext.cend(); ++it)
        add(it.key(), {});
    return out;
}

void ServerDetector::start()
{
    if (!m_http) {
        m_info.error = {QStringLiteral("unreachable"), QStringLiteral("LLM client is gone"), {}};
        finish();
        return;
    }
    stepOllama();
}

void ServerDetector::probe(const QString& path, ProbeHandler handler)
{
    if (!m_http) {
        m_info.error = {QStringLiteral("unreachable"), QStringLiteral("LLM client is gone"), {}};
        finish();
        return;
    }
    net::HttpJob* job = m_http->get(path, {}, kProbeLimits);
    connect(job, &net::HttpJob::succeeded, this, [handler](int status, const QByteArray& body) {
        handler(ProbeResult{true, status, body, {}});
    });
    connect(job, &net::HttpJob::failed, this, [handler, job](const Error& error) {
        handler(ProbeResult{false, job->statusCode(), job->body(), error});
    });
}

bool ServerDetector::fatal(const ProbeResult& r)
{
    if (r.ok)
        return false;
    if (r.status == 401 || r.status == 403)
        m_authStatus = r.status;
    if (r.status != 0)
        return false; // the server answered; this route just is not its shape
    const QString root = m_http ? m_http->baseUrl().toDisplayString(QUrl::RemoveUserInfo) : QString();
    if (r.error.kind == QLatin1String("timeout")) {
        m_info.error = {QStringLiteral("timeout"),
                        QStringLiteral("The LLM server at %1 did not answer within %2 s")
                            .arg(root)
                            .arg(kProbeLimits.totalTimeoutMs / 1000),
                        {{QStringLiteral("url"), root}}};
    } else {
        m_info.error = {QStringLiteral("unreachable"),
                        QStringLiteral("No LLM server is running at %1 (%2). Start the LM Studio server, "
                                       "`ollama serve` or llama-server, or check the URL.")
                            .arg(root, r.error.message.section(QStringLiteral(": "), -1)),
                        {{QStringLiteral("url"), root}, {QStringLiteral("cause"), r.error.message}}};
    }
    finish();
    return true;
}

void ServerDetector::stepOllama()
{
    probe(QStringLiteral("/api/version"), [this](const ProbeResult& r) {
        if (fatal(r))
            return;
        const QJsonValue version = r.ok ? r.json().value(QStringLiteral("version")) : QJsonValue();
        if (!version.isString()) {
            stepLmStudioV1();
            return;
        }
        // LM Studio 0.3 answered 200 to unknown routes; the root text is Ollama's own signature.
        probe(QStringLiteral("/"), [this, v = version.toString()](const ProbeResult& root) {
            if (fatal(root))
                return;
            if (!root.ok || !root.body.contains("Ollama is running")) {
                stepLmStudioV1();
                return;
            }
            probe(QStringLiteral("/api/tags"), [this, v](const ProbeResult& tags) {
                if (fatal(tags))
                    return;
                probe(QStringLiteral("/api/ps"), [this, v, tags](const ProbeResult& ps) {
                    if (fatal(ps))
                        return;
                    m_info.flavour = ServerFlavour::Ollama;
                    m_info.version = v;
                    m_info.models =
                        parseOllama(tags.ok ? tags.json() : QJsonObject(), ps.ok ? ps.json() : QJsonObject());
                    finish();
                });
            });
        });
    });
}

void ServerDetector::stepLmStudioV1()
{
    probe(QStringLiteral("/api/v1/models"), [this](const ProbeResult& r) {
        if (fatal(r))
            return;
        const auto models = r.ok ? parseLmStudioV1(r.json()) : std::nullopt;
        if (!models) {
            stepLmStudioV0();
            return;
        }
        m_info.flavour = ServerFlavour::LmStudio;
        m_info.version = QStringLiteral("api/v1");
        m_info.models = *models;
        finish();
    });
}

void ServerDetector::stepLmStudioV0()
{
    probe(QStringLiteral("/api/v0/models"), [this](const ProbeResult& r) {
        if (fatal(r))
            return;
        const auto models = r.ok ? parseLmStudioV0(r.json()) : std::nullopt;
        if (!models) {
            stepLlamaCpp();
            return;
        }
        m_info.flavour = ServerFlavour::LmStudio;
        m_info.version = QStringLiteral("api/v0");
        m_info.models = *models;
        finish();
    });
}

void ServerDetector::stepLlamaCpp()
{
    probe(QStringLiteral("/props"), [this](const ProbeResult& r) {
        if (fatal(r))
            return;
        const QJsonObject props = r.ok ? r.json() : QJsonObject();
        if (!props.contains(QStringLiteral("default_generation_settings")) &&
            !props.contains(QStringLiteral("build_info"))) {
            stepGeneric();
            return;
        }
        m_info.flavour = ServerFlavour::LlamaCpp;
        m_info.version = props.value(QStringLiteral("build_info")).toString();
        const int nCtx = props.value(QStringLiteral("default_generation_settings"))
                             .toObject()
                             .value(QStringLiteral("n_ctx"))
                             .toInt();
        const QString modelPath = props.value(QStringLiteral("model_path")).toString();
        probe(QStringLiteral("/v1/models"), [this, nCtx, modelPath](const ProbeResult& list) {
            if (fatal(list))
                return;
            auto models = list.ok ? parseOpenAiModels(list.json()) : std::nullopt;
            if (models) {
                m_info.models = *models;
            } else if (!modelPath.isEmpty()) {
                // /v1/models answers 503 while the model loads; the one model is known from /props.
                ModelInfo info;
                info.id = QFileInfo(modelPath).fileName();
                info.loaded = true;
                m_info.models = {info};
            }
            // llama-server serves exactly one model, fixed at start; n_ctx is the per-slot context.
            for (ModelInfo& m : m_info.models) {
                m.loaded = true;
                m.type = QStringLiteral("llm");
                if (nCtx > 0)
                    m.contextLength = nCtx;
            }
            finish();
        });
    });
}

void ServerDetector::stepGeneric()
{
    probe(QStringLiteral("/v1/models"), [this](const ProbeResult& r) {
        if (fatal(r))
            return;
        const auto models = r.ok ? parseOpenAiModels(r.json()) : std::nullopt;
        if (models) {
            m_info.flavour = ServerFlavour::OpenAiGeneric;
            m_info.models = *models;
            finish();
            return;
        }
        const QString root = m_http ? m_http->baseUrl().toDisplayString(QUrl::RemoveUserInfo) : QString();
        if (m_authStatus != 0) {
            m_info.error = {QStringLiteral("http"),
                            QStringLiteral("The LLM server at %1 requires an API key (HTTP %2); set the key "
                                           "configured in the server")
                                .arg(root)
                                .arg(m_authStatus),
                            {{QStringLiteral("status"), m_authStatus}, {QStringLiteral("url"), root}}};
        } else {
            m_info.error = {
                QStringLiteral("protocol"),
                QStringLiteral("The server at %1 answered, but not like LM Studio, Ollama, llama.cpp or "
                               "an OpenAI-compatible server (no model listing found)")
                    .arg(root),
                {{QStringLiteral("url"), root}}};
        }
        finish();
    });
}

void ServerDetector::finish()
{
    if (m_done)
        return;
    m_done = true;
    if (m_info.error.isNull())
        gd::log::get("llm")->info("detected {} server ({} models)", flavourName(m_info.flavour).toStdString(),
                                  m_info.models.size());
    else
        gd::log::get("llm")->info("detection failed: {}", m_info.error.message.toStdString());
    Q_EMIT finished(m_info);
    deleteLater();
}

} // namespace gd::llm
