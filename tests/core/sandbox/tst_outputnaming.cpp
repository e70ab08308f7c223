#include "sandbox/OutputNaming.h"

#include <QDate>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

using gd::sandbox::OutputNaming;
using gd::sandbox::SaveTarget;

namespace {

void touch(const QString& path)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("x");
}

// Everything below root, relative, sorted: shows that nothing was created where it should not be.
QStringList treeOf(const QString& root)
{
    QStringList out;
    QDirIterator it(root, QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        out.append(QDir(root).relativeFilePath(it.next()));
    out.sort();
    return out;
}

} // namespace

// OutputNaming: folder_paths.get_save_image_path semantics the sandbox's save nodes rely on.
class TestOutputNaming : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void counterContinuesAfterExistingFiles()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (int i = 1; i <= 3; ++i)
            touch(dir.filePath(OutputNaming::imageFileName(QStringLiteral("frame"), i)));
        QString error;
        const auto target = OutputNaming::resolve(dir.path(), QStringLiteral("frame"), 64, 64, &error);
        QVERIFY2(target, qPrintable(error));
        QCOMPARE(target->counter, 4);
        QCOMPARE(target->basename, QStringLiteral("frame"));
        QCOMPARE(target->subfolder, QString());
        QCOMPARE(QFileInfo(target->fullFolder).canonicalFilePath(),
                 QFileInfo(dir.path()).canonicalFilePath());
    }

    void counterRules_data()
    {
        QTest::addColumn<QStringList>("existing");
        QTest::addColumn<int>("expected");
        QTest::newRow("empty folder") << QStringList{} << 1;
        QTest::newRow("gap uses max")
            << QStringList{QStringLiteral("frame_00001_.png"), QStringLiteral("frame_00007_.png")} << 8;
        QTest::newRow("other extensions count")
            << QStringList{QStringLiteral("frame_00002_.png"), QStringLiteral("frame_00005_.mp4")} << 6;
        QTest::newRow("other prefixes ignored")
            << QStringList{QStringLiteral("frameX_00009_.png"), QStringLiteral("other_00004_.png"),
                           QStringLiteral("frame_00002_.png")}
            << 3;
        // ComfyUI parses "<basename>_" + text up to the next '_'; non-numbers count as 0.
        QTest::newRow("non numeric counts as zero")
            << QStringList{QStringLiteral("frame_extra_00009_.png")} << 1;
        QTest::newRow("case sensitive on posix") << QStringList{QStringLiteral("FRAME_00004_.png")} << 1;
        QTest::newRow("no trailing underscore")
            << QStringList{QStringLiteral("frame_00003.png"), QStringLiteral("frame_00002_.png")} << 3;
    }

    void counterRules()
    {
        QFETCH(QStringList, existing);
        QFETCH(int, expected);
        QTemporaryDir dir;
        for (const QString& name : existing)
            touch(dir.filePath(name));
        QString error;
        const auto target = OutputNaming::resolve(dir.path(), QStringLiteral("frame"), 8, 8, &error);
        QVERIFY2(target, qPrintable(error));
        QCOMPARE(target->counter, expected);
    }

    void prefixSplitting_data()
    {
        QTest::addColumn<QString>("prefix");
        QTest::addColumn<QString>("subfolder");
        QTest::addColumn<QString>("basename");
        QTest::newRow("plain") << QStringLiteral("frame") << QString() << QStringLiteral("frame");
        QTest::newRow("nested") << QStringLiteral("jobs/abc/frame") << QStringLiteral("jobs/abc")
                                << QStringLiteral("frame");
        QTest::newRow("savevideo default")
            << QStringLiteral("video/ComfyUI") << QStringLiteral("video") << QStringLiteral("ComfyUI");
        QTest::newRow("normpath collapses")
            << QStringLiteral("a/./b//c") << QStringLiteral("a/b") << QStringLiteral("c");
        QTest::newRow("dotdot inside")
            << QStringLiteral("a/../b/f") << QStringLiteral("b") << QStringLiteral("f");
        QTest::newRow("trailing slash")
            << QStringLiteral("jobs/abc/") << QStringLiteral("jobs") << QStringLiteral("abc");
        // POSIX server: a backslash is an ordinary character, so this is one file name in the output root.
        QTest::newRow("windows separators literal")
            << QStringLiteral("jobs\\abc\\frame") << QString() << QStringLiteral("jobs\\abc\\frame");
        QTest::newRow("windows dotdot literal")
            << QStringLiteral("..\\x") << QString() << QStringLiteral("..\\x");
    }

    void prefixSplitting()
    {
        QFETCH(QString, prefix);
        QFETCH(QString, subfolder);
        QFETCH(QString, basename);
        QTemporaryDir dir;
        QString error;
        const auto target = OutputNaming::resolve(dir.path(), prefix, 320, 180, &error);
        QVERIFY2(target, qPrintable(error));
        QCOMPARE(target->subfolder, subfolder);
        QCOMPARE(target->basename, basename);
        QCOMPARE(target->counter, 1);
        const QString expectedFolder = subfolder.isEmpty() ? dir.path() : dir.filePath(subfolder);
        QCOMPARE(QDir::cleanPath(target->fullFolder),
                 QDir::cleanPath(QFileInfo(expectedFolder).absoluteFilePath()));
        QVERIFY(QFileInfo(target->fullFolder).isDir()); // created
        // Nothing but the subfolder chain appears under the output dir.
        QStringList expectedTree;
        QString acc;
        for (const QString& part : subfolder.split(QLatin1Char('/'), Qt::SkipEmptyParts)) {
            acc = acc.isEmpty() ? part : acc + QLatin1Char('/') + part;
            expectedTree.append(acc);
        }
        QCOMPARE(treeOf(dir.path()), expectedTree);
    }

    void substitutesVariables()
    {
        QTemporaryDir dir;
        QString error;
        const auto target = OutputNaming::resolve(dir.path(), QStringLiteral("%width%x%height%/shot_%width%"),
                                                  320, 180, &error);
        QVERIFY2(target, qPrintable(error));
        QCOMPARE(target->subfolder, QStringLiteral("320x180"));
        QCOMPARE(target->basename, QStringLiteral("shot_320"));
        QVERIFY(QFileInfo(dir.filePath(QStringLiteral("320x180"))).isDir());

        const int yearBefore = QDate::currentDate().year();
        const auto dated = OutputNaming::resolve(
            dir.path(), QStringLiteral("%year%-%month%-%day%/%hour%%minute%%second%"), 1, 1, &error);
        QVERIFY2(dated, qPrintable(error));
        QVERIFY2(
            QRegularExpression(QStringLiteral("^\\d{4}-\\d{2}-\\d{2}$")).match(dated->subfolder).hasMatch(),
            qPrintable(dated->subfolder));
        QVERIFY2(QRegularExpression(QStringLiteral("^\\d{6}$")).match(dated->basename).hasMatch(),
                 qPrintable(dated->basename));
        const int year = dated->subfolder.left(4).toInt();
        QVERIFY(year == yearBefore || year == yearBefore + 1);
    }

    void refusesEscapes_data()
    {
        QTest::addColumn<QString>("prefix");
        QTest::newRow("parent") << QStringLiteral("../x");
        QTest::newRow("absolute") << QStringLiteral("/abs/x");
        QTest::newRow("normalized parent") << QStringLiteral("a/../../x");
        QTest::newRow("deep parent") << QStringLiteral("a/b/../../../../etc/x");
        QTest::newRow("variables expand to parent") << QStringLiteral("..%width%/../../x");
    }

    void refusesEscapes()
    {
        QFETCH(QString, prefix);
        QTemporaryDir parent;
        const QString out = parent.filePath(QStringLiteral("output"));
        QVERIFY(QDir().mkpath(out));
        QString error;
        const auto target = OutputNaming::resolve(out, prefix, 10, 10, &error);
        QVERIFY(!target);
        QVERIFY2(error.contains(QStringLiteral("Saving image outside the output folder is not allowed")),
                 qPrintable(error));
        QCOMPARE(treeOf(parent.path()), QStringList{QStringLiteral("output")});
    }

    void fileNames()
    {
        QCOMPARE(OutputNaming::imageFileName(QStringLiteral("frame"), 1), QStringLiteral("frame_00001_.png"));
        QCOMPARE(OutputNaming::imageFileName(QStringLiteral("frame"), 123456),
                 QStringLiteral("frame_123456_.png"));
        QCOMPARE(OutputNaming::fileName(QStringLiteral("ComfyUI"), 3, QStringLiteral("mp4")),
                 QStringLiteral("ComfyUI_00003_.mp4"));
        QCOMPARE(OutputNaming::imageFileName(QStringLiteral("odd%1name"), 2),
                 QStringLiteral("odd%1name_00002_.png"));
        QCOMPARE(OutputNaming::vhsFileName(QStringLiteral("clip"), 7, QStringLiteral("mp4")),
                 QStringLiteral("clip_00007.mp4"));
    }

    void vhsCounter()
    {
        QTemporaryDir dir;
        QCOMPARE(OutputNaming::nextVhsCounter(dir.path(), QStringLiteral("clip")), 1);
        touch(dir.filePath(QStringLiteral("clip_00002.mp4")));
        touch(dir.filePath(QStringLiteral("clip_00002.png")));
        touch(dir.filePath(QStringLiteral("clip_00004-audio.mp4")));
        touch(dir.filePath(QStringLiteral("clipper_00009.mp4")));
        touch(dir.filePath(QStringLiteral("clip_00011"))); // no extension: not VHS's pattern
        QCOMPARE(OutputNaming::nextVhsCounter(dir.path(), QStringLiteral("clip")), 5);
    }
};

QTEST_GUILESS_MAIN(TestOutputNaming)
#include "tst_outputnaming.moc"
