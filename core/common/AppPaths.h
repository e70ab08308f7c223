#pragma once

#include <QString>

namespace gd {

// Default locations shared by the command line and the desktop app, so both look in the same places.
// Uses QStandardPaths::AppDataLocation: call after the application's organisation and name are set.
class AppPaths
{
public:
    // <AppDataLocation>/runs unless GEMDIRECT_RUNS_ROOT says otherwise.
    static QString defaultRunsRoot();
    // <AppDataLocation>/workflows: where imported profiles go and where names are looked up first.
    static QString userProfileDir();
    // <AppConfigLocation>/gemdirect-studio.ini: the desktop app's settings file.
    static QString settingsFile();
};

} // namespace gd
