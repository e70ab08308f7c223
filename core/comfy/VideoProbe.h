#pragma once

#include <QString>

namespace gd::comfy {

// Counts the frames of a rendered video file (SaveVideo/VHS output) so that video-kind scenes can be
// checked like frame batches: ffprobe when installed, otherwise the MP4 sample tables read directly.
// Blocking (file I/O and a bounded child process): call it off the GUI thread.
class VideoProbe
{
public:
    struct Result
    {
        bool ok = false;
        int frameCount = 0;
        double durationSeconds = 0;
        qint64 sizeBytes = 0;
        QString method; // "ffprobe" or "mp4-boxes"
        QString error;
    };

    // Encoders that fail mid-way leave a few hundred bytes of header; below this a file is not a video.
    static constexpr qint64 kMinVideoBytes = 10240;

    // Rejects files under kMinVideoBytes, then asks ffprobe (when in PATH, killed after ffprobeTimeoutMs),
    // then falls back to parseMp4().
    static Result probe(const QString& path, int ffprobeTimeoutMs = 10000);
    // Reads the ISO-BMFF box tree: the 'vide' track's stsz sample count (or the stts sum, or the
    // fragments' trun counts) and its mdhd duration. No size threshold here.
    static Result parseMp4(const QString& path);
};

} // namespace gd::comfy
