#include "report/SweepCharts.h"

#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace gd::report {

namespace {

constexpr int kW = 900;
constexpr int kH = 420;
const QRect kPlot(70, 50, kW - 100, kH - 110);

struct Canvas
{
    QImage image{kW, kH, QImage::Format_ARGB32_Premultiplied};
    QPainter p;
    explicit Canvas(const QString& title)
    {
        image.fill(Qt::white);
        p.begin(&image);
        p.setRenderHint(QPainter::Antialiasing);
        QFont f = p.font();
        f.setPointSize(12);
        f.setBold(true);
        p.setFont(f);
        p.setPen(Qt::black);
        p.drawText(QRect(0, 10, kW, 30), Qt::AlignHCenter, title);
        f.setBold(false);
        f.setPointSize(9);
        p.setFont(f);
        p.setPen(QColor(0x90, 0x90, 0x90));
        p.drawRect(kPlot);
    }
    QImage finish()
    {
        p.end();
        return image;
    }
    void yAxis(double maxValue, const QString& unit)
    {
        p.setPen(QColor(0x50, 0x50, 0x50));
        for (int i = 0; i <= 4; ++i) {
            const double v = maxValue * i / 4.0;
            const int y = kPlot.bottom() - int(kPlot.height() * i / 4.0);
            p.drawText(QRect(0, y - 8, kPlot.left() - 6, 16), Qt::AlignRight | Qt::AlignVCenter,
                       QString::number(v, 'g', 4) + unit);
            p.setPen(QColor(0xe0, 0xe0, 0xe0));
            p.drawLine(kPlot.left(), y, kPlot.right(), y);
            p.setPen(QColor(0x50, 0x50, 0x50));
        }
    }
    void hLine(double value, double maxValue, const QColor& color, const QString& label)
    {
        if (value > maxValue || maxValue <= 0)
            return;
        const int y = kPlot.bottom() - int(kPlot.height() * value / maxValue);
        p.setPen(QPen(color, 2, Qt::DashLine));
        p.drawLine(kPlot.left(), y, kPlot.right(), y);
        p.drawText(QRect(kPlot.right() - 240, y - 18, 236, 16), Qt::AlignRight, label);
    }
    void empty()
    {
        p.setPen(Qt::gray);
        p.drawText(kPlot, Qt::AlignCenter, QStringLiteral("no data"));
    }
    void bars(const QVector<double>& values, double maxValue, const QColor& color)
    {
        const double w = double(kPlot.width()) / std::max<qsizetype>(1, values.size());
        for (int i = 0; i < values.size(); ++i) {
            const int h = maxValue > 0 ? int(kPlot.height() * values[i] / maxValue) : 0;
            p.fillRect(QRectF(kPlot.left() + i * w + w * 0.1, kPlot.bottom() - h, std::max(1.0, w * 0.8), h), color);
        }
    }
};

double niceMax(double v)
{
    if (v <= 0)
        return 1;
    const double mag = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (v <= m * mag)
            return m * mag;
    return 10 * mag;
}

} // namespace

QImage SweepCharts::durationHistogram(const QVector<double>& seconds, std::optional<double> p50, std::optional<double> p95,
                                      double targetSeconds)
{
    Canvas c(QStringLiteral("Scene duration (s): histogram, P50/P95 and the %1 s target").arg(targetSeconds));
    if (seconds.isEmpty()) {
        c.empty();
        return c.finish();
    }
    const double maxSec = niceMax(std::max(*std::max_element(seconds.begin(), seconds.end()), targetSeconds));
    constexpr int kBins = 30;
    QVector<double> counts(kBins, 0);
    for (double s : seconds)
        counts[std::min(kBins - 1, int(s / maxSec * kBins))] += 1;
    const double maxCount = niceMax(*std::max_element(counts.begin(), counts.end()));
    c.yAxis(maxCount, QString());
    c.bars(counts, maxCount, QColor(0x3b, 0x82, 0xc4));
    auto vLine = [&](double x, const QColor& color, const QString& label, int row) {
        const int px = kPlot.left() + int(kPlot.width() * std::min(x, maxSec) / maxSec);
        c.p.setPen(QPen(color, 2, Qt::DashLine));
        c.p.drawLine(px, kPlot.top(), px, kPlot.bottom());
        c.p.drawText(QRect(px + 4, kPlot.top() + 4 + row * 16, 200, 16), Qt::AlignLeft, label);
    };
    if (p50)
        vLine(*p50, QColor(0x2e, 0x8b, 0x57), QStringLiteral("P50 %1 s").arg(*p50), 0);
    if (p95)
        vLine(*p95, QColor(0xe6, 0x8a, 0x00), QStringLiteral("P95 %1 s").arg(*p95), 1);
    vLine(targetSeconds, QColor(0xc0, 0x39, 0x2b), QStringLiteral("target %1 s").arg(targetSeconds), 2);
    c.p.setPen(Qt::black);
    for (int i = 0; i <= 5; ++i)
        c.p.drawText(QRect(kPlot.left() + kPlot.width() * i / 5 - 30, kPlot.bottom() + 6, 60, 16), Qt::AlignHCenter,
                     QString::number(maxSec * i / 5, 'g', 4));
    return c.finish();
}

QImage SweepCharts::framesPerScene(const QVector<int>& frames, int floor)
{
    Canvas c(QStringLiteral("Frames per scene (floor %1)").arg(floor));
    if (frames.isEmpty()) {
        c.empty();
        return c.finish();
    }
    QVector<double> v;
    for (int f : frames)
        v << f;
    const double maxV = niceMax(std::max<double>(*std::max_element(v.begin(), v.end()), floor));
    c.yAxis(maxV, QString());
    c.bars(v, maxV, QColor(0x3b, 0x82, 0xc4));
    c.hLine(floor, maxV, QColor(0xc0, 0x39, 0x2b), QStringLiteral("frame floor %1").arg(floor));
    return c.finish();
}

QImage SweepCharts::vramPerScene(const QVector<double>& mb, double limitMb)
{
    Canvas c(QStringLiteral("VRAM taken per scene, abs(VramDeltaMB)"));
    if (mb.isEmpty()) {
        c.empty();
        return c.finish();
    }
    const double maxV = niceMax(std::max(*std::max_element(mb.begin(), mb.end()), 1.0));
    c.yAxis(maxV, QStringLiteral(" MB"));
    c.bars(mb, maxV, QColor(0x8e, 0x44, 0xad));
    c.hLine(limitMb, maxV, QColor(0xc0, 0x39, 0x2b), QStringLiteral("KPI limit %1 MB").arg(limitMb));
    return c.finish();
}

QImage SweepCharts::weeklyTrend(const QMap<QString, QMap<QString, double>>& seriesByWeek, const QString& title)
{
    Canvas c(title);
    QStringList weeks;
    for (const auto& series : seriesByWeek)
        for (auto it = series.cbegin(); it != series.cend(); ++it)
            if (!weeks.contains(it.key()))
                weeks << it.key();
    weeks.sort();
    if (weeks.isEmpty()) {
        c.empty();
        return c.finish();
    }
    c.yAxis(100, QStringLiteral("%"));
    static const QColor colors[] = {QColor(0x3b, 0x82, 0xc4), QColor(0x2e, 0x8b, 0x57), QColor(0xe6, 0x8a, 0x00),
                                    QColor(0xc0, 0x39, 0x2b)};
    int ci = 0;
    for (auto s = seriesByWeek.cbegin(); s != seriesByWeek.cend(); ++s, ++ci) {
        const QColor color = colors[ci % 4];
        QPainterPath path;
        bool started = false;
        for (int i = 0; i < weeks.size(); ++i) {
            if (!s.value().contains(weeks[i]))
                continue;
            const double x = kPlot.left() + (weeks.size() == 1 ? kPlot.width() / 2.0 : kPlot.width() * i / double(weeks.size() - 1));
            const double y = kPlot.bottom() - kPlot.height() * std::clamp(s.value().value(weeks[i]), 0.0, 1.0);
            started ? path.lineTo(x, y) : path.moveTo(x, y);
            started = true;
            c.p.setBrush(color);
            c.p.setPen(color);
            c.p.drawEllipse(QPointF(x, y), 3, 3);
        }
        c.p.setBrush(Qt::NoBrush);
        c.p.setPen(QPen(color, 2));
        c.p.drawPath(path);
        c.p.drawText(QRect(kPlot.left() + 8, kPlot.top() + 6 + ci * 16, 400, 16), Qt::AlignLeft, s.key());
    }
    c.p.setPen(Qt::black);
    for (int i = 0; i < weeks.size(); ++i) {
        const double x = kPlot.left() + (weeks.size() == 1 ? kPlot.width() / 2.0 : kPlot.width() * i / double(weeks.size() - 1));
        c.p.drawText(QRect(int(x) - 40, kPlot.bottom() + 6, 80, 16), Qt::AlignHCenter, weeks[i]);
    }
    return c.finish();
}

} // namespace gd::report
