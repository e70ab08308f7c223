#include "sandbox/FrameRenderer.h"

#include "sandbox/BitmapFont.h"

#include <QBuffer>
#include <QColor>
#include <QHash>
#include <QImageWriter>
#include <QMutex>
#include <QMutexLocker>
#include <QStringList>
#include <algorithm>
#include <cmath>
#include <numbers>

namespace gd::sandbox {

namespace {

constexpr int kMinSide = 16;
constexpr int kMaxSide = 8192;

// FNV-1a over UTF-8: stable across runs and processes (qHash is randomly seeded), so a title always gets its
// colour.
quint32 stableHash(const QString& text, quint32 seed)
{
    quint32 h = 2166136261u ^ seed;
    const QByteArray utf8 = text.toUtf8();
    for (const char c : utf8) {
        h ^= quint8(c);
        h *= 16777619u;
    }
    return h;
}

// Word-wraps text into at most maxLines lines of maxChars; overlong words are split, a cut ends with "...".
QStringList wrap(const QString& text, int maxChars, int maxLines)
{
    if (maxChars <= 0 || maxLines <= 0)
        return {};
    QStringList tokens;
    for (QString word : text.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        while (word.size() > maxChars) {
            tokens.append(word.left(maxChars));
            word = word.mid(maxChars);
        }
        if (!word.isEmpty())
            tokens.append(word);
    }
    QStringList lines;
    QString current;
    for (const QString& token : tokens) {
        if (current.isEmpty())
            current = token;
        else if (current.size() + 1 + token.size() <= maxChars)
            current += QLatin1Char(' ') + token;
        else {
            lines.append(current);
            current = token;
        }
    }
    if (!current.isEmpty())
        lines.append(current);
    if (lines.size() > maxLines) {
        lines = lines.mid(0, maxLines);
        QString& last = lines.last();
        if (maxChars > 3)
            last = last.left(maxChars - 3) + QStringLiteral("...");
    }
    return lines;
}

// Text with a one-pixel-block shadow in the opposite tone, so it reads on any background colour.
void drawShadowed(QImage& image, QPoint pos, const QString& text, QRgb ink, QRgb shadow, int scale)
{
    const int offset = std::max(1, scale / 2);
    BitmapFont::drawText(image, pos + QPoint(offset, offset), text, shadow, scale);
    BitmapFont::drawText(image, pos, text, ink, scale);
}

} // namespace

QImage FrameRenderer::render(const FrameLabel& label, const QSize& size)
{
    const int w = std::clamp(size.width(), kMinSide, kMaxSide);
    const int h = std::clamp(size.height(), kMinSide, kMaxSide);
    const int frameCount = std::max(1, label.frameCount);
    const int frameNumber = std::clamp(label.frameNumber, 1, std::max(frameCount, label.frameNumber));

    QImage image(w, h, QImage::Format_RGB32);

    const quint32 hash = stableHash(label.title, label.seed);
    const int hue = int(hash % 360u);
    const int sat = 150 + int((hash >> 9) % 90u);
    const int val = 120 + int((hash >> 17) % 70u);
    const QColor base = QColor::fromHsv(hue, sat, val);
    const QColor accent = QColor::fromHsv((hue + 150) % 360, sat, 240);

    // Diagonal stripes whose phase advances with the frame number, plus a bright band sweeping left to right
    // over the sequence: consecutive frames differ everywhere and a played sequence visibly moves.
    const double progress = frameCount > 1 ? double(frameNumber - 1) / double(frameCount - 1) : 0.0;
    const double span = w + 0.5 * h;
    const double bandCentre = progress * span;
    const double bandHalf = std::max(8.0, w / 8.0);
    const double period = std::max(12.0, w / 6.0);
    const double phase = 2.0 * std::numbers::pi * double(frameNumber - 1) / 8.0;
    for (int y = 0; y < h; ++y) {
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
        const double vertical = 0.7 + 0.3 * (1.0 - double(y) / double(h));
        for (int x = 0; x < w; ++x) {
            const double diagonal = x + 0.5 * y;
            const double stripes = 0.85 + 0.15 * std::sin(2.0 * std::numbers::pi * diagonal / period - phase);
            const double d = std::abs(diagonal - bandCentre);
            const double band = d < bandHalf ? 1.0 - d / bandHalf : 0.0;
            const double keep = vertical * stripes * (1.0 - 0.7 * band);
            const int r = int(base.red() * keep + accent.red() * 0.7 * band);
            const int g = int(base.green() * keep + accent.green() * 0.7 * band);
            const int b = int(base.blue() * keep + accent.blue() * 0.7 * band);
            line[x] = qRgb(std::min(r, 255), std::min(g, 255), std::min(b, 255));
        }
    }

    const QRgb ink = qRgb(255, 255, 255);
    const QRgb shadow = qRgb(0, 0, 0);
    const int margin = std::max(2, w / 32);
    const int usable = w - 2 * margin;

    // Scales chosen so that at 320x180 the frame counter is 21 px tall and the title 14 px.
    const int bigScale = std::max(1, h / 60);
    const int titleScale = std::max(1, h / 90);
    const int subScale = std::max(1, h / 180);

    int y = margin;
    const int titleChars = usable / (BitmapFont::cellWidth * titleScale);
    for (const QString& line : wrap(label.title, titleChars, 2)) {
        drawShadowed(image, QPoint(margin, y), line, ink, shadow, titleScale);
        y += BitmapFont::cellHeight * titleScale + titleScale;
    }
    y += subScale * 2;
    const int subChars = usable / (BitmapFont::cellWidth * subScale);
    for (const QString& line : wrap(label.subtitle, subChars, 3)) {
        drawShadowed(image, QPoint(margin, y), line, qRgb(230, 230, 230), shadow, subScale);
        y += BitmapFont::cellHeight * subScale + subScale;
    }

    // Progress bar along the bottom, then the counter above it.
    const int barHeight = std::max(2, h / 45);
    const int barTop = h - margin - barHeight;
    const int filled =
        int(std::lround(double(usable) * double(frameNumber) / double(std::max(frameCount, frameNumber))));
    for (int yy = barTop; yy < barTop + barHeight && yy < h; ++yy) {
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(yy));
        for (int x = margin; x < margin + usable; ++x)
            line[x] = x < margin + filled ? ink : qRgb(40, 40, 40);
    }

    const QString counter = QStringLiteral("FRAME %1/%2").arg(frameNumber).arg(frameCount);
    int scale = bigScale;
    while (scale > 1 && BitmapFont::textWidth(counter, scale) > usable)
        --scale;
    const int counterY = barTop - margin / 2 - BitmapFont::textHeight(scale) - scale;
    const int counterX = std::max(margin, (w - BitmapFont::textWidth(counter, scale)) / 2);
    drawShadowed(image, QPoint(counterX, std::max(y, counterY)), counter, ink, shadow, scale);

    return image;
}

QByteArray FrameRenderer::encodePng(const QImage& image)
{
    if (image.isNull())
        return {};
    QByteArray bytes;
    QBuffer buffer(&bytes);
    if (!buffer.open(QIODevice::WriteOnly))
        return {};
    QImageWriter writer(&buffer, "png");
    if (!writer.write(image))
        return {};
    return bytes;
}

QByteArray FrameRenderer::reusablePng(int frameNumber, int frameCount, const QSize& size)
{
    // Every server thread of a benchmark asks for the same few pictures: one lock, one render each.
    static QMutex mutex;
    static QHash<QString, QByteArray> cache;
    const QString key =
        QStringLiteral("%1/%2@%3x%4").arg(frameNumber).arg(frameCount).arg(size.width()).arg(size.height());
    const QMutexLocker lock(&mutex);
    auto it = cache.constFind(key);
    if (it != cache.constEnd())
        return *it;
    FrameLabel label;
    label.title = QStringLiteral("sandbox");
    label.subtitle = QStringLiteral("reused frame");
    label.frameNumber = frameNumber;
    label.frameCount = frameCount;
    const QByteArray png = encodePng(render(label, size));
    if (!png.isEmpty())
        cache.insert(key, png);
    return png;
}

} // namespace gd::sandbox
