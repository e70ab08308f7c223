#pragma once

#include "sandbox/LlmFaultRule.h"
#include "sandbox/LlmStreamConnection.h"
#include "sandbox/SandboxLlmConfig.h"

#include <QHash>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QUrl>
#include <optional>

class QTcpServer;

namespace gd::sandbox {

// A loopback OpenAI-compatible server that behaves like LM Studio (or, by config.flavour, like Ollama or
// llama.cpp server) on the wire: model listings, chat completions (SSE streaming or not, json_schema answered
// with StoryCorpus content), embeddings, and the injectable faults of spec/llm-api.md §7. Lives on one
// thread; the observability accessors are thread-safe.
class SandboxLlmServer : public QObject
{
    Q_OBJECT
public:
    explicit SandboxLlmServer(const SandboxLlmConfig& config, QObject* parent = nullptr);
    ~SandboxLlmServer() override;

    bool listen(quint16 port, QString* error); // 127.0.0.1 only; port 0 picks a free one
    void close();                              // stops listening and drops every connection
    QUrl url() const;                          // "http://127.0.0.1:P"
    quint16 port() const;

    Q_INVOKABLE void addFault(const gd::sandbox::LlmFaultRule& rule);
    Q_INVOKABLE void setModelLoaded(bool loaded);

    // Thread-safe observability for tests.
    int chatRequestCount() const;
    QJsonObject lastChatRequest() const;
    int abortedStreams() const; // streams the client went away from before the server finished them
    int embeddingRequestCount() const;
    int visionRequestCount() const; // chat requests that carried images
    bool modelLoaded() const;

    SandboxLlmConfig config() const { return m_config; }

Q_SIGNALS:
    void chatRequestReceived(const QJsonObject& body);
    void streamAborted();

private:
    friend class LlmStreamConnection;
    using Plan = LlmStreamConnection::Plan;
    struct ModelState; // listing view of the models for the next request (faults applied)

    void onNewConnection();
    void handle(LlmStreamConnection* connection, const net::HttpRequest& request);
    void noteAbortedStream();

    Plan routeLmStudio(const net::HttpRequest& request);
    Plan routeOllama(const net::HttpRequest& request);
    Plan routeLlamaCpp(const net::HttpRequest& request);
    Plan chat(const net::HttpRequest& request, bool nativeV0);
    Plan embeddings(const net::HttpRequest& request);
    Plan loadModel(const net::HttpRequest& request, bool load);
    Plan json(int status, const QJsonValue& body) const;
    Plan error(int status, const QString& message, const QString& type = {}, const QString& code = {},
               const QString& param = {}) const;
    QJsonObject lmStudioV0Model(bool llm) const;
    QJsonObject lmStudioV1Model(bool llm) const;
    QJsonObject lmStudioV0VisionModel() const;
    QJsonObject lmStudioV1VisionModel() const;
    bool visionListed() const; // the vision model is configured and the LLMs are listed
    ModelState modelState() const;
    // The fault the next chat request gets, without consuming it; nullopt when none.
    std::optional<LlmFaultRule> peekFault() const;
    std::optional<LlmFaultRule> takeFault(); // consumes one use of the head rule
    QString newCompletionId() const;

    SandboxLlmConfig m_config;
    QTcpServer* m_tcp = nullptr;
    quint16 m_port = 0;
    QList<LlmFaultRule> m_faults;
    QList<QPointer<LlmStreamConnection>> m_connections;
    qint64 m_created = 0; // unix time the "models were downloaded" (created/modified fields)
    bool m_embeddingLoaded = true;
    bool m_visionLoaded = true; // the VLM needs no load step, but /api/v1/models/unload takes it out

    mutable QMutex m_mutex; // guards the observability members below
    int m_chatRequests = 0;
    int m_embeddingRequests = 0;
    int m_visionRequests = 0;
    int m_abortedStreams = 0;
    bool m_modelLoaded = true;
    QJsonObject m_lastChatRequest;
};

} // namespace gd::sandbox
