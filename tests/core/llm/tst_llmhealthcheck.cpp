#include "llm/LlmHealthCheck.h"
#include "sandbox/SandboxLlmHost.h"

#include <QElapsedTimer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>
#include <optional>

using gd::llm::LlmHealthCheck;
using gd::sandbox::SandboxLlmConfig;
using gd::sandbox::SandboxLlmHost;
using gd::telemetry::LlmHealthInfo;

namespace {

quint16 closedPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

struct Outcome
{
    LlmHealthInfo info;
    QString line;
    qint64 elapsedMs = 0;
};

std::optional<Outcome> runCheck(const QString& configuredUrl, const QProcessEnvironment& env)
{
    LlmHealthCheck check(configuredUrl, env);
    std::optional<Outcome> out;
    int emissions = 0;
    QElapsedTimer clock;
    QObject::connect(&check, &LlmHealthCheck::finished, &check,
                     [&](const LlmHealthInfo& info, const QString& line) {
                         ++emissions;
                         out = Outcome{info, line, clock.elapsed()};
                     });
    clock.start();
    check.run();
    while (!out && clock.elapsed() < 15000)
        QTest::qWait(5);
    QTest::qWait(20); // a second emission would show up here
    if (emissions > 1)
        return std::nullopt;
    return out;
}

} // namespace

// LlmHealthCheck: the LLMHealthInfo block and the "[LLM] Health check …" line of the telemetry contract,
// URL resolution from flag/env, the operator's skip and the probe override, bounded when the server is down.
class TstLlmHealthCheck : public QObject
{
    Q_OBJECT

private:
    SandboxLlmHost m_host;
    QString m_root;

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_host.start(SandboxLlmConfig{}, 0, &error), qPrintable(error));
        m_root = QStringLiteral("http://127.0.0.1:%1").arg(m_host.port());
    }

    void cleanupTestCase() { m_host.stop(); }

    void success()
    {
        const auto out = runCheck(m_root + QStringLiteral("/"), QProcessEnvironment());
        QVERIFY(out);
        QCOMPARE(out->info.status, QStringLiteral("success"));
        QCOMPARE(out->info.url, m_root);
        QCOMPARE(out->info.models, 2); // the story model and the embedding model
        QVERIFY(!out->info.skipped);
        QVERIFY(out->info.skipReason.isEmpty());
        QVERIFY(out->info.overrideUrl.isEmpty());
        QVERIFY(out->info.error.isEmpty());
        QVERIFY(out->info.timestamp.isValid());
        QCOMPARE(out->info.timestamp.timeSpec(), Qt::UTC);
        QCOMPARE(
            out->line,
            QStringLiteral("[LLM] Health check: success (url=%1, models=2, override=default)").arg(m_root));
    }

    void failureWhenServerDown()
    {
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(closedPort());
        const auto out = runCheck(url, QProcessEnvironment());
        QVERIFY(out);
        QVERIFY2(out->elapsedMs < 3000, qPrintable(QString::number(out->elapsedMs)));
        QCOMPARE(out->info.status, QStringLiteral("failed"));
        QVERIFY(!out->info.skipped);
        QCOMPARE(out->info.models, 0);
        QVERIFY(out->info.error.contains(QStringLiteral("Connection refused")));
        QCOMPARE(out->line, QStringLiteral("[LLM] Health check failed: %1 (url=%2, override=default)")
                                .arg(out->info.error, url));
    }

    void failureWhenServerHangsIsBounded()
    {
        QTcpServer silent; // accepts, never answers
        QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
        QList<QTcpSocket*> held;
        connect(&silent, &QTcpServer::newConnection, this, [&] { held << silent.nextPendingConnection(); });
        const auto out =
            runCheck(QStringLiteral("http://127.0.0.1:%1").arg(silent.serverPort()), QProcessEnvironment());
        QVERIFY(out);
        QCOMPARE(out->info.status, QStringLiteral("failed"));
        QVERIFY2(out->elapsedMs <= LlmHealthCheck::kTotalBudgetMs + 500,
                 qPrintable(QString::number(out->elapsedMs)));
        QVERIFY(!out->info.error.isEmpty());
        QVERIFY(out->line.startsWith(QStringLiteral("[LLM] Health check failed: ")));
    }

    void skippedByOperator_data()
    {
        QTest::addColumn<QString>("value");
        QTest::newRow("1") << QStringLiteral("1");
        QTest::newRow("true") << QStringLiteral("true");
    }

    void skippedByOperator()
    {
        QFETCH(QString, value);
        QProcessEnvironment env;
        env.insert(QStringLiteral("LOCAL_LLM_SKIP_HEALTHCHECK"), value);
        // A dead URL: a skipped check must not touch the network.
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(closedPort());
        const auto out = runCheck(url, env);
        QVERIFY(out);
        QCOMPARE(out->info.status, QStringLiteral("skipped"));
        QVERIFY(out->info.skipped);
        QVERIFY(out->info.skipReason.contains(QStringLiteral("LOCAL_LLM_SKIP_HEALTHCHECK")));
        QCOMPARE(out->info.url, url);
        QVERIFY(out->info.error.isEmpty());
        QVERIFY(out->info.timestamp.isValid());
        QCOMPARE(out->line, QStringLiteral("[LLM] Health check skipped by operator request"));
    }

    void notSkippedWhenZero()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("LOCAL_LLM_SKIP_HEALTHCHECK"), QStringLiteral("0"));
        const auto out = runCheck(m_root, env);
        QVERIFY(out);
        QCOMPARE(out->info.status, QStringLiteral("success"));
    }

    void providerUrlFromEnvironment()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("LOCAL_STORY_PROVIDER_URL"),
                   QStringLiteral("http://localhost:%1/v1/chat/completions").arg(m_host.port()));
        const auto out = runCheck(QString(), env);
        QVERIFY(out);
        QCOMPARE(out->info.status, QStringLiteral("success"));
        QCOMPARE(out->info.url, m_root); // normalised: no route, 127.0.0.1 for localhost
        QVERIFY(out->line.contains(QStringLiteral("url=") + m_root + QStringLiteral(",")));
    }

    void configuredUrlWinsOverEnvironment()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("LOCAL_STORY_PROVIDER_URL"),
                   QStringLiteral("http://127.0.0.1:%1").arg(closedPort()));
        const auto out = runCheck(m_root, env);
        QVERIFY(out);
        QCOMPARE(out->info.status, QStringLiteral("success"));
        QCOMPARE(out->info.url, m_root);
    }

    void overrideProbeUrl_data()
    {
        QTest::addColumn<QString>("suffix");
        QTest::addColumn<int>("models");
        QTest::newRow("listing route") << QStringLiteral("/v1/models") << 2;
        QTest::newRow("root") << QString() << 2;
    }

    void overrideProbeUrl()
    {
        QFETCH(QString, suffix);
        QFETCH(int, models);
        const QString overrideUrl = m_root + suffix;
        QProcessEnvironment env;
        env.insert(QStringLiteral("LOCAL_LLM_HEALTHCHECK_URL"), overrideUrl);
        // The configured server is down; the override is what gets probed.
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(closedPort());
        const auto out = runCheck(url, env);
        QVERIFY(out);
        QCOMPARE(out->info.status, QStringLiteral("success"));
        QCOMPARE(out->info.overrideUrl, overrideUrl);
        QCOMPARE(out->info.url, url);
        QCOMPARE(out->info.models, models);
        QCOMPARE(out->line, QStringLiteral("[LLM] Health check: success (url=%1, models=%2, override=%3)")
                                .arg(url)
                                .arg(models)
                                .arg(overrideUrl));
    }

    void overrideFailureNamesOverride()
    {
        QProcessEnvironment env;
        const QString overrideUrl = QStringLiteral("http://127.0.0.1:%1/health").arg(closedPort());
        env.insert(QStringLiteral("LOCAL_LLM_HEALTHCHECK_URL"), overrideUrl);
        const auto out = runCheck(m_root, env);
        QVERIFY(out);
        QCOMPARE(out->info.status, QStringLiteral("failed"));
        QVERIFY(out->line.endsWith(QStringLiteral("(url=%1, override=%2)").arg(m_root, overrideUrl)));
    }
};

QTEST_GUILESS_MAIN(TstLlmHealthCheck)
#include "tst_llmhealthcheck.moc"
