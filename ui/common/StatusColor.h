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

    // Text / indicator colour for `status` on `palette`'s window background.
    static QColor color(Status status, const QPalette& palette);
    // Fill for badges and tiles: the same on every palette, drawn with textOn() over it.
    static QColor fill(Status status);
    // Black or white, whichever contrasts more with `background`.
    static QColor textOn(const QColor& background);
    // Translucent amber laid over a row's normal background (warning rows): yellow-ish on light
    // palettes, olive on dark ones, with the palette's own text readable on both.
    static QColor warningTint();
    // "ok" → Ok, "degraded"/"warn" → Warning, "down"/"fail"/"failed"/"error" → Bad, anything else → Unknown.
    static Status fromText(const QString& status);
    static bool isDark(const QPalette& palette);
};

} // namespace gd::ui
