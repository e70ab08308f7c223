// bench_dashboard: 24 h of simulated 1 Hz GPU samples (86,400) into the dashboard's GpuHistory and
// panel (offscreen), then for each window the point count of every chart series and the time to
// redraw; RSS (VmRSS/VmHWM) before and after. Targets (issue 5): RSS ≤ 250 MB, each chart ≤ 2,000
// points. Usage: bench_dashboard [samples=86400] [screenshot.png (the panel, 1 h window)]

#include "BenchSupport.h"
#include "ChartPoints.h"
#include "dashboard/DashboardPanel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <algorithm>
#include <cstdio>

using namespace gd;

namespace {

gpu::GpuSnapshot reading(qint64 t0, int i)
{
    return bench::simulatedGpuReading(t0 + qint64(i) * 1000, i);
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
    const auto before = bench::rssMb();

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
        worstPoints = std::max(worstPoints, bench::printChartPoints(&panel));
    }
    if (argc > 2) {
        panel.setGpuWindow(gpu::GpuWindow::OneHour);
        panel.redrawNow();
        QCoreApplication::processEvents();
        if (!panel.grab().save(QString::fromLocal8Bit(argv[2])))
            std::printf("could not write %s\n", argv[2]);
    }
    const auto after = bench::rssMb();
    std::printf("RSS after 24 h of samples and all windows drawn: VmRSS %.1f MB, VmHWM %.1f MB (target ≤ 250 MB)\n",
                after.first, after.second);
    std::printf("most points in one chart: %d; most per series: %lld (target ≤ 2,000 per chart)\n", worstPoints,
                static_cast<long long>(gpu::GpuHistory::maxPointsPerWindow()));
    return after.second <= 250.0 ? 0 : 1;
}
