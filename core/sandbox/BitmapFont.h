#pragma once

#include <QImage>
#include <QPoint>
#include <QString>

namespace gd::sandbox {

// A built-in 5x7 bitmap font (ASCII 32..126, drawn in 6x8 cells) so frames can carry text without
// QGuiApplication.
class BitmapFont
{
public:
    static constexpr int glyphWidth = 5;
    static constexpr int glyphHeight = 7;
    static constexpr int cellWidth = 6;  // glyph + 1 column spacing
    static constexpr int cellHeight = 8; // glyph + 1 row spacing

    // Draws text with its top-left at pos, each font pixel as a scale x scale block; clipped to the image.
    // Characters outside 32..126 draw as '?'. Returns the x just past the last cell.
    static int drawText(QImage& image, QPoint pos, const QString& text, QRgb color, int scale);
    // Pixel width / height of text at scale (no trailing spacing column).
    static int textWidth(const QString& text, int scale);
    static int textHeight(int scale);
};

} // namespace gd::sandbox
