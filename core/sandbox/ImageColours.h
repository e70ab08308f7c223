#pragma once

#include <QColor>
#include <QImage>

namespace gd::sandbox {

// Colour measurements the sandbox makes on pixels: the colour a reference image "is" (so a keyframe can paint
// a character in the colour of that character's sheet) and how much of an image carries a given colour.
class ImageColours
{
public:
    // The mean colour of the most common saturated hue (24 bins of 15 degrees) among pixels that are neither
    // grey, nearly black nor nearly white; the plain mean colour when the image has no such pixel; invalid
    // for a null image. Grey backgrounds and white lettering therefore do not hide a figure's colour.
    static QColor dominant(const QImage& image);
    // Share (0..1) of the image's pixels within `tolerance` (Euclidean RGB distance) of `colour`; 0 for a
    // null image.
    static double shareNear(const QImage& image, const QColor& colour, int tolerance);
};

} // namespace gd::sandbox
