#pragma once

#include "llm/ChatBackend.h"
#include "llm/LlmClient.h"
#include "llm/SseParser.h"
#include "llm/ThinkTagFilter.h"
#include "net/Backoff.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QPointer>
#include <QTimer>

class QNetworkReply;

namespace gd::llm {

// One streaming chat completion against an LlmClient's server: detects the server when needed, picks
// the model, posts the request, parses the stream as it arrives (token() per content delta, no
// batching), retries what §6.6 allows, enforces the first-token and inactivity timeouts, measures
// TTFT/tokens per second, then emits finished() exactly once and deletes itself.
class LlmChatJob : public ChatJob
{
    Q_OBJECT
public:
    LlmChatJob(LlmClient* client, const ChatRequest& request, QObject* parent = nullptr);
    ~LlmChatJob() override;

    void start();
    void cancel() override;

    int attempt() const { return m_attempt; }

    // Maps an HTTP error answer to the error value the caller sees (context_overflow, no_model, http),
    // public for tests. `body` is the server's (capped) answer.
    static Error classifyHttpError(int status, const QByteArray& body, const QString& url);
    // Mid-stream server errors: context overflow is recognised by its wording, else kind "stream".
    static Error classifyStreamError(const QString& message, const QJsonObject& json);
    // Retry-After as milliseconds (seconds or HTTP date); -1 when absent or unreadable.
    static int retryAfterMs(const QByteArray& header);

private:
    void begin(const ServerInfo& info);
    void sendRequest();
    void onReadyRead();
    void onReplyFinished();
    void onRequestWritten();
    void processEvents();
    void handleData(const QJsonObject& chunk);
    void handleWholeBody(const QByteArray& body);
    void deliver(const QString& content, const QString& reasoning);
    void noteFirstToken();
    bool retryable(int status) const;
    void scheduleRetry(const QString& why, int delayMs);
    void dropReply();
    void complete();
    void fail(const Error& error);
    void finalizeResult();
    void emitFinished();

    QPointer<LlmClient> m_client;
    ChatRequest m_request;
    LlmClientPolicy m_policy;
    ServerFlavour m_flavour = ServerFlavour::Unknown;
    QUrl m_url;
    QByteArray m_body;
    QString m_model;
    ChatResult m_result;
    bool m_finished = false;

    // Per attempt.
    QPointer<QNetworkReply> m_reply;
    int m_attempt = 0;
    int m_status = 0;
    bool m_streamChecked = false; // content type of a 2xx answer looked at
    bool m_wholeJson = false;     // the server ignored stream:true and sent one JSON body
    qint64 m_bytes = 0;
    QByteArray m_errorBody;
    SseParser m_parser;
    QVector<SseEvent> m_events;

    // Stream state.
    ThinkTagFilter m_think;
    QString m_content;
    QString m_reasoning;
    bool m_firstToken = false;
    bool m_sawFinish = false;
    bool m_sawDone = false;
    bool m_usage = false;
    int m_malformed = 0;
    std::optional<double> m_serverTokensPerSecond;

    // Clocks: m_clock runs from start(); the request-written time is t0 of TTFT (§6.9).
    QElapsedTimer m_clock;
    qint64 m_requestWrittenMs = -1;
    qint64 m_firstTokenMs = -1;
    qint64 m_lastTokenMs = -1;
    net::Backoff m_backoff;
    QTimer m_connectTimer;
    QTimer m_firstTokenTimer;
    QTimer m_inactivityTimer;
    QTimer m_retryTimer;
};

} // namespace gd::llm
