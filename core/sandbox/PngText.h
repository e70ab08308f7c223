#pragma once

#include <QByteArray>
#include <QString>
#include <optional>

namespace gd::sandbox {

// PNG tEXt chunks, written and read byte-exactly (no image decoding). ComfyUI's SaveImage stores the API
// graph as tEXt "prompt" (json.dumps, ASCII) in every frame it saves; the sandbox does the same, and the
// sandbox vision model reads it back (see SandboxVision).
class PngText
{
public:
    // The PNG with a tEXt chunk key\0value inserted right after IHDR; `png` unchanged when it is not a
    // PNG. Characters outside Latin-1 are not representable in tEXt: callers pass ASCII (JSON escaped).
    static QByteArray withText(const QByteArray& png, const QByteArray& key, const QByteArray& value);
    // The value of the first tEXt chunk named `key`; nullopt when absent or the bytes are not a PNG.
    // Chunk lengths are checked against the data, so a damaged file cannot make it read out of bounds.
    static std::optional<QByteArray> readText(const QByteArray& png, const QByteArray& key);
    // JSON text with every non-ASCII character written as \uXXXX, like Python's json.dumps.
    static QByteArray asciiJson(const QByteArray& utf8Json);
};

} // namespace gd::sandbox
