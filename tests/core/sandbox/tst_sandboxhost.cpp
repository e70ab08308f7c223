// SandboxHost: the sandbox ComfyUI server on its own thread (in-process clients stay responsive) and the CLI
// helper.
#include "SandboxTestSupport.h"
#include "sandbox/SandboxHost.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTextStream>
#include <QThread>
#include <QtTest>

using namespace sbtest;
using gd::sandbox::FaultRule;
using gd::sandbox::SandboxConfig;
using gd::sandbox::SandboxHost;

class TestSandboxHost : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void servesFromItsOwnThread();
    void forwardsFaultsAndCatalogChanges();
    void reportsBusyPort();
    void runStandalonePrintsWhereItListens();

private:
    SandboxConfig config(const QTemporaryDir& dir) const
    {
        SandboxConfig c;
        c.outputDir = dir.filePath(QStringLiteral("output"));
        c.stepDelayMs = 2;
        c.nodeDelayMs = 0;
        return c;
    }
};

void TestSandboxHost::servesFromItsOwnThread()
{
    QTemporaryDir dir;
    SandboxHost host;
    QString error;
    QVERIFY2(host.start(config(dir), 0, &error), qPrintable(error));
    QVERIFY(host.isRunning());
    QCOMPARE(host.url().host(), QStringLiteral("127.0.0.1"));
    QVERIFY(host.port() > 0);
    QVERIFY(host.server()->thread() != QThread::currentThread());
    Http http(host.url());
    QCOMPARE(http.get(QStringLiteral("/system_stats")).status, 200);
    WsClient ws;
    QVERIFY(ws.open(host.url(), QStringLiteral("c")));
    const Reply r = http.postJson(QStringLiteral("/prompt"),
                                  promptBody(t2iGraph(QStringLiteral("hosted/scene-004_a1"), 3, 5),
                                             QStringLiteral("c"), QStringLiteral("H")));
    QCOMPARE(r.status, 200);
    QVERIFY(ws.waitForDone(QStringLiteral("H")) >= 0);
    QCOMPARE(ws.ofType(QStringLiteral("progress")).size(), 5);
    QCOMPARE(host.server()->promptPostCount(), 1);
    QCOMPARE(host.server()
                 ->historyEntry(QStringLiteral("H"))
                 .value(QStringLiteral("status"))
                 .toObject()
                 .value(QStringLiteral("status_str"))
                 .toString(),
             QStringLiteral("success"));
    QCOMPARE(QDir(dir.filePath(QStringLiteral("output/hosted"))).entryList(QDir::Files).size(), 3);
    // input and temp default to siblings of the output folder, like ComfyUI's own layout
    QCOMPARE(host.server()->config().inputDir, QDir(dir.path()).filePath(QStringLiteral("input")));
    host.stop();
    QVERIFY(!host.isRunning());
    QCOMPARE(http.get(QStringLiteral("/system_stats")).status, 0);
}

void TestSandboxHost::forwardsFaultsAndCatalogChanges()
{
    QTemporaryDir dir;
    SandboxHost host;
    QVERIFY(host.start(config(dir), 0, nullptr));
    Http http(host.url());
    host.setMarkerNodeInstalled(false);
    QTRY_COMPARE(http.get(QStringLiteral("/object_info/GemDirectSaveFrames")).body, QByteArray("{}"));
    host.setMarkerNodeInstalled(true);
    QTRY_VERIFY(http.get(QStringLiteral("/object_info/GemDirectSaveFrames"))
                    .json()
                    .contains(QStringLiteral("GemDirectSaveFrames")));
    host.addFault(*FaultRule::parse(QStringLiteral("oom"), nullptr));
    WsClient ws;
    QVERIFY(ws.open(host.url(), QStringLiteral("c")));
    http.postJson(QStringLiteral("/prompt"), promptBody(t2iGraph(QStringLiteral("f/x"), 1, 4),
                                                        QStringLiteral("c"), QStringLiteral("F")));
    QVERIFY(ws.waitForDone(QStringLiteral("F")) >= 0);
    QCOMPARE(ws.ofType(QStringLiteral("execution_error")).size(), 1);
}

void TestSandboxHost::reportsBusyPort()
{
    QTcpServer blocker;
    QVERIFY(blocker.listen(QHostAddress::LocalHost, 0));
    QTemporaryDir dir;
    SandboxHost host;
    QString error;
    QVERIFY(!host.start(config(dir), blocker.serverPort(), &error));
    QVERIFY2(error.contains(QString::number(blocker.serverPort())), qPrintable(error));
    QVERIFY(!host.isRunning());
}

void TestSandboxHost::runStandalonePrintsWhereItListens()
{
    QTemporaryDir dir;
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 port = probe.serverPort();
    probe.close();
    QString text;
    QTextStream out(&text);
    QCOMPARE(SandboxHost::runStandalone(config(dir), port, out), 0);
    QCOMPARE(text.trimmed(), QStringLiteral("Sandbox ComfyUI listening on http://127.0.0.1:%1 (output: %2)")
                                 .arg(port)
                                 .arg(dir.filePath(QStringLiteral("output"))));
    Http http(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
    QCOMPARE(http.get(QStringLiteral("/api/system_stats")).status, 200);
    QString second;
    QTextStream out2(&second);
    QCOMPARE(SandboxHost::runStandalone(config(dir), port, out2), 1); // port taken now
    QVERIFY(second.contains(QStringLiteral("could not start")));
}

QTEST_MAIN(TestSandboxHost)
#include "tst_sandboxhost.moc"
