#pragma once

#include <QColor>
#include <QPalette>
#include <QString>

namespace gd::ui {

// The four status colours (green ok, amber degraded/warning, red down/failed, grey unknown/unmeasured),
// chosen per palette so they keep readable contrast on light and dark backgrounds alike.
class StatusColor
{
public:
    enum class Status
    {
        Ok,
        Warning,
        Bad,
        Unknown,
    };

    static QColor color(Status status, const QPalette& palette);
    // "ok" → Ok, "degraded"/"warn" → Warning, "down"/"fail"/"failed"/"error" → Bad, anything else → Unknown.
    static Status fromText(const QString& status);
    static bool isDark(const QPalette& palette);
};

} // namespace gd::ui
