#include "pipeline/DiskFullHold.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonValue>
#include <cerrno>
#include <cstring>
#include <vector>

#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>
#endif

namespace gd::pipeline {

namespace {
constexpr qint64 kProbeBytes = 64 * 1024;

QString reasonText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}
} // namespace

DiskFullHold::DiskFullHold(QObject* parent) : QObject(parent)
{
    m_timer.setSingleShot(false);
    connect(&m_timer, &QTimer::timeout, this, &DiskFullHold::poll);
}

bool DiskFullHold::isDiskFull(const QString& errorText)
{
    // The writers report the OS's own reason (strerror), so the same function recognises it here,
    // in whatever language the C library speaks.
    if (errorText.contains(reasonText(ENOSPC)))
        return true;
#ifdef EDQUOT
    if (errorText.contains(reasonText(EDQUOT)))
        return true;
#endif
    return false;
}

std::optional<qint64> DiskFullHold::freeBytes(const QString& dir)
{
#ifdef Q_OS_UNIX
    struct statvfs st {};
    if (::statvfs(QFile::encodeName(dir).constData(), &st) != 0)
        return std::nullopt;
    return qint64(st.f_bavail) * qint64(st.f_frsize ? st.f_frsize : st.f_bsize);
#else
    Q_UNUSED(dir);
    return std::nullopt;
#endif
}

bool DiskFullHold::probeWrite(const QString& dir, qint64 bytes)
{
#ifdef Q_OS_UNIX
    // *.tmp: watchers and the run validators ignore it; it is removed on every path.
    const QByteArray path = QFile::encodeName(
        QDir(dir).filePath(QStringLiteral(".gd-space-probe-%1.tmp").arg(QCoreApplication::applicationPid())));
    const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    std::vector<char> buf(size_t(qBound<qint64>(1, bytes, kProbeBytes)), 0);
    bool ok = true;
    size_t done = 0;
    while (ok && done < buf.size()) {
        const ssize_t w = ::write(fd, buf.data() + done, buf.size() - done);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        if (ok)
            done += size_t(w);
    }
    // The kernel may accept the write into the page cache and only refuse the blocks at sync time.
    ok = ok && ::fsync(fd) == 0;
    ::close(fd);
    ::unlink(path.constData());
    return ok;
#else
    QFile f(QDir(dir).filePath(QStringLiteral(".gd-space-probe.tmp")));
    const bool ok = f.open(QIODevice::WriteOnly) && f.write(QByteArray(int(qMin(bytes, kProbeBytes)), 0)) > 0 && f.flush();
    f.remove();
    return ok;
#endif
}

QString DiskFullHold::formatBytes(qint64 bytes)
{
    const double b = double(qMax<qint64>(0, bytes));
    if (b >= 1e9)
        return QStringLiteral("%1 GB").arg(b / 1e9, 0, 'f', 1);
    if (b >= 1e6)
        return QStringLiteral("%1 MB").arg(b / 1e6, 0, 'f', 1);
    if (b >= 1e3)
        return QStringLiteral("%1 kB").arg(b / 1e3, 0, 'f', 1);
    return QStringLiteral("%1 bytes").arg(qint64(b));
}

bool DiskFullHold::begin(const QString& dir, const QString& error, qint64 neededBytes)
{
    if (m_holding)
        return false;
    m_holding = true;
    m_dir = dir;
    m_needed = qMax(neededBytes, m_options.minFreeBytes);
    m_since = QDateTime::currentDateTimeUtc();
    const std::optional<qint64> free = freeBytes(dir);
    const QString freeText = free ? formatBytes(*free) : QStringLiteral("unknown");
    m_reason = QStringLiteral("the disk under %1 is full (%2 free, %3 needed): a write failed with \"%4\"; "
                              "nothing new is submitted until there is space again (checked every %5 s, for at "
                              "most %6 s)")
                   .arg(dir, freeText, formatBytes(m_needed), error)
                   .arg(m_options.pollSeconds)
                   .arg(m_options.maxHoldSeconds);
    m_record = QJsonObject{{QStringLiteral("Directory"), dir},
                           {QStringLiteral("Error"), error},
                           {QStringLiteral("Since"), m_since.toString(Qt::ISODateWithMs)},
                           {QStringLiteral("FreeBytes"), free ? QJsonValue(double(*free)) : QJsonValue()},
                           {QStringLiteral("NeededBytes"), double(m_needed)},
                           {QStringLiteral("MaxHoldSeconds"), m_options.maxHoldSeconds},
                           {QStringLiteral("HeldSeconds"), QJsonValue()},
                           {QStringLiteral("Outcome"), QStringLiteral("holding")}};
    m_timer.start(qMax(50, int(m_options.pollSeconds * 1000)));
    return true;
}

void DiskFullHold::stop()
{
    m_timer.stop();
    m_holding = false;
}

double DiskFullHold::heldSeconds() const
{
    return m_since.isValid() ? m_since.msecsTo(QDateTime::currentDateTimeUtc()) / 1000.0 : 0;
}

void DiskFullHold::poll()
{
    if (!m_holding)
        return;
    const std::optional<qint64> free = freeBytes(m_dir);
    // statvfs says whether the space is there; only a write proves the quota and the filesystem agree.
    if ((!free || *free >= m_needed) && probeWrite(m_dir, kProbeBytes)) {
        end(QStringLiteral("resumed"), free.value_or(-1));
        Q_EMIT spaceBack(free.value_or(-1));
        return;
    }
    if (heldSeconds() >= m_options.maxHoldSeconds) {
        end(QStringLiteral("expired"), free.value_or(-1));
        Q_EMIT expired(free.value_or(-1));
    }
}

void DiskFullHold::end(const QString& outcome, qint64 freeBytes)
{
    m_timer.stop();
    m_holding = false;
    m_record.insert(QStringLiteral("HeldSeconds"), qRound(heldSeconds() * 10) / 10.0);
    m_record.insert(QStringLiteral("Outcome"), outcome);
    m_record.insert(QStringLiteral("FreeBytesAtEnd"), freeBytes >= 0 ? QJsonValue(double(freeBytes)) : QJsonValue());
}

} // namespace gd::pipeline
