#pragma once

#include <QString>
#include <QTextStream>

// Small helpers shared by the command handlers: console streams and default locations.
namespace cli {

QTextStream& out();
QTextStream& err();
// <AppDataLocation>/runs unless GEMDIRECT_RUNS_ROOT says otherwise.
QString defaultRunsRoot();
// <AppDataLocation>/workflows: where imported profiles go and where names are looked up first.
QString userProfileDir();
// A path as given, or the bundled resource of the same name (":/examples/lighthouse.json" for
// "examples/lighthouse.json"), so the README's commands work from any directory.
QString resolveInputPath(const QString& path);

} // namespace cli
