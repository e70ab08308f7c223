// bench_dashboard: 24 h of simulated 1 Hz GPU samples (86,400) into the dashboard's GpuHistory and
// panel (offscreen), then for each window the point count of every chart series and the time to
// redraw; RSS (VmRSS/VmHWM) before and after. Targets (issue 5): RSS ≤ 250 MB, each chart ≤ 2,000
// points. Usage: bench_dashboard [samples=86400] [screenshot.png (the panel, 1 h window)]

#include "dashboard/DashboardPanel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QXYSeries>
#include <algorithm>
#include <cstdio>

using namespace gd;

namespace {

// VmRSS and VmHWM of this process in MB (from /proc/self/status).
QPair<double, double> rssMb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    double rss = -1, hwm = -1;
    if (!f.open(QIODevice::ReadOnly))
        return {rss, hwm};
    for (const QByteArray& line : f.readAll().split('\n')) {
        const auto kb = [&line] { return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0; };
        if (line.startsWith("VmRSS:"))
            rss = kb();
        else if (line.startsWith("VmHWM:"))
            hwm = kb();
    }
    return {rss, hwm};
}

gpu::GpuSnapshot reading(qint64 t0, int i)
{
    constexpr qint64 MiB = 1024 * 1024;
    gpu::GpuSnapshot s;
    s.source = QStringLiteral("nvml");
    s.name = QStringLiteral("Simulated RTX 4090");
    s.index = 0;
    s.takenAt = QDateTime::fromMSecsSinceEpoch(t0 + qint64(i) * 1000, Qt::UTC);
    s.vramTotalBytes = 24564 * MiB;
    // A render night: VRAM climbs during each ~90 s scene and drops between scenes.
    const int phase = i % 120;
    s.vramUsedBytes = (phase < 90 ? 6000 + phase * 140 : 2500) * MiB;
    s.vramFreeBytes = *s.vramTotalBytes - *s.vramUsedBytes;
    s.utilizationPercent = phase < 90 ? 97 : 3;
    s.temperatureC = 70;
    return s;
}

double median(QVector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : v.at(v.size() / 2);
}

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const int samples = argc > 1 ? std::max(1, QByteArray(argv[1]).toInt()) : 86'400;
    QTemporaryDir tmp;

    ui::DashboardPanel panel(tmp.filePath(QStringLiteral("history.sqlite")));
    panel.resize(1400, 1000);
    panel.show();
    QCoreApplication::processEvents();
    const auto before = rssMb();

    const qint64 t0 = QDateTime::currentMSecsSinceEpoch() - qint64(samples) * 1000;
    QElapsedTimer feed;
    feed.start();
    for (int i = 0; i < samples; ++i)
        panel.addGpuSample(reading(t0, i));
    const double feedMs = double(feed.nsecsElapsed()) / 1e6;
    QCoreApplication::processEvents();

    std::printf("samples fed: %d in %.1f ms (%.2f µs each, GpuHistory + panel)\n", samples, feedMs,
                feedMs * 1000.0 / samples);
    std::printf("RSS before feeding: VmRSS %.1f MB, VmHWM %.1f MB\n", before.first, before.second);

    const QList<QChartView*> views = panel.findChildren<QChartView*>();
    int worstPoints = 0;
    const struct
    {
        gpu::GpuWindow window;
        const char* name;
    } windows[] = {{gpu::GpuWindow::FiveMinutes, "5 min"}, {gpu::GpuWindow::OneHour, "1 h"}, {gpu::GpuWindow::OneDay, "24 h"}};
    for (const auto& w : windows) {
        panel.setGpuWindow(w.window);
        // Redraw = series replace + axes; render = painting the whole panel (offscreen grab).
        QVector<double> redraw, render;
        for (int rep = 0; rep < 7; ++rep) {
            panel.addGpuSample(reading(t0, samples + rep)); // a new reading marks the chart dirty
            QElapsedTimer t;
            t.start();
            panel.redrawNow();
            redraw << double(t.nsecsElapsed()) / 1e6;
            t.restart();
            QCoreApplication::processEvents(); // the charts lay out their new titles and axes
            const QImage img = panel.grab().toImage();
            render << double(t.nsecsElapsed()) / 1e6;
            if (img.isNull())
                std::printf("grab failed\n");
        }
        std::printf("window %-5s redraw median %.2f ms (max %.2f), render median %.1f ms (max %.1f)\n", w.name,
                    median(redraw), *std::max_element(redraw.begin(), redraw.end()), median(render),
                    *std::max_element(render.begin(), render.end()));
        for (QChartView* v : views) {
            int chartPoints = 0;
            for (QAbstractSeries* s : v->chart()->series())
                if (auto* xy = qobject_cast<QXYSeries*>(s)) {
                    std::printf("  %-18s %-22s %5lld points\n", qPrintable(v->objectName()), qPrintable(s->objectName()),
                                static_cast<long long>(xy->count()));
                    chartPoints += static_cast<int>(xy->count());
                }
            std::printf("  %-18s %-22s %5d points in the chart\n", qPrintable(v->objectName()), "(all series)", chartPoints);
            worstPoints = std::max(worstPoints, chartPoints);
        }
    }
    if (argc > 2) {
        panel.setGpuWindow(gpu::GpuWindow::OneHour);
        panel.redrawNow();
        QCoreApplication::processEvents();
        if (!panel.grab().save(QString::fromLocal8Bit(argv[2])))
            std::printf("could not write %s\n", argv[2]);
    }
    const auto after = rssMb();
    std::printf("RSS after 24 h of samples and all windows drawn: VmRSS %.1f MB, VmHWM %.1f MB (target ≤ 250 MB)\n",
                after.first, after.second);
    std::printf("most points in one chart: %d; most per series: %lld (target ≤ 2,000 per chart)\n", worstPoints,
                static_cast<long long>(gpu::GpuHistory::maxPointsPerWindow()));
    return after.second <= 250.0 ? 0 : 1;
}
