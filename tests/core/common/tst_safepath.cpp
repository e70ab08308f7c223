#include "common/SafePath.h"

#include <QTest>

using gd::SafePath;

// Names from ComfyUI outputs are untrusted: nothing may escape the run's directories.
class TestSafePath : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void fileNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("safe");
        QTest::newRow("plain") << QStringLiteral("frame_00001_.png") << true;
        QTest::newRow("spaces") << QStringLiteral("my frame (1).png") << true;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("dotdot") << QStringLiteral("..") << false;
        QTest::newRow("dot") << QStringLiteral(".") << false;
        QTest::newRow("slash") << QStringLiteral("../../escape.png") << false;
        QTest::newRow("backslash") << QStringLiteral("..\\escape.png") << false;
        QTest::newRow("absolute") << QStringLiteral("/etc/passwd") << false;
        QTest::newRow("drive") << QStringLiteral("C:evil.png") << false;
        QTest::newRow("newline") << QStringLiteral("a\nb.png") << false;
    }
    void fileNames()
    {
        QFETCH(QString, name);
        QFETCH(bool, safe);
        QCOMPARE(SafePath::isSafeFileName(name), safe);
    }

    void subfolders_data()
    {
        QTest::addColumn<QString>("sub");
        QTest::addColumn<bool>("safe");
        QTest::newRow("empty") << QString() << true;
        QTest::newRow("nested") << QStringLiteral("gemdirect/20261130-101500") << true;
        QTest::newRow("windows separators") << QStringLiteral("gemdirect\\run") << true;
        QTest::newRow("parent") << QStringLiteral("../..") << false;
        QTest::newRow("inner parent") << QStringLiteral("a/../../b") << false;
        QTest::newRow("absolute") << QStringLiteral("/etc") << false;
        QTest::newRow("windows absolute") << QStringLiteral("C:\\Windows") << false;
        QTest::newRow("unc") << QStringLiteral("\\\\server\\share") << false;
    }
    void subfolders()
    {
        QFETCH(QString, sub);
        QFETCH(bool, safe);
        QCOMPARE(SafePath::isSafeSubfolder(sub), safe);
    }

    void joinStaysInside()
    {
        QCOMPARE(SafePath::join(QStringLiteral("/out"), QStringLiteral("a/b"), QStringLiteral("f.png")),
                 QStringLiteral("/out/a/b/f.png"));
        QCOMPARE(SafePath::join(QStringLiteral("/out"), QString(), QStringLiteral("f.png")),
                 QStringLiteral("/out/f.png"));
        QVERIFY(SafePath::join(QStringLiteral("/out"), QStringLiteral("../x"), QStringLiteral("f.png"))
                    .isEmpty());
        QVERIFY(SafePath::join(QStringLiteral("/out"), QStringLiteral("a"), QStringLiteral("../f.png"))
                    .isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSafePath)
#include "tst_safepath.moc"
