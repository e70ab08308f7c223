#include "common/DurableWriter.h"
#include "pipeline/RunJournal.h"

#include <QTemporaryDir>
#include <QTest>

#include <mutex>

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

    // Group commit: the 2N submissions of one dispatch round must not queue 2N fdatasyncs behind each
    // other on the writer (they delay every POST /prompt of the round). Requests made while a sync is
    // queued but not begun join it; each caller still learns of durability, in order, after the sync.
    void syncsQueuedTogetherShareOneFdatasync()
    {
        QTemporaryDir dir;
        DurableWriter writer(DurableWriter::Mode::Background);
        RunJournal journal;
        journal.setWriter(&writer);
        QVERIFY(journal.open(dir.path()).isNull());
        // Hold the writer so the syncs cannot begin while the round is written.
        std::mutex gate;
        gate.lock();
        writer.post([&gate]() -> gd::Error {
            std::lock_guard<std::mutex> wait(gate);
            return {};
        });
        QStringList order;
        for (int i = 1; i <= 16; ++i) {
            const QString scene = QStringLiteral("scene-%1").arg(i, 3, 10, QLatin1Char('0'));
            journal.appendDurable(RunJournal::submitted(), scene, {}, [&order, scene](const gd::Error& e) {
                QVERIFY(e.isNull());
                order << scene;
            });
        }
        // The blocker and one shared sync: not 1 + 16.
        QCOMPARE(writer.pending(), 2);
        gate.unlock();
        QTRY_COMPARE(order.size(), 16);
        QCOMPARE(order.first(), QStringLiteral("scene-001"));
        QCOMPARE(order.last(), QStringLiteral("scene-016"));
        QCOMPARE(types(dir.path()).size(), 16);
        // Once the shared sync has begun, a new request queues its own (it may hold a later line).
        bool later = false;
        journal.appendDurable(RunJournal::submitted(), QStringLiteral("scene-017"), {}, [&](const gd::Error& e) {
            QVERIFY(e.isNull());
            later = true;
        });
        QTRY_VERIFY(later);
        QVERIFY(journal.lastError().isNull());
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
