// ComfyClient over https and wss (issue 6 §6): a TLS-terminating proxy with a self-signed
// certificate for 127.0.0.1 (tests/data/pool) in front of a sandbox ComfyUI; the client trusts that
// certificate only, sends its bearer token on HTTP requests and on the WebSocket handshake, and
// never writes the token into its log.

#include "comfy/ComfyClient.h"
#include "common/Log.h"
#include "sandbox/SandboxHost.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <spdlog/sinks/ostream_sink.h>
#include <sstream>

namespace {
QByteArray readData(const char* name)
{
    QFile f(QStringLiteral(GD_TEST_DATA_DIR "/pool/") + QLatin1String(name));
    f.open(QIODevice::ReadOnly);
    return f.readAll();
}

// Decrypts, records what the client sent, forwards in plain text to the sandbox.
class TlsProxy : public QObject
{
public:
    QSslServer server;
    quint16 target = 0;
    QByteArray seen; // everything clients sent, decrypted

    bool start(quint16 targetPort)
    {
        target = targetPort;
        QSslConfiguration cfg = QSslConfiguration::defaultConfiguration();
        cfg.setLocalCertificate(QSslCertificate(readData("localhost.crt")));
        cfg.setPrivateKey(QSslKey(readData("localhost.key"), QSsl::Rsa));
        server.setSslConfiguration(cfg);
        connect(&server, &QTcpServer::pendingConnectionAvailable, this, [this] {
            while (server.hasPendingConnections())
                pipe(server.nextPendingConnection());
        });
        return server.listen(QHostAddress::LocalHost, 0);
    }

    void pipe(QTcpSocket* down)
    {
        auto* up = new QTcpSocket(down);
        auto* pending = new QByteArray;
        connect(down, &QObject::destroyed, [pending] { delete pending; });
        connect(up, &QTcpSocket::connected, down, [up, pending] {
            up->write(*pending);
            pending->clear();
        });
        connect(down, &QTcpSocket::readyRead, down, [this, down, up, pending] {
            const QByteArray data = down->readAll();
            seen += data;
            if (up->state() == QAbstractSocket::ConnectedState)
                up->write(data);
            else
                pending->append(data);
        });
        connect(up, &QTcpSocket::readyRead, down, [down, up] { down->write(up->readAll()); });
        connect(up, &QTcpSocket::disconnected, down, [down] { down->disconnectFromHost(); });
        connect(down, &QTcpSocket::disconnected, down, [down] { down->deleteLater(); });
        up->connectToHost(QHostAddress::LocalHost, target);
        if (down->bytesAvailable() > 0)
            Q_EMIT down->readyRead();
    }
};
} // namespace

class TestComfyTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (!QSslSocket::supportsSsl())
            QSKIP("no TLS backend in this Qt build");
        // Trust the test certificate (and only add it: system CAs stay as they are).
        QSslConfiguration cfg = QSslConfiguration::defaultConfiguration();
        cfg.addCaCertificates(QSslCertificate::fromData(readData("localhost.crt")));
        QSslConfiguration::setDefaultConfiguration(cfg);
    }

    void httpsAndWssWithBearerToken()
    {
        QTemporaryDir dir;
        gd::sandbox::SandboxHost host;
        gd::sandbox::SandboxConfig config;
        config.outputDir = dir.filePath(QStringLiteral("output"));
        QString error;
        QVERIFY2(host.start(config, 0, &error), qPrintable(error));
        TlsProxy proxy;
        QVERIFY(proxy.start(host.port()));

        std::ostringstream logText;
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logText);
        gd::log::addSink(sink);
        gd::log::get("comfy")->set_level(spdlog::level::trace);

        const QString token = QStringLiteral("tls-secret-token-42");
        gd::comfy::ComfyClient client(QUrl(QStringLiteral("https://127.0.0.1:%1").arg(proxy.server.serverPort())));
        client.setBearerToken(token);

        bool answered = false;
        QJsonObject stats;
        gd::Error statsError;
        client.systemStats(this, [&](const std::pair<QJsonObject, gd::Error>& r) {
            stats = r.first;
            statsError = r.second;
            answered = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(answered, 10000);
        QVERIFY2(statsError.isNull(), qPrintable(statsError.message));
        QVERIFY(!stats.value(QStringLiteral("devices")).toArray().isEmpty());

        client.openSocket();
        QTRY_VERIFY_WITH_TIMEOUT(client.isSocketOpen(), 10000);
        client.closeSocket();

        const QByteArray bearer = QByteArray("Authorization: Bearer ") + token.toUtf8();
        // One HTTP request and the WebSocket upgrade both carried the token, inside TLS.
        QVERIFY2(proxy.seen.count(bearer) >= 2, proxy.seen.constData());
        QVERIFY(proxy.seen.contains(QByteArray(QByteArray("GET /ws?clientId=") + client.clientId().toUtf8())));
        QVERIFY(proxy.seen.contains("GET /system_stats"));

        gd::log::get("comfy")->flush();
        const std::string logged = logText.str();
        gd::log::removeSink(sink);
        QVERIFY2(logged.find("wss://") != std::string::npos, logged.c_str()); // the socket was logged...
        QVERIFY(logged.find(token.toStdString()) == std::string::npos);      // ...the token never
        host.stop();
    }

    void untrustedCertificateIsRefused()
    {
        QTemporaryDir dir;
        gd::sandbox::SandboxHost host;
        gd::sandbox::SandboxConfig config;
        config.outputDir = dir.filePath(QStringLiteral("output"));
        QString error;
        QVERIFY(host.start(config, 0, &error));
        TlsProxy proxy;
        QVERIFY(proxy.start(host.port()));
        // A client that does not trust the self-signed certificate must not talk to the server.
        QSslConfiguration saved = QSslConfiguration::defaultConfiguration();
        QSslConfiguration bare = saved;
        bare.setCaCertificates({});
        QSslConfiguration::setDefaultConfiguration(bare);
        gd::comfy::ComfyClient client(QUrl(QStringLiteral("https://127.0.0.1:%1").arg(proxy.server.serverPort())));
        bool answered = false;
        gd::Error statsError;
        client.systemStats(this, [&](const std::pair<QJsonObject, gd::Error>& r) {
            statsError = r.second;
            answered = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(answered, 10000);
        QSslConfiguration::setDefaultConfiguration(saved);
        QVERIFY(!statsError.isNull());
        host.stop();
    }
};

QTEST_GUILESS_MAIN(TestComfyTls)
#include "tst_comfytls.moc"
