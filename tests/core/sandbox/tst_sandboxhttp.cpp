// HTTP transport of the sandbox ComfyUI server: both route prefixes, 404/405, HEAD, Range, body cap, origin
// guard, keep-alive/pipelining and the WebSocket hand-over from the HTTP parser.
#include "SandboxTestSupport.h"

#include <QFile>
#include <QTcpSocket>
#include <QtTest>

using namespace sbtest;

class TestSandboxHttp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void routesAnswerUnderBothPrefixes_data();
    void routesAnswerUnderBothPrefixes();
    void unknownRouteIs404();
    void wrongMethodIs405_data();
    void wrongMethodIs405();
    void headHasHeadersButNoBody();
    void rangeRequests_data();
    void rangeRequests();
    void queryIsPercentDecoded();
    void bodyOverCapIs413();
    void originGuard_data();
    void originGuard();
    void keepAliveServesPipelinedRequests();
    void webSocketHandshakeKeepsRequestBytes_data();
    void webSocketHandshakeKeepsRequestBytes();
    void webSocketWithForeignOriginIsRefused();
    void featuresAdvertiseUploadCapAsFloat();
    void systemStatsDescribesServer();
};

void TestSandboxHttp::routesAnswerUnderBothPrefixes_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("expectKey");
    for (const QString& prefix : {QString(), QStringLiteral("/api")}) {
        const QByteArray p = prefix.toLatin1();
        QTest::newRow(QByteArray(p + "/system_stats").constData())
            << prefix + QStringLiteral("/system_stats") << QStringLiteral("system");
        QTest::newRow(QByteArray(p + "/prompt").constData())
            << prefix + QStringLiteral("/prompt") << QStringLiteral("exec_info");
        QTest::newRow(QByteArray(p + "/queue").constData())
            << prefix + QStringLiteral("/queue") << QStringLiteral("queue_pending");
        QTest::newRow(QByteArray(p + "/features").constData())
            << prefix + QStringLiteral("/features") << QStringLiteral("supports_preview_metadata");
        QTest::newRow(QByteArray(p + "/object_info").constData())
            << prefix + QStringLiteral("/object_info") << QStringLiteral("KSampler");
        QTest::newRow(QByteArray(p + "/object_info/KSampler").constData())
            << prefix + QStringLiteral("/object_info/KSampler") << QStringLiteral("KSampler");
        QTest::newRow(QByteArray(p + "/history").constData())
            << prefix + QStringLiteral("/history") << QString();
        QTest::newRow(QByteArray(p + "/history/unknown").constData())
            << prefix + QStringLiteral("/history/unknown") << QString();
        QTest::newRow(QByteArray(p + "/object_info/unknown").constData())
            << prefix + QStringLiteral("/object_info/NoSuchNode") << QString();
    }
}

void TestSandboxHttp::routesAnswerUnderBothPrefixes()
{
    QFETCH(QString, path);
    QFETCH(QString, expectKey);
    ServerFixture f;
    Http http(f.url());
    const Reply r = http.get(path);
    QCOMPARE(r.status, 200);
    QVERIFY(r.header("Content-Type").startsWith("application/json"));
    const QJsonObject json = r.json();
    if (expectKey.isEmpty())
        QCOMPARE(json, QJsonObject()); // empty history / unknown class answer {}
    else
        QVERIFY2(json.contains(expectKey), r.body.left(200).constData());
}

void TestSandboxHttp::unknownRouteIs404()
{
    ServerFixture f;
    Http http(f.url());
    QCOMPARE(http.get(QStringLiteral("/nope")).status, 404);
    QCOMPARE(http.get(QStringLiteral("/api/nope")).status, 404);
    // static routes have no /api alias, and /api alone is not a route
    QCOMPARE(http.get(QStringLiteral("/api")).status, 404);
}

void TestSandboxHttp::wrongMethodIs405_data()
{
    QTest::addColumn<QByteArray>("verb");
    QTest::addColumn<QString>("path");
    QTest::newRow("POST /system_stats") << QByteArray("POST") << QStringLiteral("/system_stats");
    QTest::newRow("GET /interrupt") << QByteArray("GET") << QStringLiteral("/interrupt");
    QTest::newRow("GET /api/upload/image") << QByteArray("GET") << QStringLiteral("/api/upload/image");
    QTest::newRow("DELETE /queue") << QByteArray("DELETE") << QStringLiteral("/queue");
    QTest::newRow("PUT /api/prompt") << QByteArray("PUT") << QStringLiteral("/api/prompt");
}

void TestSandboxHttp::wrongMethodIs405()
{
    QFETCH(QByteArray, verb);
    QFETCH(QString, path);
    ServerFixture f;
    Http http(f.url());
    const Reply r = http.custom(verb, path);
    QCOMPARE(r.status, 405);
    QVERIFY(!r.header("Allow").isEmpty());
}

void TestSandboxHttp::headHasHeadersButNoBody()
{
    ServerFixture f;
    QFile file(f.out(QStringLiteral("probe.png")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(1234, 'x'));
    file.close();
    Http http(f.url());
    const Reply r = http.head(QStringLiteral("/view?filename=probe.png&type=output"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("Content-Length"), QByteArray("1234"));
    QCOMPARE(r.header("Content-Type"), QByteArray("image/png"));
    QVERIFY(r.body.isEmpty());
    QCOMPARE(http.head(QStringLiteral("/api/view?filename=missing.png")).status, 404);
}

void TestSandboxHttp::rangeRequests_data()
{
    QTest::addColumn<QByteArray>("range");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("contentRange");
    QTest::newRow("a-b") << QByteArray("bytes=2-5") << 206 << QByteArray("2345")
                         << QByteArray("bytes 2-5/10");
    QTest::newRow("a-") << QByteArray("bytes=7-") << 206 << QByteArray("789") << QByteArray("bytes 7-9/10");
    QTest::newRow("suffix") << QByteArray("bytes=-2") << 206 << QByteArray("89")
                            << QByteArray("bytes 8-9/10");
    QTest::newRow("end clipped") << QByteArray("bytes=8-100") << 206 << QByteArray("89")
                                 << QByteArray("bytes 8-9/10");
    QTest::newRow("unsatisfiable") << QByteArray("bytes=20-30") << 416 << QByteArray()
                                   << QByteArray("bytes */10");
    QTest::newRow("no range") << QByteArray() << 200 << QByteArray("0123456789") << QByteArray();
}

void TestSandboxHttp::rangeRequests()
{
    QFETCH(QByteArray, range);
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, contentRange);
    ServerFixture f;
    QDir().mkpath(f.out(QStringLiteral("clips")));
    QFile file(f.out(QStringLiteral("clips/v_00001_.mp4")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("0123456789");
    file.close();
    Http http(f.url());
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!range.isEmpty())
        headers.append({"Range", range});
    const Reply r =
        http.get(QStringLiteral("/view?filename=v_00001_.mp4&subfolder=clips&type=output"), headers);
    QCOMPARE(r.status, status);
    QCOMPARE(r.body, body);
    QCOMPARE(r.header("Content-Range"), contentRange);
    if (status == 200)
        QCOMPARE(r.header("Content-Type"), QByteArray("video/mp4"));
}

void TestSandboxHttp::queryIsPercentDecoded()
{
    ServerFixture f;
    QDir().mkpath(f.out(QStringLiteral("my run")));
    QFile file(f.out(QStringLiteral("my run/a b+c.png")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("png!");
    file.close();
    Http http(f.url());
    const Reply r = http.get(QStringLiteral("/view?filename=a%20b%2Bc.png&subfolder=my+run&type=output"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("png!"));
    // the annotated form overrides type
    QCOMPARE(
        http.get(QStringLiteral("/view?filename=a%20b%2Bc.png%20%5Boutput%5D&subfolder=my%20run&type=input"))
            .body,
        QByteArray("png!"));
}

void TestSandboxHttp::bodyOverCapIs413()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.maxUploadBytes = 1024; });
    Http http(f.url());
    const Reply big = http.post(QStringLiteral("/prompt"), QByteArray(2048, ' '));
    QCOMPARE(big.status, 413);
    // a body under the cap is served normally
    const Reply ok =
        http.postJson(QStringLiteral("/api/queue"), QJsonObject{{QStringLiteral("clear"), true}});
    QCOMPARE(ok.status, 200);
}

void TestSandboxHttp::originGuard_data()
{
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<int>("status");
    QTest::newRow("foreign origin on loopback")
        << QByteArray("127.0.0.1:%P") << QByteArray("http://evil.example:80") << 403;
    QTest::newRow("origin port differs")
        << QByteArray("127.0.0.1:%P") << QByteArray("http://127.0.0.1:1") << 403;
    QTest::newRow("same origin") << QByteArray("127.0.0.1:%P") << QByteArray("http://127.0.0.1:%P") << 200;
    QTest::newRow("localhost same") << QByteArray("localhost:%P") << QByteArray("http://localhost:%P") << 200;
    QTest::newRow("origin without port compares hosts")
        << QByteArray("localhost:%P") << QByteArray("http://localhost") << 200;
    QTest::newRow("non-loopback host not guarded")
        << QByteArray("comfy.example:%P") << QByteArray("http://other.example") << 200;
}

void TestSandboxHttp::originGuard()
{
    QFETCH(QByteArray, host);
    QFETCH(QByteArray, origin);
    QFETCH(int, status);
    ServerFixture f;
    const QByteArray port = QByteArray::number(f.server->port());
    host.replace("%P", port);
    origin.replace("%P", port);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, f.server->port());
    QVERIFY(socket.waitForConnected(3000));
    socket.write("GET /system_stats HTTP/1.1\r\nHost: " + host + "\r\nOrigin: " + origin +
                 "\r\nConnection: close\r\n\r\n");
    QByteArray response;
    QTRY_VERIFY_WITH_TIMEOUT((response += socket.readAll(),
                              socket.state() == QAbstractSocket::UnconnectedState ||
                                  response.contains("\r\n\r\n{") || response.startsWith("HTTP/1.1 403")),
                             5000);
    QTRY_VERIFY_WITH_TIMEOUT((response += socket.readAll(), response.contains("\r\n\r\n")), 5000);
    const QByteArray statusLine = "HTTP/1.1 " + QByteArray::number(status);
    QVERIFY2(response.startsWith(statusLine), response.left(80).constData());
    if (status == 403)
        QVERIFY(response.contains("Content-Length: 0\r\n"));
}

void TestSandboxHttp::keepAliveServesPipelinedRequests()
{
    ServerFixture f;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, f.server->port());
    QVERIFY(socket.waitForConnected(3000));
    const QByteArray body = "{\"clear\": true}";
    socket.write("GET /prompt HTTP/1.1\r\nHost: x\r\n\r\n"
                 "POST /api/queue HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                 QByteArray::number(body.size()) + "\r\n\r\n" + body +
                 "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    QByteArray all;
    QTRY_VERIFY_WITH_TIMEOUT(
        (all += socket.readAll(), all.count("HTTP/1.1 ") == 3 && all.endsWith("404: Not Found")), 5000);
    const int first = all.indexOf("HTTP/1.1 200");
    const int second = all.indexOf("HTTP/1.1 200", first + 1);
    const int third = all.indexOf("HTTP/1.1 404");
    QVERIFY(first == 0 && second > first && third > second);
    QCOMPARE(socket.state(), QAbstractSocket::ConnectedState); // still open: keep-alive
}

void TestSandboxHttp::webSocketHandshakeKeepsRequestBytes_data()
{
    QTest::addColumn<QString>("path");
    QTest::newRow("/ws") << QStringLiteral("/ws");
    QTest::newRow("/api/ws") << QStringLiteral("/api/ws");
}

void TestSandboxHttp::webSocketHandshakeKeepsRequestBytes()
{
    QFETCH(QString, path);
    ServerFixture f;
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("client-123"), path));
    QVERIFY(ws.waitForType(QStringLiteral("status")) == 0);
    const QJsonObject data = ws.messages.first().value(QStringLiteral("data")).toObject();
    QCOMPARE(data.value(QStringLiteral("sid")).toString(), QStringLiteral("client-123"));
    QCOMPARE(data.value(QStringLiteral("status"))
                 .toObject()
                 .value(QStringLiteral("exec_info"))
                 .toObject()
                 .value(QStringLiteral("queue_remaining"))
                 .toInt(-1),
             0);
    // The same port still serves plain HTTP.
    Http http(f.url());
    QCOMPARE(http.get(QStringLiteral("/system_stats")).status, 200);
    // A missing clientId gets a generated hex id.
    WsClient anonymous;
    QVERIFY(anonymous.open(f.url(), QString(), path));
    QVERIFY(anonymous.waitForType(QStringLiteral("status")) == 0);
    QCOMPARE(anonymous.messages.first()
                 .value(QStringLiteral("data"))
                 .toObject()
                 .value(QStringLiteral("sid"))
                 .toString()
                 .size(),
             32);
}

void TestSandboxHttp::webSocketWithForeignOriginIsRefused()
{
    ServerFixture f;
    WsClient ws(QStringLiteral("http://evil.example"));
    QVERIFY(!ws.open(f.url(), QStringLiteral("c1"), QStringLiteral("/ws"), 3000));
    QVERIFY(ws.messages.isEmpty());
    WsClient same(QStringLiteral("http://127.0.0.1:%1").arg(f.server->port()));
    QVERIFY(same.open(f.url(), QStringLiteral("c2")));
}

void TestSandboxHttp::featuresAdvertiseUploadCapAsFloat()
{
    ServerFixture f;
    Http http(f.url());
    const Reply r = http.get(QStringLiteral("/features"));
    QCOMPARE(r.body, QByteArray("{\"supports_preview_metadata\": true, \"max_upload_size\": 104857600.0}"));
}

void TestSandboxHttp::systemStatsDescribesServer()
{
    ServerFixture f;
    Http http(f.url());
    const QJsonObject stats = http.get(QStringLiteral("/api/system_stats")).json();
    const QJsonObject system = stats.value(QStringLiteral("system")).toObject();
    QCOMPARE(system.value(QStringLiteral("comfyui_version")).toString(), QStringLiteral("0.3.64"));
    QCOMPARE(system.value(QStringLiteral("os")).toString(), QStringLiteral("posix"));
    const QJsonArray argv = system.value(QStringLiteral("argv")).toArray();
    const int at = argv.toVariantList().indexOf(QStringLiteral("--output-directory"));
    QVERIFY(at >= 0);
    QCOMPARE(argv.at(at + 1).toString(), f.server->config().outputDir);
    const QJsonArray devices = stats.value(QStringLiteral("devices")).toArray();
    QCOMPARE(devices.size(), 1);
    const QJsonObject dev = devices.first().toObject();
    QCOMPARE(dev.value(QStringLiteral("vram_total")).toInteger(), 24LL * 1024 * 1024 * 1024);
    QVERIFY(dev.value(QStringLiteral("vram_free")).toInteger() <
            dev.value(QStringLiteral("vram_total")).toInteger());
}

QTEST_MAIN(TestSandboxHttp)
#include "tst_sandboxhttp.moc"
