#pragma once

#include <QJsonObject>
#include <QObject>
#include <QProcessEnvironment>
#include <QUrl>
#include <QVector>

namespace gd::llm {
class LlmClient;
}
namespace gd::comfy {
class ComfyClient;
}

namespace gd::pipeline {

// One line of `gemdirect health`.
struct HealthItem
{
    QString component; // llm | comfyui | gpu | disk
    QString status;    // ok | degraded | down | skipped
    QString detail;    // one sentence an operator can act on
    QJsonObject data;  // numbers behind it (models, VRAM, free bytes, ...)
};

struct HealthOptions
{
    QString llmUrl;                 // empty = LOCAL_STORY_PROVIDER_URL, else LM Studio's default
    QString llmModel;
    QString llmApiKey;              // sent as a bearer token when set (never logged)
    bool checkLlm = true;
    QUrl comfyUrl;
    QString comfyToken;             // bearer token for a reverse proxy in front of ComfyUI
    QString workflow = QStringLiteral("default");
    QStringList profileSearchDirs;
    QString runsRoot;
    qint64 diskWarnBytes = 10LL * 1024 * 1024 * 1024;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    int timeoutMs = 15000;          // per component; the whole probe is bounded by it
};

// Probes everything a render night depends on, in parallel: the LLM (models + a tiny chat),
// ComfyUI (/system_stats, /queue, the workflow's node classes, the done-marker node), the GPU
// (NVML / nvidia-smi on a worker thread, else /system_stats) and free disk space under the runs
// root. finished() once, with an exit code for cron/systemd timers: 0 healthy, 1 degraded, 2 down.
class HealthProbe : public QObject
{
    Q_OBJECT
public:
    explicit HealthProbe(HealthOptions options, QObject* parent = nullptr);
    ~HealthProbe() override;

    void run();

    static int exitCodeFor(const QVector<HealthItem>& items);
    static QString table(const QVector<HealthItem>& items);
    static QJsonObject toJson(const QVector<HealthItem>& items);

Q_SIGNALS:
    void finished(const QVector<gd::pipeline::HealthItem>& items, int exitCode);

private:
    void probeLlm();
    void probeComfy();
    void probeGpu();
    void probeDisk();
    void done(const HealthItem& item);

    HealthOptions m_opt;
    QVector<HealthItem> m_items;
    int m_pending = 0;
    bool m_finished = false;
    llm::LlmClient* m_llm = nullptr;
    comfy::ComfyClient* m_comfy = nullptr;
    QJsonObject m_systemStats; // shared with the GPU probe's fallback
};

} // namespace gd::pipeline

Q_DECLARE_METATYPE(gd::pipeline::HealthItem)
