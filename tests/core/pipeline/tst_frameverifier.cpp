#include "pipeline/FrameVerifier.h"

#include <QBuffer>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QTest>

using gd::pipeline::FrameVerifier;

// A frame that made it into attempt-<n>/ must be a complete image an editor can open.
class TestFrameVerifier : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

    QString write(const QString& name, const QByteArray& bytes)
    {
        const QString p = m_dir.filePath(name);
        QFile f(p);
        f.open(QIODevice::WriteOnly);
        f.write(bytes);
        return p;
    }
    static QByteArray encode(const char* format)
    {
        QImage img(64, 48, QImage::Format_RGB32);
        img.fill(Qt::darkCyan);
        QBuffer b;
        b.open(QIODevice::WriteOnly);
        img.save(&b, format);
        return b.data();
    }

private Q_SLOTS:
    void goodImagesPass_data()
    {
        QTest::addColumn<QString>("format");
        QTest::newRow("png") << QStringLiteral("png");
        QTest::newRow("jpg") << QStringLiteral("jpg");
    }
    void goodImagesPass()
    {
        QFETCH(QString, format);
        const QString p = write(QStringLiteral("ok.") + format, encode(format.toLatin1().constData()));
        const auto r = FrameVerifier::verify(p);
        QVERIFY2(r.ok, qPrintable(r.reason));
        QCOMPARE(r.width, 64);
        QCOMPARE(r.height, 48);
    }

    void badImagesAreRejectedWithAReason_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("reason");
        const QByteArray png = encode("png");
        const QByteArray jpg = encode("jpg");
        QTest::newRow("zero bytes") << QByteArray() << QStringLiteral("zero-byte");
        QTest::newRow("truncated png") << png.left(png.size() / 2) << QStringLiteral("truncated PNG");
        QTest::newRow("truncated jpeg") << jpg.left(jpg.size() - 10) << QStringLiteral("truncated JPEG");
        QTest::newRow("text") << QByteArray("not an image at all") << QStringLiteral("not a PNG");
        QByteArray webp("RIFF\xff\x00\x00\x00WEBPVP8 ", 16);
        QTest::newRow("truncated webp") << webp << QStringLiteral("truncated WebP");
    }
    void badImagesAreRejectedWithAReason()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, reason);
        const auto r = FrameVerifier::verify(write(QStringLiteral("bad.bin"), bytes));
        QVERIFY(!r.ok);
        QVERIFY2(r.reason.contains(reason), qPrintable(r.reason));
    }

    void classifiesNames()
    {
        QVERIFY(FrameVerifier::isImageName(QStringLiteral("a_00001_.PNG")));
        QVERIFY(FrameVerifier::isVideoName(QStringLiteral("clip_00001.mp4")));
        QVERIFY(!FrameVerifier::isImageName(QStringLiteral("scene-001_a1.done")));
    }
};

QTEST_GUILESS_MAIN(TestFrameVerifier)
#include "tst_frameverifier.moc"
