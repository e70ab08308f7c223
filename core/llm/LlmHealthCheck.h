#pragma once

#include "telemetry/RunModel.h"

#include <QObject>
#include <QPointer>
#include <QProcessEnvironment>
#include <QTimer>
#include <QUrl>

namespace gd::net {
class HttpClient;
}

namespace gd::llm {

class LlmClient;

// The run's LLM health check (telemetry-contract.md §3.1 LLMHealthInfo, §4 "[LLM] Health check …"):
// resolves the server URL (--llm-url, else LOCAL_STORY_PROVIDER_URL), honours the probe override
// LOCAL_LLM_HEALTHCHECK_URL and the operator's LOCAL_LLM_SKIP_HEALTHCHECK=1, probes the server and
// reports the filled LlmHealthInfo plus its summary line. Bounded: at most kTotalBudgetMs in all; a
// refused connection is reported as soon as the first probe fails.
class LlmHealthCheck : public QObject
{
    Q_OBJECT
public:
    static constexpr int kTotalBudgetMs = 10000;

    LlmHealthCheck(const QString& configuredUrl, const QProcessEnvironment& env, QObject* parent = nullptr);

    // The URL the check reports (normalised root) and the probe override ("" = default).
    QString url() const { return m_url.isValid() ? m_url.toString() : m_rawUrl; }
    QString overrideUrl() const { return m_override; }
    void setApiKey(const QString& key) { m_apiKey = key; }

    // Emits finished(info, summaryLine) once, always asynchronously (also when skipped).
    void run();

Q_SIGNALS:
    void finished(const gd::telemetry::LlmHealthInfo& info, const QString& summaryLine);

private:
    void probeDirect(const QUrl& url);
    void succeed(int models);
    void failWith(const QString& error);
    void emitResult();

    QString m_rawUrl;
    QUrl m_url;
    QString m_override;
    QString m_skipReason;
    QString m_apiKey;
    bool m_started = false;
    bool m_done = false;
    telemetry::LlmHealthInfo m_info;
    QString m_line;
    QTimer m_budget;
    QPointer<LlmClient> m_client;
    QPointer<net::HttpClient> m_http;
};

} // namespace gd::llm
