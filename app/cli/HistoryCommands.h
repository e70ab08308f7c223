#pragma once

#include <QStringList>

// Run history on the command line: `import`, `rate`, `sweep`.
int importCommand(const QStringList& arguments);
int rateCommand(const QStringList& arguments);
int sweepCommand(const QStringList& arguments);
// --history-db > GEMDIRECT_DB > <AppDataLocation>/gemdirect.sqlite
QString historyDatabasePath(const QString& option);
