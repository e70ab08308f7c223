#include "sandbox/MiniMp4Writer.h"

#include <QtEndian>
#include <cmath>
#include <limits>

namespace gd::sandbox {

namespace {

// The whole file stays far below 4 GiB in the sandbox (a few hundred small PNGs); 32-bit box sizes and stco
// are enough, and anything larger is refused rather than written with wrapped sizes.
constexpr qint64 kMaxFileBytes = qint64(std::numeric_limits<quint32>::max()) - 1024 * 1024;
constexpr quint32 kMovieTimescale = 1000;

void u8(QByteArray& out, quint8 v)
{
    out.append(char(v));
}

void u16(QByteArray& out, quint16 v)
{
    char b[2];
    qToBigEndian(v, b);
    out.append(b, 2);
}

void u32(QByteArray& out, quint32 v)
{
    char b[4];
    qToBigEndian(v, b);
    out.append(b, 4);
}

void zeros(QByteArray& out, int count)
{
    out.append(count, '\0');
}

QByteArray box(const char (&type)[5], const QByteArray& payload)
{
    QByteArray out;
    out.reserve(payload.size() + 8);
    u32(out, quint32(payload.size() + 8));
    out.append(type, 4);
    out.append(payload);
    return out;
}

// A "full box" payload starts with version (8 bits) and flags (24 bits).
QByteArray fullBox(const char (&type)[5], quint8 version, quint32 flags, const QByteArray& payload)
{
    QByteArray body;
    u32(body, (quint32(version) << 24) | (flags & 0xFFFFFFu));
    body.append(payload);
    return box(type, body);
}

void unityMatrix(QByteArray& out)
{
    const quint32 m[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
    for (const quint32 v : m)
        u32(out, v);
}

bool isPng(const QByteArray& bytes)
{
    static const char signature[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
    return bytes.size() > 8 && bytes.startsWith(QByteArray::fromRawData(signature, 8));
}

struct Timing
{
    quint32 timescale = 0;
    quint32 sampleDelta = 0;
};

// Integer timescale/delta for fps: NTSC-style rates (23.976, 29.97, 59.94) get the exact x/1001, the rest
// x/1000.
Timing timingFor(double fps)
{
    const double ntsc = fps * 1001.0 / 1000.0;
    if (std::abs(ntsc - std::round(ntsc)) < 1e-3 && std::abs(fps - std::round(fps)) > 1e-3)
        return {quint32(std::lround(ntsc) * 1000), 1001};
    return {quint32(std::lround(fps * 1000.0)), 1000};
}

QByteArray buildMoov(const QVector<QByteArray>& frames, int width, int height, const Timing& timing,
                     quint32 chunkOffset)
{
    const quint32 count = quint32(frames.size());
    const quint64 mediaDuration = quint64(count) * timing.sampleDelta;
    const quint32 movieDuration =
        quint32(std::llround(double(mediaDuration) * kMovieTimescale / double(timing.timescale)));

    QByteArray mvhd;
    u32(mvhd, 0); // creation_time
    u32(mvhd, 0); // modification_time
    u32(mvhd, kMovieTimescale);
    u32(mvhd, movieDuration);
    u32(mvhd, 0x00010000); // rate 1.0
    u16(mvhd, 0x0100);     // volume 1.0
    zeros(mvhd, 10);
    unityMatrix(mvhd);
    zeros(mvhd, 24); // pre_defined
    u32(mvhd, 2);    // next_track_ID

    QByteArray tkhd;
    u32(tkhd, 0);
    u32(tkhd, 0);
    u32(tkhd, 1); // track_ID
    u32(tkhd, 0);
    u32(tkhd, movieDuration);
    zeros(tkhd, 8);
    u16(tkhd, 0); // layer
    u16(tkhd, 0); // alternate_group
    u16(tkhd, 0); // volume: 0 for video
    u16(tkhd, 0);
    unityMatrix(tkhd);
    u32(tkhd, quint32(width) << 16);
    u32(tkhd, quint32(height) << 16);

    QByteArray mdhd;
    u32(mdhd, 0);
    u32(mdhd, 0);
    u32(mdhd, timing.timescale);
    u32(mdhd, quint32(std::min<quint64>(mediaDuration, std::numeric_limits<quint32>::max())));
    u16(mdhd, 0x55C4); // language "und"
    u16(mdhd, 0);

    QByteArray hdlr;
    u32(hdlr, 0);
    hdlr.append("vide", 4);
    zeros(hdlr, 12);
    hdlr.append("VideoHandler", 12);
    u8(hdlr, 0);

    QByteArray vmhd;
    u16(vmhd, 0); // graphicsmode copy
    zeros(vmhd, 6);

    QByteArray url;
    QByteArray dref;
    u32(dref, 1);
    dref.append(fullBox("url ", 0, 1, url)); // flag 1: media data is in this file

    // VisualSampleEntry 'png ': ffmpeg's mov demuxer maps this fourcc to its PNG decoder.
    QByteArray entry;
    zeros(entry, 6);
    u16(entry, 1); // data_reference_index
    u16(entry, 0);
    u16(entry, 0);
    zeros(entry, 12);
    u16(entry, quint16(width));
    u16(entry, quint16(height));
    u32(entry, 0x00480000); // 72 dpi
    u32(entry, 0x00480000);
    u32(entry, 0);
    u16(entry, 1); // frame_count per sample
    QByteArray compressor(32, '\0');
    compressor[0] = char(3);
    compressor.replace(1, 3, "PNG");
    entry.append(compressor);
    u16(entry, 0x0018); // depth
    u16(entry, 0xFFFF); // pre_defined = -1
    QByteArray stsd;
    u32(stsd, 1);
    stsd.append(box("png ", entry));

    QByteArray stts;
    u32(stts, 1);
    u32(stts, count);
    u32(stts, timing.sampleDelta);

    QByteArray stsc; // every sample in one chunk
    u32(stsc, 1);
    u32(stsc, 1);
    u32(stsc, count);
    u32(stsc, 1);

    QByteArray stsz;
    u32(stsz, 0); // sizes differ per sample
    u32(stsz, count);
    for (const QByteArray& frame : frames)
        u32(stsz, quint32(frame.size()));

    QByteArray stco;
    u32(stco, 1);
    u32(stco, chunkOffset);

    const QByteArray stbl =
        box("stbl", fullBox("stsd", 0, 0, stsd) + fullBox("stts", 0, 0, stts) + fullBox("stsc", 0, 0, stsc) +
                        fullBox("stsz", 0, 0, stsz) + fullBox("stco", 0, 0, stco));
    const QByteArray minf =
        box("minf", fullBox("vmhd", 0, 1, vmhd) + box("dinf", fullBox("dref", 0, 0, dref)) + stbl);
    const QByteArray mdia = box("mdia", fullBox("mdhd", 0, 0, mdhd) + fullBox("hdlr", 0, 0, hdlr) + minf);
    const QByteArray trak = box("trak", fullBox("tkhd", 0, 3, tkhd) + mdia); // flags: enabled | in_movie
    return box("moov", fullBox("mvhd", 0, 0, mvhd) + trak);
}

} // namespace

QByteArray MiniMp4Writer::build(const QVector<QByteArray>& pngFrames, int width, int height, double fps)
{
    if (pngFrames.isEmpty() || width <= 0 || height <= 0 || width > 0xFFFF || height > 0xFFFF ||
        !std::isfinite(fps) || fps <= 0.0 || fps > 1000.0)
        return {};
    qint64 payload = 0;
    for (const QByteArray& frame : pngFrames) {
        if (!isPng(frame))
            return {};
        payload += frame.size();
    }
    if (payload > kMaxFileBytes)
        return {};

    const Timing timing = timingFor(fps);

    QByteArray ftyp;
    ftyp.append("isom", 4);
    u32(ftyp, 0x200);
    ftyp.append("isomiso2mp41", 12);
    const QByteArray ftypBox = box("ftyp", ftyp);

    // moov goes before mdat ("fast start") so a reader sees the sample tables first; its size does not depend
    // on the offset value, so build once to measure and once with the real offset.
    const qint64 moovSize = buildMoov(pngFrames, width, height, timing, 0).size();
    const qint64 dataStart = ftypBox.size() + moovSize + 8;
    if (dataStart + payload > kMaxFileBytes)
        return {};
    const QByteArray moov = buildMoov(pngFrames, width, height, timing, quint32(dataStart));

    QByteArray out;
    out.reserve(int(dataStart + payload));
    out.append(ftypBox);
    out.append(moov);
    u32(out, quint32(payload + 8));
    out.append("mdat", 4);
    for (const QByteArray& frame : pngFrames)
        out.append(frame);
    return out;
}

} // namespace gd::sandbox
