#include "sandbox/FigureFinder.h"

#include <algorithm>
#include <cmath>

namespace gd::sandbox {

double FigureFinder::distance(const QColor& a, const QColor& b)
{
    const double dr = a.red() - b.red(), dg = a.green() - b.green(), db = a.blue() - b.blue();
    return std::sqrt(dr * dr + dg * dg + db * db);
}

QVector<FigureFinder::Figure> FigureFinder::find(const QImage& source)
{
    if (source.isNull())
        return {};
    QImage image = source.convertToFormat(QImage::Format_RGB32);
    if (image.width() > kMaxSide || image.height() > kMaxSide)
        image = image.scaled(kMaxSide, kMaxSide, Qt::KeepAspectRatio, Qt::FastTransformation);
    const int w = image.width();
    const int h = image.height();
    QVector<QRgb> px(qsizetype(w) * h);
    QVector<char> saturated(qsizetype(w) * h, 0);
    for (int y = 0; y < h; ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(image.constScanLine(y));
        for (int x = 0; x < w; ++x) {
            const QColor c = QColor::fromRgb(line[x]);
            px[qsizetype(y) * w + x] = line[x];
            saturated[qsizetype(y) * w + x] = c.hsvSaturation() >= kMinSaturation && c.value() >= kMinValue;
        }
    }
    auto close = [&px](qsizetype a, qsizetype b) {
        return distance(QColor::fromRgb(px.at(a)), QColor::fromRgb(px.at(b))) <= kColourStep;
    };
    QVector<int> label(qsizetype(w) * h, -1);
    QVector<Figure> regions;
    QVector<qsizetype> stack;
    for (qsizetype start = 0; start < px.size(); ++start) {
        if (!saturated.at(start) || label.at(start) >= 0)
            continue;
        const int id = int(regions.size());
        qint64 r = 0, g = 0, b = 0;
        int area = 0;
        int x0 = w, y0 = h, x1 = -1, y1 = -1;
        label[start] = id;
        stack = {start};
        while (!stack.isEmpty()) {
            const qsizetype p = stack.takeLast();
            const int x = int(p % w), y = int(p / w);
            ++area;
            r += qRed(px.at(p));
            g += qGreen(px.at(p));
            b += qBlue(px.at(p));
            x0 = std::min(x0, x);
            x1 = std::max(x1, x);
            y0 = std::min(y0, y);
            y1 = std::max(y1, y);
            const qsizetype neighbours[4] = {x > 0 ? p - 1 : -1, x + 1 < w ? p + 1 : -1, y > 0 ? p - w : -1,
                                             y + 1 < h ? p + w : -1};
            for (const qsizetype q : neighbours) {
                if (q < 0 || !saturated.at(q) || label.at(q) >= 0 || !close(p, q))
                    continue;
                label[q] = id;
                stack.append(q);
            }
        }
        Figure f;
        f.area = area;
        f.colour = QColor(int(r / area), int(g / area), int(b / area));
        f.bounds = QRect(QPoint(x0, y0), QPoint(x1, y1));
        regions.append(f);
    }
    int largest = 0;
    for (const Figure& f : std::as_const(regions))
        largest = std::max(largest, f.area);
    QVector<Figure> figures;
    for (const Figure& f : std::as_const(regions))
        if (f.area >= kMinArea && f.area >= kMinShareOfLargest * largest)
            figures.append(f);
    std::sort(figures.begin(), figures.end(),
              [](const Figure& a, const Figure& b) { return a.bounds.left() < b.bounds.left(); });
    return figures;
}

} // namespace gd::sandbox
