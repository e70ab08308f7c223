#include "pipeline/MetricsExporter.h"

#include "gpu/GpuMonitor.h"
#include "net/MiniHttpServer.h"
#include "pipeline/RunController.h"
#include "telemetry/OpenMetricsWriter.h"

#include <QHostAddress>

namespace gd::pipeline {

namespace {

using Labels = telemetry::OpenMetricsWriter::Labels;

// Every status a scene passes through in RunController, always exported (0 included) so a
// dashboard's stacked series never has gaps.
const QStringList& sceneStatuses()
{
    static const QStringList s{QStringLiteral("queued"),    QStringLiteral("running"),
                               QStringLiteral("requeued"),  QStringLiteral("succeeded"),
                               QStringLiteral("failed"),    QStringLiteral("cancelled")};
    return s;
}

const QStringList& kpiStatuses()
{
    static const QStringList s{QStringLiteral("PASS"), QStringLiteral("WARN"), QStringLiteral("FAIL"),
                               QStringLiteral("UNMEASURED")};
    return s;
}

} // namespace

const QList<double>& MetricsExporter::durationBucketsSeconds()
{
    static const QList<double> b{5, 10, 30, 60, 120, 300, 600, 1800};
    return b;
}

MetricsExporter::MetricsExporter(QObject* parent)
    : QObject(parent), m_durationBuckets(durationBucketsSeconds().size(), 0)
{
}

MetricsExporter::~MetricsExporter() = default;

void MetricsExporter::attach(RunController* controller)
{
    connect(controller, &RunController::runDirectoryCreated, this,
            [this, controller](const QString&) { onRunDirectoryCreated(controller); });
    connect(controller, &RunController::attemptStarted, this,
            [this](const QString& id, int, int) { onAttemptStarted(id); });
    connect(controller, &RunController::sceneState, this, &MetricsExporter::onSceneState);
    connect(controller, &RunController::attemptFinished, this,
            [this](const QString&, const telemetry::AttemptRecord& a) { onAttemptFinished(a); });
    connect(controller, &RunController::sceneFinished, this, &MetricsExporter::onSceneFinished);
    connect(controller, &RunController::finished, this, [this](int code, const QString&) { onFinished(code); });
    // An operator requeue puts a finished scene back in the queue.
    connect(controller, &RunController::sceneRequeued, this, [this](const QString& id, int) {
        auto it = m_scenes.find(id);
        if (it != m_scenes.end())
            it->status = QStringLiteral("queued");
    });
}

void MetricsExporter::setGpuMonitor(gpu::GpuMonitor* monitor)
{
    m_monitor = monitor;
}

void MetricsExporter::setKpiResults(const QVector<quality::KpiResult>& results)
{
    m_kpis = results;
}

void MetricsExporter::onRunDirectoryCreated(RunController* controller)
{
    const telemetry::RunRecord& run = controller->record();
    m_runId = run.runId;
    m_workflow = run.workflow;
    m_running = true;
    m_exitCode.reset();
    m_sceneOrder.clear();
    m_scenes.clear();
    for (const auto& scene : run.scenes) {
        m_sceneOrder << scene.sceneId;
        m_scenes.insert(scene.sceneId, SceneFigures{});
    }
    m_attemptsByStatus.clear();
    m_doneMarkers = 0;
    m_forcedCopies = 0;
    m_durationBuckets.fill(0);
    m_durationCount = 0;
    m_durationSum = 0;
    m_kpis.clear();
}

void MetricsExporter::onAttemptStarted(const QString& sceneId)
{
    auto it = m_scenes.find(sceneId);
    if (it != m_scenes.end())
        it->status = QStringLiteral("running");
}

void MetricsExporter::onSceneState(const QString& sceneId, const QString& state)
{
    // Only the requeue pause is a scene status among the state texts; the others are attempt detail.
    auto it = m_scenes.find(sceneId);
    if (it != m_scenes.end() && state == QLatin1String("requeued"))
        it->status = state;
}

void MetricsExporter::onAttemptFinished(const telemetry::AttemptRecord& attempt)
{
    ++m_attemptsByStatus[attempt.status];
    if (attempt.telemetry.doneMarkerDetected)
        ++m_doneMarkers;
    if (attempt.telemetry.forcedCopyTriggered)
        ++m_forcedCopies;
}

void MetricsExporter::onSceneFinished(const telemetry::SceneRecord& scene)
{
    auto it = m_scenes.find(scene.sceneId);
    if (it == m_scenes.end())
        return;
    it->status = scene.status;
    const telemetry::AttemptRecord* kept = scene.kept();
    if (!kept)
        return;
    it->frames = kept->frameCount;
    // The kept attempt's duration, the figure DurationP50Seconds/P95 in the artifact are made of.
    const double seconds = kept->durationSeconds;
    const QList<double>& bounds = durationBucketsSeconds();
    for (qsizetype i = 0; i < bounds.size(); ++i)
        if (seconds <= bounds[i])
            ++m_durationBuckets[i];
    ++m_durationCount;
    m_durationSum += seconds;
}

void MetricsExporter::onFinished(int exitCode)
{
    m_running = false;
    m_exitCode = exitCode;
}

bool MetricsExporter::listen(const QHostAddress& address, quint16 port, QString* error)
{
    if (!m_http) {
        m_http = new net::MiniHttpServer(this);
        m_http->setWebSocketsEnabled(false);
        m_http->setMaxBodyBytes(64 * 1024); // scrapes have no body; anything large is not a scraper
        m_http->setHandler([this](const net::HttpRequest& r) { return respond(r); });
    }
    return m_http->listen(address, port, error);
}

void MetricsExporter::stopListening()
{
    if (m_http)
        m_http->stopListening();
}

bool MetricsExporter::isListening() const
{
    return m_http && m_http->isListening();
}

quint16 MetricsExporter::port() const
{
    return isListening() ? m_http->port() : 0;
}

QUrl MetricsExporter::url() const
{
    if (!isListening())
        return {};
    return QUrl(QStringLiteral("http://127.0.0.1:%1/metrics").arg(m_http->port()));
}

net::HttpResponse MetricsExporter::respond(const net::HttpRequest& request) const
{
    net::HttpResponse r;
    if (request.path != QLatin1String("/metrics")) {
        r = net::HttpResponse::text(404, "404: Not Found (the metrics are at /metrics)");
    } else if (request.method != "GET" && request.method != "HEAD") {
        r = net::HttpResponse::text(405, "405: Method Not Allowed");
        r.setHeader("Allow", "GET, HEAD");
    } else {
        r.status = 200;
        r.body = exposition();
        r.setHeader("Content-Type", telemetry::OpenMetricsWriter::contentType());
    }
    r.setHeader("Server", "gemdirect/" GD_APP_VERSION);
    return r;
}

QByteArray MetricsExporter::exposition() const
{
    telemetry::OpenMetricsWriter w;

    w.family(QStringLiteral("gemdirect_run"), QStringLiteral("info"), QStringLiteral("The run being rendered."));
    if (!m_runId.isEmpty())
        w.sample(QStringLiteral("_info"),
                 {{QStringLiteral("run_id"), m_runId},
                  {QStringLiteral("workflow"), m_workflow},
                  {QStringLiteral("version"), QStringLiteral(GD_APP_VERSION)}},
                 1);
    w.family(QStringLiteral("gemdirect_run_active"), QStringLiteral("gauge"),
             QStringLiteral("1 while a run is rendering, 0 before it starts and after it finished."));
    w.sample({}, {}, m_running ? 1 : 0);
    if (m_exitCode) {
        w.family(QStringLiteral("gemdirect_run_exit_code"), QStringLiteral("gauge"),
                 QStringLiteral("Exit code of the finished run: 0 all scenes succeeded, 1 some failed, 2 bad "
                                "input, 3 ComfyUI unreachable, 130 interrupted."));
        w.sample({}, {}, *m_exitCode);
    }

    QHash<QString, int> byStatus;
    for (const QString& id : m_sceneOrder)
        ++byStatus[m_scenes.value(id).status];
    w.family(QStringLiteral("gemdirect_queue_depth"), QStringLiteral("gauge"),
             QStringLiteral("Scenes waiting to be submitted to ComfyUI (queued, or requeued after a failed "
                            "attempt)."));
    w.sample({}, {}, byStatus.value(QStringLiteral("queued")) + byStatus.value(QStringLiteral("requeued")));
    w.family(QStringLiteral("gemdirect_scenes"), QStringLiteral("gauge"),
             QStringLiteral("Scenes of the current run by status."));
    for (const QString& status : sceneStatuses())
        w.sample({}, {{QStringLiteral("status"), status}}, byStatus.value(status));

    w.family(QStringLiteral("gemdirect_attempts"), QStringLiteral("counter"),
             QStringLiteral("Finished scene attempts of the current run by outcome."));
    for (const QString& status : {QStringLiteral("succeeded"), QStringLiteral("failed"), QStringLiteral("cancelled")})
        w.sample(QStringLiteral("_total"), {{QStringLiteral("status"), status}}, double(m_attemptsByStatus.value(status)));
    w.family(QStringLiteral("gemdirect_done_markers"), QStringLiteral("counter"),
             QStringLiteral("Attempts whose frames were confirmed by the producer's done marker."));
    w.sample(QStringLiteral("_total"), {}, double(m_doneMarkers));
    w.family(QStringLiteral("gemdirect_forced_copies"), QStringLiteral("counter"),
             QStringLiteral("Attempts whose frames were copied without a done marker after the stability "
                            "checks ran out."));
    w.sample(QStringLiteral("_total"), {}, double(m_forcedCopies));

    w.family(QStringLiteral("gemdirect_scene_duration_seconds"), QStringLiteral("histogram"),
             QStringLiteral("Duration of each finished scene's kept attempt (queue start to frames collected)."),
             QStringLiteral("seconds"));
    w.histogram({}, durationBucketsSeconds(), m_durationBuckets, m_durationCount, m_durationSum);

    w.family(QStringLiteral("gemdirect_scene_frames"), QStringLiteral("gauge"),
             QStringLiteral("Frames collected for each finished scene (its kept attempt)."));
    for (const QString& id : m_sceneOrder) {
        const SceneFigures f = m_scenes.value(id);
        if (f.frames)
            w.sample({}, {{QStringLiteral("scene"), id}}, *f.frames);
    }

    appendGpu(w);
    appendKpis(w);
    return w.finish();
}

void MetricsExporter::appendGpu(telemetry::OpenMetricsWriter& w) const
{
    if (!m_monitor)
        return;
    const gpu::GpuSnapshot s = m_monitor->latest();
    const Labels gpu{{QStringLiteral("gpu"), s.index ? QString::number(*s.index) : QStringLiteral("0")}};
    // A metric the source cannot supply is left out entirely: "unavailable" must not read as 0.
    if (s.source != QLatin1String("missing")) {
        w.family(QStringLiteral("gemdirect_gpu"), QStringLiteral("info"),
                 QStringLiteral("The GPU read and where the readings come from (nvml, nvidia-smi, system_stats)."));
        w.sample(QStringLiteral("_info"), gpu + Labels{{QStringLiteral("name"), s.name}, {QStringLiteral("source"), s.source}}, 1);
    }
    if (s.vramUsedBytes) {
        w.family(QStringLiteral("gemdirect_gpu_vram_used_bytes"), QStringLiteral("gauge"),
                 QStringLiteral("GPU memory in use (all processes)."), QStringLiteral("bytes"));
        w.sample({}, gpu, double(*s.vramUsedBytes));
    }
    if (s.vramTotalBytes) {
        w.family(QStringLiteral("gemdirect_gpu_vram_total_bytes"), QStringLiteral("gauge"),
                 QStringLiteral("GPU memory in total."), QStringLiteral("bytes"));
        w.sample({}, gpu, double(*s.vramTotalBytes));
    }
    if (s.utilizationPercent) {
        w.family(QStringLiteral("gemdirect_gpu_utilization_ratio"), QStringLiteral("gauge"),
                 QStringLiteral("GPU busy share over the last sample period, 0 to 1."), QStringLiteral("ratio"));
        w.sample({}, gpu, *s.utilizationPercent / 100.0);
    }
}

void MetricsExporter::appendKpis(telemetry::OpenMetricsWriter& w) const
{
    if (m_kpis.isEmpty())
        return;
    w.family(QStringLiteral("gemdirect_kpi_value"), QStringLiteral("gauge"),
             QStringLiteral("Measured KPI values of the run (spec quality-kpis); unmeasured KPIs are absent."));
    for (const auto& k : m_kpis)
        if (k.value)
            w.sample({}, {{QStringLiteral("kpi"), k.id}}, *k.value);
    w.family(QStringLiteral("gemdirect_kpi_status"), QStringLiteral("stateset"),
             QStringLiteral("KPI verdict of the run: PASS, WARN, FAIL or UNMEASURED."));
    for (const auto& k : m_kpis)
        for (const QString& status : kpiStatuses())
            w.sample({}, {{QStringLiteral("kpi"), k.id}, {QStringLiteral("gemdirect_kpi_status"), status}},
                     k.status == status ? 1 : 0);
}

} // namespace gd::pipeline
