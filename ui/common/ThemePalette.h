#pragma once

#include <QPalette>
#include <QString>

namespace gd::ui {

// The app-wide palette for View > Theme: "system" (the platform's own palette, as the app started with),
// "light" or "dark" (explicit palettes in the Fusion style's roles).
class ThemePalette
{
public:
    static QPalette light();
    static QPalette dark();
    // Applies the theme to the whole application; `systemPalette` is what the platform gave at start.
    static void apply(const QString& theme, const QPalette& systemPalette);
};

} // namespace gd::ui
