#include "quality/BlankFrameDetector.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>
#include <atomic>
#include <latch>
#include <memory>

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

// Flat grey with the first `rows` rows alternating ±delta: the rows read first look busy, the frame
// as a whole may still be blank.
QImage busyTop(int rows, int delta)
{
    QImage img(64, 36, QImage::Format_RGB32);
    img.fill(qRgb(100, 100, 100));
    for (int y = 0; y < rows; ++y)
        for (int x = 0; x < img.width(); ++x)
            img.setPixel(x, y, x % 2 ? qRgb(100 + delta, 100 + delta, 100 + delta) : qRgb(100, 100, 100));
    return img;
}

QImage flatWithNoisyLastRow()
{
    QImage img = twoLevels(80, 80);
    QRandomGenerator rng(11);
    for (int x = 0; x < img.width(); ++x)
        img.setPixel(x, img.height() - 1, qRgb(rng.bounded(256), rng.bounded(256), rng.bounded(256)));
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

    // Frames are judged from as few PNG rows as decide the verdict; it must be the verdict of the
    // whole decoded image, for every kind of PNG (others take the full decode).
    void fileVerdictIsTheDecodedImagesVerdict_data()
    {
        QTest::addColumn<QImage>("image");
        QTest::newRow("rgb std 1.5") << twoLevels(100, 103);
        QTest::newRow("rgb std exactly 2.0") << twoLevels(100, 104);
        QTest::newRow("rgb noise") << noise();
        QTest::newRow("busy first row, blank frame") << busyTop(1, 10);
        QTest::newRow("busy first rows, not blank") << busyTop(12, 10);
        QTest::newRow("flat until a noisy last row") << flatWithNoisyLastRow();
        QTest::newRow("grey 8-bit, blank") << twoLevels(30, 32).convertToFormat(QImage::Format_Grayscale8);
        QTest::newRow("grey 8-bit, noise") << noise().convertToFormat(QImage::Format_Grayscale8);
        QTest::newRow("rgba") << noise().convertToFormat(QImage::Format_ARGB32);
        QTest::newRow("rgba, blank") << twoLevels(7, 8).convertToFormat(QImage::Format_ARGB32);
        QTest::newRow("16-bit") << noise().convertToFormat(QImage::Format_RGBA64);
        QTest::newRow("indexed") << twoLevels(100, 110).convertToFormat(QImage::Format_Indexed8);
    }

    void fileVerdictIsTheDecodedImagesVerdict()
    {
        QFETCH(QImage, image);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("frame.png"));
        QVERIFY(image.save(path, "PNG"));
        const QImage decoded(path);
        QVERIFY(!decoded.isNull());
        const auto verdicts = BlankFrameDetector::classify({path});
        QCOMPARE(verdicts.size(), 1);
        QVERIFY(verdicts.first().has_value());
        QCOMPARE(*verdicts.first(), BlankFrameDetector::isBlank(decoded));
    }

    // A damaged file is unreadable, even when the rows that would decide its verdict are intact.
    void damagedFilesAreUnreadable_data()
    {
        QTest::addColumn<int>("damage");
        QTest::newRow("cut after the first rows") << 0;
        QTest::newRow("a byte changed near the end") << 1;
    }

    void damagedFilesAreUnreadable()
    {
        QFETCH(int, damage);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("frame.png"));
        QImage big(640, 360, QImage::Format_RGB32);
        QRandomGenerator rng(5);
        for (int y = 0; y < big.height(); ++y)
            for (int x = 0; x < big.width(); ++x)
                big.setPixel(x, y, qRgb(rng.bounded(256), rng.bounded(256), rng.bounded(256)));
        QVERIFY(big.save(path, "PNG"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray bytes = f.readAll();
        f.close();
        if (damage == 0)
            bytes.truncate(bytes.size() / 2);
        else
            bytes[bytes.size() - 40] = char(bytes.at(bytes.size() - 40) ^ 0x5a);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(bytes);
        f.close();
        const auto counts = BlankFrameDetector::check({path});
        QCOMPARE(counts.checked, 0);
        QCOMPARE(counts.unreadable, QStringList{QStringLiteral("frame.png")});
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

    // The run computes each finished scene's frame statistics as a task on the global thread pool,
    // and the end-of-run quality job checks frames from one too. Such callers, as many as the pool
    // has threads (two scenes finishing together on two cores), must still finish: they used to
    // wait for decoding work that no free pool thread could ever start, and the run hung.
    void callersOnEveryPoolThreadAtOnceFinish()
    {
        QTemporaryDir dir;
        QStringList names;
        QStringList paths;
        for (int i = 0; i < 6; ++i) {
            names << QStringLiteral("f%1.png").arg(i);
            paths << dir.filePath(names.last());
            QVERIFY((i < 2 ? twoLevels(50, 50) : noise()).save(paths.last()));
        }
        QThreadPool* pool = QThreadPool::globalInstance();
        const int threads = pool->maxThreadCount();
        pool->setMaxThreadCount(2);
        struct Shared
        {
            std::latch allRunning{2};
            std::atomic<int> finished{0};
            std::atomic<int> blank{-1};
        };
        auto shared = std::make_shared<Shared>();
        const QString attemptDir = dir.path();
        pool->start([shared, attemptDir, names] {
            shared->allRunning.arrive_and_wait(); // both pool threads are taken by these two tasks
            BlankFrameDetector::writeCache(attemptDir, names);
            ++shared->finished;
        });
        pool->start([shared, paths] {
            shared->allRunning.arrive_and_wait();
            shared->blank = BlankFrameDetector::check(paths).blank;
            ++shared->finished;
        });
        const bool done = QTest::qWaitFor([&] { return shared->finished == 2; }, 30000);
        pool->setMaxThreadCount(threads);
        QVERIFY2(done, "frame statistics started from every pool thread never finished");
        QCOMPARE(shared->blank.load(), 2);
        QVERIFY(QFile::exists(QDir(attemptDir).filePath(BlankFrameDetector::cacheFileName())));
    }
};

QTEST_GUILESS_MAIN(TstBlankFrameDetector)
#include "tst_blankframedetector.moc"
