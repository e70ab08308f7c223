#include "quality/BlankFrameDetector.h"

#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

using gd::quality::BlankFrameDetector;

namespace {

// Half the pixels at gray `low`, half at `high`: luma std-dev is exactly (high − low) / 2.
QImage twoLevels(int low, int high)
{
    QImage img(64, 36, QImage::Format_RGB32);
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            img.setPixel(x, y, (x + y) % 2 ? qRgb(high, high, high) : qRgb(low, low, low));
    return img;
}

QImage noise()
{
    QImage img(64, 36, QImage::Format_RGB32);
    QRandomGenerator rng(7);
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            img.setPixel(x, y, qRgb(rng.bounded(256), rng.bounded(256), rng.bounded(256)));
    return img;
}

} // namespace

class TstBlankFrameDetector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void verdict_data()
    {
        QTest::addColumn<QImage>("image");
        QTest::addColumn<double>("stdDev");
        QTest::addColumn<bool>("blank");
        QImage uniform(64, 36, QImage::Format_RGB32);
        uniform.fill(qRgb(30, 90, 200));
        QTest::newRow("uniform colour") << uniform << 0.0 << true;
        QTest::newRow("std 1.5") << twoLevels(100, 103) << 1.5 << true;
        QTest::newRow("exactly 2.0 is not blank") << twoLevels(100, 104) << 2.0 << false;
        QTest::newRow("std 2.5") << twoLevels(100, 105) << 2.5 << false;
    }

    void verdict()
    {
        QFETCH(QImage, image);
        QFETCH(double, stdDev);
        QFETCH(bool, blank);
        QCOMPARE(*BlankFrameDetector::lumaStdDev(image), stdDev);
        QCOMPARE(BlankFrameDetector::isBlank(image), blank);
    }

    void noisyIsNotBlank()
    {
        QVERIFY(*BlankFrameDetector::lumaStdDev(noise()) > 20);
        QVERIFY(!BlankFrameDetector::isBlank(noise()));
    }

    void checkFiles()
    {
        QTemporaryDir dir;
        QStringList files;
        for (int i = 0; i < 6; ++i) {
            const QString p = dir.filePath(QStringLiteral("f%1.png").arg(i));
            QVERIFY((i < 2 ? twoLevels(50, 50) : noise()).save(p));
            files.append(p);
        }
        const QString broken = dir.filePath(QStringLiteral("broken.png"));
        QFile f(broken);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not a png");
        f.close();
        files.append(broken);
        const auto counts = BlankFrameDetector::check(files);
        QCOMPARE(counts.checked, 6);
        QCOMPARE(counts.blank, 2);
        QCOMPARE(counts.unreadable, QStringList{QStringLiteral("broken.png")});
        QCOMPARE(*counts.ratio(), 2.0 / 6);
    }
};

QTEST_GUILESS_MAIN(TstBlankFrameDetector)
#include "tst_blankframedetector.moc"
