#include "common/Log.h"
#include "common/LogSink.h"

#include <QSignalSpy>
#include <QTest>
#include <thread>

using gd::log::LogRecord;
using gd::log::LogSink;

class TestLogSink : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void recordsFromAnotherThreadArriveOnTheSinkThreadInOrder()
    {
        auto sink = std::make_shared<LogSink>(100);
        gd::log::addSink(sink);
        auto logger = gd::log::get("tst-logsink");
        logger->set_level(spdlog::level::trace);
        QVector<LogRecord> received;
        QThread* receiverThread = nullptr;
        connect(sink.get(), &LogSink::recordsAppended, this, [&](const QVector<LogRecord>& batch) {
            received += batch;
            receiverThread = QThread::currentThread();
        });
        std::thread worker([logger] {
            for (int i = 0; i < 50; ++i)
                logger->warn("line {}", i);
        });
        worker.join();
        QTRY_COMPARE(received.size(), 50);
        QCOMPARE(receiverThread, QThread::currentThread());
        QCOMPARE(received.first().message, QStringLiteral("line 0"));
        QCOMPARE(received.last().message, QStringLiteral("line 49"));
        QCOMPARE(received.first().area, QStringLiteral("tst-logsink"));
        QCOMPARE(received.first().level, gd::log::LogLevel::Warning);
        for (int i = 1; i < received.size(); ++i)
            QVERIFY(received.at(i).seq == received.at(i - 1).seq + 1);
        gd::log::removeSink(sink);
        logger->warn("after removal");
        QTest::qWait(20);
        QCOMPARE(received.size(), 50);
    }

    void bufferKeepsOnlyTheLastRecords()
    {
        auto sink = std::make_shared<LogSink>(10);
        gd::log::addSink(sink);
        auto logger = gd::log::get("tst-logsink-bounded");
        logger->set_level(spdlog::level::trace);
        for (int i = 0; i < 25; ++i)
            logger->info("n{}", i);
        gd::log::removeSink(sink);
        const auto snap = sink->snapshot();
        QCOMPARE(snap.size(), 10);
        QCOMPARE(snap.first().message, QStringLiteral("n15"));
        QCOMPARE(snap.last().message, QStringLiteral("n24"));
        // Nothing was delivered yet (no event loop turn): the pending queue is bounded too.
        QVector<LogRecord> delivered;
        connect(sink.get(), &LogSink::recordsAppended, this, [&](const QVector<LogRecord>& b) { delivered += b; });
        QTRY_COMPARE(delivered.size(), 10);
        QCOMPARE(sink->droppedCount(), quint64(15));
    }
};

QTEST_GUILESS_MAIN(TestLogSink)
#include "tst_logsink.moc"
