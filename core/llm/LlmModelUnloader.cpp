#include "llm/LlmModelUnloader.h"

#include "net/HttpClient.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace gd::llm {

namespace {
net::HttpLimits limits()
{
    net::HttpLimits l;
    l.idleTimeoutMs = 10000;
    l.totalTimeoutMs = 30000;
    l.maxResponseBytes = 8LL * 1024 * 1024;
    return l;
}
} // namespace

QJsonObject UnloadOutcome::toJson() const
{
    return QJsonObject{{QStringLiteral("Status"), status},
                       {QStringLiteral("Endpoint"), endpoint.isEmpty() ? QJsonValue() : QJsonValue(endpoint)},
                       {QStringLiteral("Models"), QJsonArray::fromStringList(models)},
                       {QStringLiteral("Message"), message}};
}

LlmModelUnloader::LlmModelUnloader(const QUrl& baseUrl, const QString& apiKey, QObject* parent)
    : QObject(parent), m_http(new net::HttpClient(baseUrl, this))
{
    if (!apiKey.isEmpty())
        m_http->setBearerToken(apiKey);
}

QStringList LlmModelUnloader::loadedInstancesV1(const QJsonObject& models)
{
    QStringList out;
    for (const QJsonValue& m : models.value(QStringLiteral("models")).toArray())
        for (const QJsonValue& inst : m.toObject().value(QStringLiteral("loaded_instances")).toArray()) {
            const QString id = inst.toObject().value(QStringLiteral("id")).toString();
            if (!id.isEmpty() && !out.contains(id))
                out << id;
        }
    return out;
}

QStringList LlmModelUnloader::loadedModelsV0(const QJsonObject& models)
{
    QStringList out;
    for (const QJsonValue& m : models.value(QStringLiteral("data")).toArray()) {
        const QJsonObject o = m.toObject();
        if (o.value(QStringLiteral("state")).toString() == QLatin1String("loaded"))
            out << o.value(QStringLiteral("id")).toString();
    }
    return out;
}

void LlmModelUnloader::unloadAll(std::function<void(const UnloadOutcome&)> done)
{
    m_done = std::move(done);
    auto* job = m_http->get(QStringLiteral("/api/v1/models"), {}, limits());
    connect(job, &net::HttpJob::succeeded, this, [this](int, const QByteArray& body) {
        const QJsonDocument doc = QJsonDocument::fromJson(body);
        // Older LM Studio builds answer 200 to unknown endpoints ("Returning 200 anyway"): only a
        // `models` array is the v1 catalogue.
        if (!doc.isObject() || !doc.object().value(QStringLiteral("models")).isArray()) {
            tryV0();
            return;
        }
        m_toUnload = loadedInstancesV1(doc.object());
        m_outcome.endpoint = QStringLiteral("/api/v1/models/unload");
        if (m_toUnload.isEmpty()) {
            finish({QStringLiteral("nothingLoaded"), m_outcome.endpoint, {},
                    QStringLiteral("no LLM model loaded in LM Studio; nothing to unload")});
            return;
        }
        unloadNext();
    });
    connect(job, &net::HttpJob::failed, this, [this](const Error& e) {
        // Nothing answered, or the server refused our key: asking /api/v0 would only blur the reason
        // into "no LM Studio model API".
        const int status = e.detail.value(QStringLiteral("status")).toInt();
        if (e.kind == QLatin1String("unreachable") || e.kind == QLatin1String("network") ||
            e.kind == QLatin1String("timeout")) {
            finish({QStringLiteral("failed"), QString(), {},
                    QStringLiteral("The LLM server at %1 did not answer (%2): nothing was unloaded; if it keeps a "
                                   "model in VRAM, unload it by hand before rendering")
                        .arg(m_http->baseUrl().toString(QUrl::RemoveUserInfo), e.message)});
            return;
        }
        if (status == 401 || status == 403) {
            finish({QStringLiteral("failed"), QString(), {},
                    QStringLiteral("The LLM server at %1 refused the model list (%2): give its API key with "
                                   "--llm-token or LOCAL_LLM_API_KEY, or unload the model by hand (`lms unload --all`)")
                        .arg(m_http->baseUrl().toString(QUrl::RemoveUserInfo), e.message)});
            return;
        }
        tryV0();
    });
}

void LlmModelUnloader::tryV0()
{
    auto* job = m_http->get(QStringLiteral("/api/v0/models"), {}, limits());
    connect(job, &net::HttpJob::succeeded, this, [this](int, const QByteArray& body) {
        const QJsonDocument doc = QJsonDocument::fromJson(body);
        const QStringList loaded = doc.isObject() ? loadedModelsV0(doc.object()) : QStringList();
        if (doc.isObject() && doc.object().value(QStringLiteral("data")).isArray() && loaded.isEmpty()) {
            finish({QStringLiteral("nothingLoaded"), QString(), {}, QStringLiteral("no LLM model loaded in LM Studio; nothing to unload")});
            return;
        }
        const QString names = loaded.isEmpty() ? QStringLiteral("the loaded model") : loaded.join(QStringLiteral(", "));
        finish({QStringLiteral("instructed"), QString(), loaded,
                QStringLiteral("This LM Studio has no unload API (needs 0.4 or later for /api/v1/models/unload): unload %1 "
                               "by hand (`lms unload --all` or the eject button) to give ComfyUI its VRAM")
                    .arg(names)});
    });
    connect(job, &net::HttpJob::failed, this, [this](const Error& e) {
        finish({QStringLiteral("instructed"), QString(), {},
                QStringLiteral("The LLM server at %1 offers no LM Studio model API (%2): if it keeps a model in VRAM, "
                               "unload it by hand (LM Studio: `lms unload --all`; Ollama: `ollama stop <model>`) before rendering")
                    .arg(m_http->baseUrl().toString(QUrl::RemoveUserInfo), e.message)});
    });
}

void LlmModelUnloader::unloadNext()
{
    if (m_toUnload.isEmpty()) {
        if (m_errors.isEmpty()) {
            m_outcome.status = QStringLiteral("unloaded");
            m_outcome.message = QStringLiteral("unloaded %1 from LM Studio before rendering").arg(m_outcome.models.join(QStringLiteral(", ")));
        } else {
            m_outcome.status = QStringLiteral("failed");
            m_outcome.message = QStringLiteral("LM Studio unload failed: %1").arg(m_errors.join(QStringLiteral("; ")));
        }
        finish(m_outcome);
        return;
    }
    const QString id = m_toUnload.takeFirst();
    auto* job = m_http->postJson(QStringLiteral("/api/v1/models/unload"),
                                 QJsonDocument(QJsonObject{{QStringLiteral("instance_id"), id}}), limits());
    connect(job, &net::HttpJob::succeeded, this, [this, id](int, const QByteArray&) {
        m_outcome.models << id;
        unloadNext();
    });
    connect(job, &net::HttpJob::failed, this, [this, id](const Error& e) {
        m_errors << QStringLiteral("%1: %2").arg(id, e.message);
        unloadNext();
    });
}

void LlmModelUnloader::finish(UnloadOutcome outcome)
{
    if (!m_done)
        return;
    auto done = std::move(m_done);
    m_done = nullptr;
    done(outcome);
}

} // namespace gd::llm
