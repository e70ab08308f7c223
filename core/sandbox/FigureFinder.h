#pragma once

#include <QColor>
#include <QImage>
#include <QRect>
#include <QVector>

namespace gd::sandbox {

// Finds the painted figures of a sandbox keyframe by their pixels: the sandbox keyframe renderer
// (StoryboardFrameRenderer) paints one saturated figure per character reference on a desaturated background
// with grey lettering, so a figure is a connected region of saturated pixels of one colour. This is what the
// sandbox vision model "sees" when it counts people and compares them with reference sheets.
class FigureFinder
{
public:
    struct Figure
    {
        QColor colour; // mean colour of the region
        int area = 0;  // pixels, on the analysed copy (long side at most kMaxSide)
        QRect bounds;
    };

    static constexpr int kMaxSide = 256;      // larger images are analysed on a nearest-neighbour copy
    static constexpr int kMinSaturation = 80; // HSV, of 255: below this a pixel is background or lettering
    static constexpr int kMinValue = 50;      // HSV, of 255: below this a pixel is shadow
    static constexpr int kColourStep = 48;    // RGB distance between neighbours that still joins them
    // A region counts as a figure when its area is at least this share of the largest region (detached
    // arm strokes and anti-aliasing specks do not), and at least kMinArea pixels.
    static constexpr double kMinShareOfLargest = 0.2;
    static constexpr int kMinArea = 6;

    // Figures from left to right.
    static QVector<Figure> find(const QImage& image);
    static double distance(const QColor& a, const QColor& b); // Euclidean RGB
};

} // namespace gd::sandbox
