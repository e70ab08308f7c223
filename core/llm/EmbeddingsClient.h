#pragma once

#include "llm/LlmTypes.h"

#include <QObject>
#include <QPointer>
#include <QStringList>
#include <functional>

namespace gd::net {
class HttpJob;
}

namespace gd::llm {

class LlmClient;

// POST /v1/embeddings (spec/llm-api.md §1.5) against an LlmClient's server, on its network manager: detects
// the server first when needed, picks the embedding model (ModelCapabilities), and answers once with one
// vector per input. Every request is bounded (idle and total timeout); error kinds are the chat job's
// (unreachable, http, timeout, no_model, context_overflow) plus "protocol" for answers of the wrong shape.
class EmbeddingsClient : public QObject
{
    Q_OBJECT
public:
    explicit EmbeddingsClient(LlmClient* client, QObject* parent = nullptr);

    void setTimeouts(int idleMs, int totalMs); // default 60000 / 180000 (a JIT load of the embedder)

    // `model` empty: the first embedding model the server lists. `done` runs exactly once, on this
    // object's thread, unless `ctx` is destroyed first.
    void embed(const QStringList& inputs, const QString& model, QObject* ctx,
               std::function<void(const EmbeddingsResult&)> done);
    // Aborts every request in flight: each `done` then gets an error of kind "cancelled" (a request
    // still waiting for server detection is not stopped; its ctx guard is the caller's way out).
    void cancel();

    // Reads the server's answer (public for tests): `count` vectors of equal, non-zero length expected.
    static EmbeddingsResult parse(const QByteArray& body, int count);

private:
    void post(const QStringList& inputs, const QString& model, QPointer<QObject> ctx,
              std::function<void(const EmbeddingsResult&)> done, qint64 startedMs);

    QPointer<LlmClient> m_client;
    QList<QPointer<net::HttpJob>> m_jobs; // requests in flight, for cancel()
    int m_idleMs = 60000;
    int m_totalMs = 180000;
};

} // namespace gd::llm
