#pragma once

#include "pipeline/SceneTableModel.h"

#include <QColor>

namespace gd::ui {

// The status colours (green / amber / red / grey) used for badges and warning rows. They are
// fills with their own text colour chosen by luminance, so they read the same on light and dark
// palettes; everything else takes its colours from the widget's palette.
class StatusColors
{
public:
    static QColor fill(pipeline::SceneTableModel::BadgeLevel level);
    // Black or white, whichever contrasts more with `background`.
    static QColor textOn(const QColor& background);
    // Translucent amber laid over a row's normal background: yellow-ish on light palettes,
    // olive on dark ones, with the palette's own text readable on both.
    static QColor warningTint();
};

} // namespace gd::ui
