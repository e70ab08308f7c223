#include "common/AtomicFile.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace gd {

Error AtomicFile::write(const QString& path, const QByteArray& data)
{
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return {
            QStringLiteral("io"), QStringLiteral("Cannot create directory %1").arg(info.absolutePath()), {}};
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {
            QStringLiteral("io"), QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()), {}};
    if (file.write(data) != data.size() || !file.flush()) {
        const QString reason = file.errorString();
        file.cancelWriting();
        return {QStringLiteral("io"), QStringLiteral("Cannot write %1: %2").arg(path, reason), {}};
    }
#ifdef Q_OS_UNIX
    // QSaveFile renames without syncing; a power cut could otherwise leave an empty file behind.
    if (::fsync(file.handle()) != 0) {
        file.cancelWriting();
        return {QStringLiteral("io"), QStringLiteral("Cannot sync %1").arg(path), {}};
    }
#endif
    if (!file.commit())
        return {
            QStringLiteral("io"), QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()), {}};
    return {};
}

} // namespace gd
