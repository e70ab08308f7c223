#pragma once

#include "llm/LlmTypes.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <functional>
#include <optional>

namespace gd::net {
class HttpClient;
}

namespace gd::llm {

// Runs the detection probes of spec/llm-api.md §6.2 against one server root (Ollama, LM Studio v1/v0,
// llama.cpp, generic OpenAI) and reports what answered and which models it lists. Each probe is
// bounded (2 s without bytes, 4 s in all) and accepted only when the body has the expected shape,
// because older LM Studio builds answer 200 to unknown paths. A refused connection or a probe that
// times out ends detection at once: nothing else will answer either.
class ServerDetector : public QObject
{
    Q_OBJECT
public:
    ServerDetector(net::HttpClient* http, QObject* parent = nullptr);
    void start();

    // Body-shape parsers, public for tests. nullopt = the body is not that server's shape.
    static std::optional<QVector<ModelInfo>> parseLmStudioV1(const QJsonObject& body);
    static std::optional<QVector<ModelInfo>> parseLmStudioV0(const QJsonObject& body);
    static std::optional<QVector<ModelInfo>> parseOpenAiModels(const QJsonObject& body);
    static QVector<ModelInfo> parseOllama(const QJsonObject& tags, const QJsonObject& ps);
    // Model ids that name embedding models when the server does not say (generic lists, Ollama tags).
    static bool looksLikeEmbeddingModel(const QString& id);

Q_SIGNALS:
    void finished(const gd::llm::ServerInfo& info);

private:
    struct ProbeResult
    {
        bool ok = false; // 2xx
        int status = 0;
        QByteArray body;
        Error error; // transport or HTTP error when !ok
        QJsonObject json() const;
    };
    using ProbeHandler = std::function<void(const ProbeResult&)>;

    void probe(const QString& path, ProbeHandler handler);
    // True when the probe failed in a way that ends detection (nothing listening, no answer).
    bool fatal(const ProbeResult& r);
    void stepOllama();
    void stepLmStudioV1();
    void stepLmStudioV0();
    void stepLlamaCpp();
    void stepGeneric();
    void finish();

    QPointer<net::HttpClient> m_http;
    ServerInfo m_info;
    int m_authStatus = 0; // a probe was answered 401/403 (server wants an API key)
    bool m_done = false;
};

} // namespace gd::llm
