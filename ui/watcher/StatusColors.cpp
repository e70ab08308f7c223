#include "watcher/StatusColors.h"

namespace gd::ui {

QColor StatusColors::fill(pipeline::SceneTableModel::BadgeLevel level)
{
    using L = pipeline::SceneTableModel::BadgeLevel;
    switch (level) {
    case L::Good:
        return QColor(0x2e, 0x7d, 0x32);
    case L::Notice:
        return QColor(0xf0, 0xa2, 0x02);
    case L::Bad:
        return QColor(0xc6, 0x28, 0x28);
    case L::Unknown:
        return QColor(0x75, 0x75, 0x75);
    case L::Neutral:
    default:
        return QColor();
    }
}

QColor StatusColors::textOn(const QColor& background)
{
    // Relative luminance (sRGB weights); 0.55 keeps white on the green/red/grey fills and black
    // on amber.
    const double l = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF();
    return l > 0.55 ? QColor(Qt::black) : QColor(Qt::white);
}

QColor StatusColors::warningTint()
{
    return QColor(0xff, 0xc1, 0x07, 70);
}

} // namespace gd::ui
