#include "common/AtomicFile.h"
#include "common/DurableWriter.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <memory>
#include <mutex>
#include <vector>

using gd::DurableWriter;
using gd::Error;

namespace {
QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
} // namespace

// The run's artifacts and journal syncs leave the GUI thread through this writer: they must land in
// the order they were asked for, failures must come back naming the file and the OS reason, and
// nothing queued may be lost when the run ends or the writer goes away.
class TestDurableWriter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void writesKeepTheirOrderAndRunOffTheCallingThread()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("run/artifact-metadata.json"));
        DurableWriter writer(DurableWriter::Mode::Background);
        auto ran = std::make_shared<std::vector<int>>(); // touched by the worker only until idle
        auto jobThreads = std::make_shared<std::vector<QThread*>>();
        std::vector<int> completed;
        std::vector<QThread*> doneThreads;
        for (int i = 0; i < 20; ++i) {
            const QByteArray bytes = "version " + QByteArray::number(i);
            writer.post(
                [path, bytes, ran, jobThreads, i] {
                    ran->push_back(i);
                    jobThreads->push_back(QThread::currentThread());
                    return gd::AtomicFile::write(path, bytes);
                },
                [&completed, &doneThreads, i](const Error& e) {
                    QVERIFY(e.isNull());
                    completed.push_back(i);
                    doneThreads.push_back(QThread::currentThread());
                });
        }
        QVERIFY(writer.pending() > 0);
        bool idle = false;
        writer.whenIdle([&] { idle = true; });
        QTRY_VERIFY(idle);
        QCOMPARE(writer.pending(), 0);
        std::vector<int> expected(20);
        for (int i = 0; i < 20; ++i)
            expected[i] = i;
        QCOMPARE(*ran, expected);
        QCOMPARE(completed, expected);
        QCOMPARE(readAll(path), QByteArray("version 19"));
        for (QThread* t : *jobThreads)
            QVERIFY(t != QThread::currentThread());
        for (QThread* t : doneThreads)
            QCOMPARE(t, QThread::currentThread());
        // No temp file left beside it.
        QCOMPARE(QDir(dir.filePath(QStringLiteral("run"))).entryList(QDir::Files),
                 QStringList{QStringLiteral("artifact-metadata.json")});
    }

    void failureNamesThePathAndTheReason_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("reason");
        QTest::addColumn<bool>("background");
        const QString tooLong = QString(300, QLatin1Char('x')) + QStringLiteral(".json");
        QTest::newRow("name too long, writer thread") << tooLong << QStringLiteral("File name too long") << true;
        QTest::newRow("name too long, inline") << tooLong << QStringLiteral("File name too long") << false;
        // The OS's own words (rename(2) onto a directory).
        QTest::newRow("target is a directory, writer thread")
            << QStringLiteral("scene-001") << QStringLiteral("Is a directory") << true;
    }

    void failureNamesThePathAndTheReason()
    {
        QFETCH(QString, name);
        QFETCH(QString, reason);
        QFETCH(bool, background);
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("scene-001")));
        const QString path = dir.filePath(name);
        DurableWriter writer(background ? DurableWriter::Mode::Background : DurableWriter::Mode::Inline);
        Error got;
        bool done = false;
        writer.write(path, "{}", [&](const Error& e) {
            got = e;
            done = true;
        });
        QCOMPARE(done, !background); // inline: reported before write() returns
        QTRY_VERIFY(done);
        QCOMPARE(got.kind, QStringLiteral("io"));
        QVERIFY2(got.message.contains(path), qPrintable(got.message));
        QVERIFY2(got.message.contains(reason), qPrintable(got.message));
        // The failure does not stop the queue: the next write lands.
        const QString next = dir.filePath(QStringLiteral("next.json"));
        bool nextDone = false;
        writer.write(next, "ok", [&](const Error& e) {
            QVERIFY(e.isNull());
            nextDone = true;
        });
        QTRY_VERIFY(nextDone);
        QCOMPARE(readAll(next), QByteArray("ok"));
    }

    void whenIdleComesAfterEveryEarlierCompletion()
    {
        QTemporaryDir dir;
        DurableWriter writer(DurableWriter::Mode::Background);
        QStringList events;
        for (int i = 0; i < 5; ++i)
            writer.write(dir.filePath(QStringLiteral("scene-%1.json").arg(i)), "x",
                         [&events, i](const Error&) { events << QStringLiteral("written %1").arg(i); });
        writer.whenIdle([&] { events << QStringLiteral("finished"); });
        QTRY_COMPARE(events.size(), 6);
        QCOMPARE(events.last(), QStringLiteral("finished"));
        for (int i = 0; i < 5; ++i)
            QCOMPARE(events.at(i), QStringLiteral("written %1").arg(i));
    }

    // A journal sync that a prompt submission waits for must not wait behind a run's worth of queued
    // scene.json writes: urgent jobs run before every plain job that has not begun, in their own order.
    void urgentJobsOvertakeQueuedPlainOnes()
    {
        DurableWriter writer(DurableWriter::Mode::Background);
        std::mutex gate;
        gate.lock();
        writer.post([&gate] {
            std::lock_guard<std::mutex> wait(gate);
            return Error();
        });
        std::vector<QString> done;
        auto note = [&done](const QString& name) { return [&done, name](const Error&) { done.push_back(name); }; };
        writer.post([] { return Error(); }, note(QStringLiteral("plain 1")));
        writer.post([] { return Error(); }, note(QStringLiteral("plain 2")));
        writer.postUrgent([] { return Error(); }, note(QStringLiteral("urgent 1")));
        writer.postUrgent([] { return Error(); }, note(QStringLiteral("urgent 2")));
        gate.unlock();
        bool idle = false;
        writer.whenIdle([&] { idle = true; });
        QTRY_VERIFY(idle);
        QCOMPARE(done, (std::vector<QString>{QStringLiteral("urgent 1"), QStringLiteral("urgent 2"),
                                             QStringLiteral("plain 1"), QStringLiteral("plain 2")}));
    }

    void destroyingTheWriterStillWritesEverythingQueued()
    {
        QTemporaryDir dir;
        bool delivered = false;
        {
            DurableWriter writer(DurableWriter::Mode::Background);
            for (int i = 0; i < 10; ++i)
                writer.write(dir.filePath(QStringLiteral("f%1.json").arg(i)), QByteArray::number(i),
                             [&delivered](const Error&) { delivered = true; });
        } // no event loop ran: the completions are dropped, the files are not
        for (int i = 0; i < 10; ++i)
            QCOMPARE(readAll(dir.filePath(QStringLiteral("f%1.json").arg(i))), QByteArray::number(i));
        QCoreApplication::processEvents();
        QVERIFY(!delivered);
    }

    void inlineModeRunsAtOnceOnTheCallingThread()
    {
        QTemporaryDir dir;
        DurableWriter writer(DurableWriter::Mode::Inline);
        QThread* jobThread = nullptr;
        QStringList order;
        writer.post(
            [&] {
                jobThread = QThread::currentThread();
                order << QStringLiteral("job");
                return Error();
            },
            [&](const Error&) { order << QStringLiteral("done"); });
        order << QStringLiteral("after post");
        writer.whenIdle([&] { order << QStringLiteral("idle"); });
        QCOMPARE(jobThread, QThread::currentThread());
        QCOMPARE(order, (QStringList{QStringLiteral("job"), QStringLiteral("done"), QStringLiteral("after post"),
                                     QStringLiteral("idle")}));
        QCOMPARE(writer.pending(), 0);
    }
};

QTEST_GUILESS_MAIN(TestDurableWriter)
#include "tst_durablewriter.moc"
