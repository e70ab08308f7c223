#include "quality/JudgeChat.h"

#include "llm/ChatBackend.h"
#include "llm/JsonExtractor.h"
#include "llm/JsonSchemaCheck.h"
#include "llm/LlmClient.h"

namespace gd::quality {

JudgeChat::JudgeChat(QObject* parent) : QObject(parent)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        if (m_job)
            m_job->cancel(); // finished() follows with kind "cancelled", reported as a timeout
    });
}

JudgeChat::~JudgeChat()
{
    cancel();
}

void JudgeChat::setClient(gd::llm::LlmClient* client)
{
    m_client = client;
}

gd::llm::LlmClient* JudgeChat::client() const
{
    return m_client;
}

gd::llm::ChatRequest JudgeChat::request(const QString& system, const QString& user, const QString& model,
                                        int maxTokens)
{
    gd::llm::ChatRequest r;
    r.messages = {{QStringLiteral("system"), system, {}}, {QStringLiteral("user"), user, {}}};
    r.model = model;
    r.temperature = 0.0; // spec: temperature 0, so repeated calls differ only by server nondeterminism
    r.topP = 1.0;
    r.maxTokens = maxTokens;
    return r;
}

std::optional<QJsonObject> JudgeChat::answer(const gd::llm::ChatResult& result, const QJsonObject& schema,
                                             QString* why)
{
    if (!result.error.isNull()) {
        *why = result.error.message;
        return std::nullopt;
    }
    const gd::llm::JsonExtraction json = gd::llm::JsonExtractor::fromResult(result);
    if (!json.ok) {
        *why = QStringLiteral("unreadable judge answer: ") + json.error;
        return std::nullopt;
    }
    if (!json.value.isObject()) {
        *why = QStringLiteral("judge answer does not match the schema: (root): expected object");
        return std::nullopt;
    }
    // JsonSchemaCheck covers types (integer = whole number), required keys and minimum/maximum at every
    // depth: the ranges are the contract, whatever `strict` the server claims to honour.
    const QStringList problems = gd::llm::JsonSchemaCheck::check(json.value, schema);
    if (!problems.isEmpty()) {
        *why =
            QStringLiteral("judge answer does not match the schema: ") + problems.join(QStringLiteral("; "));
        return std::nullopt;
    }
    return json.value.toObject();
}

void JudgeChat::send(const gd::llm::ChatRequest& request,
                     std::function<void(const gd::llm::ChatResult&)> done)
{
    cancel();
    const quint64 gen = m_generation;
    if (!m_client) {
        gd::llm::ChatResult r;
        r.error = {QStringLiteral("unreachable"), QStringLiteral("The LLM client is gone"), {}};
        QTimer::singleShot(0, this, [this, gen, done, r] {
            if (gen == m_generation)
                done(r);
        });
        return;
    }
    gd::llm::ChatJob* job = m_client->startChat(request, this);
    m_job = job;
    m_timer.start(std::max(1, m_timeoutMs));
    connect(job, &gd::llm::ChatJob::finished, this, [this, done, gen](const gd::llm::ChatResult& result) {
        if (gen != m_generation)
            return;
        const bool timedOut = !m_timer.isActive();
        m_timer.stop();
        m_job = nullptr;
        gd::llm::ChatResult r = result;
        if (timedOut && r.error.kind == QLatin1String("cancelled"))
            r.error = {QStringLiteral("timeout"),
                       QStringLiteral("No complete answer within %1 s").arg(m_timeoutMs / 1000.0),
                       {}};
        done(r);
    });
}

void JudgeChat::cancel()
{
    ++m_generation;
    m_timer.stop();
    if (m_job) {
        gd::llm::ChatJob* job = m_job;
        m_job = nullptr;
        job->cancel();
    }
}

} // namespace gd::quality
