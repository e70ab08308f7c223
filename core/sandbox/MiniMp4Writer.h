#pragma once

#include <QByteArray>
#include <QVector>

namespace gd::sandbox {

// Builds a real ISO-BMFF/QuickTime file whose single video track stores PNG frames (sample entry 'png '), so
// ffprobe can read and decode it and the client can count frames from the sample tables (stsz sample_count,
// stts).
class MiniMp4Writer
{
public:
    // Empty result when pngFrames is empty, width/height are not positive or fps is not positive.
    static QByteArray build(const QVector<QByteArray>& pngFrames, int width, int height, double fps);
};

} // namespace gd::sandbox
