#include "comfy/VideoProbe.h"

#include <QFile>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace gd::comfy;

namespace {

// Committed files, made with ffmpeg's lavfi test sources:
//   h264-64x64-25f.mp4              libx264, 25 frames at 25 fps, moov after mdat (3 281 bytes)
//   mpeg4-96x96-48f-faststart.mp4   mpeg4, 48 frames at 24 fps, moov first (34 242 bytes)
//   h264-64x64-30f-fragmented.mp4   libx264, 30 frames at 25 fps, empty_moov + moof fragments
QString videoPath(const char* name)
{
    return QStringLiteral(GD_TEST_DATA_DIR "/video/") + QLatin1String(name);
}

QByteArray readAll(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeAll(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

quint32 be32(const QByteArray& b, qsizetype at)
{
    const auto* p = reinterpret_cast<const uchar*>(b.constData()) + at;
    return (quint32(p[0]) << 24) | (quint32(p[1]) << 16) | (quint32(p[2]) << 8) | quint32(p[3]);
}

QByteArray beBytes(quint64 value, int bytes)
{
    QByteArray out(bytes, '\0');
    for (int i = bytes - 1; i >= 0; --i, value >>= 8)
        out[i] = char(value & 0xff);
    return out;
}

// Top-level boxes of a file whose boxes all use 32-bit sizes.
QList<QByteArray> topLevelBoxes(const QByteArray& file)
{
    QList<QByteArray> boxes;
    qsizetype at = 0;
    while (at + 8 <= file.size()) {
        const quint32 size = be32(file, at);
        if (size < 8 || at + size > file.size())
            return {};
        boxes.append(file.mid(at, size));
        at += size;
    }
    return boxes;
}

// Restores the PATH that a test changed, even when a check fails.
class PathGuard
{
public:
    explicit PathGuard(const QByteArray& path) : m_saved(qgetenv("PATH")) { qputenv("PATH", path); }
    ~PathGuard() { qputenv("PATH", m_saved); }

private:
    QByteArray m_saved;
};

} // namespace

class TestVideoProbe : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseMp4CountsFrames_data();
    void parseMp4CountsFrames();
    void parseMp4Handles64BitAndToEndSizes();
    void smallFileIsAFailedEncode();
    void probeWithoutFfprobeUsesTables();
    void probeWithFfprobe();
    void probeUsesFfprobeOutputAndArguments();
    void probeFallsBackWhenFfprobeHangsOrFails_data();
    void probeFallsBackWhenFfprobeHangsOrFails();
    void truncatedFilesAreErrors_data();
    void truncatedFilesAreErrors();
    void garbageIsAnError();
    void missingMoovIsAnError();
    void missingFileIsAnError();
};

void TestVideoProbe::parseMp4CountsFrames_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("frames");
    QTest::addColumn<double>("seconds");
    QTest::newRow("h264 moov at end") << videoPath("h264-64x64-25f.mp4") << 25 << 1.0;
    QTest::newRow("mpeg4 faststart") << videoPath("mpeg4-96x96-48f-faststart.mp4") << 48 << 2.0;
    QTest::newRow("fragmented") << videoPath("h264-64x64-30f-fragmented.mp4") << 30 << 1.2;
}

void TestVideoProbe::parseMp4CountsFrames()
{
    QFETCH(QString, path);
    QFETCH(int, frames);
    QFETCH(double, seconds);
    const VideoProbe::Result r = VideoProbe::parseMp4(path);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.frameCount, frames);
    QVERIFY2(qAbs(r.durationSeconds - seconds) < 0.05, qPrintable(QString::number(r.durationSeconds)));
    QCOMPARE(r.method, QStringLiteral("mp4-boxes"));
    QCOMPARE(r.sizeBytes, QFileInfo(path).size());
    QVERIFY(r.error.isEmpty());
}

void TestVideoProbe::parseMp4Handles64BitAndToEndSizes()
{
    const QList<QByteArray> boxes = topLevelBoxes(readAll(videoPath("h264-64x64-25f.mp4")));
    QVERIFY(boxes.size() >= 3);
    QCOMPARE(boxes.last().mid(4, 4), QByteArray("moov"));
    QByteArray rebuilt;
    for (const QByteArray& box : boxes) {
        if (box.mid(4, 4) == "mdat") {
            // Same payload behind a 16-byte header with size field 1 and a 64-bit largesize.
            const QByteArray payload = box.mid(8);
            rebuilt +=
                beBytes(1, 4) + QByteArray("mdat") + beBytes(quint64(payload.size()) + 16, 8) + payload;
        } else if (box.mid(4, 4) == "moov") {
            // Size 0: the last box runs to the end of the file.
            rebuilt += beBytes(0, 4) + box.mid(4);
        } else {
            rebuilt += box;
        }
    }
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("large-sizes.mp4"));
    QVERIFY(writeAll(path, rebuilt));
    const VideoProbe::Result r = VideoProbe::parseMp4(path);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.frameCount, 25);
}

void TestVideoProbe::smallFileIsAFailedEncode()
{
    const QString path = videoPath("h264-64x64-25f.mp4");
    const VideoProbe::Result r = VideoProbe::probe(path);
    QVERIFY(!r.ok);
    QCOMPARE(r.error, QStringLiteral("video file is only 3281 bytes: treated as a failed encode"));
    QCOMPARE(r.sizeBytes, qint64(3281));
    QCOMPARE(r.frameCount, 0);
}

void TestVideoProbe::probeWithoutFfprobeUsesTables()
{
    QTemporaryDir emptyBin;
    const PathGuard guard(emptyBin.path().toLocal8Bit());
    QVERIFY(QStandardPaths::findExecutable(QStringLiteral("ffprobe")).isEmpty());
    const VideoProbe::Result r = VideoProbe::probe(videoPath("mpeg4-96x96-48f-faststart.mp4"));
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.method, QStringLiteral("mp4-boxes"));
    QCOMPARE(r.frameCount, 48);
    QCOMPARE(r.sizeBytes, qint64(34242));
}

void TestVideoProbe::probeWithFfprobe()
{
    if (QStandardPaths::findExecutable(QStringLiteral("ffprobe")).isEmpty())
        QSKIP("ffprobe is not installed");
    const VideoProbe::Result r = VideoProbe::probe(videoPath("mpeg4-96x96-48f-faststart.mp4"));
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.method, QStringLiteral("ffprobe"));
    QCOMPARE(r.frameCount, 48);
    QVERIFY(qAbs(r.durationSeconds - 2.0) < 0.05);

    // A file ffprobe cannot read falls through to the table parser, which names both failures.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("noise.mp4"));
    // Seeded, so that every run feeds ffprobe the same bytes.
    QRandomGenerator generator(12345);
    QByteArray noise(20000, '\0');
    for (char& c : noise)
        c = char(generator.bounded(256));
    QVERIFY(writeAll(path, noise));
    const VideoProbe::Result bad = VideoProbe::probe(path);
    QVERIFY(!bad.ok);
    QVERIFY2(bad.error.contains(QLatin1String("ffprobe")), qPrintable(bad.error));
    QVERIFY(bad.error.contains(QLatin1String("not an ISO-BMFF/MP4 file")) ||
            bad.error.contains(QLatin1String("truncated")));
}

// Puts a shell script named ffprobe first in PATH (Unix only: CI's Windows runners have no /bin/sh).
static bool installFakeFfprobe(const QTemporaryDir& dir, const QByteArray& body)
{
    const QString path = dir.filePath(QStringLiteral("ffprobe"));
    if (!writeAll(path, QByteArray("#!/bin/sh\n") + body))
        return false;
    return QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
}

void TestVideoProbe::probeUsesFfprobeOutputAndArguments()
{
#ifndef Q_OS_UNIX
    QSKIP("needs /bin/sh for the fake ffprobe");
#endif
    QTemporaryDir bin;
    const QString argsFile = bin.filePath(QStringLiteral("args.txt"));
    // nb_frames is N/A for fragmented files; the packet count (last field) is what counts.
    QVERIFY(installFakeFfprobe(bin, "for a in \"$@\"; do echo \"$a\"; done > '" + argsFile.toLocal8Bit() +
                                        "'\necho 'N/A,47'\n"));
    const PathGuard guard(bin.path().toLocal8Bit());
    const QString video = videoPath("mpeg4-96x96-48f-faststart.mp4");
    const VideoProbe::Result r = VideoProbe::probe(video);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.method, QStringLiteral("ffprobe"));
    QCOMPARE(r.frameCount, 47);
    QVERIFY(qAbs(r.durationSeconds - 2.0) < 0.05); // from the box tables
    const QStringList args =
        QString::fromLocal8Bit(readAll(argsFile)).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(args,
             (QStringList{QStringLiteral("-v"), QStringLiteral("error"), QStringLiteral("-select_streams"),
                          QStringLiteral("v:0"), QStringLiteral("-count_packets"),
                          QStringLiteral("-show_entries"), QStringLiteral("stream=nb_read_packets,nb_frames"),
                          QStringLiteral("-of"), QStringLiteral("csv=p=0"), video}));
}

void TestVideoProbe::probeFallsBackWhenFfprobeHangsOrFails_data()
{
    QTest::addColumn<QByteArray>("script");
    QTest::newRow("hangs") << QByteArray("exec /bin/sleep 30\n"); // absolute: PATH holds only the fake
    QTest::newRow("exits 1") << QByteArray("echo 'moov atom not found' >&2\nexit 1\n");
    QTest::newRow("prints nothing") << QByteArray("exit 0\n");
    QTest::newRow("prints N/A only") << QByteArray("echo 'N/A,N/A'\n");
}

void TestVideoProbe::probeFallsBackWhenFfprobeHangsOrFails()
{
#ifndef Q_OS_UNIX
    QSKIP("needs /bin/sh for the fake ffprobe");
#endif
    QFETCH(QByteArray, script);
    QTemporaryDir bin;
    QVERIFY(installFakeFfprobe(bin, script));
    const PathGuard guard(bin.path().toLocal8Bit());
    const VideoProbe::Result r = VideoProbe::probe(videoPath("mpeg4-96x96-48f-faststart.mp4"), 300);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.method, QStringLiteral("mp4-boxes"));
    QCOMPARE(r.frameCount, 48);

    // When the tables fail too, the error carries both reasons.
    QTemporaryDir dir;
    const QString cut = dir.filePath(QStringLiteral("cut.mp4"));
    QVERIFY(writeAll(cut, readAll(videoPath("mpeg4-96x96-48f-faststart.mp4")).left(20000)));
    const VideoProbe::Result bad = VideoProbe::probe(cut, 300);
    QVERIFY(!bad.ok);
    QVERIFY2(bad.error.startsWith(QLatin1String("ffprobe")) && bad.error.contains(QLatin1String("truncated")),
             qPrintable(bad.error));
}

void TestVideoProbe::truncatedFilesAreErrors_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("keepBytes");
    QTest::addColumn<QString>("expected");
    QTest::newRow("faststart, mdat cut")
        << videoPath("mpeg4-96x96-48f-faststart.mp4") << 20000 << "truncated: box 'mdat'";
    QTest::newRow("moov at end, cut in mdat")
        << videoPath("h264-64x64-25f.mp4") << 2000 << "truncated: box 'mdat'";
    QTest::newRow("cut inside a header")
        << videoPath("h264-64x64-25f.mp4") << 3 << "truncated: 3 bytes of a box header";
    QTest::newRow("fragmented, cut in a fragment")
        << videoPath("h264-64x64-30f-fragmented.mp4") << 4000 << "truncated";
}

void TestVideoProbe::truncatedFilesAreErrors()
{
    QFETCH(QString, source);
    QFETCH(int, keepBytes);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("cut.mp4"));
    QVERIFY(writeAll(path, readAll(source).left(keepBytes)));
    const VideoProbe::Result r = VideoProbe::parseMp4(path);
    QVERIFY(!r.ok);
    QCOMPARE(r.frameCount, 0);
    QVERIFY2(r.error.startsWith(path + QStringLiteral(": ")) && r.error.contains(expected),
             qPrintable(r.error));
}

void TestVideoProbe::garbageIsAnError()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("garbage.mp4"));
    QByteArray garbage(16384, '\0');
    for (char& c : garbage)
        c = char(QRandomGenerator::global()->bounded(256));
    garbage[4] = '\x01'; // an unprintable type, whatever the random bytes were
    QVERIFY(writeAll(path, garbage));
    const VideoProbe::Result r = VideoProbe::parseMp4(path);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains(QLatin1String("not an ISO-BMFF/MP4 file: the box at offset 0 has type 0x01")),
             qPrintable(r.error));

    // Plausible header, absurd size: the first box claims more than the file holds.
    const QByteArray fake = beBytes(0x7fffffff, 4) + QByteArray("ftyp") + QByteArray(12000, 'x');
    QVERIFY(writeAll(path, fake));
    const VideoProbe::Result huge = VideoProbe::parseMp4(path);
    QVERIFY(!huge.ok);
    QVERIFY2(
        huge.error.contains(QLatin1String("truncated: box 'ftyp' at offset 0 declares 2147483647 bytes")),
        qPrintable(huge.error));
}

void TestVideoProbe::missingMoovIsAnError()
{
    QByteArray withoutMoov;
    for (const QByteArray& box : topLevelBoxes(readAll(videoPath("h264-64x64-25f.mp4")))) {
        if (box.mid(4, 4) != "moov")
            withoutMoov += box;
    }
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("nomoov.mp4"));
    QVERIFY(writeAll(path, withoutMoov));
    const VideoProbe::Result r = VideoProbe::parseMp4(path);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains(QLatin1String("no 'moov' box")), qPrintable(r.error));
}

void TestVideoProbe::missingFileIsAnError()
{
    const VideoProbe::Result r = VideoProbe::probe(QStringLiteral("/nonexistent/video.mp4"));
    QVERIFY(!r.ok);
    QCOMPARE(r.error, QStringLiteral("/nonexistent/video.mp4: video file not found"));
    QVERIFY(!VideoProbe::parseMp4(QStringLiteral("/nonexistent/video.mp4")).ok);
}

QTEST_GUILESS_MAIN(TestVideoProbe)
#include "tst_videoprobe.moc"
