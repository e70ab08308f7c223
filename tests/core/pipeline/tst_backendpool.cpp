// BackendPool / ComfyBackend / BackendSpec: the scheduling decision (least loaded, free VRAM,
// slots), the back-pressure reason, the VRAM gate and the loss of a server, against in-process
// sandbox ComfyUI servers whose /system_stats report the VRAM each test sets up.

#include "pipeline/BackendPool.h"
#include "pipeline/BackendSpec.h"
#include "sandbox/SandboxHost.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace gd::pipeline;

namespace {
constexpr qint64 kMiB = 1024LL * 1024;

// A sandbox server whose idle free VRAM is `freeMB` of `totalMB`.
struct Server
{
    gd::sandbox::SandboxHost host;
    bool start(const QString& dir, qint64 totalMB, qint64 freeMB)
    {
        gd::sandbox::SandboxConfig c;
        c.outputDir = dir;
        c.vramTotalBytes = totalMB * kMiB;
        c.vramIdleUsedBytes = (totalMB - freeMB) * kMiB;
        QString e;
        return host.start(c, 0, &e);
    }
};

bool probeAll(BackendPool& pool)
{
    bool done = false;
    pool.probeAll([&] { done = true; });
    return QTest::qWaitFor([&] { return done; }, 10000);
}
} // namespace

class TestBackendPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseSpec_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("label");
        QTest::addColumn<QString>("url");
        QTest::newRow("plain") << "http://10.0.0.5:8188" << true << "" << "http://10.0.0.5:8188";
        QTest::newRow("labelled") << "gpu1=http://10.0.0.5:8188/" << true << "gpu1" << "http://10.0.0.5:8188";
        QTest::newRow("no scheme") << "box=127.0.0.1:8190" << true << "box" << "http://127.0.0.1:8190";
        QTest::newRow("https") << "remote=https://render.example.org" << true << "remote" << "https://render.example.org";
        QTest::newRow("query with =") << "http://h:1/?a=b" << true << "" << "http://h:1?a=b";
        QTest::newRow("ftp refused") << "x=ftp://h:21" << false << "" << "";
        QTest::newRow("no url") << "lonely=" << false << "" << "";
        QTest::newRow("label with space") << "my gpu=http://h:1" << false << "" << "";
    }
    void parseSpec()
    {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        QString error;
        const auto spec = BackendSpec::parse(text, &error);
        QCOMPARE(spec.has_value(), ok);
        if (!ok) {
            QVERIFY(!error.isEmpty());
            return;
        }
        QFETCH(QString, label);
        QFETCH(QString, url);
        QCOMPARE(spec->label, label);
        QCOMPARE(spec->url.toString(), url);
    }

    void optionsGiveUniqueLabelsAndPerServerTokens()
    {
        QTemporaryDir dir;
        const QString tokenFile = dir.filePath(QStringLiteral("tokens"));
        QFile f(tokenFile);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("# pool tokens\nb=tok-b==\nhttp://127.0.0.1:9003=tok-c\n");
        f.close();
        QStringList errors;
        const auto specs = BackendSpec::fromOptions(
            {QStringLiteral("a=http://127.0.0.1:9001"), QStringLiteral("b=http://127.0.0.1:9002"),
             QStringLiteral("http://127.0.0.1:9003"), QStringLiteral("http://127.0.0.1:9003")},
            {QStringLiteral("a=secret-a")}, {QStringLiteral("a=/tmp/out")}, tokenFile, &errors);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QLatin1Char('\n'))));
        QCOMPARE(specs.size(), 4);
        QCOMPARE(specs[0].bearerToken, QStringLiteral("secret-a"));
        QCOMPARE(specs[0].outputDir, QStringLiteral("/tmp/out"));
        QCOMPARE(specs[1].bearerToken, QStringLiteral("tok-b=="));
        QCOMPARE(specs[2].label, QStringLiteral("127.0.0.1:9003"));
        QCOMPARE(specs[3].label, QStringLiteral("127.0.0.1:9003-2"));
        QCOMPARE(specs[2].bearerToken, QStringLiteral("tok-c"));

        // A token for an unknown server is an error that does not echo the token.
        QStringList bad;
        BackendSpec::fromOptions({QStringLiteral("a=http://h:1"), QStringLiteral("b=http://h:2")},
                                 {QStringLiteral("zz=top-secret")}, {}, QString(), &bad);
        QCOMPARE(bad.size(), 1);
        QVERIFY(!bad.first().contains(QStringLiteral("top-secret")));
    }

    void choosesLeastLoadedThenMostFreeVram()
    {
        QTemporaryDir dir;
        Server a, b, c;
        QVERIFY(a.start(dir.filePath(QStringLiteral("a/output")), 24576, 10000));
        QVERIFY(b.start(dir.filePath(QStringLiteral("b/output")), 24576, 20000));
        QVERIFY(c.start(dir.filePath(QStringLiteral("c/output")), 24576, 15000));
        BackendPool pool({{a.host.url(), QStringLiteral("a"), {}, {}},
                          {b.host.url(), QStringLiteral("b"), {}, {}},
                          {c.host.url(), QStringLiteral("c"), {}, {}}},
                         PoolOptions{});
        QVERIFY(probeAll(pool));
        QCOMPARE(pool.healthyCount(), 3);
        QCOMPARE(qRound(*pool.backend(1)->vramFreeMB()), 20000);

        // Equal load: most free VRAM wins, then the next, then the last.
        QStringList order;
        for (int i = 0; i < 3; ++i) {
            auto choice = pool.choose(2048);
            QVERIFY(choice.backend);
            order << choice.backend->label();
            pool.acquire(choice.backend);
        }
        QCOMPARE(order, (QStringList{QStringLiteral("b"), QStringLiteral("c"), QStringLiteral("a")}));
        // Everyone has one running: the queued slots fill in the same order; then nothing is free.
        for (int i = 0; i < 3; ++i)
            pool.acquire(pool.choose(2048).backend);
        const auto none = pool.choose(2048);
        QVERIFY(!none.backend);
        QVERIFY2(none.holdReason.contains(QStringLiteral("3 busy")), qPrintable(none.holdReason));
        // A freed slot goes back to its server.
        QSignalSpy capacity(&pool, &BackendPool::capacityChanged);
        pool.release(pool.backend(0));
        QCOMPARE(capacity.count(), 1);
        QCOMPARE(pool.choose(2048).backend, pool.backend(0));
    }

    void vramGateHoldsWithReason()
    {
        QTemporaryDir dir;
        Server small, big;
        QVERIFY(small.start(dir.filePath(QStringLiteral("s/output")), 24576, 4000));
        QVERIFY(big.start(dir.filePath(QStringLiteral("b/output")), 24576, 12000));
        PoolOptions o;
        o.queuedPerServer = 0;
        BackendPool pool({{small.host.url(), QStringLiteral("small"), {}, {}}, {big.host.url(), QStringLiteral("big"), {}, {}}},
                         o);
        QVERIFY(probeAll(pool));
        // 8 GB profile: only "big" qualifies although "small" is idle and first in the list.
        auto first = pool.choose(8192);
        QCOMPARE(first.backend, pool.backend(1));
        pool.acquire(first.backend);
        // "big" is busy and "small" lacks VRAM: the work is held and the reason names both causes.
        const auto held = pool.choose(8192);
        QVERIFY(!held.backend);
        QVERIFY(held.vramOnly);
        QVERIFY2(held.holdReason.contains(QStringLiteral("VRAM gate")), qPrintable(held.holdReason));
        QVERIFY2(held.holdReason.contains(QStringLiteral("small has 4000 MB free")), qPrintable(held.holdReason));
        QVERIFY2(held.holdReason.contains(QStringLiteral("1 busy")), qPrintable(held.holdReason));
        // The gate's bound elapsed: the VRAM figure is ignored.
        QCOMPARE(pool.choose(8192, {}, true).backend, pool.backend(0));
        // A profile no server could ever hold (32 GB on 24 GB cards) is not gated at all.
        QVERIFY(pool.vramGateImpossible(32768));
        QCOMPARE(pool.choose(32768).backend, pool.backend(0));
    }

    void excludedServerOnlyAsLastResort()
    {
        QTemporaryDir dir;
        Server a, b;
        QVERIFY(a.start(dir.filePath(QStringLiteral("a/output")), 24576, 20000));
        QVERIFY(b.start(dir.filePath(QStringLiteral("b/output")), 24576, 10000));
        BackendPool pool({{a.host.url(), QStringLiteral("a"), {}, {}}, {b.host.url(), QStringLiteral("b"), {}, {}}},
                         PoolOptions{});
        QVERIFY(probeAll(pool));
        QCOMPARE(pool.choose(0, {pool.backend(0)}).backend, pool.backend(1));
        pool.acquire(pool.backend(1));
        pool.acquire(pool.backend(1));
        QCOMPARE(pool.choose(0, {pool.backend(0)}).backend, pool.backend(0));
    }

    void deadServerIsReportedAndSkipped()
    {
        QTemporaryDir dir;
        Server a, b;
        QVERIFY(a.start(dir.filePath(QStringLiteral("a/output")), 24576, 20000));
        QVERIFY(b.start(dir.filePath(QStringLiteral("b/output")), 24576, 20000));
        PoolOptions o;
        o.probeIntervalMs = 100;
        BackendPool pool({{a.host.url(), QStringLiteral("a"), {}, {}}, {b.host.url(), QStringLiteral("b"), {}, {}}}, o);
        QVERIFY(probeAll(pool));
        QSignalSpy lost(&pool, &BackendPool::backendLost);
        pool.startProbing();
        b.host.stop();
        QTRY_COMPARE_WITH_TIMEOUT(lost.count(), 1, 10000);
        QCOMPARE(lost.first().first().value<ComfyBackend*>(), pool.backend(1));
        QCOMPARE(pool.backend(1)->health(), ComfyBackend::Health::Down);
        QCOMPARE(pool.healthyCount(), 1);
        // Only the live server is chosen, even when it is the busier one.
        pool.acquire(pool.backend(0));
        QCOMPARE(pool.choose(0).backend, pool.backend(0));
        pool.acquire(pool.backend(0));
        const auto none = pool.choose(0);
        QVERIFY(!none.backend);
        QVERIFY2(none.holdReason.contains(QStringLiteral("1 down")), qPrintable(none.holdReason));
        pool.stopProbing();
    }

    void unreachableServerStartsDown()
    {
        BackendPool pool({{QUrl(QStringLiteral("http://127.0.0.1:1")), QStringLiteral("nowhere"), {}, {}}}, PoolOptions{});
        QVERIFY(probeAll(pool));
        QCOMPARE(pool.backend(0)->health(), ComfyBackend::Health::Down);
        QVERIFY(!pool.backend(0)->healthDetail().isEmpty());
        QVERIFY(!pool.choose(0).backend);
    }
};

QTEST_GUILESS_MAIN(TestBackendPool)
#include "tst_backendpool.moc"
