#include "llm/LlmHealthCheck.h"

#include "common/Log.h"
#include "llm/LlmClient.h"
#include "net/HttpClient.h"
#include "net/HttpJob.h"
#include "telemetry/RunSummaryLog.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace gd::llm {

namespace {

const QString kDefaultUrl = QStringLiteral("http://127.0.0.1:1234"); // LM Studio's default server
const net::HttpLimits kDirectProbeLimits{2000, 4000, 8LL * 1024 * 1024};

bool truthy(const QString& value)
{
    const QString v = value.trimmed().toLower();
    return v == QLatin1String("1") || v == QLatin1String("true") || v == QLatin1String("yes") ||
           v == QLatin1String("on");
}

// Count of models in a listing body: OpenAI/LM Studio v0 `data[]`, LM Studio v1 / Ollama `models[]`.
int countModels(const QByteArray& body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    if (o.value(QStringLiteral("data")).isArray())
        return int(o.value(QStringLiteral("data")).toArray().size());
    if (o.value(QStringLiteral("models")).isArray())
        return int(o.value(QStringLiteral("models")).toArray().size());
    return 0;
}

} // namespace

LlmHealthCheck::LlmHealthCheck(const QString& configuredUrl, const QProcessEnvironment& env, QObject* parent)
    : QObject(parent)
{
    m_rawUrl = configuredUrl.trimmed();
    if (m_rawUrl.isEmpty())
        m_rawUrl = env.value(QStringLiteral("LOCAL_STORY_PROVIDER_URL")).trimmed();
    if (m_rawUrl.isEmpty())
        m_rawUrl = kDefaultUrl;
    m_url = LlmClient::normaliseUrl(m_rawUrl);
    m_override = env.value(QStringLiteral("LOCAL_LLM_HEALTHCHECK_URL")).trimmed();
    const QString skip = env.value(QStringLiteral("LOCAL_LLM_SKIP_HEALTHCHECK"));
    if (truthy(skip))
        m_skipReason =
            QStringLiteral("Skipped by operator request (LOCAL_LLM_SKIP_HEALTHCHECK=%1)").arg(skip.trimmed());
    m_budget.setSingleShot(true);
    connect(&m_budget, &QTimer::timeout, this, [this] {
        failWith(QStringLiteral("no answer from the LLM server within %1 s").arg(kTotalBudgetMs / 1000));
    });
}

void LlmHealthCheck::run()
{
    if (m_started)
        return;
    m_started = true;
    m_info.url = url();
    m_info.overrideUrl = m_override;

    if (!m_skipReason.isEmpty()) {
        m_info.status = QStringLiteral("skipped");
        m_info.skipped = true;
        m_info.skipReason = m_skipReason;
        m_line = telemetry::RunSummaryLog::llmHealthSkipped();
        QTimer::singleShot(0, this, &LlmHealthCheck::emitResult);
        return;
    }
    m_info.skipped = false;
    m_info.skipReason.clear();
    if (!m_url.isValid()) {
        QTimer::singleShot(0, this,
                           [this] { failWith(QStringLiteral("invalid LLM URL '%1'").arg(m_rawUrl)); });
        return;
    }
    m_budget.start(kTotalBudgetMs);

    QUrl probeRoot = m_url;
    if (!m_override.isEmpty()) {
        const QUrl normalised = LlmClient::normaliseUrl(m_override);
        if (!normalised.isValid()) {
            QTimer::singleShot(0, this, [this] {
                failWith(QStringLiteral("invalid LOCAL_LLM_HEALTHCHECK_URL '%1'").arg(m_override));
            });
            return;
        }
        // An override naming a specific route (/health, /api/tags, /v1/models …) is probed as given;
        // a bare root or a chat-completions URL gets the full server detection.
        QUrl asGiven(m_override.contains(QStringLiteral("://")) ? m_override
                                                                : QStringLiteral("http://") + m_override);
        if (asGiven.host().compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
            asGiven.setHost(QStringLiteral("127.0.0.1"));
        QString path = asGiven.path();
        while (path.endsWith(QLatin1Char('/')))
            path.chop(1);
        const bool detectable = path.isEmpty() || path == QLatin1String("/v1") ||
                                path.endsWith(QLatin1String("/chat/completions"));
        if (!detectable) {
            probeDirect(asGiven);
            return;
        }
        probeRoot = normalised;
    }

    auto* client = new LlmClient(probeRoot, this);
    client->setApiKey(m_apiKey);
    m_client = client;
    client->detect(this, [this, probeRoot](const ServerInfo& info) {
        if (!info.error.isNull()) {
            failWith(info.error.message);
            return;
        }
        if (info.models.isEmpty()) {
            failWith(QStringLiteral("the %1 server at %2 lists no models; load a model in LM Studio or "
                                    "`ollama pull` one")
                         .arg(flavourName(info.flavour), probeRoot.toString()));
            return;
        }
        succeed(int(info.models.size()));
    });
}

void LlmHealthCheck::probeDirect(const QUrl& url)
{
    QUrl base = url;
    base.setPath(QString());
    base.setQuery(QString());
    auto* http = new net::HttpClient(base, this);
    if (!m_apiKey.isEmpty())
        http->setBearerToken(m_apiKey);
    m_http = http;
    net::HttpJob* job = http->get(url.path(), QUrlQuery(url.query()), kDirectProbeLimits);
    connect(job, &net::HttpJob::succeeded, this,
            [this](int, const QByteArray& body) { succeed(countModels(body)); });
    connect(job, &net::HttpJob::failed, this, [this, job](const Error& error) {
        QString text = error.message;
        if (error.kind == QLatin1String("unreachable") || error.kind == QLatin1String("network"))
            text = QStringLiteral("No LLM server is running at %1 (%2)")
                       .arg(m_override, error.message.section(QStringLiteral(": "), -1));
        else if (job->statusCode() != 0)
            text = QStringLiteral("%1 answered HTTP %2").arg(m_override).arg(job->statusCode());
        failWith(text);
    });
}

void LlmHealthCheck::succeed(int models)
{
    if (m_done)
        return;
    m_info.status = QStringLiteral("success");
    m_info.models = models;
    m_info.error.clear();
    m_line = telemetry::RunSummaryLog::llmHealthSuccess(m_info.url, models, m_override);
    emitResult();
}

void LlmHealthCheck::failWith(const QString& error)
{
    if (m_done)
        return;
    m_info.status = QStringLiteral("failed");
    m_info.models = 0;
    m_info.error = error;
    m_line = telemetry::RunSummaryLog::llmHealthFailed(error, m_info.url, m_override);
    emitResult();
}

void LlmHealthCheck::emitResult()
{
    if (m_done)
        return;
    m_done = true;
    m_budget.stop();
    m_info.timestamp = QDateTime::currentDateTimeUtc();
    // Dropping the client aborts probes still in flight (budget expiry).
    if (m_client)
        m_client->deleteLater();
    if (m_http)
        m_http->deleteLater();
    gd::log::get("llm")->info("{}", m_line.toStdString());
    Q_EMIT finished(m_info, m_line);
}

} // namespace gd::llm
