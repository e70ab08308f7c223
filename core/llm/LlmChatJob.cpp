#include "llm/LlmChatJob.h"

#include "common/Log.h"
#include "net/HttpClient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <cmath>

namespace gd::llm {

namespace {

constexpr qsizetype kErrorBodyMax = 64 * 1024;
constexpr qsizetype kWholeBodyMax = 64LL * 1024 * 1024;
constexpr qint64 kStreamBytesMax = 256LL * 1024 * 1024;
constexpr int kErrorTextMax = 500;

QString capped(const QString& text, int max)
{
    return text.size() > max ? text.left(max) + QStringLiteral("…") : text;
}

bool mentionsContextOverflow(const QString& type, const QString& text)
{
    if (type == QLatin1String("exceed_context_size_error"))
        return true;
    static const QRegularExpression re(
        QStringLiteral("n_keep|n_ctx|greater than the context length|does not fit (in|into) (the )?context|"
                       "exceeds the (available )?context|context the overflows|context overflow|"
                       "maximum context length|only supports \\d+ tokens|context length of only"),
        QRegularExpression::CaseInsensitiveOption);
    return re.match(text).hasMatch();
}

// The numbers a server gives for an overflow: llama.cpp fields, else the ones in the wording.
void overflowNumbers(const QJsonObject& error, const QString& text, int* promptTokens, int* contextTokens)
{
    *promptTokens = error.value(QStringLiteral("n_prompt_tokens")).toInt();
    *contextTokens = error.value(QStringLiteral("n_ctx")).toInt();
    if (*promptTokens > 0 && *contextTokens > 0)
        return;
    struct Pattern
    {
        const char* re;
        bool contextFirst;
    };
    static const Pattern patterns[] = {
        {"n_keep:\\s*(\\d+)\\s*>=?\\s*n_ctx:\\s*(\\d+)", false},
        {"input has (\\d+) tokens, but the context length only supports (\\d+)", false},
        {"request \\((\\d+) tokens\\) exceeds the available context size \\((\\d+) tokens\\)", false},
        {"maximum context length is (\\d+) tokens.*?(\\d+) tokens", true},
        {"keep the first (\\d+) tokens.*?context length (?:is |of )?(\\d+)", false},
        {"(\\d+) tokens.*?context (?:length|size|window)[^\\d]*(\\d+)", false},
    };
    for (const Pattern& p : patterns) {
        const QRegularExpression re(QString::fromLatin1(p.re), QRegularExpression::CaseInsensitiveOption);
        const auto m = re.match(text);
        if (!m.hasMatch())
            continue;
        const int a = m.captured(1).toInt();
        const int b = m.captured(2).toInt();
        *promptTokens = p.contextFirst ? b : a;
        *contextTokens = p.contextFirst ? a : b;
        return;
    }
}

Error contextOverflowError(const QString& serverText, const QJsonObject& errorObject, QJsonObject detail)
{
    int prompt = 0;
    int context = 0;
    overflowNumbers(errorObject, serverText, &prompt, &context);
    QString message = QStringLiteral("The prompt does not fit the model's loaded context");
    if (prompt > 0 && context > 0) {
        message += QStringLiteral(" (n_prompt_tokens=%1, n_ctx=%2)").arg(prompt).arg(context);
        detail.insert(QStringLiteral("nPromptTokens"), prompt);
        detail.insert(QStringLiteral("nCtx"), context);
    }
    message += QStringLiteral(": ") + serverText +
               QStringLiteral(" — shorten the story context or load the model with a larger context length");
    return {QStringLiteral("context_overflow"), message, detail};
}

bool mentionsMissingModel(const QJsonObject& error, const QString& text)
{
    if (error.value(QStringLiteral("code")).toString() == QLatin1String("model_not_found"))
        return true;
    static const QRegularExpression re(
        QStringLiteral("no models? loaded|model_not_found|try pulling it|invalid model identifier|"
                       "failed to load model|model ['\"].*['\"] not found|model not found"),
        QRegularExpression::CaseInsensitiveOption);
    return re.match(text).hasMatch();
}

} // namespace

LlmChatJob::LlmChatJob(LlmClient* client, const ChatRequest& request, QObject* parent)
    : ChatJob(parent), m_client(client), m_request(request),
      m_policy(client ? client->policy() : LlmClientPolicy{}),
      m_backoff(m_policy.retryBaseMs, m_policy.retryCapMs)
{
    for (QTimer* t : {&m_connectTimer, &m_firstTokenTimer, &m_inactivityTimer, &m_retryTimer})
        t->setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        if (m_bytes == 0 && m_attempt < m_policy.maxAttempts) {
            scheduleRetry(QStringLiteral("no connection within %1 ms").arg(m_policy.connectTimeoutMs), -1);
            return;
        }
        fail({QStringLiteral("unreachable"),
              QStringLiteral("Could not connect to the LLM server at %1 within %2 s")
                  .arg(m_url.toDisplayString(QUrl::RemoveUserInfo))
                  .arg(m_policy.connectTimeoutMs / 1000.0),
              {{QStringLiteral("attempts"), m_attempt}}});
    });
    connect(&m_firstTokenTimer, &QTimer::timeout, this, [this] {
        fail({QStringLiteral("timeout"),
              QStringLiteral("No first token from the LLM server within %1 s (model loading or prompt "
                             "processing took too long)")
                  .arg(m_policy.firstTokenTimeoutMs / 1000.0),
              {{QStringLiteral("phase"), QStringLiteral("first-token")}}});
    });
    connect(&m_inactivityTimer, &QTimer::timeout, this, [this] {
        m_result.truncated = true;
        fail({QStringLiteral("timeout"),
              QStringLiteral("The LLM stream stalled: no data for %1 s after %2 characters")
                  .arg(m_policy.inactivityTimeoutMs / 1000.0)
                  .arg(m_content.size()),
              {{QStringLiteral("phase"), QStringLiteral("inactivity")}}});
    });
    connect(&m_retryTimer, &QTimer::timeout, this, &LlmChatJob::sendRequest);
    // The client owns the network manager and with it the reply: without it nothing more arrives.
    if (client)
        connect(client, &QObject::destroyed, this, [this] {
            fail({QStringLiteral("unreachable"), QStringLiteral("The LLM client was shut down"), {}});
        });
}

LlmChatJob::~LlmChatJob()
{
    dropReply();
}

void LlmChatJob::start()
{
    m_clock.start();
    m_result.startedAt = QDateTime::currentDateTimeUtc();
    if (!m_client) {
        QTimer::singleShot(0, this, [this] {
            fail({QStringLiteral("unreachable"), QStringLiteral("The LLM client is gone"), {}});
        });
        return;
    }
    if (m_client->hasServerInfo()) {
        // Deferred so the caller can connect to the job's signals before anything is emitted.
        QTimer::singleShot(0, this, [this, info = m_client->serverInfo()] { begin(info); });
        return;
    }
    m_client->detect(this, [this](const ServerInfo& info) { begin(info); });
}

void LlmChatJob::begin(const ServerInfo& info)
{
    if (m_finished)
        return;
    if (!m_client) {
        fail({QStringLiteral("unreachable"), QStringLiteral("The LLM client is gone"), {}});
        return;
    }
    if (!info.error.isNull()) {
        fail(info.error);
        return;
    }
    const QString configured = m_request.model.isEmpty() ? m_client->configuredModel() : m_request.model;
    Error why;
    const auto model = LlmClient::pickModel(info, configured, &why);
    if (!model) {
        fail(why);
        return;
    }
    m_model = *model;
    m_flavour = info.flavour;
    m_url = m_client->http()->urlFor(LlmClient::chatPath(m_flavour));
    m_body = QJsonDocument(LlmClient::chatBody(m_request, m_flavour, m_model)).toJson(QJsonDocument::Compact);
    m_result.model = m_model;
    m_result.requestFormat = LlmClient::requestFormat(m_request, m_flavour);
    sendRequest();
}

void LlmChatJob::sendRequest()
{
    if (m_finished)
        return;
    if (!m_client) {
        fail({QStringLiteral("unreachable"), QStringLiteral("The LLM client is gone"), {}});
        return;
    }
    ++m_attempt;
    m_status = 0;
    m_streamChecked = false;
    m_wholeJson = false;
    m_bytes = 0;
    m_errorBody.clear();
    m_parser.reset();
    m_parser.setMode(SseParser::Mode::Sse); // switched to NDJSON when a server answers application/x-ndjson
    m_events.clear();
    m_requestWrittenMs = -1;

    QNetworkRequest req(m_url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    req.setRawHeader("Accept", QByteArrayLiteral("text/event-stream"));
    const QString key = m_client->apiKey();
    if (!key.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + key.toUtf8());
    // HTTP/1.1 only (§6.1); a POST is never redirected; a stream is never served from a cache.
    req.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);

    m_reply = m_client->http()->manager()->post(req, m_body);
    connect(m_reply, &QNetworkReply::readyRead, this, &LlmChatJob::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &LlmChatJob::onReplyFinished);
    connect(m_reply, &QNetworkReply::requestSent, this, &LlmChatJob::onRequestWritten);
    connect(m_reply, &QNetworkReply::uploadProgress, this, [this](qint64 sent, qint64 total) {
        if (total > 0 && sent == total)
            onRequestWritten();
    });
    if (m_policy.connectTimeoutMs > 0)
        m_connectTimer.start(m_policy.connectTimeoutMs);
    if (m_policy.firstTokenTimeoutMs > 0 && !m_firstToken)
        m_firstTokenTimer.start(m_policy.firstTokenTimeoutMs);
    gd::log::get("llm")->debug("POST {} (attempt {}, model {})", m_url.toDisplayString().toStdString(),
                               m_attempt, m_model.toStdString());
}

void LlmChatJob::onRequestWritten()
{
    m_connectTimer.stop();
    if (m_requestWrittenMs < 0)
        m_requestWrittenMs = m_clock.elapsed();
}

void LlmChatJob::onReadyRead()
{
    if (m_finished || !m_reply)
        return;
    const QByteArray chunk = m_reply->readAll();
    if (chunk.isEmpty())
        return;
    onRequestWritten();
    m_bytes += chunk.size();
    if (m_status == 0)
        m_status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (m_status < 200 || m_status >= 300) {
        if (m_errorBody.size() < kErrorBodyMax)
            m_errorBody += chunk.left(kErrorBodyMax - m_errorBody.size());
        return;
    }
    if (m_bytes > kStreamBytesMax) {
        m_result.truncated = true;
        fail({QStringLiteral("stream"),
              QStringLiteral("The LLM answer exceeded %1 MiB; stopped reading").arg(kStreamBytesMax >> 20),
              {}});
        return;
    }
    if (!m_streamChecked) {
        m_streamChecked = true;
        const QString type = m_reply->header(QNetworkRequest::ContentTypeHeader).toString().toLower();
        if (type.contains(QLatin1String("ndjson")))
            m_parser.setMode(SseParser::Mode::Ndjson);
        else if (type.contains(QLatin1String("event-stream")))
            m_parser.setMode(SseParser::Mode::Sse);
        else if (type.contains(QLatin1String("application/json")))
            m_wholeJson = true; // the server ignored stream:true
    }
    if (m_wholeJson) {
        if (m_errorBody.size() + chunk.size() > kWholeBodyMax) {
            fail({QStringLiteral("stream"), QStringLiteral("The LLM answer is too large"), {}});
            return;
        }
        m_errorBody += chunk;
        return;
    }
    if (m_firstToken && m_policy.inactivityTimeoutMs > 0)
        m_inactivityTimer.start(m_policy.inactivityTimeoutMs);
    m_parser.feed(chunk, m_events);
    processEvents();
}

void LlmChatJob::processEvents()
{
    QVector<SseEvent> events;
    events.swap(m_events);
    for (const SseEvent& e : std::as_const(events)) {
        if (m_finished)
            return;
        switch (e.kind) {
        case SseEvent::Kind::Data:
            handleData(e.json);
            break;
        case SseEvent::Kind::Done:
            m_sawDone = true;
            break;
        case SseEvent::Kind::Error:
            m_result.truncated = !m_content.isEmpty();
            fail(classifyStreamError(e.message, e.json));
            return;
        case SseEvent::Kind::Malformed:
            if (++m_malformed <= 3)
                gd::log::get("llm")->warn("unreadable stream line skipped: {}", e.message.toStdString());
            break;
        }
    }
}

void LlmChatJob::handleData(const QJsonObject& chunk)
{
    const QString model = chunk.value(QStringLiteral("model")).toString();
    if (!model.isEmpty())
        m_result.model = model;

    if (m_parser.mode() == SseParser::Mode::Ndjson) {
        // Ollama native: message.content / message.thinking; the done:true object carries the stats.
        const QJsonObject message = chunk.value(QStringLiteral("message")).toObject();
        deliver(message.value(QStringLiteral("content")).toString(),
                message.value(QStringLiteral("thinking")).toString());
        if (m_finished || !chunk.value(QStringLiteral("done")).toBool())
            return;
        m_sawFinish = true;
        const QString reason = chunk.value(QStringLiteral("done_reason")).toString();
        m_result.finishReason = reason.isEmpty() ? QStringLiteral("stop") : reason;
        if (chunk.contains(QStringLiteral("eval_count"))) {
            m_usage = true;
            m_result.promptTokens = chunk.value(QStringLiteral("prompt_eval_count")).toInt();
            m_result.completionTokens = chunk.value(QStringLiteral("eval_count")).toInt();
        }
        const double evalNs = chunk.value(QStringLiteral("eval_duration")).toDouble();
        if (evalNs > 0 && m_result.completionTokens > 0)
            m_serverTokensPerSecond = m_result.completionTokens / evalNs * 1e9;
        return;
    }

    const QJsonArray choices = chunk.value(QStringLiteral("choices")).toArray();
    if (!choices.isEmpty()) {
        const QJsonObject c0 = choices.first().toObject();
        QJsonObject delta = c0.value(QStringLiteral("delta")).toObject();
        if (delta.isEmpty())
            delta = c0.value(QStringLiteral("message")).toObject();
        QString reasoning = delta.value(QStringLiteral("reasoning_content")).toString();
        if (reasoning.isEmpty())
            reasoning = delta.value(QStringLiteral("reasoning")).toString();
        deliver(delta.value(QStringLiteral("content")).toString(), reasoning);
        if (m_finished)
            return;
        const QString reason = c0.value(QStringLiteral("finish_reason")).toString();
        if (!reason.isEmpty()) {
            m_sawFinish = true;
            m_result.finishReason = reason;
        }
    }
    const QJsonObject usage = chunk.value(QStringLiteral("usage")).toObject();
    if (!usage.isEmpty()) {
        m_usage = true;
        m_result.promptTokens = usage.value(QStringLiteral("prompt_tokens")).toInt();
        m_result.completionTokens = usage.value(QStringLiteral("completion_tokens")).toInt();
    }
    // Server-measured rates: llama.cpp `timings`, LM Studio `stats` (empty `{}` on /v1 in most builds).
    const double predicted = chunk.value(QStringLiteral("timings"))
                                 .toObject()
                                 .value(QStringLiteral("predicted_per_second"))
                                 .toDouble();
    if (predicted > 0)
        m_serverTokensPerSecond = predicted;
    const QJsonObject stats = chunk.value(QStringLiteral("stats")).toObject();
    const double tps = stats.value(QStringLiteral("tokens_per_second")).toDouble();
    if (tps > 0)
        m_serverTokensPerSecond = tps;
    if (!m_sawFinish &&
        stats.value(QStringLiteral("stop_reason")).toString() == QLatin1String("maxPredictedTokensReached"))
        m_result.finishReason = QStringLiteral("length");
}

void LlmChatJob::handleWholeBody(const QByteArray& body)
{
    QVector<SseEvent> events;
    SseParser parser(SseParser::Mode::Ndjson); // one JSON object: same classification as a stream line
    QByteArray flat = body;
    flat.replace('\n', ' ');
    flat.replace('\r', ' ');
    parser.feed(flat, events);
    parser.finish(events);
    const SseParser::Mode mode = m_parser.mode();
    m_parser.setMode(SseParser::Mode::Sse); // a whole /v1 body has the OpenAI shape
    for (const SseEvent& e : std::as_const(events)) {
        if (m_finished)
            break;
        if (e.kind == SseEvent::Kind::Data)
            handleData(e.json);
        else if (e.kind == SseEvent::Kind::Error)
            fail(classifyStreamError(e.message, e.json));
        else if (e.kind == SseEvent::Kind::Done)
            m_sawDone = true;
    }
    m_parser.setMode(mode);
    if (!m_finished && events.isEmpty())
        fail({QStringLiteral("stream"), QStringLiteral("The LLM server sent an unreadable answer"), {}});
}

void LlmChatJob::deliver(const QString& content, const QString& reasoning)
{
    if (content.isEmpty() && reasoning.isEmpty())
        return;
    noteFirstToken();
    if (!reasoning.isEmpty()) {
        m_reasoning += reasoning;
        Q_EMIT reasoningToken(reasoning);
        if (m_finished)
            return;
    }
    if (content.isEmpty())
        return;
    const ThinkTagFilter::Output out = m_think.feed(content);
    if (!out.reasoning.isEmpty()) {
        m_reasoning += out.reasoning;
        Q_EMIT reasoningToken(out.reasoning);
        if (m_finished)
            return;
    }
    if (!out.content.isEmpty()) {
        m_content += out.content;
        Q_EMIT token(out.content);
    }
}

void LlmChatJob::noteFirstToken()
{
    m_lastTokenMs = m_clock.elapsed();
    if (m_firstToken)
        return;
    m_firstToken = true;
    m_firstTokenMs = m_lastTokenMs;
    m_firstTokenTimer.stop();
    if (m_policy.inactivityTimeoutMs > 0)
        m_inactivityTimer.start(m_policy.inactivityTimeoutMs);
    if (m_requestWrittenMs >= 0)
        m_result.timeToFirstTokenMs = double(m_firstTokenMs - m_requestWrittenMs);
}

bool LlmChatJob::retryable(int status) const
{
    return status == 429 || status == 502 || status == 503;
}

void LlmChatJob::scheduleRetry(const QString& why, int delayMs)
{
    dropReply();
    const int delay = delayMs >= 0 ? std::min(delayMs, m_policy.retryCapMs) : m_backoff.nextDelayMs();
    ++m_result.retries;
    gd::log::get("llm")->info("chat attempt {}/{} failed ({}); retrying in {} ms", m_attempt,
                              m_policy.maxAttempts, why.toStdString(), delay);
    m_retryTimer.start(delay);
}

void LlmChatJob::onReplyFinished()
{
    if (m_finished || !m_reply)
        return;
    onReadyRead();
    if (m_finished || !m_reply)
        return;
    m_connectTimer.stop();
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QNetworkReply::NetworkError netError = m_reply->error();
    const QString root = m_client ? m_client->root().toDisplayString(QUrl::RemoveUserInfo) : m_url.toString();

    if (status == 0) {
        // No HTTP answer. Refused/reset before any byte: the server is starting or restarting (§6.6).
        const bool transient = netError == QNetworkReply::ConnectionRefusedError ||
                               netError == QNetworkReply::RemoteHostClosedError ||
                               netError == QNetworkReply::TemporaryNetworkFailureError ||
                               netError == QNetworkReply::NetworkSessionFailedError;
        const QString text = m_reply->errorString();
        if (m_bytes == 0 && transient && m_attempt < m_policy.maxAttempts) {
            scheduleRetry(text, -1);
            return;
        }
        if (m_bytes == 0) {
            if (m_client)
                m_client->invalidateServerInfo();
            fail(
                {QStringLiteral("unreachable"),
                 QStringLiteral("The LLM server at %1 is not reachable (%2) after %3 attempt(s)")
                     .arg(root, text)
                     .arg(m_attempt),
                 {{QStringLiteral("attempts"), m_attempt}, {QStringLiteral("networkError"), int(netError)}}});
        } else {
            m_result.truncated = true;
            fail({QStringLiteral("stream"),
                  QStringLiteral("The connection to the LLM server broke mid-answer (%1)").arg(text),
                  {{QStringLiteral("networkError"), int(netError)}}});
        }
        return;
    }
    if (status < 200 || status >= 300) {
        if (retryable(status) && m_attempt < m_policy.maxAttempts) {
            scheduleRetry(QStringLiteral("HTTP %1").arg(status),
                          retryAfterMs(m_reply->rawHeader("Retry-After")));
            return;
        }
        Error e = classifyHttpError(status, m_errorBody, m_url.toDisplayString(QUrl::RemoveUserInfo));
        if (retryable(status))
            e.message += QStringLiteral(" (gave up after %1 attempts)").arg(m_attempt);
        e.detail.insert(QStringLiteral("attempts"), m_attempt);
        fail(e);
        return;
    }
    if (m_wholeJson) {
        handleWholeBody(m_errorBody);
    } else {
        m_parser.finish(m_events);
        processEvents();
    }
    if (!m_finished)
        complete();
}

void LlmChatJob::complete()
{
    const ThinkTagFilter::Output tail = m_think.flush();
    if (!tail.reasoning.isEmpty()) {
        m_reasoning += tail.reasoning;
        Q_EMIT reasoningToken(tail.reasoning);
    }
    if (!m_finished && !tail.content.isEmpty()) {
        m_content += tail.content;
        Q_EMIT token(tail.content);
    }
    if (m_finished)
        return;
    if (!m_sawFinish && !m_sawDone) {
        // Success needs an explicit terminal marker (§6.8); Ollama's /v1 just closes on a late failure.
        m_result.truncated = true;
        fail({QStringLiteral("stream"),
              QStringLiteral("The LLM stream ended without a finish marker; the answer is incomplete (%1 "
                             "characters received)")
                  .arg(m_content.size()),
              {}});
        return;
    }
    if (!m_sawFinish && m_content.isEmpty() && m_reasoning.isEmpty()) {
        fail({QStringLiteral("stream"),
              QStringLiteral(
                  "The LLM server ended the stream without any content (LM Studio does this when the "
                  "prompt does not fit the loaded context)"),
              {}});
        return;
    }
    if (m_result.finishReason == QLatin1String("length"))
        m_result.truncated = true;
    m_finished = true;
    dropReply();
    finalizeResult();
    emitFinished();
}

void LlmChatJob::cancel()
{
    if (m_finished)
        return;
    m_result.truncated = !m_content.isEmpty();
    fail({QStringLiteral("cancelled"), QStringLiteral("Story generation was cancelled"), {}});
}

void LlmChatJob::fail(const Error& error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_result.error = error;
    dropReply(); // abort: the server sees the client go away and stops generating (§6.7)
    if (error.kind != QLatin1String("cancelled"))
        gd::log::get("llm")->warn("chat failed: {}", error.toString().toStdString());
    finalizeResult();
    emitFinished();
}

void LlmChatJob::dropReply()
{
    m_connectTimer.stop();
    m_firstTokenTimer.stop();
    m_inactivityTimer.stop();
    m_retryTimer.stop();
    if (m_reply) {
        QNetworkReply* reply = m_reply;
        m_reply = nullptr;
        reply->disconnect(this);
        if (reply->isRunning())
            reply->abort();
        reply->deleteLater();
    }
}

void LlmChatJob::finalizeResult()
{
    m_result.content = m_content;
    m_result.reasoning = m_reasoning;
    m_result.completedAt = QDateTime::currentDateTimeUtc();
    m_result.durationMs = m_clock.isValid() ? m_clock.elapsed() : 0;
    if (m_result.model.isEmpty())
        m_result.model = m_model;
    if (m_usage) {
        m_result.tokenCountSource = QStringLiteral("usage");
    } else {
        // §6.10: ≈ 4 characters a token for English prose, plus ~4 tokens of template per message.
        qsizetype promptChars = 0;
        for (const ChatMessage& m : m_request.messages)
            promptChars += m.content.size();
        m_result.promptTokens = int(std::ceil(promptChars / 4.0)) + 4 * int(m_request.messages.size());
        m_result.completionTokens = int(std::ceil((m_content.size() + m_reasoning.size()) / 4.0));
        m_result.tokenCountSource = QStringLiteral("estimate");
    }
    if (m_serverTokensPerSecond) {
        m_result.tokensPerSecond = m_serverTokensPerSecond;
    } else if (m_result.completionTokens > 0 && m_lastTokenMs > m_firstTokenMs && m_firstTokenMs >= 0) {
        m_result.tokensPerSecond = m_result.completionTokens / ((m_lastTokenMs - m_firstTokenMs) / 1000.0);
    }
}

void LlmChatJob::emitFinished()
{
    m_finished = true;
    Q_EMIT finished(m_result);
    deleteLater();
}

Error LlmChatJob::classifyHttpError(int status, const QByteArray& body, const QString& url)
{
    const QJsonObject json = QJsonDocument::fromJson(body).object();
    const QJsonValue errorValue = json.value(QStringLiteral("error"));
    QString text = SseParser::errorText(errorValue);
    if (text.isEmpty())
        text = json.value(QStringLiteral("message")).toString();
    if (text.isEmpty())
        text = QString::fromUtf8(body).trimmed();
    if (text.isEmpty())
        text = QStringLiteral("(empty answer)");
    text = capped(text, kErrorTextMax);
    const QJsonObject errorObject = errorValue.toObject();
    QJsonObject detail{{QStringLiteral("status"), status},
                       {QStringLiteral("url"), url},
                       {QStringLiteral("body"), QString::fromUtf8(body.left(4096))}};

    if (mentionsContextOverflow(errorObject.value(QStringLiteral("type")).toString(), text))
        return contextOverflowError(text, errorObject, detail);
    if ((status == 404 && text.contains(QLatin1String("model"), Qt::CaseInsensitive)) ||
        mentionsMissingModel(errorObject, text)) {
        QString reason = text;
        while (reason.endsWith(QLatin1Char('.')))
            reason.chop(1);
        return {
            QStringLiteral("no_model"),
            QStringLiteral("The LLM server has no usable model: %1. Load a model in LM Studio (or `lms load "
                           "<model>`), or `ollama pull <model>` for Ollama.")
                .arg(reason),
            detail};
    }
    if (status == 401 || status == 403) {
        return {QStringLiteral("http"),
                QStringLiteral("The LLM server refused the request (HTTP %1: %2); check the API key")
                    .arg(status)
                    .arg(text),
                detail};
    }
    return {QStringLiteral("http"),
            QStringLiteral("The LLM server answered HTTP %1: %2").arg(status).arg(text), detail};
}

Error LlmChatJob::classifyStreamError(const QString& message, const QJsonObject& json)
{
    const QJsonObject errorObject = json.value(QStringLiteral("error")).toObject();
    if (mentionsContextOverflow(errorObject.value(QStringLiteral("type")).toString(), message))
        return contextOverflowError(message, errorObject, {{QStringLiteral("inStream"), true}});
    return {QStringLiteral("stream"),
            QStringLiteral("The LLM server reported an error mid-answer: ") + message,
            {{QStringLiteral("serverMessage"), message}}};
}

int LlmChatJob::retryAfterMs(const QByteArray& header)
{
    const QString value = QString::fromLatin1(header).trimmed();
    if (value.isEmpty())
        return -1;
    bool ok = false;
    const int seconds = value.toInt(&ok);
    if (ok)
        return seconds < 0 ? -1
                           : int(std::min<qint64>(qint64(seconds) * 1000, std::numeric_limits<int>::max()));
    const QDateTime when = QDateTime::fromString(value, Qt::RFC2822Date);
    if (!when.isValid())
        return -1;
    return int(std::clamp<qint64>(QDateTime::currentDateTimeUtc().msecsTo(when), 0,
                                  std::numeric_limits<int>::max()));
}

} // namespace gd::llm
