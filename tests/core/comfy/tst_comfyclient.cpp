#include "comfy/ComfyClient.h"
#include "sandbox/SandboxComfyServer.h"
#include "sandbox/SandboxHost.h"

#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using gd::comfy::ComfyClient;

// ComfyClient's network behaviour against the protocol-faithful sandbox: socket lifecycle with a
// stable clientId, uploads with the server's renaming, /view with awkward names, node checks.
class TestComfyClient : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    gd::sandbox::SandboxHost m_host;

    template <typename T, typename Call> T wait(Call call)
    {
        T result{};
        bool done = false;
        call([&](const T& r) {
            result = r;
            done = true;
        });
        for (int i = 0; i < 1000 && !done; ++i)
            QTest::qWait(10);
        if (!done)
            qWarning("request did not finish");
        return result;
    }

private Q_SLOTS:
    void initTestCase()
    {
        gd::sandbox::SandboxConfig cfg;
        cfg.outputDir = m_dir.filePath(QStringLiteral("output"));
        QString e;
        QVERIFY2(m_host.start(cfg, 0, &e), qPrintable(e));
    }

    void socketKeepsItsClientIdAcrossRehandshake()
    {
        ComfyClient c(m_host.url());
        const QString id = c.clientId();
        QSignalSpy connected(&c, &ComfyClient::socketConnected);
        QSignalSpy disconnected(&c, &ComfyClient::socketDisconnected);
        c.openSocket();
        QTRY_COMPARE(connected.size(), 1);
        QVERIFY(c.isSocketOpen());
        c.rehandshake(QStringLiteral("test"));
        QTRY_COMPARE(disconnected.size(), 1);
        QTRY_COMPARE(connected.size(), 2);
        QCOMPARE(c.clientId(), id);
        // Closed before reopening: the server routes to exactly one socket for us.
        QTRY_COMPARE(m_host.server()->webSocketCount(), 1);
        c.closeSocket();
        QCOMPARE(c.socketState(), ComfyClient::SocketState::Closed);
        QTRY_COMPARE(m_host.server()->webSocketCount(), 0);
    }

    void nodeChecks()
    {
        ComfyClient c(m_host.url());
        auto known = wait<std::pair<bool, gd::Error>>(
            [&](auto cb) { c.objectInfo(QStringLiteral("KSampler"), this, cb); });
        QVERIFY(known.second.isNull());
        QVERIFY(known.first);
        auto unknown = wait<std::pair<bool, gd::Error>>(
            [&](auto cb) { c.objectInfo(QStringLiteral("WriteDoneMarker|pysssss"), this, cb); });
        QVERIFY(unknown.second.isNull());
        QVERIFY(!unknown.first);
    }

    void uploadUsesTheReturnedNameAndViewEncodesParameters()
    {
        ComfyClient c(m_host.url());
        auto writeImage = [&](const QString& name, Qt::GlobalColor color) {
            QImage img(16, 16, QImage::Format_RGB32);
            img.fill(color);
            const QString p = m_dir.filePath(name);
            img.save(p);
            return p;
        };
        const QString name = QStringLiteral("key & frame #1.png");
        auto first = wait<gd::comfy::UploadResult>(
            [&](auto cb) { c.uploadImage(writeImage(name, Qt::red), QStringLiteral("gd"), this, cb); });
        QVERIFY2(first.error.isNull(), qPrintable(first.error.message));
        QCOMPARE(first.name, name);
        // Different bytes under the same name: the server renames, and we must use its name.
        QFile::remove(m_dir.filePath(name));
        auto second = wait<gd::comfy::UploadResult>(
            [&](auto cb) { c.uploadImage(writeImage(name, Qt::green), QStringLiteral("gd"), this, cb); });
        QCOMPARE(second.name, QStringLiteral("key & frame #1 (1).png"));

        const gd::comfy::OutputFile f{QString(), QStringLiteral("images"), second.name, QStringLiteral("gd"),
                                      QStringLiteral("input")};
        const QString dest = m_dir.filePath(QStringLiteral("back.png"));
        auto err = wait<gd::Error>([&](auto cb) { c.view(f, dest, 1 << 20, this, cb); });
        QVERIFY2(err.isNull(), qPrintable(err.message));
        QImage back(dest);
        QCOMPARE(back.pixel(0, 0), QColor(Qt::green).rgb());
    }

    void unknownHistoryIsNotFound()
    {
        ComfyClient c(m_host.url());
        auto h = wait<gd::comfy::HistoryResult>(
            [&](auto cb) { c.history(QStringLiteral("no-such-prompt"), this, cb); });
        QVERIFY(h.error.isNull());
        QVERIFY(!h.found);
        auto q = wait<gd::comfy::QueueResult>([&](auto cb) { c.queue(this, cb); });
        QVERIFY(q.error.isNull());
        QVERIFY(q.running.isEmpty());
        auto i = wait<gd::Error>([&](auto cb) { c.interrupt(QStringLiteral("no-such-prompt"), this, cb); });
        QVERIFY(i.isNull());
        auto f = wait<gd::Error>([&](auto cb) { c.freeMemory(true, false, this, cb); });
        QVERIFY(f.isNull());
    }

    void cleanupTestCase() { m_host.stop(); }
};

QTEST_GUILESS_MAIN(TestComfyClient)
#include "tst_comfyclient.moc"
