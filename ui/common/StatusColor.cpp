#include "common/StatusColor.h"

namespace gd::ui {

bool StatusColor::isDark(const QPalette& palette)
{
    return palette.color(QPalette::Window).lightnessF() < 0.5;
}

QColor StatusColor::color(Status status, const QPalette& palette)
{
    const bool dark = isDark(palette);
    switch (status) {
    case Status::Ok:
        return dark ? QColor(0x66, 0xbb, 0x6a) : QColor(0x2e, 0x7d, 0x32);
    case Status::Warning:
        return dark ? QColor(0xff, 0xb7, 0x4d) : QColor(0xb2, 0x6a, 0x00);
    case Status::Bad:
        return dark ? QColor(0xef, 0x53, 0x50) : QColor(0xc6, 0x28, 0x28);
    case Status::Unknown:
        break;
    }
    return dark ? QColor(0x9e, 0x9e, 0x9e) : QColor(0x75, 0x75, 0x75);
}

QColor StatusColor::fill(Status status)
{
    switch (status) {
    case Status::Ok:
        return QColor(0x2e, 0x7d, 0x32);
    case Status::Warning:
        return QColor(0xf9, 0xa8, 0x25);
    case Status::Bad:
        return QColor(0xc6, 0x28, 0x28);
    case Status::Unknown:
        break;
    }
    return QColor(0x75, 0x75, 0x75);
}

QColor StatusColor::textOn(const QColor& background)
{
    // Relative luminance (sRGB weights); 0.55 keeps white on the green/red/grey fills and black on amber.
    const double l = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF();
    return l > 0.55 ? QColor(Qt::black) : QColor(Qt::white);
}

QColor StatusColor::warningTint()
{
    return QColor(0xff, 0xc1, 0x07, 70);
}

StatusColor::Status StatusColor::fromText(const QString& status)
{
    const QString s = status.toLower();
    if (s == QLatin1String("ok") || s == QLatin1String("pass"))
        return Status::Ok;
    if (s == QLatin1String("degraded") || s == QLatin1String("warn") || s == QLatin1String("warning"))
        return Status::Warning;
    if (s == QLatin1String("down") || s == QLatin1String("fail") || s == QLatin1String("failed") ||
        s == QLatin1String("error"))
        return Status::Bad;
    return Status::Unknown;
}

} // namespace gd::ui
