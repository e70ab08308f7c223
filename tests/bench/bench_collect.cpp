// Collecting 81 frames of 1920x1080 PNG into attempt-<n>/ with FrameCollector (link/copy + verify).
//   bench_collect [SOURCE_DIR] [OTHER_FS_DIR]
// Same filesystem: hard links. OTHER_FS_DIR (e.g. a tmpfs mount) measures the cross-filesystem copy
// and compares it with `cp` of the same files.

#include "pipeline/FrameCollector.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QImage>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <cstdio>

using gd::pipeline::FrameCollector;

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QTemporaryDir tmp;
    const QString src = argc > 1 ? QString::fromLocal8Bit(argv[1]) : tmp.filePath(QStringLiteral("src"));
    QDir().mkpath(src);
    QStringList files;
    // Noise-textured frames compress like real renders (several MB each), not like flat colour.
    QImage base(1920, 1080, QImage::Format_RGB32);
    auto* rng = QRandomGenerator::global();
    for (int y = 0; y < base.height(); ++y) {
        auto* line = reinterpret_cast<QRgb*>(base.scanLine(y));
        for (int x = 0; x < base.width(); ++x)
            line[x] = qRgb((x + y) & 0xff, (x * 3) & 0xff, int(rng->bounded(64)) + (y & 0x7f));
    }
    qint64 bytes = 0;
    for (int i = 1; i <= 81; ++i) {
        const QString p =
            QDir(src).filePath(QStringLiteral("bench_a1_%1_.png").arg(i, 5, 10, QLatin1Char('0')));
        if (!QFile::exists(p))
            base.save(p, "png", 1);
        files << p;
        bytes += QFileInfo(p).size();
    }
    std::printf("81 frames, 1920x1080 PNG, %.1f MB in total\n", bytes / 1048576.0);

    auto collect = [&](const QString& dest) {
        QDir(dest).removeRecursively();
        FrameCollector::Request req;
        req.attemptDir = dest;
        req.localFiles = files;
        QElapsedTimer t;
        t.start();
        const auto r = FrameCollector::collectLocal(req);
        const double ms = t.nsecsElapsed() / 1e6;
        std::printf("  %-28s %8.1f ms  (frames %lld, hard links %d, copies %d, errors %lld)\n",
                    qPrintable(dest.section(QLatin1Char('/'), -2)), ms,
                    static_cast<long long>(r.frames.size()), r.hardLinked, r.copied,
                    static_cast<long long>(r.errors.size()));
        return ms;
    };
    std::printf("same filesystem (5 runs):\n");
    for (int i = 0; i < 5; ++i)
        collect(tmp.filePath(QStringLiteral("run/attempt-%1").arg(i)));

    if (argc > 2) {
        const QString other = QString::fromLocal8Bit(argv[2]);
        std::printf("other filesystem %s (3 runs each):\n", argv[2]);
        for (int i = 0; i < 3; ++i) {
            const double ours = collect(QDir(other).filePath(QStringLiteral("gd/attempt-%1").arg(i)));
            QDir(QDir(other).filePath(QStringLiteral("gd"))).removeRecursively();
            const QString cpDest = QDir(other).filePath(QStringLiteral("cp"));
            QDir(cpDest).removeRecursively();
            QDir().mkpath(cpDest);
            QElapsedTimer t;
            t.start();
            QProcess::execute(QStringLiteral("cp"), QStringList(files) << cpDest);
            const double cpMs = t.nsecsElapsed() / 1e6;
            QDir(cpDest).removeRecursively();
            std::printf("  cp: %8.1f ms  -> FrameCollector / cp = %.2f\n", cpMs, ours / cpMs);
        }
    }
    return 0;
}
