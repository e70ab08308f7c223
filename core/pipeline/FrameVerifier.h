#pragma once

#include <QString>

namespace gd::pipeline {

// Decides whether a collected frame is a complete, readable image without decoding every pixel:
// PNG must end in an IEND chunk, JPEG in an EOI marker, WebP's RIFF size must match the file;
// then Qt must be able to read the header. Zero-byte and truncated files are rejected with a reason.
class FrameVerifier
{
public:
    struct Result
    {
        bool ok = false;
        QString reason; // empty when ok
        int width = 0;
        int height = 0;
    };
    static Result verify(const QString& path);
    static bool isImageName(const QString& fileName);
    static bool isVideoName(const QString& fileName);
};

} // namespace gd::pipeline
