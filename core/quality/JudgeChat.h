#pragma once

#include "llm/LlmTypes.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <functional>
#include <optional>

namespace gd::llm {
class LlmClient;
class ChatJob;
} // namespace gd::llm

namespace gd::quality {

// The request/answer path every model judge shares (spec/quality-kpis.md, spec/llm-api.md §6.12): the
// temperature-0 structured request shape, one bounded chat at a time on this object's thread, and the
// parse-and-check of a structured answer (JSON extraction with repairs, then the schema's types,
// required keys and ranges, which servers do not reliably enforce).
class JudgeChat : public QObject
{
    Q_OBJECT
public:
    explicit JudgeChat(QObject* parent = nullptr);
    ~JudgeChat() override;

    void setClient(gd::llm::LlmClient* client);
    gd::llm::LlmClient* client() const;
    // Bound on each call on top of the client's own timeouts; a call that runs past it comes back with
    // an error of kind "timeout".
    void setTimeoutMs(int ms) { m_timeoutMs = ms; }
    int timeoutMs() const { return m_timeoutMs; }

    // System + user message at temperature 0 (the spec's judges: repeated calls differ only by server
    // nondeterminism), top_p 1, the given token budget.
    static gd::llm::ChatRequest request(const QString& system, const QString& user, const QString& model,
                                        int maxTokens = 600);
    // The structured answer of a finished call, or nullopt with `why` (transport error, unreadable JSON,
    // or every schema problem joined with "; ").
    static std::optional<QJsonObject> answer(const gd::llm::ChatResult& result, const QJsonObject& schema,
                                             QString* why);

    // One bounded call; `done` runs exactly once with the result unless cancel() or destruction comes
    // first. A second send() while one is in flight cancels the first (its callback never runs).
    void send(const gd::llm::ChatRequest& request, std::function<void(const gd::llm::ChatResult&)> done);
    void cancel();
    bool busy() const { return !m_job.isNull(); }

private:
    QPointer<gd::llm::LlmClient> m_client;
    QPointer<gd::llm::ChatJob> m_job;
    QTimer m_timer;
    int m_timeoutMs = 120000;
    quint64 m_generation = 0; // guards callbacks of a cancelled call
};

} // namespace gd::quality
