#include "CliCommon.h"

#include "common/AppPaths.h"

#include <QDir>
#include <QFileInfo>

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
    return gd::AppPaths::defaultRunsRoot();
}

QString userProfileDir()
{
    return gd::AppPaths::userProfileDir();
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
