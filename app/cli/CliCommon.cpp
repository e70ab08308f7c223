#include "CliCommon.h"

#include "common/AppPaths.h"

#include <QCommandLineParser>
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

void addDiskFullHoldOption(QCommandLineParser& parser)
{
    parser.addOption({QStringLiteral("disk-full-hold"),
                      QStringLiteral("When the disk under the run directory fills up (a write fails with \"No space "
                                     "left on device\" or a quota error), hold the queue, check the free space "
                                     "every 5 s and go on once there is room, for at most SECONDS (default 1800); "
                                     "then end with exit code 1 and the remaining scenes not started: `gemdirect "
                                     "resume RUN_DIR` continues the run. 0 ends at the first check."),
                      QStringLiteral("SECONDS")});
}

double diskFullHoldSeconds(const QCommandLineParser& parser, double fallback, QStringList* errors)
{
    if (!parser.isSet(QStringLiteral("disk-full-hold")))
        return fallback;
    bool ok = false;
    const double v = parser.value(QStringLiteral("disk-full-hold")).toDouble(&ok);
    if (!ok || v < 0 || !qIsFinite(v)) {
        errors->append(QStringLiteral("--disk-full-hold: '%1' is not a number of seconds ≥ 0")
                           .arg(parser.value(QStringLiteral("disk-full-hold"))));
        return fallback;
    }
    return v;
}

} // namespace cli
