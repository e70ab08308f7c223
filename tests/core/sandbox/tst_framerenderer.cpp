#include "sandbox/BitmapFont.h"
#include "sandbox/FrameRenderer.h"

#include <QSet>
#include <QtTest>
#include <cmath>

using gd::sandbox::BitmapFont;
using gd::sandbox::FrameLabel;
using gd::sandbox::FrameRenderer;

namespace {

// Mean absolute per-channel difference (0..255) between two same-sized images.
double meanDifference(const QImage& a, const QImage& b)
{
    const QImage x = a.convertToFormat(QImage::Format_RGB32);
    const QImage y = b.convertToFormat(QImage::Format_RGB32);
    double sum = 0;
    for (int row = 0; row < x.height(); ++row) {
        const auto* p = reinterpret_cast<const QRgb*>(x.constScanLine(row));
        const auto* q = reinterpret_cast<const QRgb*>(y.constScanLine(row));
        for (int col = 0; col < x.width(); ++col)
            sum += std::abs(qRed(p[col]) - qRed(q[col])) + std::abs(qGreen(p[col]) - qGreen(q[col])) +
                   std::abs(qBlue(p[col]) - qBlue(q[col]));
    }
    return sum / (3.0 * x.width() * x.height());
}

double changedFraction(const QImage& a, const QImage& b)
{
    qint64 changed = 0;
    for (int row = 0; row < a.height(); ++row)
        for (int col = 0; col < a.width(); ++col)
            changed += a.pixel(col, row) != b.pixel(col, row);
    return double(changed) / double(a.width() * a.height());
}

int inkCount(const QImage& image, QRgb ink)
{
    int n = 0;
    for (int row = 0; row < image.height(); ++row)
        for (int col = 0; col < image.width(); ++col)
            n += image.pixel(col, row) == ink;
    return n;
}

QImage glyphImage(QChar c)
{
    QImage image(BitmapFont::cellWidth, BitmapFont::cellHeight, QImage::Format_RGB32);
    image.fill(qRgb(0, 0, 0));
    BitmapFont::drawText(image, QPoint(0, 0), QString(c), qRgb(255, 255, 255), 1);
    return image;
}

} // namespace

// FrameRenderer + BitmapFont: sandbox frames that a person can tell apart and read.
class TestFrameRenderer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sizeIsRespected_data()
    {
        QTest::addColumn<QSize>("requested");
        QTest::addColumn<QSize>("expected");
        QTest::newRow("320x180") << QSize(320, 180) << QSize(320, 180);
        QTest::newRow("square") << QSize(64, 64) << QSize(64, 64);
        QTest::newRow("portrait") << QSize(180, 320) << QSize(180, 320);
        QTest::newRow("odd") << QSize(333, 77) << QSize(333, 77);
        QTest::newRow("invalid clamps") << QSize(0, -5) << QSize(16, 16);
    }

    void sizeIsRespected()
    {
        QFETCH(QSize, requested);
        QFETCH(QSize, expected);
        FrameLabel label;
        label.title = QStringLiteral("Lighthouse at dusk, waves against the rocks");
        label.subtitle = QStringLiteral("scene 1 / shot 2");
        label.frameNumber = 3;
        label.frameCount = 12;
        const QImage image = FrameRenderer::render(label, requested);
        QCOMPARE(image.size(), expected);
        QVERIFY(!image.isNull());
    }

    void differentTitlesLookDifferent()
    {
        FrameLabel a;
        a.title = QStringLiteral("Scene one: the harbour");
        FrameLabel b = a;
        b.title = QStringLiteral("Scene two: the storm");
        const QImage ia = FrameRenderer::render(a, QSize(320, 180));
        const QImage ib = FrameRenderer::render(b, QSize(320, 180));
        // The background colour comes from the title, so the whole frame changes, not just the text.
        QVERIFY2(meanDifference(ia, ib) > 15.0, qPrintable(QString::number(meanDifference(ia, ib))));
        QVERIFY(changedFraction(ia, ib) > 0.5);
    }

    void seedChangesColour()
    {
        FrameLabel a;
        a.title = QStringLiteral("Same title");
        FrameLabel b = a;
        b.seed = 42;
        QVERIFY(meanDifference(FrameRenderer::render(a, QSize(160, 90)),
                               FrameRenderer::render(b, QSize(160, 90))) > 5.0);
    }

    void frameNumbersDiffer()
    {
        FrameLabel label;
        label.title = QStringLiteral("Moving band");
        label.frameCount = 10;
        label.frameNumber = 1;
        const QImage first = FrameRenderer::render(label, QSize(320, 180));
        label.frameNumber = 2;
        const QImage second = FrameRenderer::render(label, QSize(320, 180));
        label.frameNumber = 10;
        const QImage last = FrameRenderer::render(label, QSize(320, 180));
        QVERIFY(first != second);
        QVERIFY2(changedFraction(first, second) > 0.02,
                 qPrintable(QString::number(changedFraction(first, second))));
        QVERIFY(changedFraction(first, last) > 0.1);
    }

    void renderingIsDeterministic()
    {
        FrameLabel label;
        label.title = QStringLiteral("Reproducible");
        label.subtitle = QStringLiteral("same input, same pixels");
        label.frameNumber = 4;
        label.frameCount = 8;
        label.seed = 7;
        QCOMPARE(FrameRenderer::render(label, QSize(200, 120)),
                 FrameRenderer::render(label, QSize(200, 120)));
    }

    void counterTextIsDrawnReadably()
    {
        // Same title and frame 1 (the band stays put); only the counter text and the progress bar along the
        // very bottom differ. Above the bar, the difference must be a text-sized region in the lower half.
        FrameLabel a;
        a.title = QStringLiteral("Counter");
        a.frameNumber = 1;
        a.frameCount = 2;
        FrameLabel b = a;
        b.frameCount = 9;
        const QImage ia = FrameRenderer::render(a, QSize(320, 180));
        const QImage ib = FrameRenderer::render(b, QSize(320, 180));
        int top = ia.height(), bottom = -1;
        for (int y = 0; y < ia.height() * 88 / 100; ++y)
            for (int x = 0; x < ia.width(); ++x)
                if (ia.pixel(x, y) != ib.pixel(x, y)) {
                    top = std::min(top, y);
                    bottom = std::max(bottom, y);
                }
        QVERIFY(bottom >= 0);
        QVERIFY2(top > ia.height() / 2, qPrintable(QString::number(top)));
        QVERIFY2(bottom - top + 1 >= 14,
                 qPrintable(QString::number(bottom - top + 1))); // glyphs at least 14 px high
    }

    void pngRoundTrip()
    {
        FrameLabel label;
        label.title = QStringLiteral("PNG");
        label.frameNumber = 2;
        label.frameCount = 3;
        const QImage image = FrameRenderer::render(label, QSize(96, 54));
        const QByteArray png = FrameRenderer::encodePng(image);
        QVERIFY(png.startsWith("\x89PNG\r\n\x1a\n"));
        QImage decoded;
        QVERIFY(decoded.loadFromData(png, "PNG"));
        QCOMPARE(decoded.size(), image.size());
        QCOMPARE(decoded.convertToFormat(QImage::Format_RGB32), image.convertToFormat(QImage::Format_RGB32));
        QVERIFY(FrameRenderer::encodePng(QImage()).isEmpty());
    }

    void fontGlyphsAreDistinct()
    {
        const QRgb white = qRgb(255, 255, 255);
        QCOMPARE(inkCount(glyphImage(QLatin1Char(' ')), white), 0);
        QSet<QByteArray> seen;
        for (int c = 33; c <= 126; ++c) {
            const QImage g = glyphImage(QChar(c));
            QVERIFY2(inkCount(g, white) > 0, qPrintable(QString(QChar(c))));
            const QByteArray bits(reinterpret_cast<const char*>(g.constBits()), int(g.sizeInBytes()));
            QVERIFY2(!seen.contains(bits), qPrintable(QStringLiteral("duplicate glyph ") + QChar(c)));
            seen.insert(bits);
        }
        // Unknown characters draw as '?', not as nothing.
        QCOMPARE(glyphImage(QChar(0x00E9)), glyphImage(QLatin1Char('?')));
    }

    void fontScalingAndClipping()
    {
        QImage image(40, 20, QImage::Format_RGB32);
        image.fill(qRgb(0, 0, 0));
        const QRgb red = qRgb(255, 0, 0);
        const int end = BitmapFont::drawText(image, QPoint(0, 0), QStringLiteral("I"), red, 2);
        QCOMPARE(end, BitmapFont::cellWidth * 2);
        QCOMPARE(inkCount(image, red), 4 * inkCount(glyphImage(QLatin1Char('I')), qRgb(255, 255, 255)));
        QCOMPARE(BitmapFont::textWidth(QStringLiteral("AB"), 3), (2 * BitmapFont::cellWidth - 1) * 3);
        QCOMPARE(BitmapFont::textHeight(3), BitmapFont::glyphHeight * 3);
        // Drawing partly or wholly outside the image is clipped, never out of bounds.
        BitmapFont::drawText(image, QPoint(-7, -5), QStringLiteral("W"), red, 4);
        BitmapFont::drawText(image, QPoint(35, 15), QStringLiteral("WWWW"), red, 5);
        BitmapFont::drawText(image, QPoint(1000, 1000), QStringLiteral("x"), red, 1);
        QCOMPARE(image.size(), QSize(40, 20));
    }
};

QTEST_GUILESS_MAIN(TestFrameRenderer)
#include "tst_framerenderer.moc"
