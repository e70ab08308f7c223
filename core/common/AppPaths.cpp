#include "common/AppPaths.h"

#include <QDir>
#include <QStandardPaths>

namespace gd {

QString AppPaths::defaultRunsRoot()
{
    const QString env = qEnvironmentVariable("GEMDIRECT_RUNS_ROOT");
    if (!env.isEmpty())
        return env;
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("runs"));
}

QString AppPaths::userProfileDir()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("workflows"));
}

QString AppPaths::settingsFile()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation))
        .filePath(QStringLiteral("gemdirect-studio.ini"));
}

} // namespace gd
