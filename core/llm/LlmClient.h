#pragma once

#include "llm/ChatBackend.h"
#include "llm/LlmTypes.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QUrl>
#include <functional>
#include <optional>

namespace gd::net {
class HttpClient;
}

namespace gd::llm {

class LlmChatJob;

// Timeouts and retry policy a chat job runs under (spec/llm-api.md §6.5, §6.6).
struct LlmClientPolicy
{
    int connectTimeoutMs = 3000;
    int firstTokenTimeoutMs = 300000; // a JIT/cold model load holds the first byte for minutes
    int inactivityTimeoutMs = 90000;  // between bytes once tokens flow
    int maxAttempts = 5;
    int retryBaseMs = 500;
    int retryCapMs = 30000;
};

// Client for one local LLM server (LM Studio, Ollama, llama.cpp or any OpenAI-compatible one): detects
// what answers at the root URL, picks the model, and starts streaming chat jobs with the request shape
// that server needs. Lives on one thread; owns the one QNetworkAccessManager for that server.
class LlmClient : public QObject, public ChatBackend
{
    Q_OBJECT
public:
    explicit LlmClient(const QUrl& root, QObject* parent = nullptr);
    ~LlmClient() override;

    // Strips /v1, /v1/chat/completions (and other API routes), a trailing '/'; localhost → 127.0.0.1;
    // adds http:// when no scheme is given. Invalid/empty input gives an invalid QUrl.
    static QUrl normaliseUrl(const QString& text);

    QUrl root() const { return m_root; }
    void setApiKey(const QString& key);
    void setFirstTokenTimeoutMs(int ms);                         // default 300000 (JIT model load)
    void setInactivityTimeoutMs(int ms);                         // default 90000
    void setRetryPolicy(int maxAttempts, int baseMs, int capMs); // default 5, 500, 30000
    void setConnectTimeoutMs(int ms);                            // default 3000
    LlmClientPolicy policy() const { return m_policy; }
    // Model id used when a request names none (§6.3 "configured id").
    void setConfiguredModel(const QString& id) { m_configuredModel = id; }
    QString configuredModel() const { return m_configuredModel; }

    void detect(QObject* ctx, std::function<void(const ServerInfo&)> done); // §6.2
    static std::optional<QString> pickModel(const ServerInfo& info, const QString& configured,
                                            Error* why); // §6.3
    ChatJob* startChat(const ChatRequest& request,
                       QObject* parent) override; // streaming; flavour tweaks §6.4
    ServerInfo serverInfo() const; // last detection result (startChat detects first when never done)
    bool hasServerInfo() const { return m_detected; }
    // Forget the detection result (the server went away; it may come back as something else).
    void invalidateServerInfo();

    // Request shape of §6.4 for a flavour, public for tests: the route and the JSON body.
    static QString chatPath(ServerFlavour flavour);
    static QJsonObject chatBody(const ChatRequest& request, ServerFlavour flavour, const QString& model);
    static QString requestFormat(const ChatRequest& request, ServerFlavour flavour);

    net::HttpClient* http() const { return m_http; }
    QString apiKey() const { return m_apiKey; }

private:
    void onDetected(const ServerInfo& info);

    QUrl m_root;
    net::HttpClient* m_http;
    QString m_apiKey;
    QString m_configuredModel;
    LlmClientPolicy m_policy;
    ServerInfo m_info;
    bool m_detected = false;
    bool m_detecting = false;
    QVector<QPair<QPointer<QObject>, std::function<void(const ServerInfo&)>>> m_waiting;
};

} // namespace gd::llm
