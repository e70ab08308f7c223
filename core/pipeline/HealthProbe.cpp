#include "pipeline/HealthProbe.h"

#include "comfy/ComfyClient.h"
#include "comfy/WorkflowProfile.h"
#include "comfy/WorkflowProfileLoader.h"
#include "gpu/GpuProbe.h"
#include "gpu/SystemStatsParser.h"
#include "llm/ChatBackend.h"
#include "llm/LlmClient.h"
#include "llm/StoryService.h"

#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QStorageInfo>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

namespace gd::pipeline {

namespace {
int rank(const QString& status)
{
    if (status == QLatin1String("down"))
        return 2;
    if (status == QLatin1String("degraded"))
        return 1;
    return 0;
}
QString mb(qint64 bytes)
{
    return QString::number(bytes / (1024.0 * 1024.0), 'f', 0) + QStringLiteral(" MB");
}
} // namespace

HealthProbe::HealthProbe(HealthOptions options, QObject* parent) : QObject(parent), m_opt(std::move(options))
{
}

HealthProbe::~HealthProbe() = default;

void HealthProbe::run()
{
    m_pending = 4;
    // Whatever does not answer in time is reported as down, not waited on.
    QTimer::singleShot(m_opt.timeoutMs + 2000, this, [this] {
        if (m_finished)
            return;
        for (const char* c : {"llm", "comfyui", "gpu", "disk"}) {
            bool seen = false;
            for (const auto& i : m_items)
                seen = seen || i.component == QLatin1String(c);
            if (!seen)
                m_items.push_back({QLatin1String(c), QStringLiteral("down"),
                                   QStringLiteral("no answer within %1 s").arg(m_opt.timeoutMs / 1000), {}});
        }
        m_pending = 0;
        m_finished = true;
        Q_EMIT finished(m_items, exitCodeFor(m_items));
    });
    probeLlm();
    probeComfy();
    probeDisk();
}

void HealthProbe::done(const HealthItem& item)
{
    if (m_finished)
        return;
    m_items.push_back(item);
    if (--m_pending > 0)
        return;
    m_finished = true;
    // Stable order for people and scripts.
    static const QStringList order{QStringLiteral("llm"), QStringLiteral("comfyui"), QStringLiteral("gpu"), QStringLiteral("disk")};
    std::sort(m_items.begin(), m_items.end(),
              [](const HealthItem& a, const HealthItem& b) { return order.indexOf(a.component) < order.indexOf(b.component); });
    Q_EMIT finished(m_items, exitCodeFor(m_items));
}

void HealthProbe::probeLlm()
{
    if (!m_opt.checkLlm) {
        done({QStringLiteral("llm"), QStringLiteral("skipped"), QStringLiteral("not checked (--no-llm)"), {}});
        return;
    }
    const QString url = llm::StoryService::resolveProviderUrl(m_opt.llmUrl, m_opt.env);
    m_llm = new llm::LlmClient(llm::LlmClient::normaliseUrl(url), this);
    if (!m_opt.llmApiKey.isEmpty())
        m_llm->setApiKey(m_opt.llmApiKey);
    m_llm->setFirstTokenTimeoutMs(m_opt.timeoutMs);
    m_llm->setInactivityTimeoutMs(m_opt.timeoutMs);
    m_llm->setRetryPolicy(1, 500, 500);
    m_llm->detect(this, [this, url](const llm::ServerInfo& info) {
        if (!info.error.isNull()) {
            done({QStringLiteral("llm"), QStringLiteral("down"),
                  QStringLiteral("%1: %2").arg(url, info.error.message),
                  {{QStringLiteral("url"), url}}});
            return;
        }
        QJsonObject data{{QStringLiteral("url"), url},
                         {QStringLiteral("flavour"), llm::flavourName(info.flavour)},
                         {QStringLiteral("models"), int(info.models.size())}};
        Error why;
        const auto model = llm::LlmClient::pickModel(info, m_opt.llmModel, &why);
        if (!model) {
            done({QStringLiteral("llm"), QStringLiteral("degraded"), why.message, data});
            return;
        }
        data.insert(QStringLiteral("model"), *model);
        // A tiny chat proves the model answers, not just that the server lists it.
        llm::ChatRequest req;
        req.model = *model;
        req.temperature = 0;
        req.maxTokens = 8;
        req.messages = {{QStringLiteral("user"), QStringLiteral("Reply with the single word OK.")}};
        llm::ChatJob* job = m_llm->startChat(req, this);
        connect(job, &llm::ChatJob::finished, this, [this, data, model](const llm::ChatResult& r) mutable {
            if (!r.error.isNull()) {
                done({QStringLiteral("llm"), QStringLiteral("degraded"),
                      QStringLiteral("model %1 is listed but a test chat failed: %2").arg(*model, r.error.message), data});
                return;
            }
            if (r.timeToFirstTokenMs)
                data.insert(QStringLiteral("timeToFirstTokenMs"), *r.timeToFirstTokenMs);
            done({QStringLiteral("llm"), QStringLiteral("ok"),
                  QStringLiteral("%1 answers with %2").arg(data.value(QStringLiteral("flavour")).toString(), *model), data});
        });
    });
}

void HealthProbe::probeComfy()
{
    m_comfy = new comfy::ComfyClient(m_opt.comfyUrl, this);
    if (!m_opt.comfyToken.isEmpty())
        m_comfy->setBearerToken(m_opt.comfyToken);
    m_comfy->setRequestTimeoutMs(m_opt.timeoutMs);
    m_comfy->systemStats(this, [this](const std::pair<QJsonObject, Error>& r) {
        if (!r.second.isNull()) {
            done({QStringLiteral("comfyui"), QStringLiteral("down"),
                  QStringLiteral("%1: %2 — start ComfyUI or check --comfy-url").arg(m_opt.comfyUrl.toString(), r.second.message),
                  {{QStringLiteral("url"), m_opt.comfyUrl.toString()}}});
            probeGpu(); // the GPU probe may still find NVML / nvidia-smi
            return;
        }
        m_systemStats = r.first;
        probeGpu();
        auto data = std::make_shared<QJsonObject>(QJsonObject{
            {QStringLiteral("url"), m_opt.comfyUrl.toString()},
            {QStringLiteral("version"),
             r.first.value(QStringLiteral("system")).toObject().value(QStringLiteral("comfyui_version")).toString()}});
        m_comfy->queue(this, [this, data](const comfy::QueueResult& q) {
            if (!q.error.isNull()) {
                done({QStringLiteral("comfyui"), QStringLiteral("degraded"), QStringLiteral("/queue failed: %1").arg(q.error.message), *data});
                return;
            }
            data->insert(QStringLiteral("queueRunning"), int(q.running.size()));
            data->insert(QStringLiteral("queuePending"), int(q.pending.size()));
            QStringList errors;
            auto profile = comfy::WorkflowProfileLoader::resolve(m_opt.workflow, m_opt.profileSearchDirs, &errors);
            QStringList classes = profile ? profile->classTypes() : QStringList();
            if (!classes.contains(comfy::WorkflowProfile::markerClass()))
                classes << comfy::WorkflowProfile::markerClass();
            auto pending = std::make_shared<int>(int(classes.size()));
            auto missing = std::make_shared<QStringList>();
            for (const QString& cls : classes) {
                m_comfy->objectInfo(cls, this, [this, cls, pending, missing, data, errors](const std::pair<bool, Error>& info) {
                    if (!info.first)
                        missing->append(cls);
                    if (--*pending > 0)
                        return;
                    missing->sort();
                    const bool markerMissing = missing->removeAll(comfy::WorkflowProfile::markerClass()) > 0;
                    data->insert(QStringLiteral("doneMarkerNode"), !markerMissing);
                    QStringList problems;
                    if (!errors.isEmpty())
                        problems << QStringLiteral("workflow '%1': %2").arg(m_opt.workflow, errors.join(QStringLiteral("; ")));
                    if (!missing->isEmpty())
                        problems << QStringLiteral("workflow '%1' needs node classes the server lacks: %2")
                                        .arg(m_opt.workflow, missing->join(QStringLiteral(", ")));
                    if (markerMissing)
                        problems << QStringLiteral("GemDirectSaveFrames is not installed (gemdirect comfy install-node "
                                                   "--comfy-dir PATH, then restart ComfyUI)");
                    if (problems.isEmpty())
                        done({QStringLiteral("comfyui"), QStringLiteral("ok"),
                              QStringLiteral("ComfyUI %1, queue %2 running / %3 pending, done-marker node installed")
                                  .arg(data->value(QStringLiteral("version")).toString())
                                  .arg(data->value(QStringLiteral("queueRunning")).toInt())
                                  .arg(data->value(QStringLiteral("queuePending")).toInt()),
                              *data});
                    else
                        done({QStringLiteral("comfyui"), QStringLiteral("degraded"), problems.join(QStringLiteral("; ")), *data});
                });
            }
        });
    });
}

void HealthProbe::probeGpu()
{
    auto* watcher = new QFutureWatcher<gpu::GpuSnapshot>(this);
    connect(watcher, &QFutureWatcher<gpu::GpuSnapshot>::finished, this, [this, watcher] {
        gpu::GpuSnapshot s = watcher->result();
        watcher->deleteLater();
        if (!s.hasVram() && !m_systemStats.isEmpty()) {
            QString err;
            if (auto fromStats = gpu::SystemStatsParser::parse(m_systemStats, &err))
                s = *fromStats;
        }
        if (!s.hasVram()) {
            done({QStringLiteral("gpu"), QStringLiteral("degraded"),
                  QStringLiteral("no GPU reading: %1").arg(s.notes.join(QStringLiteral("; "))), {}});
            return;
        }
        QJsonObject data{{QStringLiteral("source"), s.source}, {QStringLiteral("name"), s.name}};
        data.insert(QStringLiteral("vramFreeBytes"), double(*s.vramFreeBytes));
        if (s.vramTotalBytes)
            data.insert(QStringLiteral("vramTotalBytes"), double(*s.vramTotalBytes));
        done({QStringLiteral("gpu"), QStringLiteral("ok"),
              QStringLiteral("%1: %2 free%3 (source %4)")
                  .arg(s.name, mb(*s.vramFreeBytes),
                       s.vramTotalBytes ? QStringLiteral(" of ") + mb(*s.vramTotalBytes) : QString(), s.source),
              data});
    });
    // NVML and nvidia-smi block (bounded): never on the caller's thread.
    watcher->setFuture(QtConcurrent::run([] {
        gpu::GpuProbe probe;
        return probe.sampleLocal(0);
    }));
}

void HealthProbe::probeDisk()
{
    QString path = m_opt.runsRoot;
    while (!path.isEmpty() && !QFileInfo::exists(path))
        path = QFileInfo(path).absolutePath() == path ? QString() : QFileInfo(path).absolutePath();
    const QStorageInfo storage(path.isEmpty() ? QDir::rootPath() : path);
    const qint64 freeBytes = storage.bytesAvailable();
    QJsonObject data{{QStringLiteral("path"), m_opt.runsRoot}, {QStringLiteral("freeBytes"), double(freeBytes)}};
    const QString text = QStringLiteral("%1 free under %2").arg(mb(freeBytes), m_opt.runsRoot);
    if (freeBytes < 0)
        done({QStringLiteral("disk"), QStringLiteral("degraded"), QStringLiteral("cannot read free space of ") + m_opt.runsRoot, data});
    else if (freeBytes < m_opt.diskWarnBytes)
        done({QStringLiteral("disk"), QStringLiteral("degraded"),
              text + QStringLiteral(" (below %1: frames may not fit)").arg(mb(m_opt.diskWarnBytes)), data});
    else
        done({QStringLiteral("disk"), QStringLiteral("ok"), text, data});
}

int HealthProbe::exitCodeFor(const QVector<HealthItem>& items)
{
    int worst = 0;
    for (const auto& i : items)
        worst = std::max(worst, rank(i.status));
    return worst;
}

QString HealthProbe::table(const QVector<HealthItem>& items)
{
    QString out;
    for (const auto& i : items)
        out += QStringLiteral("%1 %2 %3\n").arg(i.component, -8).arg(i.status.toUpper(), -9).arg(i.detail);
    static const char* overall[] = {"healthy", "degraded", "down"};
    out += QStringLiteral("overall: %1\n").arg(QLatin1String(overall[exitCodeFor(items)]));
    return out;
}

QJsonObject HealthProbe::toJson(const QVector<HealthItem>& items)
{
    QJsonArray arr;
    for (const auto& i : items)
        arr.append(QJsonObject{{QStringLiteral("component"), i.component},
                               {QStringLiteral("status"), i.status},
                               {QStringLiteral("detail"), i.detail},
                               {QStringLiteral("data"), i.data}});
    static const char* overall[] = {"healthy", "degraded", "down"};
    return QJsonObject{{QStringLiteral("status"), QLatin1String(overall[exitCodeFor(items)])},
                       {QStringLiteral("exitCode"), exitCodeFor(items)},
                       {QStringLiteral("components"), arr}};
}

} // namespace gd::pipeline
