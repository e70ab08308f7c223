#include "sandbox/OutputNaming.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStringList>
#include <algorithm>
#include <limits>

namespace gd::sandbox {

namespace {

// posixpath.normpath: ComfyUI runs these on the server's OS. The sandbox is a POSIX server, so a backslash is
// an ordinary character (a Windows-style prefix "a\\b" names one file "a\\b...", exactly like ComfyUI on
// Linux).
QString normPath(const QString& path)
{
    if (path.isEmpty())
        return QStringLiteral(".");
    int initialSlashes = path.startsWith(QLatin1Char('/')) ? 1 : 0;
    if (initialSlashes && path.startsWith(QLatin1String("//")) && !path.startsWith(QLatin1String("///")))
        initialSlashes = 2;
    QStringList out;
    const QStringList comps = path.split(QLatin1Char('/'));
    for (const QString& comp : comps) {
        if (comp.isEmpty() || comp == QLatin1String("."))
            continue;
        if (comp != QLatin1String("..") || (!initialSlashes && out.isEmpty()) ||
            (!out.isEmpty() && out.last() == QLatin1String("..")))
            out.append(comp);
        else if (!out.isEmpty())
            out.removeLast();
    }
    QString result = QString(initialSlashes, QLatin1Char('/')) + out.join(QLatin1Char('/'));
    return result.isEmpty() ? QStringLiteral(".") : result;
}

// posixpath.dirname / basename.
QString dirName(const QString& p)
{
    const qsizetype i = p.lastIndexOf(QLatin1Char('/')) + 1;
    QString head = p.left(i);
    if (!head.isEmpty() && head != QString(head.size(), QLatin1Char('/'))) {
        while (head.endsWith(QLatin1Char('/')))
            head.chop(1);
    }
    return head;
}

QString baseName(const QString& p)
{
    return p.mid(p.lastIndexOf(QLatin1Char('/')) + 1);
}

// folder_paths.compute_vars: only done when the prefix contains '%'. %year% is not padded, the rest are 2
// digits.
QString computeVars(QString prefix, int width, int height)
{
    const QDateTime now = QDateTime::currentDateTime();
    const QDate d = now.date();
    const QTime t = now.time();
    auto two = [](int v) { return QStringLiteral("%1").arg(v, 2, 10, QLatin1Char('0')); };
    prefix.replace(QLatin1String("%width%"), QString::number(width));
    prefix.replace(QLatin1String("%height%"), QString::number(height));
    prefix.replace(QLatin1String("%year%"), QString::number(d.year()));
    prefix.replace(QLatin1String("%month%"), two(d.month()));
    prefix.replace(QLatin1String("%day%"), two(d.day()));
    prefix.replace(QLatin1String("%hour%"), two(t.hour()));
    prefix.replace(QLatin1String("%minute%"), two(t.minute()));
    prefix.replace(QLatin1String("%second%"), two(t.second()));
    return prefix;
}

// Python's int() on the text between "<basename>_" and the next '_' (surrounding whitespace and a sign
// allowed); anything else counts as 0, like ComfyUI's map_filename.
qint64 counterOf(const QString& rest)
{
    const QString digits = rest.section(QLatin1Char('_'), 0, 0).trimmed();
    static const QRegularExpression intRe(QStringLiteral("^[+-]?[0-9]+$"));
    if (!intRe.match(digits).hasMatch())
        return 0;
    bool ok = false;
    const qint64 v = digits.toLongLong(&ok);
    return ok ? v : 0;
}

bool isInside(const QString& dir, const QString& path)
{
    return path == dir || path.startsWith(dir.endsWith(QLatin1Char('/')) ? dir : dir + QLatin1Char('/'));
}

} // namespace

std::optional<SaveTarget> OutputNaming::resolve(const QString& outputDir, const QString& prefix, int width,
                                                int height, QString* error)
{
    auto fail = [error](const QString& message) -> std::optional<SaveTarget> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    if (outputDir.isEmpty())
        return fail(QStringLiteral("No output directory configured"));

    const QString expanded = prefix.contains(QLatin1Char('%')) ? computeVars(prefix, width, height) : prefix;
    const QString normalized = normPath(expanded);
    const QString subfolder = dirName(normalized);
    const QString basename = baseName(normalized);

    const QString root = QDir::cleanPath(QDir(outputDir).absolutePath());
    // os.path.join: an absolute subfolder replaces the output dir; the commonpath check then decides.
    const QString joined =
        subfolder.startsWith(QLatin1Char('/')) ? subfolder : root + QLatin1Char('/') + subfolder;
    const QString fullFolder = QDir::cleanPath(joined);
    if (!isInside(root, fullFolder)) {
        return fail(QStringLiteral("**** ERROR: Saving image outside the output folder is not allowed.\n"
                                   " full_output_folder: %1\n         output_dir: %2")
                        .arg(fullFolder, root));
    }

    if (!QDir().mkpath(fullFolder))
        return fail(QStringLiteral("Cannot create output folder %1").arg(fullFolder));

    qint64 maxCounter = std::numeric_limits<qint64>::min();
    bool any = false;
    const QString wanted = basename + QLatin1Char('_');
    const QStringList entries =
        QDir(fullFolder).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
    for (const QString& name : entries) {
        // Case-sensitive: os.path.normcase is the identity on POSIX.
        if (!name.startsWith(wanted))
            continue;
        any = true;
        maxCounter = std::max(maxCounter, counterOf(name.mid(wanted.size())));
    }

    SaveTarget target;
    target.fullFolder = fullFolder;
    target.basename = basename;
    // A pathological "<base>_-7_.png" would make Python count from -6; the sandbox never hands out counters
    // below 1.
    target.counter = any ? int(std::clamp<qint64>(maxCounter + 1, 1, std::numeric_limits<int>::max())) : 1;
    target.subfolder = subfolder;
    return target;
}

QString OutputNaming::imageFileName(const QString& basename, int counter)
{
    return fileName(basename, counter, QStringLiteral("png"));
}

QString OutputNaming::fileName(const QString& basename, int counter, const QString& extension)
{
    // Concatenation, not chained arg(): a basename may itself contain "%1".
    return basename + QLatin1Char('_') + QStringLiteral("%1").arg(counter, 5, 10, QLatin1Char('0')) +
           QLatin1String("_.") + extension;
}

int OutputNaming::nextVhsCounter(const QString& fullFolder, const QString& basename)
{
    const QRegularExpression re(
        QStringLiteral("^%1_([0-9]+)[^0-9]*\\..+$").arg(QRegularExpression::escape(basename)),
        QRegularExpression::CaseInsensitiveOption);
    qint64 maxCounter = 0;
    const QStringList entries =
        QDir(fullFolder).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
    for (const QString& name : entries) {
        const QRegularExpressionMatch m = re.match(name);
        if (m.hasMatch())
            maxCounter = std::max(maxCounter, m.captured(1).toLongLong());
    }
    return int(std::min<qint64>(maxCounter + 1, std::numeric_limits<int>::max()));
}

QString OutputNaming::vhsFileName(const QString& basename, int counter, const QString& extension)
{
    return basename + QLatin1Char('_') + QStringLiteral("%1").arg(counter, 5, 10, QLatin1Char('0')) +
           QLatin1Char('.') + extension;
}

} // namespace gd::sandbox
