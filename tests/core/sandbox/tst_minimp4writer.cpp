#include "sandbox/FrameRenderer.h"
#include "sandbox/MiniMp4Writer.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtEndian>
#include <QtTest>

using gd::sandbox::FrameLabel;
using gd::sandbox::FrameRenderer;
using gd::sandbox::MiniMp4Writer;

namespace {

struct Box
{
    QByteArray type;
    qint64 offset = 0; // of the box header
    qint64 size = 0;
    QByteArray payload;
};

quint32 be32(const QByteArray& data, qint64 at)
{
    return qFromBigEndian<quint32>(reinterpret_cast<const uchar*>(data.constData() + at));
}

// Top-level boxes of a byte range; an inconsistent size ends the walk with ok = false.
QList<Box> boxes(const QByteArray& data, qint64 base, bool* ok)
{
    QList<Box> out;
    *ok = true;
    qint64 pos = 0;
    while (pos < data.size()) {
        if (data.size() - pos < 8) {
            *ok = false;
            break;
        }
        const qint64 size = be32(data, pos);
        if (size < 8 || pos + size > data.size()) {
            *ok = false;
            break;
        }
        out.append(Box{data.mid(pos + 4, 4), base + pos, size, data.mid(pos + 8, size - 8)});
        pos += size;
    }
    return out;
}

// Follows a path of container boxes ("moov/trak/mdia/...") and returns the last one's payload.
std::optional<Box> findPath(const QByteArray& file, const QList<QByteArray>& path)
{
    QByteArray data = file;
    qint64 base = 0;
    std::optional<Box> found;
    for (const QByteArray& type : path) {
        bool ok = false;
        found.reset();
        for (const Box& b : boxes(data, base, &ok)) {
            if (b.type == type) {
                found = b;
                break;
            }
        }
        if (!found)
            return std::nullopt;
        data = found->payload;
        base = found->offset + 8;
    }
    return found;
}

QVector<QByteArray> renderFrames(int count, QSize size)
{
    QVector<QByteArray> frames;
    for (int i = 1; i <= count; ++i) {
        FrameLabel label;
        label.title = QStringLiteral("Clip");
        label.frameNumber = i;
        label.frameCount = count;
        frames.append(FrameRenderer::encodePng(FrameRenderer::render(label, size)));
    }
    return frames;
}

QList<QByteArray> stblPath(const char* leaf)
{
    return {QByteArrayLiteral("moov"), QByteArrayLiteral("trak"), QByteArrayLiteral("mdia"),
            QByteArrayLiteral("minf"), QByteArrayLiteral("stbl"), QByteArray(leaf)};
}

} // namespace

// MiniMp4Writer: the sandbox's "video" outputs are real files a player, ffprobe and our client can read.
class TestMiniMp4Writer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sampleTablesMatchFrames_data()
    {
        QTest::addColumn<int>("count");
        QTest::newRow("one frame") << 1;
        QTest::newRow("seven frames") << 7;
        QTest::newRow("twenty-five frames") << 25;
    }

    void sampleTablesMatchFrames()
    {
        QFETCH(int, count);
        const QVector<QByteArray> frames = renderFrames(count, QSize(64, 36));
        const QByteArray mp4 = MiniMp4Writer::build(frames, 64, 36, 24.0);
        QVERIFY(!mp4.isEmpty());

        bool ok = false;
        const QList<Box> top = boxes(mp4, 0, &ok);
        QVERIFY(ok);
        QCOMPARE(top.value(0).type, QByteArrayLiteral("ftyp"));
        QVERIFY(std::any_of(top.cbegin(), top.cend(), [](const Box& b) { return b.type == "moov"; }));
        QVERIFY(std::any_of(top.cbegin(), top.cend(), [](const Box& b) { return b.type == "mdat"; }));

        // stsz: version/flags, sample_size (0 = per-sample table), sample_count, sizes.
        const auto stsz = findPath(mp4, stblPath("stsz"));
        QVERIFY(stsz);
        QCOMPARE(be32(stsz->payload, 4), 0u);
        QCOMPARE(be32(stsz->payload, 8), quint32(count));
        for (int i = 0; i < count; ++i)
            QCOMPARE(be32(stsz->payload, 12 + 4 * i), quint32(frames.at(i).size()));

        // stts covers exactly count samples.
        const auto stts = findPath(mp4, stblPath("stts"));
        QVERIFY(stts);
        quint64 samples = 0;
        const quint32 entries = be32(stts->payload, 4);
        for (quint32 e = 0; e < entries; ++e)
            samples += be32(stts->payload, 8 + 8 * e);
        QCOMPARE(samples, quint64(count));

        // The one chunk starts where the frames are, and they are stored back to back, unchanged.
        const auto stco = findPath(mp4, stblPath("stco"));
        QVERIFY(stco);
        QCOMPARE(be32(stco->payload, 4), 1u);
        qint64 pos = be32(stco->payload, 8);
        for (const QByteArray& frame : frames) {
            QCOMPARE(mp4.mid(pos, frame.size()), frame);
            pos += frame.size();
        }
        QCOMPARE(pos, qint64(mp4.size()));

        // Sample entry is 'png ' with the declared size.
        const auto stsd = findPath(mp4, stblPath("stsd"));
        QVERIFY(stsd);
        QCOMPARE(stsd->payload.mid(12, 4), QByteArrayLiteral("png "));
        const QByteArray entry = stsd->payload.mid(16);
        QCOMPARE(qFromBigEndian<quint16>(reinterpret_cast<const uchar*>(entry.constData() + 24)),
                 quint16(64));
        QCOMPARE(qFromBigEndian<quint16>(reinterpret_cast<const uchar*>(entry.constData() + 26)),
                 quint16(36));
    }

    void frameRateIsEncoded_data()
    {
        QTest::addColumn<double>("fps");
        QTest::newRow("24") << 24.0;
        QTest::newRow("12.5") << 12.5;
        QTest::newRow("ntsc 29.97") << 30000.0 / 1001.0;
    }

    void frameRateIsEncoded()
    {
        QFETCH(double, fps);
        const QByteArray mp4 = MiniMp4Writer::build(renderFrames(2, QSize(32, 32)), 32, 32, fps);
        const auto mdhd = findPath(mp4, {QByteArrayLiteral("moov"), QByteArrayLiteral("trak"),
                                         QByteArrayLiteral("mdia"), QByteArrayLiteral("mdhd")});
        const auto stts = findPath(mp4, stblPath("stts"));
        QVERIFY(mdhd && stts);
        const quint32 timescale = be32(mdhd->payload, 12);
        const quint32 delta = be32(stts->payload, 12);
        QVERIFY(delta > 0);
        QVERIFY2(std::abs(double(timescale) / double(delta) - fps) < 1e-6,
                 qPrintable(QStringLiteral("%1/%2").arg(timescale).arg(delta)));
    }

    void rejectsBadInput_data()
    {
        QTest::addColumn<QVector<QByteArray>>("frames");
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("height");
        QTest::addColumn<double>("fps");
        const QVector<QByteArray> good = renderFrames(1, QSize(16, 16));
        QTest::newRow("no frames") << QVector<QByteArray>{} << 16 << 16 << 24.0;
        QTest::newRow("zero width") << good << 0 << 16 << 24.0;
        QTest::newRow("negative height") << good << 16 << -1 << 24.0;
        QTest::newRow("zero fps") << good << 16 << 16 << 0.0;
        QTest::newRow("nan fps") << good << 16 << 16 << std::nan("");
        QTest::newRow("not a png") << QVector<QByteArray>{QByteArrayLiteral("GIF89a....")} << 16 << 16
                                   << 24.0;
        QTest::newRow("empty frame") << (QVector<QByteArray>{good.first(), QByteArray()}) << 16 << 16 << 24.0;
    }

    void rejectsBadInput()
    {
        QFETCH(QVector<QByteArray>, frames);
        QFETCH(int, width);
        QFETCH(int, height);
        QFETCH(double, fps);
        QVERIFY(MiniMp4Writer::build(frames, width, height, fps).isEmpty());
    }

    void ffprobeCountsFrames()
    {
        const QString ffprobe = QStringLiteral("/usr/bin/ffprobe");
        if (!QFile::exists(ffprobe))
            QSKIP("ffprobe not installed");
        const int count = 9;
        const QByteArray mp4 = MiniMp4Writer::build(renderFrames(count, QSize(96, 54)), 96, 54, 8.0);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("clip_00001_.mp4"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(mp4);
        file.close();

        QProcess probe;
        probe.start(ffprobe,
                    {QStringLiteral("-v"), QStringLiteral("error"), QStringLiteral("-count_frames"),
                     QStringLiteral("-select_streams"), QStringLiteral("v:0"),
                     QStringLiteral("-show_entries"),
                     QStringLiteral("stream=codec_name,width,height,nb_frames,nb_read_frames,avg_frame_rate"),
                     QStringLiteral("-of"), QStringLiteral("json"), path});
        QVERIFY(probe.waitForFinished(30000));
        const QByteArray err = probe.readAllStandardError();
        QCOMPARE(probe.exitCode(), 0);
        QVERIFY2(err.trimmed().isEmpty(), err.constData()); // no decode errors either
        const QJsonObject stream = QJsonDocument::fromJson(probe.readAllStandardOutput())
                                       .object()
                                       .value(QStringLiteral("streams"))
                                       .toArray()
                                       .at(0)
                                       .toObject();
        QCOMPARE(stream.value(QStringLiteral("codec_name")).toString(), QStringLiteral("png"));
        QCOMPARE(stream.value(QStringLiteral("width")).toInt(), 96);
        QCOMPARE(stream.value(QStringLiteral("height")).toInt(), 54);
        QCOMPARE(stream.value(QStringLiteral("nb_read_frames")).toString(), QString::number(count));
        QCOMPARE(stream.value(QStringLiteral("nb_frames")).toString(), QString::number(count));
        QCOMPARE(stream.value(QStringLiteral("avg_frame_rate")).toString(), QStringLiteral("8/1"));
    }
};

QTEST_GUILESS_MAIN(TestMiniMp4Writer)
#include "tst_minimp4writer.moc"
