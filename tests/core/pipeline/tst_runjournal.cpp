#include "common/DurableWriter.h"
#include "pipeline/RunJournal.h"

#include <QTemporaryDir>
#include <QTest>

using gd::DurableWriter;
using gd::pipeline::RunJournal;

// The journal is what a resumed run trusts: with its syncs on the writer thread every line must
// still be in the file the moment append returns (a SIGKILL loses nothing), lines keep the order of
// the calls, and an action that waits for durability (the POST after "submitted") runs only after
// the sync.
class TestRunJournal : public QObject
{
    Q_OBJECT
private:
    static QStringList types(const QString& dir)
    {
        QStringList out;
        for (const QJsonObject& o : RunJournal::read(dir).entries)
            out << o.value(QStringLiteral("Type")).toString();
        return out;
    }

private Q_SLOTS:
    void syncsOnTheWriterKeepLinesImmediateAndOrdered_data()
    {
        QTest::addColumn<bool>("background");
        QTest::newRow("writer thread") << true;
        QTest::newRow("inline") << false;
    }

    void syncsOnTheWriterKeepLinesImmediateAndOrdered()
    {
        QFETCH(bool, background);
        QTemporaryDir dir;
        DurableWriter writer(background ? DurableWriter::Mode::Background : DurableWriter::Mode::Inline);
        RunJournal journal;
        journal.setWriter(&writer);
        QVERIFY(journal.open(dir.path()).isNull());
        QVERIFY(journal.append(RunJournal::run(), QString(), {}, true).isNull());
        QStringList seen;
        journal.appendDurable(RunJournal::submitted(), QStringLiteral("scene-001"),
                              {{QStringLiteral("PromptId"), QStringLiteral("p-1")}}, [&](const gd::Error& e) {
                                  QVERIFY(e.isNull());
                                  // Durable by now; the lines written meanwhile follow it.
                                  seen = types(dir.path());
                              });
        // On the file at once, whether or not the sync ran yet.
        QCOMPARE(types(dir.path()), (QStringList{RunJournal::run(), RunJournal::submitted()}));
        QVERIFY(journal.append(RunJournal::running(), QStringLiteral("scene-001"), {}, false).isNull());
        if (!background)
            QCOMPARE(seen, (QStringList{RunJournal::run(), RunJournal::submitted()})); // before append returned
        QTRY_VERIFY(!seen.isEmpty());
        QCOMPARE(seen.mid(0, 2), (QStringList{RunJournal::run(), RunJournal::submitted()}));
        // Closed with syncs still queued: they run on their own copy of the descriptor.
        QVERIFY(journal.append(RunJournal::finished(), QString(), {}, true).isNull());
        journal.close();
        bool idle = false;
        writer.whenIdle([&] { idle = true; });
        QTRY_VERIFY(idle);
        QVERIFY(journal.lastError().isNull());
        QCOMPARE(types(dir.path()), (QStringList{RunJournal::run(), RunJournal::submitted(), RunJournal::running(),
                                                 RunJournal::finished()}));
    }

    void aFailedWriteReachesTheActionWithItsError()
    {
        DurableWriter writer(DurableWriter::Mode::Background);
        RunJournal journal; // never opened
        journal.setWriter(&writer);
        gd::Error got;
        bool called = false;
        journal.appendDurable(RunJournal::submitted(), QStringLiteral("scene-001"), {}, [&](const gd::Error& e) {
            got = e;
            called = true;
        });
        QVERIFY(called);
        QCOMPARE(got.message, QStringLiteral("The run journal is not open"));
    }
};

QTEST_GUILESS_MAIN(TestRunJournal)
#include "tst_runjournal.moc"
