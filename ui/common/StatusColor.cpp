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
