#pragma once

#include <QJsonObject>
#include <QObject>
#include <QStringList>
#include <QUrl>
#include <functional>

namespace gd::net {
class HttpClient;
}

namespace gd::llm {

// What unloading the story LLM before rendering did (for run-summary.txt and the artifact).
struct UnloadOutcome
{
    QString status;   // unloaded | nothingLoaded | instructed | failed
    QString endpoint; // the API that was used ("/api/v1/models/unload"), empty when none
    QStringList models; // instance ids unloaded, or the loaded models the operator must unload
    QString message;  // one line for the run summary; an instruction when status is "instructed"

    QJsonObject toJson() const;
};

// Frees the LLM's VRAM before ComfyUI renders (llm-api.md §2.2): LM Studio ≥ 0.4 lists loaded
// instances under GET /api/v1/models and unloads each with POST /api/v1/models/unload; older LM
// Studio (only /api/v0, which has no unload endpoint) and other servers get an instruction line
// naming the loaded models instead; a server that does not answer, or refuses the API key, is a
// failure naming the reason. One call, exactly one callback, never throws on bad answers.
class LlmModelUnloader : public QObject
{
    Q_OBJECT
public:
    LlmModelUnloader(const QUrl& baseUrl, const QString& apiKey, QObject* parent = nullptr);

    void unloadAll(std::function<void(const UnloadOutcome&)> done);

    // Pure helpers over the answers (tested without a server).
    static QStringList loadedInstancesV1(const QJsonObject& models);
    static QStringList loadedModelsV0(const QJsonObject& models);

private:
    void tryV0();
    void unloadNext();
    void finish(UnloadOutcome outcome);

    net::HttpClient* m_http;
    std::function<void(const UnloadOutcome&)> m_done;
    QStringList m_toUnload;
    UnloadOutcome m_outcome;
    QStringList m_errors;
};

} // namespace gd::llm
