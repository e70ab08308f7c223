#include "common/SafePath.h"

#include <QDir>
#include <QStringList>

namespace gd {

namespace {
bool hasControlChars(const QString& s)
{
    for (const QChar c : s)
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            return true;
    return false;
}
bool looksAbsolute(const QString& s)
{
    return s.startsWith(QLatin1Char('/')) || s.startsWith(QLatin1Char('\\')) ||
           (s.size() >= 2 && s.at(1) == QLatin1Char(':'));
}
} // namespace

bool SafePath::isSafeFileName(const QString& name)
{
    if (name.isEmpty() || name == QLatin1String(".") || name == QLatin1String(".."))
        return false;
    if (name.contains(QLatin1Char('/')) || name.contains(QLatin1Char('\\')) ||
        name.contains(QLatin1Char(':')))
        return false;
    return !hasControlChars(name);
}

bool SafePath::isSafeSubfolder(const QString& subfolder)
{
    if (subfolder.isEmpty())
        return true;
    if (looksAbsolute(subfolder) || hasControlChars(subfolder))
        return false;
    QString norm = subfolder;
    norm.replace(QLatin1Char('\\'), QLatin1Char('/'));
    const QStringList parts = norm.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    for (const QString& p : parts)
        if (p == QLatin1String(".."))
            return false;
    return true;
}

QString SafePath::join(const QString& root, const QString& subfolder, const QString& filename)
{
    if (!isSafeFileName(filename) || !isSafeSubfolder(subfolder))
        return {};
    QString sub = subfolder;
    sub.replace(QLatin1Char('\\'), QLatin1Char('/'));
    const QString dir = sub.isEmpty() ? root : root + QLatin1Char('/') + sub;
    return QDir::cleanPath(dir + QLatin1Char('/') + filename);
}

} // namespace gd
