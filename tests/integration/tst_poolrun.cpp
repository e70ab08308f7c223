// Whole runs over a backend pool of in-process sandbox ComfyUI servers: scenes spread over the
// servers in parallel, a server stopped mid-scene hands its scene to another one without spending
// the scene's retry budget, and the run directory still validates.

#include "RunHarness.h"
#include "SandboxPool.h"
#include "pipeline/BackendPool.h"

#include <QFile>

using namespace gd::pipeline;

namespace {
// The pool of servers plus one whole run over it.
struct Pool : SandboxPool
{
    RunOutcome run(const gd::story::Story& story, QueuePolicy policy,
                   std::function<void(RunController*)> hook = {}, std::function<void(RunOptions&)> tweak = {})
    {
        RunOptions opt;
        opt.story = story;
        opt.runsRoot = root.filePath(QStringLiteral("runs"));
        opt.backends = specs;
        opt.workflow = QStringLiteral("sandbox");
        opt.policy = policy;
        opt.reconnectWaitSeconds = 5;
        opt.pool.probeIntervalMs = 200;
        if (tweak)
            tweak(opt);
        RunController c(opt, nullptr);
        RunOutcome out;
        QEventLoop loop;
        QObject::connect(&c, &RunController::warning, [&](const QString& w) { out.warnings << w; });
        QObject::connect(&c, &RunController::finished, &loop, [&](int code, const QString& msg) {
            out.exitCode = code;
            out.message = msg;
            loop.quit();
        });
        if (hook)
            hook(&c);
        QTimer::singleShot(0, &c, &RunController::start);
        QTimer::singleShot(120000, &loop, [&] {
            out.message = QStringLiteral("TEST TIMEOUT");
            loop.quit();
        });
        loop.exec();
        out.runDir = c.runDir();
        out.record = c.record();
        return out;
    }
};

QJsonObject readArtifact(const QString& runDir)
{
    QFile f(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
    f.open(QIODevice::ReadOnly);
    return QJsonDocument::fromJson(f.readAll()).object();
}

QString readSummary(const QString& runDir)
{
    QFile f(QDir(runDir).filePath(QStringLiteral("run-summary.txt")));
    f.open(QIODevice::ReadOnly);
    return QString::fromUtf8(f.readAll());
}
} // namespace

class TestPoolRun : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void threeServersShareTheRun()
    {
        Pool pool;
        QVERIFY(pool.start(3, 15));
        int inFlight = 0;
        int maxInFlight = 0;
        const auto out = pool.run(makeStory(9, 4), testPolicy(), [&](RunController* c) {
            QObject::connect(c, &RunController::attemptStarted,
                             [&] { maxInFlight = qMax(maxInFlight, ++inFlight); });
            QObject::connect(c, &RunController::attemptFinished, [&] { --inFlight; });
        });
        QCOMPARE(out.exitCode, 0);
        const auto v = gd::telemetry::RunValidator::validate(out.runDir);
        QVERIFY2(v.passed(), qPrintable(v.errors.join(QLatin1Char('\n'))));
        // Scenes ran side by side: more than one server at a time, at most 1 running + 1 queued each.
        QVERIFY2(maxInFlight > 1, qPrintable(QString::number(maxInFlight)));
        QVERIFY(maxInFlight <= 6);
        QSet<QString> used;
        for (const auto& s : out.record.scenes) {
            QCOMPARE(s.status, QStringLiteral("succeeded"));
            QCOMPARE(s.attempts.size(), 1);
            used.insert(s.attempts.first().backend);
        }
        QCOMPARE(used.size(), 3);
        const QJsonObject art = readArtifact(out.runDir);
        QCOMPARE(art.value(QStringLiteral("Backends")).toArray().size(), 3);
        QCOMPARE(art.value(QStringLiteral("BackendPool")).toArray().size(), 3);
        const QJsonObject gate = art.value(QStringLiteral("Scenes"))
                                     .toArray()
                                     .first()
                                     .toObject()
                                     .value(QStringLiteral("Telemetry"))
                                     .toObject()
                                     .value(QStringLiteral("VramGate"))
                                     .toObject();
        QCOMPARE(gate.value(QStringLiteral("RequiredMB")).toInt(), 2048);
        QVERIFY(gate.value(QStringLiteral("Passed")).toBool());
        const QString summary = readSummary(out.runDir);
        QVERIFY(summary.contains(QStringLiteral("Backend pool: 3 servers (gpu0=")));
        QVERIFY(summary.contains(QStringLiteral("[Scene scene-001][Attempt 1] Backend=gpu")));
    }

    void deadServerSceneMovesWithoutSpendingRetryBudget()
    {
        Pool pool;
        // 8 sampler steps × 60 ms: a scene runs about half a second, long enough to stop a server under it.
        QVERIFY(pool.start(2, 60));
        QueuePolicy policy = testPolicy();
        policy.sceneRetryBudget = 0; // a normal failure would now fail the scene for good
        bool stopped = false;
        QString victimUrl = pool.specs[1].url.toString();
        const auto out = pool.run(makeStory(4, 4), policy, [&](RunController* c) {
            QObject::connect(c, &RunController::attemptState, c,
                             [&, c](const QString&, SceneAttempt::State st) {
                                 if (stopped || st != SceneAttempt::State::Running ||
                                     c->pool()->backend(1)->inFlight() == 0)
                                     return;
                                 stopped = true;
                                 QTimer::singleShot(0, [&] { pool.hosts[1]->stop(); });
                             });
        });
        QVERIFY(stopped);
        if (out.exitCode != 0)
            qWarning().noquote() << readSummary(out.runDir);
        QCOMPARE(out.exitCode, 0);
        const auto v = gd::telemetry::RunValidator::validate(out.runDir);
        QVERIFY2(v.passed(), qPrintable(v.errors.join(QLatin1Char('\n'))));
        int moved = 0;
        const QJsonArray scenes = readArtifact(out.runDir).value(QStringLiteral("Scenes")).toArray();
        for (int i = 0; i < out.record.scenes.size(); ++i) {
            const auto& s = out.record.scenes[i];
            QCOMPARE(s.status, QStringLiteral("succeeded"));
            if (s.attempts.size() == 1)
                continue;
            ++moved;
            QCOMPARE(s.attempts.first().backend, victimUrl);
            QCOMPARE(s.attempts.first().status, QStringLiteral("failed"));
            QVERIFY(s.attempts.last().backend != victimUrl);
            QVERIFY(s.attempts.last().frameCount > 0);
            const QJsonArray changes = scenes[i].toObject().value(QStringLiteral("BackendChanges")).toArray();
            QVERIFY(!changes.isEmpty());
            QCOMPARE(changes.first().toObject().value(QStringLiteral("From")).toString(), victimUrl);
            QCOMPARE(changes.first().toObject().value(QStringLiteral("To")).toString(),
                     pool.specs[0].url.toString());
            QCOMPARE(scenes[i].toObject().value(QStringLiteral("SceneRetryBudget")).toInt(), 0);
        }
        QVERIFY(moved >= 1);
        const QString summary = readSummary(out.runDir);
        QVERIFY2(summary.contains(QStringLiteral("Backend change requested (infrastructure retry 1/3)")),
                 qPrintable(summary));
        QVERIFY(!summary.contains(QStringLiteral("Requeue requested")));
    }

    void freeEveryNScenesIsRecorded()
    {
        Pool pool;
        QVERIFY(pool.start(2, 2));
        const auto out =
            pool.run(makeStory(4, 4), testPolicy(), {}, [](RunOptions& o) { o.freeEveryScenes = 1; });
        QCOMPARE(out.exitCode, 0);
        const QJsonObject hygiene = readArtifact(out.runDir).value(QStringLiteral("VramHygiene")).toObject();
        QCOMPARE(hygiene.value(QStringLiteral("FreeEveryScenes")).toInt(), 1);
        // One POST /free per finished scene (the last ones may still be in flight when the run ends).
        QVERIFY(hygiene.value(QStringLiteral("FreeCalls")).toArray().size() >= 2);
        QVERIFY(readSummary(out.runDir)
                    .contains(QStringLiteral("VRAM hygiene: llmUnload=off | freeEveryScenes=1")));
    }
};

QTEST_GUILESS_MAIN(TestPoolRun)
#include "tst_poolrun.moc"
