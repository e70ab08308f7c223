#include "llm/EmbeddingsClient.h"

#include "llm/LlmChatJob.h"
#include "llm/LlmClient.h"
#include "llm/ModelCapabilities.h"
#include "net/HttpClient.h"
#include "net/HttpJob.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTimer>
#include <cmath>

namespace gd::llm {

EmbeddingsClient::EmbeddingsClient(LlmClient* client, QObject* parent) : QObject(parent), m_client(client) {}

void EmbeddingsClient::setTimeouts(int idleMs, int totalMs)
{
    m_idleMs = std::max(1, idleMs);
    m_totalMs = std::max(m_idleMs, totalMs);
}

void EmbeddingsClient::embed(const QStringList& inputs, const QString& model, QObject* ctx,
                             std::function<void(const EmbeddingsResult&)> done)
{
    const qint64 started = QDateTime::currentMSecsSinceEpoch();
    QPointer<QObject> guard(ctx ? ctx : this);
    auto answer = [this, guard, done](const EmbeddingsResult& r) {
        // Always asynchronous, so callers see the same order of events on every path.
        QTimer::singleShot(0, this, [guard, done, r] {
            if (guard && done)
                done(r);
        });
    };
    if (!m_client) {
        EmbeddingsResult r;
        r.error = {QStringLiteral("unreachable"), QStringLiteral("The LLM client is gone"), {}};
        answer(r);
        return;
    }
    if (inputs.isEmpty()) {
        answer(EmbeddingsResult{});
        return;
    }
    auto withInfo = [this, inputs, model, guard, done, started, answer](const ServerInfo& info) {
        Error why;
        const auto picked = ModelCapabilities::pickEmbeddingModel(info, model, &why);
        if (!picked) {
            EmbeddingsResult r;
            r.error = why;
            answer(r);
            return;
        }
        post(inputs, *picked, guard, done, started);
    };
    if (m_client->hasServerInfo())
        withInfo(m_client->serverInfo());
    else
        m_client->detect(this, withInfo);
}

void EmbeddingsClient::post(const QStringList& inputs, const QString& model, QPointer<QObject> ctx,
                            std::function<void(const EmbeddingsResult&)> done, qint64 startedMs)
{
    QJsonArray input;
    for (const QString& text : inputs)
        input.append(text);
    const QJsonObject body{{QStringLiteral("model"), model}, {QStringLiteral("input"), input}};
    net::HttpLimits limits;
    limits.idleTimeoutMs = m_idleMs;
    limits.totalTimeoutMs = m_totalMs;
    limits.maxResponseBytes = 256LL * 1024 * 1024;
    net::HttpJob* job =
        m_client->http()->postJson(QStringLiteral("/v1/embeddings"), QJsonDocument(body), limits);
    m_jobs.removeAll(nullptr);
    m_jobs.append(job);
    const int count = int(inputs.size());
    const QString url =
        m_client->http()->urlFor(QStringLiteral("/v1/embeddings")).toDisplayString(QUrl::RemoveUserInfo);
    auto finish = [ctx, done, startedMs](EmbeddingsResult r) {
        r.durationMs = QDateTime::currentMSecsSinceEpoch() - startedMs;
        if (ctx && done)
            done(r);
    };
    connect(job, &net::HttpJob::succeeded, this, [finish, count, model](int, const QByteArray& bytes) {
        EmbeddingsResult r = parse(bytes, count);
        if (r.error.isNull() && r.model.isEmpty())
            r.model = model;
        finish(r);
    });
    connect(job, &net::HttpJob::failed, this, [finish, job, url](const Error& e) {
        EmbeddingsResult r;
        if (e.kind == QLatin1String("http"))
            r.error = LlmChatJob::classifyHttpError(job->statusCode(), job->body(), url);
        else
            r.error = e;
        finish(r);
    });
}

void EmbeddingsClient::cancel()
{
    const QList<QPointer<net::HttpJob>> jobs = std::exchange(m_jobs, {});
    for (const QPointer<net::HttpJob>& job : jobs)
        if (job)
            job->abort();
}

EmbeddingsResult EmbeddingsClient::parse(const QByteArray& body, int count)
{
    EmbeddingsResult r;
    auto protocol = [&r](const QString& message) {
        r.vectors.clear();
        r.error = {
            QStringLiteral("protocol"), QStringLiteral("Unreadable embeddings answer: ") + message, {}};
        return r;
    };
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return protocol(QStringLiteral("not a JSON object"));
    const QJsonObject root = doc.object();
    if (root.contains(QStringLiteral("error"))) {
        // Older LM Studio builds answer unknown routes with 200 and an error body (§1.7).
        const QJsonValue e = root.value(QStringLiteral("error"));
        const QString text =
            e.isObject() ? e.toObject().value(QStringLiteral("message")).toString() : e.toString();
        r.error = {QStringLiteral("http"),
                   QStringLiteral("The LLM server refused the embeddings request: ") + text,
                   {}};
        return r;
    }
    const QJsonArray data = root.value(QStringLiteral("data")).toArray();
    if (data.size() != count)
        return protocol(QStringLiteral("%1 vectors for %2 inputs").arg(data.size()).arg(count));
    r.vectors.resize(count);
    QVector<bool> seen(count, false);
    qsizetype dimension = -1;
    for (int i = 0; i < data.size(); ++i) {
        const QJsonObject item = data.at(i).toObject();
        const int index =
            item.contains(QStringLiteral("index")) ? item.value(QStringLiteral("index")).toInt(-1) : i;
        if (index < 0 || index >= count || seen.at(index))
            return protocol(QStringLiteral("bad or repeated index in item %1").arg(i));
        seen[index] = true;
        const QJsonArray values = item.value(QStringLiteral("embedding")).toArray();
        if (values.isEmpty())
            return protocol(QStringLiteral("item %1 has no embedding array").arg(i));
        if (dimension >= 0 && values.size() != dimension)
            return protocol(
                QStringLiteral("vectors of different length (%1 and %2)").arg(dimension).arg(values.size()));
        dimension = values.size();
        QVector<double> v;
        v.reserve(values.size());
        for (const QJsonValue& x : values) {
            if (!x.isDouble() || !std::isfinite(x.toDouble()))
                return protocol(QStringLiteral("item %1 holds a non-number").arg(i));
            v.append(x.toDouble());
        }
        r.vectors[index] = v;
    }
    r.model = root.value(QStringLiteral("model")).toString();
    return r;
}

} // namespace gd::llm
