#include "CliCommon.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace cli {

QTextStream& out()
{
    static QTextStream s(stdout);
    return s;
}

QTextStream& err()
{
    static QTextStream s(stderr);
    return s;
}

QString defaultRunsRoot()
{
    const QString env = qEnvironmentVariable("GEMDIRECT_RUNS_ROOT");
    if (!env.isEmpty())
        return env;
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("runs"));
}

QString userProfileDir()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("workflows"));
}

QString resolveInputPath(const QString& path)
{
    if (QFileInfo::exists(path))
        return path;
    QString p = path;
    if (p.startsWith(QLatin1String("resources/")))
        p = p.mid(10);
    const QString res = QStringLiteral(":/") + p;
    if (QFileInfo::exists(res))
        return res;
    return path;
}

} // namespace cli
