#include "comfy/VideoProbe.h"

#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QProcess>
#include <QStandardPaths>
#include <QVector>
#include <limits>
#include <optional>

namespace gd::comfy {

namespace {

// Leaf boxes we read whole are small tables; a larger one means a corrupt size field.
constexpr qint64 kMaxLeafBytes = 64 * 1024 * 1024;
constexpr int kMaxDepth = 12;

quint32 be32(const QByteArray& b, qsizetype at)
{
    const auto* p = reinterpret_cast<const uchar*>(b.constData()) + at;
    return (quint32(p[0]) << 24) | (quint32(p[1]) << 16) | (quint32(p[2]) << 8) | quint32(p[3]);
}

quint64 be64(const QByteArray& b, qsizetype at)
{
    return (quint64(be32(b, at)) << 32) | be32(b, at + 4);
}

QString typeText(const QByteArray& type)
{
    for (const char c : type) {
        if (c < 0x20 || c > 0x7e) {
            return QStringLiteral("0x") + QString::fromLatin1(type.toHex());
        }
    }
    return QStringLiteral("'%1'").arg(QString::fromLatin1(type));
}

bool printableType(const QByteArray& type)
{
    for (const char c : type) {
        if (c < 0x20 || c > 0x7e)
            return false;
    }
    return true;
}

struct Box
{
    QByteArray type;
    qint64 offset = 0;  // of the header
    qint64 payload = 0; // first byte after the header
    qint64 end = 0;     // one past the last byte
};

struct Track
{
    quint32 trackId = 0;
    QByteArray handler;
    quint32 timescale = 0;
    quint64 duration = 0;
    bool haveStsz = false;
    quint64 stszCount = 0;
    bool haveStts = false;
    quint64 sttsCount = 0;
    quint64 sttsDuration = 0;
};

struct Fragments
{
    quint64 samples = 0;
    quint64 duration = 0;
    bool durationKnown = true;
};

class Mp4Parser
{
public:
    explicit Mp4Parser(QFile& file) : m_file(file), m_size(file.size()) {}

    VideoProbe::Result run();

private:
    bool readBoxes(qint64 from, qint64 to, const QByteArray& parent, QVector<Box>* boxes);
    std::optional<QByteArray> readPayload(const Box& box, qint64 maxBytes);
    bool parseTrak(const Box& trak, Track* track);
    bool parseMoof(const Box& moof);
    bool fail(const QString& message)
    {
        if (m_error.isEmpty())
            m_error = message;
        return false;
    }

    QFile& m_file;
    qint64 m_size;
    QString m_error;
    QHash<quint32, quint32> m_trexDuration; // track id → default sample duration
    QHash<quint32, Fragments> m_fragments;  // track id → samples seen in moof/traf/trun
};

bool Mp4Parser::readBoxes(qint64 from, qint64 to, const QByteArray& parent, QVector<Box>* boxes)
{
    qint64 at = from;
    while (at < to) {
        if (to - at < 8)
            return fail(
                QStringLiteral("truncated: %1 bytes of a box header at offset %2%3")
                    .arg(to - at)
                    .arg(at)
                    .arg(parent.isEmpty() ? QString() : QStringLiteral(" inside %1").arg(typeText(parent))));
        if (!m_file.seek(at))
            return fail(QStringLiteral("cannot seek to offset %1: %2").arg(at).arg(m_file.errorString()));
        QByteArray header = m_file.read(8);
        if (header.size() != 8)
            return fail(QStringLiteral("cannot read the box header at offset %1").arg(at));
        Box box;
        box.type = header.mid(4, 4);
        box.offset = at;
        if (!printableType(box.type))
            return fail(
                QStringLiteral("not an ISO-BMFF/MP4 file: the box at offset %1 has type %2 (expected four "
                               "printable characters such as 'ftyp')")
                    .arg(at)
                    .arg(typeText(box.type)));
        quint64 size = be32(header, 0);
        box.payload = at + 8;
        if (size == 1) {
            // 64-bit "largesize" follows the type.
            const QByteArray large = m_file.read(8);
            if (large.size() != 8 || to - at < 16)
                return fail(QStringLiteral("truncated: the 64-bit size of box %1 at offset %2 is cut off")
                                .arg(typeText(box.type))
                                .arg(at));
            size = be64(large, 0);
            box.payload = at + 16;
        } else if (size == 0) {
            // Size 0: the box runs to the end of its container (the file, at top level).
            size = quint64(to - at);
        }
        if (size < quint64(box.payload - at))
            return fail(QStringLiteral("corrupt: box %1 at offset %2 declares %3 bytes, less than its header")
                            .arg(typeText(box.type))
                            .arg(at)
                            .arg(size));
        if (size > quint64(to - at)) {
            return fail(
                QStringLiteral("truncated: box %1 at offset %2 declares %3 bytes but %4 ends after %5")
                    .arg(typeText(box.type))
                    .arg(at)
                    .arg(size)
                    .arg(parent.isEmpty() ? QStringLiteral("the file") : typeText(parent))
                    .arg(to - at));
        }
        box.end = at + qint64(size);
        boxes->append(box);
        at = box.end;
    }
    return true;
}

std::optional<QByteArray> Mp4Parser::readPayload(const Box& box, qint64 maxBytes)
{
    const qint64 length = box.end - box.payload;
    if (length > maxBytes) {
        fail(QStringLiteral("corrupt: box %1 at offset %2 is %3 bytes, more than a sample table can be")
                 .arg(typeText(box.type))
                 .arg(box.offset)
                 .arg(length));
        return std::nullopt;
    }
    if (!m_file.seek(box.payload)) {
        fail(QStringLiteral("cannot seek to offset %1").arg(box.payload));
        return std::nullopt;
    }
    QByteArray data = m_file.read(length);
    if (data.size() != length) {
        fail(QStringLiteral("cannot read box %1 at offset %2").arg(typeText(box.type)).arg(box.offset));
        return std::nullopt;
    }
    return data;
}

bool Mp4Parser::parseTrak(const Box& trak, Track* track)
{
    // Walk trak → (tkhd, mdia → (mdhd, hdlr, minf → stbl → (stsz, stts))) with an explicit stack.
    QVector<std::pair<Box, int>> stack{{trak, 0}};
    while (!stack.isEmpty()) {
        const auto [container, depth] = stack.takeLast();
        QVector<Box> children;
        if (!readBoxes(container.payload, container.end, container.type, &children))
            return false;
        for (const Box& child : children) {
            const QByteArray& t = child.type;
            if ((t == "mdia" || t == "minf" || t == "stbl") && depth < kMaxDepth) {
                stack.append({child, depth + 1});
                continue;
            }
            if (t != "tkhd" && t != "mdhd" && t != "hdlr" && t != "stsz" && t != "stz2" && t != "stts")
                continue;
            const auto data = readPayload(child, kMaxLeafBytes);
            if (!data)
                return false;
            const QByteArray& d = *data;
            const auto tooShort = [&](qsizetype need) {
                if (d.size() >= need)
                    return false;
                fail(QStringLiteral("corrupt: box %1 at offset %2 is too short (%3 bytes)")
                         .arg(typeText(t))
                         .arg(child.offset)
                         .arg(d.size()));
                return true;
            };
            if (tooShort(4))
                return false;
            const int version = uchar(d.at(0));
            if (t == "tkhd") {
                const qsizetype at = version == 1 ? 4 + 16 : 4 + 8;
                if (tooShort(at + 4))
                    return false;
                track->trackId = be32(d, at);
            } else if (t == "mdhd") {
                if (version == 1) {
                    if (tooShort(4 + 16 + 4 + 8))
                        return false;
                    track->timescale = be32(d, 20);
                    track->duration = be64(d, 24);
                } else {
                    if (tooShort(4 + 8 + 4 + 4))
                        return false;
                    track->timescale = be32(d, 12);
                    const quint32 duration = be32(d, 16);
                    track->duration = duration == 0xffffffffu ? 0 : duration; // all ones: unknown
                }
            } else if (t == "hdlr") {
                if (tooShort(12))
                    return false;
                track->handler = d.mid(8, 4);
            } else if (t == "stsz" || t == "stz2") {
                if (tooShort(12))
                    return false;
                track->haveStsz = true;
                track->stszCount = be32(d, 8);
            } else if (t == "stts") {
                if (tooShort(8))
                    return false;
                const quint32 entries = be32(d, 4);
                if (quint64(d.size()) < 8 + quint64(entries) * 8)
                    return fail(
                        QStringLiteral("corrupt: stts at offset %1 lists %2 entries but holds %3 bytes")
                            .arg(child.offset)
                            .arg(entries)
                            .arg(d.size()));
                track->haveStts = true;
                for (quint32 i = 0; i < entries; ++i) {
                    const quint64 count = be32(d, 8 + qsizetype(i) * 8);
                    track->sttsCount += count;
                    track->sttsDuration += count * be32(d, 12 + qsizetype(i) * 8);
                }
            }
        }
    }
    return true;
}

bool Mp4Parser::parseMoof(const Box& moof)
{
    QVector<Box> children;
    if (!readBoxes(moof.payload, moof.end, moof.type, &children))
        return false;
    for (const Box& traf : children) {
        if (traf.type != "traf")
            continue;
        QVector<Box> parts;
        if (!readBoxes(traf.payload, traf.end, traf.type, &parts))
            return false;
        quint32 trackId = 0;
        std::optional<quint32> defaultDuration;
        for (const Box& part : parts) {
            if (part.type != "tfhd" && part.type != "trun")
                continue;
            const auto data = readPayload(part, kMaxLeafBytes);
            if (!data)
                return false;
            const QByteArray& d = *data;
            if (d.size() < 8)
                return fail(QStringLiteral("corrupt: box %1 at offset %2 is too short")
                                .arg(typeText(part.type))
                                .arg(part.offset));
            const quint32 flags = be32(d, 0) & 0xffffff;
            if (part.type == "tfhd") {
                trackId = be32(d, 4);
                qsizetype at = 8;
                if (flags & 0x01)
                    at += 8; // base_data_offset
                if (flags & 0x02)
                    at += 4; // sample_description_index
                if ((flags & 0x08) && d.size() >= at + 4)
                    defaultDuration = be32(d, at);
                continue;
            }
            const quint32 count = be32(d, 4);
            Fragments& frag = m_fragments[trackId];
            frag.samples += count;
            qsizetype at = 8;
            if (flags & 0x01)
                at += 4; // data_offset
            if (flags & 0x04)
                at += 4; // first_sample_flags
            if (flags & 0x100) {
                const qsizetype stride = 4 * (1 + ((flags & 0x200) ? 1 : 0) + ((flags & 0x400) ? 1 : 0) +
                                              ((flags & 0x800) ? 1 : 0));
                if (d.size() < at + qsizetype(count) * stride)
                    return fail(QStringLiteral("corrupt: trun at offset %1 lists %2 samples but is too short")
                                    .arg(part.offset)
                                    .arg(count));
                for (quint32 i = 0; i < count; ++i)
                    frag.duration += be32(d, at + qsizetype(i) * stride);
            } else if (defaultDuration) {
                frag.duration += quint64(count) * *defaultDuration;
            } else if (m_trexDuration.contains(trackId)) {
                frag.duration += quint64(count) * m_trexDuration.value(trackId);
            } else {
                frag.durationKnown = false;
            }
        }
    }
    return true;
}

VideoProbe::Result Mp4Parser::run()
{
    VideoProbe::Result result;
    result.method = QStringLiteral("mp4-boxes");
    result.sizeBytes = m_size;

    QVector<Box> top;
    if (!readBoxes(0, m_size, {}, &top)) {
        result.error = m_error;
        return result;
    }
    if (top.isEmpty()) {
        result.error = QStringLiteral("empty file");
        return result;
    }
    const Box* moov = nullptr;
    for (const Box& box : top) {
        if (box.type == "moov" && !moov)
            moov = &box;
    }
    if (!moov) {
        result.error = QStringLiteral("no 'moov' box: not an MP4 file, or the encoder never finished it");
        return result;
    }

    QVector<Box> moovChildren;
    if (!readBoxes(moov->payload, moov->end, moov->type, &moovChildren)) {
        result.error = m_error;
        return result;
    }
    QVector<Track> tracks;
    for (const Box& child : moovChildren) {
        if (child.type == "trak") {
            Track track;
            if (!parseTrak(child, &track)) {
                result.error = m_error;
                return result;
            }
            tracks.append(track);
        } else if (child.type == "mvex") {
            QVector<Box> mvex;
            if (!readBoxes(child.payload, child.end, child.type, &mvex)) {
                result.error = m_error;
                return result;
            }
            for (const Box& trex : mvex) {
                if (trex.type != "trex")
                    continue;
                const auto data = readPayload(trex, 4096);
                if (!data || data->size() < 16) {
                    result.error =
                        m_error.isEmpty() ? QStringLiteral("corrupt: trex box too short") : m_error;
                    return result;
                }
                m_trexDuration.insert(be32(*data, 4), be32(*data, 12));
            }
        }
    }
    const Track* video = nullptr;
    for (const Track& track : tracks) {
        if (track.handler == "vide" && !video)
            video = &track;
    }
    if (!video) {
        result.error = QStringLiteral("no video track (hdlr 'vide') among %1 track(s)").arg(tracks.size());
        return result;
    }

    for (const Box& box : top) {
        if (box.type == "moof" && !parseMoof(box)) {
            result.error = m_error;
            return result;
        }
    }

    quint64 frames = video->haveStsz && video->stszCount > 0 ? video->stszCount : video->sttsCount;
    quint64 durationUnits = video->duration > 0 ? video->duration : video->sttsDuration;
    const Fragments frag = m_fragments.value(video->trackId);
    if (frag.samples > 0) {
        frames += frag.samples;
        // Fragmented files usually leave the mdhd duration at 0 and describe time in the fragments.
        if (video->duration == 0 && frag.durationKnown)
            durationUnits = video->sttsDuration + frag.duration;
    }
    if (frames > quint64(std::numeric_limits<int>::max())) {
        result.error = QStringLiteral("corrupt: the video track claims %1 samples").arg(frames);
        return result;
    }
    if (frames == 0) {
        result.error = QStringLiteral("the video track has no samples");
        return result;
    }
    result.frameCount = int(frames);
    if (video->timescale > 0)
        result.durationSeconds = double(durationUnits) / double(video->timescale);
    result.ok = true;
    return result;
}

std::optional<int> parseFfprobeCount(const QByteArray& output, QString* why)
{
    // `-show_entries stream=nb_read_packets,nb_frames -of csv=p=0` prints "nb_frames,nb_read_packets";
    // nb_frames is "N/A" for fragmented MP4 and WebM, the packet count is always there with -count_packets.
    const QList<QByteArray> lines = output.trimmed().split('\n');
    if (output.trimmed().isEmpty()) {
        *why = QStringLiteral("ffprobe found no video stream");
        return std::nullopt;
    }
    const QList<QByteArray> fields = lines.first().trimmed().split(',');
    std::optional<int> best;
    for (auto it = fields.crbegin(); it != fields.crend(); ++it) {
        bool ok = false;
        const int n = it->trimmed().toInt(&ok);
        if (ok && n >= 0) {
            best = n;
            break;
        }
    }
    if (!best)
        *why = QStringLiteral("ffprobe printed no frame count: \"%1\"")
                   .arg(QString::fromUtf8(lines.first().left(200)));
    return best;
}

} // namespace

VideoProbe::Result VideoProbe::parseMp4(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        Result result;
        result.method = QStringLiteral("mp4-boxes");
        result.error = QStringLiteral("cannot open %1: %2").arg(path, file.errorString());
        return result;
    }
    Mp4Parser parser(file);
    Result result = parser.run();
    if (!result.ok)
        result.error = QStringLiteral("%1: %2").arg(path, result.error);
    return result;
}

VideoProbe::Result VideoProbe::probe(const QString& path, int ffprobeTimeoutMs)
{
    Result result;
    const QFileInfo info(path);
    if (!info.exists() || !info.isFile()) {
        result.error = QStringLiteral("%1: video file not found").arg(path);
        return result;
    }
    result.sizeBytes = info.size();
    if (result.sizeBytes < kMinVideoBytes) {
        result.error =
            QStringLiteral("video file is only %1 bytes: treated as a failed encode").arg(result.sizeBytes);
        return result;
    }

    QString ffprobeError;
    const QString ffprobe = QStandardPaths::findExecutable(QStringLiteral("ffprobe"));
    if (!ffprobe.isEmpty()) {
        QProcess process;
        process.setProcessChannelMode(QProcess::SeparateChannels);
        process.start(ffprobe,
                      {QStringLiteral("-v"), QStringLiteral("error"), QStringLiteral("-select_streams"),
                       QStringLiteral("v:0"), QStringLiteral("-count_packets"),
                       QStringLiteral("-show_entries"), QStringLiteral("stream=nb_read_packets,nb_frames"),
                       QStringLiteral("-of"), QStringLiteral("csv=p=0"), path});
        if (!process.waitForStarted(ffprobeTimeoutMs)) {
            ffprobeError = QStringLiteral("ffprobe did not start: %1").arg(process.errorString());
        } else if (!process.waitForFinished(ffprobeTimeoutMs)) {
            process.kill();
            process.waitForFinished(1000);
            ffprobeError = QStringLiteral("ffprobe did not finish within %1 ms").arg(ffprobeTimeoutMs);
        } else if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
            ffprobeError = QStringLiteral("ffprobe failed (exit %1): %2")
                               .arg(process.exitCode())
                               .arg(QString::fromUtf8(process.readAllStandardError().trimmed().left(300)));
        } else if (const auto count = parseFfprobeCount(process.readAllStandardOutput(), &ffprobeError)) {
            if (*count == 0) {
                ffprobeError = QStringLiteral("ffprobe counted 0 frames");
            } else {
                result.ok = true;
                result.frameCount = *count;
                result.method = QStringLiteral("ffprobe");
                // The fixed ffprobe query reports no duration; the box tables have it for MP4.
                const Result tables = parseMp4(path);
                if (tables.ok)
                    result.durationSeconds = tables.durationSeconds;
                return result;
            }
        }
    }

    Result tables = parseMp4(path);
    tables.sizeBytes = result.sizeBytes;
    if (!tables.ok && !ffprobeError.isEmpty())
        tables.error = QStringLiteral("%1; %2").arg(ffprobeError, tables.error);
    return tables;
}

} // namespace gd::comfy
