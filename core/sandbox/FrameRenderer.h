#pragma once

#include <QByteArray>
#include <QImage>
#include <QSize>
#include <QString>

namespace gd::sandbox {

// What one rendered frame shows.
struct FrameLabel
{
    QString title;
    QString subtitle;
    int frameNumber = 1;
    int frameCount = 1;
    quint32 seed = 0;
};

// Renders real, visibly distinct frames without QGuiApplication (BitmapFont, no QFont/QPainter text).
class FrameRenderer
{
public:
    // Background colour from hash(title) (+seed) and a gradient band that moves with frameNumber; title,
    // subtitle (wrapped/cut), "FRAME n/N" drawn large enough to read at 320x180. Invalid/empty sizes are
    // clamped to 16x16.
    static QImage render(const FrameLabel& label, const QSize& size);
    // PNG bytes (QImageWriter/QBuffer, works in QCoreApplication); empty on failure.
    static QByteArray encodePng(const QImage& image);
    // The PNG of "FRAME n/N" with a fixed title at `size`, rendered once per process and shared
    // (thread-safe): the cheap frames of SandboxConfig::reuseFrames.
    static QByteArray reusablePng(int frameNumber, int frameCount, const QSize& size);
};

} // namespace gd::sandbox
