#include "RunHarness.h"

#include "gpu/GpuMonitor.h"
#include "gpu/GpuSource.h"
#include "pipeline/MetricsExporter.h"

#include <QHostAddress>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <cmath>

using gd::pipeline::MetricsExporter;

namespace {

// A scrape as Prometheus' OpenMetrics parser reads it: metadata before samples, every sample inside
// its family, histogram buckets cumulative with +Inf == _count, "# EOF" last. Keys are
// `name{label="value",...}` with labels as written.
struct Scrape
{
    QString error; // empty = the text is a valid exposition
    QMap<QString, QString> types;
    QMap<QString, QString> units;
    QMap<QString, double> samples;

    bool has(const QString& key) const { return samples.contains(key); }
    double value(const QString& key) const { return samples.value(key, std::nan("")); }
    bool hasFamily(const QString& name) const { return types.contains(name); }

    static Scrape parse(const QByteArray& text)
    {
        Scrape s;
        if (!text.endsWith("# EOF\n")) {
            s.error = QStringLiteral("does not end with # EOF");
            return s;
        }
        const QStringList lines = QString::fromUtf8(text).split(QLatin1Char('\n'));
        static const QRegularExpression sampleRe(
            QStringLiteral(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$)"));
        QString family;
        QSet<QString> seen;
        for (qsizetype i = 0; i + 1 < lines.size(); ++i) { // the last element is the empty tail after "\n"
            const QString& line = lines[i];
            if (line == QLatin1String("# EOF")) {
                if (i + 2 != lines.size())
                    s.error = QStringLiteral("text after # EOF");
                break;
            }
            if (line.startsWith(QLatin1String("# "))) {
                const QStringList parts = line.split(QLatin1Char(' '));
                if (parts.size() < 3) {
                    s.error = QStringLiteral("bad metadata line: ") + line;
                    return s;
                }
                if (parts[1] == QLatin1String("TYPE")) {
                    family = parts[2];
                    if (seen.contains(family)) {
                        s.error = QStringLiteral("family repeated: ") + family;
                        return s;
                    }
                    seen.insert(family);
                    s.types[family] = parts.value(3);
                } else if (parts[2] != family) {
                    s.error = QStringLiteral("metadata for another family: ") + line;
                    return s;
                } else if (parts[1] == QLatin1String("UNIT")) {
                    s.units[family] = parts.value(3);
                    if (!family.endsWith(QLatin1Char('_') + parts.value(3))) {
                        s.error = QStringLiteral("unit is not the name's suffix: ") + line;
                        return s;
                    }
                }
                continue;
            }
            const auto m = sampleRe.match(line);
            if (!m.hasMatch()) {
                s.error = QStringLiteral("bad sample line: ") + line;
                return s;
            }
            const QString name = m.captured(1);
            if (family.isEmpty() || !name.startsWith(family)) {
                s.error = QStringLiteral("sample outside its family: ") + line;
                return s;
            }
            if (s.types[family] == QLatin1String("counter") && name != family + QLatin1String("_total")) {
                s.error = QStringLiteral("counter sample without _total: ") + line;
                return s;
            }
            bool ok = false;
            const QString v = m.captured(3);
            const double value = v == QLatin1String("+Inf") ? INFINITY : v.toDouble(&ok);
            if (!ok && v != QLatin1String("+Inf")) {
                s.error = QStringLiteral("bad value: ") + line;
                return s;
            }
            s.samples[name + m.captured(2)] = value;
        }
        if (!s.error.isEmpty())
            return s;
        for (auto it = s.types.cbegin(); it != s.types.cend(); ++it) {
            if (it.value() != QLatin1String("histogram"))
                continue;
            double last = -1;
            bool sawInf = false;
            for (auto smp = s.samples.cbegin(); smp != s.samples.cend(); ++smp) {
                if (!smp.key().startsWith(it.key() + QLatin1String("_bucket")))
                    continue;
                sawInf = sawInf || smp.key().contains(QLatin1String("le=\"+Inf\""));
                last = std::max(last, smp.value());
            }
            if (!sawInf || s.value(it.key() + QLatin1String("_bucket{le=\"+Inf\"}")) !=
                                s.value(it.key() + QLatin1String("_count")))
                s.error = QStringLiteral("histogram without +Inf == _count: ") + it.key();
            if (!s.has(it.key() + QLatin1String("_sum")))
                s.error = QStringLiteral("histogram without _sum: ") + it.key();
        }
        return s;
    }
};

// A GPU that always reads the same.
class FixedGpu : public gd::gpu::GpuSource
{
public:
    explicit FixedGpu(gd::gpu::GpuSnapshot s) : m_snapshot(std::move(s)) {}
    gd::gpu::GpuSnapshot sample(int) override
    {
        auto s = m_snapshot;
        s.takenAt = QDateTime::currentDateTimeUtc();
        return s;
    }

private:
    gd::gpu::GpuSnapshot m_snapshot;
};

gd::gpu::GpuSnapshot rtx4090()
{
    gd::gpu::GpuSnapshot s;
    s.source = QStringLiteral("nvml");
    s.name = QStringLiteral("NVIDIA GeForce RTX 4090");
    s.index = 0;
    s.vramTotalBytes = 25757220864LL;
    s.vramUsedBytes = 6442450944LL;
    s.vramFreeBytes = *s.vramTotalBytes - *s.vramUsedBytes;
    s.utilizationPercent = 42;
    return s;
}

struct HttpAnswer
{
    int status = 0;
    QByteArray contentType;
    QByteArray server;
    QByteArray body;
};

HttpAnswer fetch(const QUrl& url, const QByteArray& verb = "GET")
{
    QNetworkAccessManager nam;
    QNetworkRequest req(url);
    req.setRawHeader("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
    QNetworkReply* reply = nam.sendCustomRequest(req, verb);
    QSignalSpy done(reply, &QNetworkReply::finished);
    done.wait(10000);
    HttpAnswer a;
    a.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    a.contentType = reply->rawHeader("Content-Type");
    a.server = reply->rawHeader("Server");
    a.body = reply->readAll();
    reply->deleteLater();
    return a;
}

// Reads the process' stdout into `out` until `needle` appears; false after `timeoutMs`.
bool waitForOutput(QProcess& p, QString& out, const QRegularExpression& needle, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (!needle.match(out).hasMatch()) {
        if (clock.elapsed() > timeoutMs || p.state() == QProcess::NotRunning)
            return false;
        p.waitForReadyRead(200);
        out += QString::fromUtf8(p.readAllStandardOutput());
    }
    return true;
}

QString lastLine(const QString& text)
{
    return text.trimmed().split(QLatin1Char('\n')).last();
}

} // namespace

// The OpenMetrics endpoint an operator's Prometheus scrapes: figures that follow the run, GPU figures
// absent (not 0) when unknown, loopback only, clear errors when the port cannot be used.
class TestMetricsExporter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void scrapeDuringSandboxRun()
    {
        RunHarness h;
        h.config.stepDelayMs = 25; // a scene lasts long enough for a scrape to land inside it
        QVERIFY(h.startServer());
        gd::gpu::GpuMonitor monitor(std::make_unique<FixedGpu>(rtx4090()));
        monitor.setIntervalMs(50);
        monitor.start();
        MetricsExporter exporter;
        exporter.setGpuMonitor(&monitor);
        QString error;
        QVERIFY2(exporter.listen(QHostAddress(QHostAddress::LocalHost), 0, &error), qPrintable(error));
        QVERIFY(exporter.port() > 0);
        QCOMPARE(exporter.url().toString(), QStringLiteral("http://127.0.0.1:%1/metrics").arg(exporter.port()));

        Scrape midRun;
        QByteArray midRunHttp;
        QByteArray midRunContentType;
        const int scenes = 3;
        const int frames = 4;
        auto hook = [&](gd::pipeline::RunController* c) {
            exporter.attach(c);
            QObject::connect(c, &gd::pipeline::RunController::attemptStarted, c,
                             [&](const QString& id, int, int) {
                                 if (id != QLatin1String("scene-002"))
                                     return;
                                 midRun = Scrape::parse(exporter.exposition());
                                 const HttpAnswer a = fetch(exporter.url());
                                 midRunHttp = a.status == 200 ? a.body : QByteArray();
                                 midRunContentType = a.contentType;
                             });
        };
        const RunOutcome out = h.run(makeStory(scenes, frames), testPolicy(), QStringLiteral("sandbox"), {},
                                     120000, hook);
        QCOMPARE(out.exitCode, 0);

        // scene-001 done, scene-002 just submitted, scene-003 waiting.
        QVERIFY2(midRun.error.isEmpty(), qPrintable(midRun.error));
        QCOMPARE(midRun.value(QStringLiteral("gemdirect_scenes{status=\"succeeded\"}")), 1.0);
        QCOMPARE(midRun.value(QStringLiteral("gemdirect_scenes{status=\"running\"}")), 1.0);
        QCOMPARE(midRun.value(QStringLiteral("gemdirect_scenes{status=\"queued\"}")), 1.0);
        QCOMPARE(midRun.value(QStringLiteral("gemdirect_queue_depth")), 1.0);
        QCOMPARE(midRun.value(QStringLiteral("gemdirect_run_active")), 1.0);
        QCOMPARE(midRun.value(QStringLiteral("gemdirect_scene_duration_seconds_count")), 1.0);
        QCOMPARE(midRun.value(QStringLiteral("gemdirect_scene_frames{scene=\"scene-001\"}")), double(frames));
        QVERIFY(!midRun.has(QStringLiteral("gemdirect_scene_frames{scene=\"scene-002\"}")));
        QVERIFY(!midRun.hasFamily(QStringLiteral("gemdirect_run_exit_code")));

        // The same figures over HTTP, with the OpenMetrics content type.
        QCOMPARE(midRunContentType, QByteArray("application/openmetrics-text; version=1.0.0; charset=utf-8"));
        const Scrape http = Scrape::parse(midRunHttp);
        QVERIFY2(http.error.isEmpty(), qPrintable(http.error + QLatin1Char('\n') + QString::fromUtf8(midRunHttp)));
        double total = 0;
        for (const QString& st : {QStringLiteral("queued"), QStringLiteral("running"), QStringLiteral("requeued"),
                                  QStringLiteral("succeeded"), QStringLiteral("failed"), QStringLiteral("cancelled")})
            total += http.value(QStringLiteral("gemdirect_scenes{status=\"%1\"}").arg(st));
        QCOMPARE(total, double(scenes));
        QVERIFY(http.value(QStringLiteral("gemdirect_scenes{status=\"succeeded\"}")) >= 1);

        // After the run.
        const Scrape end = Scrape::parse(fetch(exporter.url()).body);
        QVERIFY2(end.error.isEmpty(), qPrintable(end.error));
        QCOMPARE(end.value(QStringLiteral("gemdirect_scenes{status=\"succeeded\"}")), double(scenes));
        QCOMPARE(end.value(QStringLiteral("gemdirect_queue_depth")), 0.0);
        QCOMPARE(end.value(QStringLiteral("gemdirect_run_active")), 0.0);
        QCOMPARE(end.value(QStringLiteral("gemdirect_run_exit_code")), 0.0);
        QCOMPARE(end.value(QStringLiteral("gemdirect_attempts_total{status=\"succeeded\"}")), double(scenes));
        QCOMPARE(end.value(QStringLiteral("gemdirect_attempts_total{status=\"failed\"}")), 0.0);
        QCOMPARE(end.value(QStringLiteral("gemdirect_done_markers_total")), double(scenes));
        QCOMPARE(end.value(QStringLiteral("gemdirect_forced_copies_total")), 0.0);
        QCOMPARE(end.value(QStringLiteral("gemdirect_scene_duration_seconds_count")), double(scenes));
        QCOMPARE(end.value(QStringLiteral("gemdirect_scene_duration_seconds_bucket{le=\"60.0\"}")), double(scenes));
        QCOMPARE(end.value(QStringLiteral("gemdirect_scene_duration_seconds_bucket{le=\"120.0\"}")), double(scenes));
        QVERIFY(end.value(QStringLiteral("gemdirect_scene_duration_seconds_sum")) > 0);
        QCOMPARE(end.units.value(QStringLiteral("gemdirect_scene_duration_seconds")), QStringLiteral("seconds"));
        for (int i = 1; i <= scenes; ++i)
            QCOMPARE(end.value(QStringLiteral("gemdirect_scene_frames{scene=\"scene-%1\"}").arg(i, 3, 10, QLatin1Char('0'))),
                     double(frames));
        QCOMPARE(end.value(QStringLiteral("gemdirect_gpu_vram_used_bytes{gpu=\"0\"}")), 6442450944.0);
        QCOMPARE(end.value(QStringLiteral("gemdirect_gpu_vram_total_bytes{gpu=\"0\"}")), 25757220864.0);
        QCOMPARE(end.value(QStringLiteral("gemdirect_gpu_utilization_ratio{gpu=\"0\"}")), 0.42);
        QVERIFY(end.has(QStringLiteral(
            "gemdirect_gpu_info{gpu=\"0\",name=\"NVIDIA GeForce RTX 4090\",source=\"nvml\"}")));
        QVERIFY(end.has(QStringLiteral("gemdirect_run_info{run_id=\"%1\",workflow=\"sandbox\",version=\"%2\"}")
                            .arg(out.record.runId, QStringLiteral(GD_APP_VERSION))));
        QVERIFY(!end.hasFamily(QStringLiteral("gemdirect_kpi_value"))); // not computed yet
        monitor.stop();
    }

    void gpuFiguresAbsentWhenUnavailable_data()
    {
        QTest::addColumn<bool>("vram");
        QTest::addColumn<bool>("utilization");
        QTest::newRow("no GPU") << false << false;
        QTest::newRow("VRAM only (system_stats)") << true << false;
    }
    void gpuFiguresAbsentWhenUnavailable()
    {
        QFETCH(bool, vram);
        QFETCH(bool, utilization);
        gd::gpu::GpuSnapshot s;
        if (vram) {
            s = rtx4090();
            s.source = QStringLiteral("system_stats");
            s.utilizationPercent.reset();
        }
        gd::gpu::GpuMonitor monitor(std::make_unique<FixedGpu>(s));
        monitor.start();
        QTRY_VERIFY(monitor.latest().takenAt.isValid());
        MetricsExporter exporter;
        exporter.setGpuMonitor(&monitor);
        const Scrape sc = Scrape::parse(exporter.exposition());
        QVERIFY2(sc.error.isEmpty(), qPrintable(sc.error));
        QCOMPARE(sc.hasFamily(QStringLiteral("gemdirect_gpu_vram_used_bytes")), vram);
        QCOMPARE(sc.hasFamily(QStringLiteral("gemdirect_gpu_vram_total_bytes")), vram);
        QCOMPARE(sc.hasFamily(QStringLiteral("gemdirect_gpu_utilization_ratio")), utilization);
        QCOMPARE(sc.hasFamily(QStringLiteral("gemdirect_gpu")), vram);
        // Run figures exist before any run: nothing rendering, nothing pending.
        QCOMPARE(sc.value(QStringLiteral("gemdirect_run_active")), 0.0);
        QCOMPARE(sc.value(QStringLiteral("gemdirect_queue_depth")), 0.0);
        monitor.stop();
    }

    void kpiVerdicts()
    {
        MetricsExporter exporter;
        gd::quality::KpiResult linked;
        linked.id = QStringLiteral("entity-linkage");
        linked.value = 0.92;
        linked.status = QStringLiteral("PASS");
        gd::quality::KpiResult judged;
        judged.id = QStringLiteral("planner-first-try[\"qwen\"]");
        judged.status = QStringLiteral("UNMEASURED");
        exporter.setKpiResults({linked, judged});
        const Scrape sc = Scrape::parse(exporter.exposition());
        QVERIFY2(sc.error.isEmpty(), qPrintable(sc.error));
        QCOMPARE(sc.value(QStringLiteral("gemdirect_kpi_value{kpi=\"entity-linkage\"}")), 0.92);
        QVERIFY(!sc.has(QStringLiteral("gemdirect_kpi_value{kpi=\"planner-first-try[\\\"qwen\\\"]\"}")));
        QCOMPARE(sc.types.value(QStringLiteral("gemdirect_kpi_status")), QStringLiteral("stateset"));
        QCOMPARE(sc.value(QStringLiteral("gemdirect_kpi_status{kpi=\"entity-linkage\",gemdirect_kpi_status=\"PASS\"}")), 1.0);
        QCOMPARE(sc.value(QStringLiteral("gemdirect_kpi_status{kpi=\"entity-linkage\",gemdirect_kpi_status=\"FAIL\"}")), 0.0);
        QCOMPARE(sc.value(QStringLiteral(
                     "gemdirect_kpi_status{kpi=\"planner-first-try[\\\"qwen\\\"]\",gemdirect_kpi_status=\"UNMEASURED\"}")),
                 1.0);
    }

    void onlyMetricsPathIsServed_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("verb");
        QTest::addColumn<int>("status");
        QTest::newRow("GET /metrics") << QStringLiteral("/metrics") << QByteArray("GET") << 200;
        QTest::newRow("GET /") << QStringLiteral("/") << QByteArray("GET") << 404;
        QTest::newRow("GET /ws") << QStringLiteral("/ws") << QByteArray("GET") << 404;
        QTest::newRow("POST /metrics") << QStringLiteral("/metrics") << QByteArray("POST") << 405;
        QTest::newRow("DELETE /metrics") << QStringLiteral("/metrics") << QByteArray("DELETE") << 405;
    }
    void onlyMetricsPathIsServed()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, verb);
        QFETCH(int, status);
        MetricsExporter exporter;
        QString error;
        QVERIFY2(exporter.listen(QHostAddress(QHostAddress::LocalHost), 0, &error), qPrintable(error));
        QUrl url = exporter.url();
        url.setPath(path);
        const HttpAnswer a = fetch(url, verb);
        QCOMPARE(a.status, status);
        QCOMPARE(a.server, QByteArray("gemdirect/" GD_APP_VERSION)); // not the sandbox's aiohttp disguise
        if (status == 200)
            QVERIFY(a.body.endsWith("# EOF\n"));
    }

    void refusesNonLoopback_data()
    {
        QTest::addColumn<QString>("address");
        QTest::newRow("any IPv4") << QStringLiteral("0.0.0.0");
        QTest::newRow("any IPv6") << QStringLiteral("::");
        QTest::newRow("LAN") << QStringLiteral("192.168.1.20");
    }
    void refusesNonLoopback()
    {
        QFETCH(QString, address);
        MetricsExporter exporter;
        QString error;
        QVERIFY(!exporter.listen(QHostAddress(address), 0, &error));
        QVERIFY(!exporter.isListening());
        QVERIFY2(error.contains(QLatin1String("only loopback")), qPrintable(error));
        QVERIFY2(error.contains(address), qPrintable(error));
    }

    void portInUseIsAClearError()
    {
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        MetricsExporter exporter;
        QString error;
        QVERIFY(!exporter.listen(QHostAddress(QHostAddress::LocalHost), squatter.serverPort(), &error));
        QVERIFY2(error.contains(QStringLiteral("127.0.0.1:%1").arg(squatter.serverPort())), qPrintable(error));
        QVERIFY2(error.contains(QLatin1String("in use")), qPrintable(error));
    }

    // `gemdirect run --metrics-port`: the endpoint is announced, serves during the run and, with
    // --metrics-linger, serves the finished run with its KPI verdicts.
    void cliServesMetricsDuringRun()
    {
        QTemporaryDir tmp;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), tmp.filePath(QStringLiteral("home")));
        env.insert(QStringLiteral("XDG_DATA_HOME"), tmp.filePath(QStringLiteral("home/data")));
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(GD_CLI_PATH),
                {QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"),
                 QStringLiteral("--sandbox"), QStringLiteral("--fast"), QStringLiteral("--quiet"),
                 QStringLiteral("--runs-root"), tmp.filePath(QStringLiteral("runs")), QStringLiteral("--no-history"),
                 QStringLiteral("--metrics-port"), QStringLiteral("0"), QStringLiteral("--metrics-linger"),
                 QStringLiteral("30")});
        QString out;
        static const QRegularExpression announce(QStringLiteral("Metrics \\(OpenMetrics\\) at (\\S+)"));
        QVERIFY2(waitForOutput(p, out, announce, 30000), qPrintable(out));
        const QUrl url(announce.match(out).captured(1));
        QCOMPARE(url.host(), QStringLiteral("127.0.0.1"));
        const Scrape first = Scrape::parse(fetch(url).body);
        QVERIFY2(first.error.isEmpty(), qPrintable(first.error));

        QVERIFY2(waitForOutput(p, out, QRegularExpression(QStringLiteral("Serving the final metrics")), 90000),
                 qPrintable(out + QString::fromUtf8(p.readAllStandardError())));
        const Scrape final = Scrape::parse(fetch(url).body);
        QVERIFY2(final.error.isEmpty(), qPrintable(final.error));
        QCOMPARE(final.value(QStringLiteral("gemdirect_run_active")), 0.0);
        QCOMPARE(final.value(QStringLiteral("gemdirect_run_exit_code")), 0.0);
        QCOMPARE(final.value(QStringLiteral("gemdirect_queue_depth")), 0.0);
        QVERIFY(final.value(QStringLiteral("gemdirect_scenes{status=\"succeeded\"}")) >= 1);
        QCOMPARE(final.types.value(QStringLiteral("gemdirect_kpi_status")), QStringLiteral("stateset"));
        p.terminate(); // SIGTERM ends the linger early; the run is already complete
        QVERIFY(p.waitForFinished(20000));
        out += QString::fromUtf8(p.readAllStandardOutput());
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(lastLine(out).startsWith(QLatin1String("Run directory: ")), qPrintable(out));
    }

    void cliPortInUseQueuesNothing()
    {
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        QTemporaryDir tmp;
        QProcess p;
        p.start(QStringLiteral(GD_CLI_PATH),
                {QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"),
                 QStringLiteral("--sandbox"), QStringLiteral("--runs-root"), tmp.filePath(QStringLiteral("runs")),
                 QStringLiteral("--no-history"), QStringLiteral("--metrics-port"),
                 QString::number(squatter.serverPort())});
        QVERIFY(p.waitForFinished(30000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitCode(), 2);
        QVERIFY2(err.contains(QStringLiteral("error: --metrics-port: cannot listen on 127.0.0.1:%1").arg(squatter.serverPort())),
                 qPrintable(err));
        QVERIFY2(err.contains(QLatin1String("Nothing was queued.")), qPrintable(err));
        QVERIFY(!QDir(tmp.filePath(QStringLiteral("runs"))).exists());
    }
};

QTEST_MAIN(TestMetricsExporter)
#include "tst_metricsexporter.moc"
