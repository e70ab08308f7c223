#include "common/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

// Artifacts are replaced whole: a reader sees the old or the new content, never a mix, and a
// failed write leaves the old file in place.
class TestAtomicFile : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // Caches skip the sync (AtomicFile::Sync::None) but are published the same way.
    void writesAndReplaces_data()
    {
        QTest::addColumn<gd::AtomicFile::Sync>("sync");
        QTest::newRow("durable") << gd::AtomicFile::Sync::Durable;
        QTest::newRow("no sync") << gd::AtomicFile::Sync::None;
    }

    void writesAndReplaces()
    {
        QFETCH(gd::AtomicFile::Sync, sync);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sub/artifact.json"));
        QVERIFY(gd::AtomicFile::write(path, "first", sync).isNull());
        QVERIFY(gd::AtomicFile::write(path, "second", sync).isNull());
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("second"));
        // No temp files left beside it.
        QCOMPARE(QDir(dir.filePath(QStringLiteral("sub"))).entryList(QDir::Files),
                 QStringList{QStringLiteral("artifact.json")});
    }

    // Operators' tools read artifacts: a new file is readable by others (not the temporary file's
    // owner-only mode) and a replaced file keeps the mode it had.
    void permissionsOfNewAndReplacedFiles()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("artifact.json"));
        QVERIFY(gd::AtomicFile::write(path, "first").isNull());
        QVERIFY(QFile::permissions(path) & QFileDevice::ReadOther);
        QVERIFY(QFile::permissions(path) & QFileDevice::ReadGroup);
        const auto ownerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser |
                               QFileDevice::WriteUser;
        QVERIFY(QFile::setPermissions(path, ownerOnly));
        QVERIFY(gd::AtomicFile::write(path, "second").isNull());
        QCOMPARE(QFile::permissions(path), ownerOnly);
    }

    void failureNamesPathAndKeepsOldFile()
    {
        QTemporaryDir dir;
        // A parent that is a file makes every write fail, root or not.
        const QString blocker = dir.filePath(QStringLiteral("blocker"));
        QVERIFY(gd::AtomicFile::write(blocker, "keep me").isNull());
        const gd::Error e = gd::AtomicFile::write(blocker + QStringLiteral("/child.json"), "x");
        QVERIFY(!e.isNull());
        QVERIFY2(e.message.contains(QStringLiteral("blocker")), qPrintable(e.message));
        QFile f(blocker);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("keep me"));
    }

    void writeNewNeverReplaces()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sub/frame.done"));
        QVERIFY(gd::AtomicFile::writeNew(path, "{\"count\":2}").isNull());
        // A second writer loses: the first file stays, byte for byte, and no temp file is left.
        const gd::Error e = gd::AtomicFile::writeNew(path, "other");
        QCOMPARE(e.kind, QStringLiteral("exists"));
        QVERIFY2(e.message.contains(QStringLiteral("frame.done")), qPrintable(e.message));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("{\"count\":2}"));
        QCOMPARE(QDir(dir.filePath(QStringLiteral("sub"))).entryList(QDir::Files | QDir::Hidden),
                 QStringList{QStringLiteral("frame.done")});
    }
};

QTEST_GUILESS_MAIN(TestAtomicFile)
#include "tst_atomicfile.moc"
