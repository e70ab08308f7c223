#pragma once

#include "net/HttpRequest.h"
#include "net/HttpResponse.h"
#include "quality/KpiEvaluator.h"
#include "telemetry/RunModel.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QUrl>
#include <optional>

class QHostAddress;

namespace gd::gpu {
class GpuMonitor;
}
namespace gd::net {
class MiniHttpServer;
}
namespace gd::telemetry {
class OpenMetricsWriter;
}

namespace gd::pipeline {

class RunController;

// Exposes the current run as OpenMetrics text at /metrics on loopback, for an existing Prometheus:
// queue depth and scenes by status, attempt outcomes, the scene duration histogram, frames per scene
// (from RunController's signals), GPU VRAM/utilisation (read from GpuMonitor at scrape time; absent,
// never 0, when unavailable) and the run's KPI verdicts once computed. Lives in its owner's thread.
class MetricsExporter : public QObject
{
    Q_OBJECT
public:
    // Upper bounds of the scene duration histogram, seconds (+Inf is added).
    static const QList<double>& durationBucketsSeconds();

    explicit MetricsExporter(QObject* parent = nullptr);
    ~MetricsExporter() override;

    // Follows `controller` from its runDirectoryCreated() on; the previous run's figures are dropped
    // then, so the figures always describe one run.
    void attach(RunController* controller);
    // GPU figures come from monitor->latest() (thread-safe); nullptr = no GPU figures.
    void setGpuMonitor(gpu::GpuMonitor* monitor);
    // The run's KPI verdicts (quality::KpiEvaluator) once the quality step has computed them.
    void setKpiResults(const QVector<quality::KpiResult>& results);

    // Serves GET /metrics. Only loopback addresses are accepted (there is no authentication); false
    // with `error` naming the address/port and the reason (e.g. the port is in use).
    bool listen(const QHostAddress& address, quint16 port, QString* error);
    void stopListening();
    bool isListening() const;
    quint16 port() const;
    QUrl url() const; // http://127.0.0.1:PORT/metrics, empty when not listening

    // The exposition as served (ends with "# EOF").
    QByteArray exposition() const;
    // The HTTP answer for one request: 200 on GET/HEAD /metrics, 404 elsewhere, 405 for other methods.
    net::HttpResponse respond(const net::HttpRequest& request) const;

private:
    struct SceneFigures
    {
        QString status = QStringLiteral("queued");
        std::optional<int> frames; // kept attempt's frames, once the scene finished
    };

    void onRunDirectoryCreated(RunController* controller);
    void onAttemptStarted(const QString& sceneId);
    void onSceneState(const QString& sceneId, const QString& state);
    void onAttemptFinished(const telemetry::AttemptRecord& attempt);
    void onSceneFinished(const telemetry::SceneRecord& scene);
    void onFinished(int exitCode);
    void appendGpu(telemetry::OpenMetricsWriter& w) const;
    void appendKpis(telemetry::OpenMetricsWriter& w) const;

    net::MiniHttpServer* m_http = nullptr;
    QPointer<gpu::GpuMonitor> m_monitor;
    QString m_runId;
    QString m_workflow;
    bool m_running = false;
    std::optional<int> m_exitCode;
    QStringList m_sceneOrder;
    QHash<QString, SceneFigures> m_scenes;
    QHash<QString, quint64> m_attemptsByStatus;
    quint64 m_doneMarkers = 0;
    quint64 m_forcedCopies = 0;
    QList<quint64> m_durationBuckets; // cumulative, one per durationBucketsSeconds() bound
    quint64 m_durationCount = 0;
    double m_durationSum = 0;
    QVector<quality::KpiResult> m_kpis;
};

} // namespace gd::pipeline
