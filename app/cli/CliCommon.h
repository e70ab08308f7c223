#pragma once

#include <QString>
#include <QStringList>
#include <QTextStream>

class QCommandLineParser;

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

// --disk-full-hold SECONDS (run and resume): how long a full disk may hold the queue.
void addDiskFullHoldOption(QCommandLineParser& parser);
// The option's value, or `fallback` when it is not set; a bad value appends to `errors`.
double diskFullHoldSeconds(const QCommandLineParser& parser, double fallback, QStringList* errors);

} // namespace cli
