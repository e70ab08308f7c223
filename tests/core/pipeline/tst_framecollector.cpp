#include "pipeline/FrameCollector.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>

using gd::pipeline::FrameCollector;

// Collecting an attempt: frames land in attempt-<n>/ (hard links on one filesystem), bad frames
// are dropped with a warning, and a failing copy stops with an error that names the file.
class TestFrameCollector : public QObject
{
    Q_OBJECT

    static QByteArray png()
    {
        QImage img(32, 32, QImage::Format_RGB32);
        img.fill(Qt::red);
        QBuffer b;
        b.open(QIODevice::WriteOnly);
        img.save(&b, "png");
        return b.data();
    }
    static QString write(const QString& path, const QByteArray& bytes)
    {
        QFile f(path);
        f.open(QIODevice::WriteOnly);
        f.write(bytes);
        return path;
    }

private Q_SLOTS:
    void hardLinksVerifiesAndSorts()
    {
        QTemporaryDir dir;
        QDir().mkpath(dir.filePath(QStringLiteral("out")));
        QStringList files;
        for (int i = 3; i >= 1; --i)
            files << write(dir.filePath(QStringLiteral("out/s_a1_%1_.png").arg(i, 5, 10, QLatin1Char('0'))),
                           png());
        files << write(dir.filePath(QStringLiteral("out/s_a1_00004_.png")), png().left(40));
        FrameCollector::Request req;
        req.attemptDir = dir.filePath(QStringLiteral("run/scene-001/attempt-1"));
        req.localFiles = files;
        const auto r = FrameCollector::collectLocal(req);
        QCOMPARE(r.frames, (QStringList{QStringLiteral("s_a1_00001_.png"), QStringLiteral("s_a1_00002_.png"),
                                        QStringLiteral("s_a1_00003_.png")}));
        QCOMPARE(r.warnings.size(), 1);
        QVERIFY(r.warnings.first().contains(QStringLiteral("s_a1_00004_.png rejected: truncated PNG")));
        QVERIFY(r.errors.isEmpty());
        QCOMPARE(r.hardLinked, 4);
        QVERIFY(!QFile::exists(QDir(req.attemptDir).filePath(QStringLiteral("s_a1_00004_.png"))));
        struct stat st
        {
        };
        QCOMPARE(::stat(QFile::encodeName(QDir(req.attemptDir).filePath(QStringLiteral("s_a1_00001_.png")))
                            .constData(),
                        &st),
                 0);
        QCOMPARE(int(st.st_nlink), 2); // shares the source's inode: no bytes copied
    }

    void missingSourceIsAnError()
    {
        QTemporaryDir dir;
        FrameCollector::Request req;
        req.attemptDir = dir.filePath(QStringLiteral("attempt-1"));
        req.localFiles = {dir.filePath(QStringLiteral("gone_00001_.png"))};
        const auto r = FrameCollector::collectLocal(req);
        QVERIFY(r.frames.isEmpty());
        QCOMPARE(r.errors.size(), 1);
        QVERIFY2(r.errors.first().contains(QStringLiteral("gone_00001_.png")), qPrintable(r.errors.first()));
    }

    void videoIsRecognised()
    {
        QTemporaryDir dir;
        FrameCollector::Request req;
        req.attemptDir = dir.filePath(QStringLiteral("attempt-1"));
        req.localFiles = {write(dir.filePath(QStringLiteral("clip_00001_.mp4")), QByteArray(100, 'x'))};
        const auto r = FrameCollector::collectLocal(req);
        QCOMPARE(r.videoFile, QStringLiteral("clip_00001_.mp4"));
        QVERIFY(r.frames.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestFrameCollector)
#include "tst_framecollector.moc"
