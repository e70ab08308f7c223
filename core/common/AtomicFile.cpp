#include "common/AtomicFile.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QTemporaryFile>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace gd {

Error AtomicFile::write(const QString& path, const QByteArray& data, Sync sync)
{
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return {
            QStringLiteral("io"), QStringLiteral("Cannot create directory %1").arg(info.absolutePath()), {}};
#ifdef Q_OS_UNIX
    // Own temporary file + one checked fsync + rename. QSaveFile would sync a second time in commit()
    // and ignores that sync's errors, so a filesystem that reports ENOSPC/EIO only at sync time would
    // go unnoticed; doubling the syncs also doubled the cost of every artifact write. Plain POSIX
    // calls so every failure carries the OS's own words (QTemporaryFile reports "No such file or
    // directory" for a name that is too long).
    const QByteArray target = QFile::encodeName(info.absoluteFilePath());
    QByteArray tmpName = target + ".XXXXXX.tmp";
    const auto fail = [&path](const char* what, int err) {
        return Error{QStringLiteral("io"),
                     QStringLiteral("Cannot %1 %2: %3")
                         .arg(QLatin1String(what), path, QString::fromLocal8Bit(std::strerror(err))),
                     {}};
    };
    const int fd = ::mkostemps(tmpName.data(), 4, O_CLOEXEC);
    if (fd < 0)
        return fail("write", errno);
    const auto abandon = [&](const char* what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmpName.constData());
        return fail(what, err);
    };
    for (qsizetype done = 0; done < data.size();) {
        const ssize_t n = ::write(fd, data.constData() + done, size_t(data.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return abandon("write");
        }
        done += n;
    }
    if (sync == Sync::Durable && ::fsync(fd) != 0)
        return abandon("sync");
    // Keep the mode of the file being replaced (readers such as operators' tools keep their access);
    // a new file gets rw-r--r-- like an ordinary file under the usual umask, not mkstemp's 0600.
    struct stat old {};
    const mode_t mode = ::stat(target.constData(), &old) == 0 ? (old.st_mode & 07777) : 0644;
    if (::fchmod(fd, mode) != 0)
        return abandon("write");
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmpName.constData());
        return fail("write", err);
    }
    if (::rename(tmpName.constData(), target.constData()) != 0) {
        const int err = errno;
        ::unlink(tmpName.constData());
        return fail("write", err);
    }
    return {};
#else
    Q_UNUSED(sync); // QSaveFile::commit() always syncs
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {
            QStringLiteral("io"), QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()), {}};
    if (file.write(data) != data.size() || !file.flush()) {
        const QString reason = file.errorString();
        file.cancelWriting();
        return {QStringLiteral("io"), QStringLiteral("Cannot write %1: %2").arg(path, reason), {}};
    }
    // QSaveFile::commit() syncs before it renames.
    if (!file.commit())
        return {
            QStringLiteral("io"), QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()), {}};
    return {};
#endif
}

Error AtomicFile::writeNew(const QString& path, const QByteArray& data)
{
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return {
            QStringLiteral("io"), QStringLiteral("Cannot create directory %1").arg(info.absolutePath()), {}};
    if (info.exists())
        return {QStringLiteral("exists"), QStringLiteral("%1 already exists").arg(path), {}};
    QTemporaryFile tmp(info.absoluteFilePath() + QStringLiteral(".XXXXXX.tmp"));
    if (!tmp.open())
        return {QStringLiteral("io"), QStringLiteral("Cannot write %1: %2").arg(path, tmp.errorString()), {}};
    if (tmp.write(data) != data.size() || !tmp.flush())
        return {QStringLiteral("io"), QStringLiteral("Cannot write %1: %2").arg(path, tmp.errorString()), {}};
#ifdef Q_OS_UNIX
    if (::fsync(tmp.handle()) != 0)
        return {QStringLiteral("io"), QStringLiteral("Cannot sync %1").arg(path), {}};
    const QByteArray from = QFile::encodeName(tmp.fileName());
    const QByteArray to = QFile::encodeName(info.absoluteFilePath());
    // renameat2(RENAME_NOREPLACE) is the atomic "create if absent"; filesystems without it (some
    // network shares) get link()+unlink(), which fails with EEXIST just the same. QFile::rename is
    // not used: when its rename fails it falls back to copying over the target.
    int rc = ::renameat2(AT_FDCWD, from.constData(), AT_FDCWD, to.constData(), RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP)) {
        rc = ::link(from.constData(), to.constData());
        if (rc == 0)
            ::unlink(from.constData());
    }
    if (rc != 0) {
        const int e = errno;
        if (e == EEXIST)
            return {QStringLiteral("exists"), QStringLiteral("%1 already exists").arg(path), {}};
        return {QStringLiteral("io"),
                QStringLiteral("Cannot write %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(e))),
                {}};
    }
    tmp.setAutoRemove(false); // renamed away (or linked and unlinked): nothing left to remove
    return {};
#else
    tmp.close();
    if (QFileInfo::exists(path))
        return {QStringLiteral("exists"), QStringLiteral("%1 already exists").arg(path), {}};
    // QFile::rename refuses an existing target; the only gap is between that check and the move.
    if (!tmp.rename(path))
        return {QStringLiteral("io"), QStringLiteral("Cannot write %1: %2").arg(path, tmp.errorString()), {}};
    tmp.setAutoRemove(false);
    return {};
#endif
}

} // namespace gd
