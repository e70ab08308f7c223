#include "sandbox/ImageColours.h"

#include <array>

namespace gd::sandbox {

namespace {

constexpr int kSide = 64; // measurements run on a 64x64 nearest-neighbour copy: exact colours, cheap
constexpr int kHueBins = 24;
constexpr int kMinSaturation = 80; // of 255: below this a pixel counts as grey
constexpr int kMinValue = 50;      // of 255: below this a pixel counts as black

QImage sample(const QImage& image)
{
    QImage rgb = image.convertToFormat(QImage::Format_RGB32);
    if (rgb.width() > kSide || rgb.height() > kSide)
        rgb = rgb.scaled(kSide, kSide, Qt::IgnoreAspectRatio, Qt::FastTransformation);
    return rgb;
}

} // namespace

QColor ImageColours::dominant(const QImage& image)
{
    if (image.isNull())
        return {};
    const QImage small = sample(image);
    struct Bin
    {
        qint64 count = 0, r = 0, g = 0, b = 0;
    };
    std::array<Bin, kHueBins> bins{};
    qint64 r = 0, g = 0, b = 0, n = 0;
    for (int y = 0; y < small.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(small.constScanLine(y));
        for (int x = 0; x < small.width(); ++x) {
            const QColor c = QColor::fromRgb(line[x]);
            r += c.red();
            g += c.green();
            b += c.blue();
            ++n;
            if (c.hsvSaturation() < kMinSaturation || c.value() < kMinValue || c.hsvHue() < 0)
                continue;
            Bin& bin = bins[size_t(c.hsvHue() * kHueBins / 360)];
            ++bin.count;
            bin.r += c.red();
            bin.g += c.green();
            bin.b += c.blue();
        }
    }
    const Bin* best = &bins[0];
    for (const Bin& bin : bins) {
        if (bin.count > best->count)
            best = &bin;
    }
    if (best->count == 0)
        return n == 0 ? QColor() : QColor(int(r / n), int(g / n), int(b / n));
    return QColor(int(best->r / best->count), int(best->g / best->count), int(best->b / best->count));
}

double ImageColours::shareNear(const QImage& image, const QColor& colour, int tolerance)
{
    if (image.isNull() || !colour.isValid())
        return 0.0;
    const QImage small = sample(image);
    const qint64 limit = qint64(tolerance) * tolerance;
    qint64 near = 0, n = 0;
    for (int y = 0; y < small.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(small.constScanLine(y));
        for (int x = 0; x < small.width(); ++x) {
            const qint64 dr = qRed(line[x]) - colour.red(), dg = qGreen(line[x]) - colour.green(),
                         db = qBlue(line[x]) - colour.blue();
            near += dr * dr + dg * dg + db * db <= limit ? 1 : 0;
            ++n;
        }
    }
    return n == 0 ? 0.0 : double(near) / double(n);
}

} // namespace gd::sandbox
