#include "net/Backoff.h"
#include "net/HttpClient.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace gd::net;

// A scripted HTTP peer: answers every request with the same raw bytes, optionally dribbled out
// slowly (slow-loris) or never finished. Hostile servers are exactly what HttpJob must bound.
class ScriptedServer : public QTcpServer
{
public:
    QByteArray response;
    int dribbleMs = 0; // >0: send one byte per tick
    bool hang = false; // accept, read, never answer

    ScriptedServer() { listen(QHostAddress::LocalHost, 0); }

protected:
    void incomingConnection(qintptr fd) override
    {
        auto* s = new QTcpSocket(this);
        s->setSocketDescriptor(fd);
        connect(s, &QTcpSocket::readyRead, s, [this, s] {
            s->readAll();
            if (hang)
                return;
            if (dribbleMs <= 0) {
                s->write(response);
                s->flush();
                return;
            }
            auto* t = new QTimer(s);
            auto pos = std::make_shared<int>(0);
            connect(t, &QTimer::timeout, s, [this, s, t, pos] {
                if (*pos >= response.size()) {
                    t->stop();
                    return;
                }
                s->write(response.mid((*pos)++, 1));
            });
            t->start(dribbleMs);
        });
    }
};

static QByteArray httpOk(const QByteArray& body, const QByteArray& status = "200 OK")
{
    return "HTTP/1.1 " + status +
           "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
           "\r\n\r\n" + body;
}

class TestHttpJob : public QObject
{
    Q_OBJECT

    struct Outcome
    {
        bool ok = false;
        gd::Error error;
        QByteArray body;
        int status = 0;
    };
    static Outcome waitFor(HttpJob* job, int timeoutMs = 10000)
    {
        Outcome o;
        bool done = false;
        QObject::connect(job, &HttpJob::succeeded, [&](int status, const QByteArray& body) {
            o.ok = true;
            o.status = status;
            o.body = body;
            done = true;
        });
        QObject::connect(job, &HttpJob::failed, [&, job](const gd::Error& e) {
            o.error = e;
            o.status = job->statusCode();
            o.body = job->body();
            done = true;
        });
        QElapsedTimer clock;
        clock.start();
        while (!done && clock.elapsed() < timeoutMs)
            QTest::qWait(10);
        if (!done)
            o.error = {QStringLiteral("test"), QStringLiteral("job did not finish in time"), {}};
        return o;
    }

private Q_SLOTS:
    void succeedsAndReportsBody()
    {
        ScriptedServer srv;
        srv.response = httpOk(R"({"ok":true})");
        HttpClient c(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(srv.serverPort())));
        const auto o = waitFor(c.get(QStringLiteral("/system_stats")));
        QVERIFY(o.ok);
        QCOMPARE(o.body, QByteArray(R"({"ok":true})"));
    }

    void non2xxIsFailureWithStatusAndBody()
    {
        ScriptedServer srv;
        srv.response = httpOk(R"({"error":{"message":"bad"}})", "400 Bad Request");
        HttpClient c(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(srv.serverPort())));
        const auto o = waitFor(c.postJson(QStringLiteral("/prompt"), QJsonDocument(QJsonObject{})));
        QVERIFY(!o.ok);
        QCOMPARE(o.error.kind, QStringLiteral("http"));
        QCOMPARE(o.status, 400);
        QVERIFY(o.body.contains("bad"));
        QCOMPARE(o.error.detail.value(QStringLiteral("status")).toInt(), 400);
    }

    void refusedConnectionIsUnreachable()
    {
        quint16 port;
        {
            QTcpServer probe;
            probe.listen(QHostAddress::LocalHost, 0);
            port = probe.serverPort();
        }
        HttpClient c(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
        const auto o = waitFor(c.get(QStringLiteral("/system_stats")));
        QVERIFY(!o.ok);
        QCOMPARE(o.error.kind, QStringLiteral("unreachable"));
    }

    void oversizedResponseIsCut()
    {
        ScriptedServer srv;
        srv.response = httpOk(QByteArray(200000, 'x'));
        HttpClient c(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(srv.serverPort())));
        HttpLimits lim;
        lim.maxResponseBytes = 1000;
        const auto o = waitFor(c.get(QStringLiteral("/history"), {}, lim));
        QVERIFY(!o.ok);
        QCOMPARE(o.error.kind, QStringLiteral("oversized"));
    }

    void silentServerHitsIdleTimeout()
    {
        ScriptedServer srv;
        srv.hang = true;
        HttpClient c(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(srv.serverPort())));
        HttpLimits lim;
        lim.idleTimeoutMs = 300;
        const auto o = waitFor(c.get(QStringLiteral("/queue"), {}, lim));
        QCOMPARE(o.error.kind, QStringLiteral("timeout"));
        QVERIFY(o.error.message.contains(QStringLiteral("no data")));
    }

    void slowLorisHitsTotalTimeout()
    {
        ScriptedServer srv;
        srv.response = httpOk(QByteArray(5000, 'x'));
        srv.dribbleMs = 20; // never idle long enough for the idle timer
        HttpClient c(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(srv.serverPort())));
        HttpLimits lim;
        lim.idleTimeoutMs = 1000;
        lim.totalTimeoutMs = 500;
        const auto o = waitFor(c.get(QStringLiteral("/history"), {}, lim));
        QCOMPARE(o.error.kind, QStringLiteral("timeout"));
        QVERIFY(o.error.message.contains(QStringLiteral("not finished")));
    }

    void downloadWritesFileOnlyOnSuccess()
    {
        QTemporaryDir dir;
        ScriptedServer srv;
        srv.response = httpOk("PNGDATA");
        HttpClient c(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(srv.serverPort())));
        const QString dest = dir.filePath(QStringLiteral("f.png"));
        QVERIFY(waitFor(c.download(QStringLiteral("/view"), {}, dest)).ok);
        QFile f(dest);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("PNGDATA"));
        QVERIFY(!QFile::exists(dest + QStringLiteral(".part")));

        ScriptedServer missing;
        missing.response = httpOk("nope", "404 Not Found");
        HttpClient c2(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(missing.serverPort())));
        const QString dest2 = dir.filePath(QStringLiteral("g.png"));
        QVERIFY(!waitFor(c2.download(QStringLiteral("/view"), {}, dest2)).ok);
        QVERIFY(!QFile::exists(dest2));
        QVERIFY(!QFile::exists(dest2 + QStringLiteral(".part")));
    }

    void queryParametersAreFullyEncoded()
    {
        HttpClient c(QUrl(QStringLiteral("http://127.0.0.1:8188")));
        QUrlQuery q;
        q.addQueryItem(QStringLiteral("filename"), QStringLiteral("a&b=c+d [output].png"));
        q.addQueryItem(QStringLiteral("subfolder"), QStringLiteral("gemdirect/run 1"));
        const QString s = c.urlFor(QStringLiteral("/view"), q).toString(QUrl::FullyEncoded);
        QVERIFY2(s.contains(QStringLiteral("filename=a%26b%3Dc%2Bd%20%5Boutput%5D.png")), qPrintable(s));
        QVERIFY2(s.contains(QStringLiteral("subfolder=gemdirect%2Frun%201")), qPrintable(s));
    }

    void backoffGrowsWithJitterAndCaps()
    {
        Backoff b(500, 4000);
        int prevCeiling = 0;
        for (int i = 0; i < 8; ++i) {
            const int ceiling = std::min(500 << std::min(i, 16), 4000);
            const int d = b.nextDelayMs();
            QVERIFY(d >= ceiling / 2 && d <= ceiling);
            QVERIFY(ceiling >= prevCeiling);
            prevCeiling = ceiling;
        }
        b.reset();
        QVERIFY(b.nextDelayMs() <= 500);
    }
};

QTEST_GUILESS_MAIN(TestHttpJob)
#include "tst_httpjob.moc"
