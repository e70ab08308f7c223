#include "pipeline/FrameCollector.h"

#include "pipeline/FrameVerifier.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace gd::pipeline {

QString FrameCollector::linkOrCopy(const QString& from, const QString& to, bool* linked)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path src(from.toStdString());
    const fs::path dst(to.toStdString());
    fs::remove(dst, ec);
    ec.clear();
    fs::create_hard_link(src, dst, ec);
    if (!ec) {
        *linked = true;
        return {};
    }
    *linked = false;
    ec.clear();
    fs::copy_file(src, dst, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        fs::remove(dst, ec); // never leave a half-written frame behind
        std::error_code ec2;
        fs::copy_file(src, dst, fs::copy_options::overwrite_existing, ec2);
        if (!ec2)
            return {};
        fs::remove(dst, ec);
        return QString::fromStdString(ec2.message());
    }
    return {};
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
            r.videoFile = name;
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
