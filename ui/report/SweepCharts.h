#pragma once

#include <QImage>
#include <QMap>
#include <QString>
#include <QVector>

#include <optional>

namespace gd::report {

// Draws the sweep report's PNG charts off-screen. Needs a QGuiApplication (fonts); the command
// line creates one with the offscreen platform for `gemdirect sweep`.
class SweepCharts
{
public:
    // Histogram of scene durations with the P50/P95 marks and the 120 s target line.
    static QImage durationHistogram(const QVector<double>& seconds, std::optional<double> p50, std::optional<double> p95,
                                    double targetSeconds = 120);
    // One bar per scene (in sweep order) with the frame floor as a line.
    static QImage framesPerScene(const QVector<int>& frames, int floor = 25);
    // One bar per scene: VRAM taken (abs VramDeltaMB), with the 18 432 MB KPI line.
    static QImage vramPerScene(const QVector<double>& mb, double limitMb = 18432);
    // Weekly trend of rates in 0..1 (e.g. done-marker detection, execution success): one line per series.
    static QImage weeklyTrend(const QMap<QString, QMap<QString, double>>& seriesByWeek, const QString& title);
};

} // namespace gd::report
