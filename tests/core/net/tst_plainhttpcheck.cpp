#include "net/PlainHttpCheck.h"

#include <QtTest>

using gd::net::PlainHttpCheck;

// Which server URLs draw the "plain http to another machine" warning of issue 6 §6.
class TestPlainHttpCheck : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void warnsOnlyForPlainRemote_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("warns");
        QTest::newRow("loopback v4") << QStringLiteral("http://127.0.0.1:8188") << false;
        QTest::newRow("loopback range") << QStringLiteral("http://127.0.1.1:8188") << false;
        QTest::newRow("localhost") << QStringLiteral("http://LocalHost:1234") << false;
        QTest::newRow("loopback v6") << QStringLiteral("http://[::1]:8188") << false;
        QTest::newRow("mapped loopback") << QStringLiteral("http://[::ffff:127.0.0.1]:8188") << false;
        QTest::newRow("lan ip") << QStringLiteral("http://192.168.1.20:8188") << true;
        QTest::newRow("host name") << QStringLiteral("http://gpu-box.lan:8188") << true;
        QTest::newRow("ipv6 lan") << QStringLiteral("http://[fd00::5]:8188") << true;
        QTest::newRow("ws remote") << QStringLiteral("ws://10.0.0.7:8188/ws") << true;
        QTest::newRow("https remote") << QStringLiteral("https://comfy.example.org") << false;
        QTest::newRow("wss remote") << QStringLiteral("wss://comfy.example.org/ws") << false;
        QTest::newRow("this host") << QStringLiteral("http://0.0.0.0:8188") << false;
    }
    void warnsOnlyForPlainRemote()
    {
        QFETCH(QString, url);
        QFETCH(bool, warns);
        QCOMPARE(PlainHttpCheck::isPlainRemote(QUrl(url)), warns);
        QCOMPARE(PlainHttpCheck::warningFor(QUrl(url), QStringLiteral("ComfyUI")).isEmpty(), !warns);
    }

    void warningNamesTheServerButNoCredentials()
    {
        const QString w = PlainHttpCheck::warningFor(
            QUrl(QStringLiteral("http://user:s3cret@192.168.1.20:8188")), QStringLiteral("ComfyUI"));
        QVERIFY2(
            w.startsWith(QStringLiteral("ComfyUI at http://192.168.1.20:8188 is reached over plain http")),
            qPrintable(w));
        QVERIFY(!w.contains(QStringLiteral("s3cret")));
        QVERIFY(w.contains(QStringLiteral("https://")));
    }
};

QTEST_GUILESS_MAIN(TestPlainHttpCheck)
#include "tst_plainhttpcheck.moc"
