#include "pipeline/FrameCollector.h"

#include "comfy/VideoProbe.h"
#include "pipeline/FrameVerifier.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace gd::pipeline {

namespace {
// Plain read/write copy: the error it reports is the OS's own (ENOSPC reads "No space left on
// device"), which std::filesystem's sendfile path blurs into EIO on some filesystems.
QString copyFile(const QString& from, const QString& to)
{
    const int in = ::open(QFile::encodeName(from).constData(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return QString::fromLocal8Bit(std::strerror(errno));
    const int out = ::open(QFile::encodeName(to).constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        const int e = errno;
        ::close(in);
        return QString::fromLocal8Bit(std::strerror(e));
    }
    std::vector<char> buf(1 << 20);
    QString error;
    for (;;) {
        const ssize_t n = ::read(in, buf.data(), buf.size());
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            error = QString::fromLocal8Bit(std::strerror(errno));
            break;
        }
        ssize_t done = 0;
        while (done < n) {
            const ssize_t w = ::write(out, buf.data() + done, size_t(n - done));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                error = QString::fromLocal8Bit(std::strerror(errno));
                break;
            }
            done += w;
        }
        if (!error.isEmpty())
            break;
    }
    if (::close(out) != 0 && error.isEmpty())
        error = QString::fromLocal8Bit(std::strerror(errno));
    ::close(in);
    if (!error.isEmpty())
        ::unlink(QFile::encodeName(to).constData()); // never leave a half-written frame behind
    return error;
}
} // namespace

QString FrameCollector::linkOrCopy(const QString& from, const QString& to, bool* linked)
{
    const QByteArray src = QFile::encodeName(from);
    const QByteArray dst = QFile::encodeName(to);
    ::unlink(dst.constData());
    if (::link(src.constData(), dst.constData()) == 0) {
        *linked = true;
        return {};
    }
    *linked = false;
    if (errno == ENOENT)
        return QString::fromLocal8Bit(std::strerror(errno));
    return copyFile(from, to);
}

FrameCollector::Result FrameCollector::collectLocal(const Request& req)
{
    Result r;
    QDir().mkpath(req.attemptDir);
    QStringList sources = req.localFiles;
    std::sort(sources.begin(), sources.end(), [](const QString& a, const QString& b) {
        return QFileInfo(a).fileName() < QFileInfo(b).fileName();
    });
    for (const QString& src : sources) {
        const QString name = QFileInfo(src).fileName();
        const QString dst = QDir(req.attemptDir).filePath(name);
        if (!req.alreadyInPlace) {
            bool linked = false;
            const QString err = linkOrCopy(src, dst, &linked);
            if (!err.isEmpty()) {
                r.errors << QStringLiteral("Cannot copy %1 into %2: %3").arg(src, req.attemptDir, err);
                break;
            }
            linked ? ++r.hardLinked : ++r.copied;
        }
        if (FrameVerifier::isVideoName(name)) {
            // Probing may run ffprobe: one more reason this whole function runs off the GUI thread.
            r.videoFile = name;
            const auto probe = comfy::VideoProbe::probe(dst);
            r.videoFrameCount = probe.ok ? probe.frameCount : 0;
            r.videoError = probe.ok ? QString() : probe.error;
            continue;
        }
        if (!FrameVerifier::isImageName(name)) {
            continue; // audio, text or metadata side files stay as they are
        }
        const auto v = FrameVerifier::verify(dst);
        if (!v.ok) {
            r.warnings << QStringLiteral("Frame %1 rejected: %2").arg(name, v.reason);
            QFile::remove(dst);
            continue;
        }
        r.frames << name;
    }
    return r;
}

} // namespace gd::pipeline
