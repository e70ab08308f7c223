// DiskFullHold: which write errors hold the queue, how the free space is measured and proved, and the
// two ways a hold ends (space back, bound reached). The full-run behaviour is in tst_faultmatrix.
#include "pipeline/DiskFullHold.h"

#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <cerrno>
#include <cstring>

using gd::pipeline::DiskFullHold;

class TestDiskFullHold : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void recognisesFullDiskAndQuotaErrors_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("full");
        const QString enospc = QString::fromLocal8Bit(std::strerror(ENOSPC));
        const QString edquot = QString::fromLocal8Bit(std::strerror(EDQUOT));
        QTest::newRow("AtomicFile") << QStringLiteral("Cannot write /r/artifact-metadata.json: ") + enospc << true;
        QTest::newRow("download") << QStringLiteral("Download of f_00001_.png failed: Cannot write /r/a.part: ") + enospc
                                  << true;
        QTest::newRow("quota") << QStringLiteral("Cannot write /r/run-summary.txt: ") + edquot << true;
        QTest::newRow("permission") << QStringLiteral("Cannot write /r/x: ") + QString::fromLocal8Bit(std::strerror(EACCES))
                                    << false;
        QTest::newRow("read-only fs") << QString::fromLocal8Bit(std::strerror(EROFS)) << false;
        QTest::newRow("sync") << QStringLiteral("Cannot sync /r/x") << false;
        QTest::newRow("empty") << QString() << false;
    }
    void recognisesFullDiskAndQuotaErrors()
    {
        QFETCH(QString, text);
        QFETCH(bool, full);
        QCOMPARE(DiskFullHold::isDiskFull(text), full);
    }

    void measuresAndProvesFreeSpace()
    {
        QTemporaryDir dir;
        const auto free = DiskFullHold::freeBytes(dir.path());
        QVERIFY(free.has_value());
        QVERIFY(*free > 0);
        QVERIFY(!DiskFullHold::freeBytes(dir.filePath(QStringLiteral("missing/below"))).has_value());
        QVERIFY(DiskFullHold::probeWrite(dir.path(), 4096));
        QVERIFY(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot).isEmpty());
        QVERIFY(!DiskFullHold::probeWrite(dir.filePath(QStringLiteral("missing")), 4096));
        QCOMPARE(DiskFullHold::formatBytes(268435456), QStringLiteral("268.4 MB"));
        QCOMPARE(DiskFullHold::formatBytes(61'000'000'000), QStringLiteral("61.0 GB"));
        QCOMPARE(DiskFullHold::formatBytes(512), QStringLiteral("512 bytes"));
    }

    void resumesWhenTheSpaceIsBack()
    {
        QTemporaryDir dir;
        DiskFullHold hold;
        hold.setOptions({60, 0.05, 1024});
        QSignalSpy back(&hold, &DiskFullHold::spaceBack);
        QSignalSpy expired(&hold, &DiskFullHold::expired);
        const QString error = QStringLiteral("Cannot write x: ") + QString::fromLocal8Bit(std::strerror(ENOSPC));
        QVERIFY(hold.begin(dir.path(), error, 10));
        QVERIFY(!hold.begin(dir.path(), error, 10)); // one hold at a time
        QVERIFY(hold.isHolding());
        QCOMPARE(hold.neededBytes(), qint64(1024)); // at least the minimum
        QVERIFY2(hold.reason().startsWith(QStringLiteral("the disk under %1 is full (").arg(dir.path())) &&
                     hold.reason().contains(QStringLiteral("1.0 kB needed")) && hold.reason().contains(error),
                 qPrintable(hold.reason()));
        QCOMPARE(hold.toJson().value(QStringLiteral("Outcome")).toString(), QStringLiteral("holding"));
        QTRY_COMPARE(back.count(), 1); // this directory has room: the first poll ends the hold
        QCOMPARE(expired.count(), 0);
        QVERIFY(!hold.isHolding());
        QVERIFY(back.at(0).at(0).toLongLong() > 1024);
        QCOMPARE(hold.toJson().value(QStringLiteral("Outcome")).toString(), QStringLiteral("resumed"));
        QVERIFY(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot).isEmpty());
    }

    void expiresWhenTheSpaceNeverComes()
    {
        // More than any disk has: the figure never reaches it, so the bound ends the hold.
        QTemporaryDir dir;
        DiskFullHold hold;
        hold.setOptions({0.3, 0.05, qint64(1) << 62});
        QSignalSpy back(&hold, &DiskFullHold::spaceBack);
        QSignalSpy expired(&hold, &DiskFullHold::expired);
        QVERIFY(hold.begin(dir.path(), QStringLiteral("No space"), 0));
        QTRY_COMPARE(expired.count(), 1);
        QCOMPARE(back.count(), 0);
        QVERIFY(!hold.isHolding());
        const QJsonObject record = hold.toJson();
        QCOMPARE(record.value(QStringLiteral("Outcome")).toString(), QStringLiteral("expired"));
        QVERIFY(record.value(QStringLiteral("HeldSeconds")).toDouble() >= 0.3);
        QCOMPARE(record.value(QStringLiteral("Directory")).toString(), dir.path());
        // A later hold starts afresh.
        QVERIFY(hold.begin(dir.path(), QStringLiteral("No space"), 0));
        hold.stop();
        QVERIFY(!hold.isHolding());
    }
};

QTEST_GUILESS_MAIN(TestDiskFullHold)
#include "tst_diskfullhold.moc"
