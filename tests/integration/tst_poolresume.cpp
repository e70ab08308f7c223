// Crash-safe pool runs end to end: a `gemdirect run` over three sandbox ComfyUI servers (processes
// of their own, which outlive the client) is SIGKILLed while prompts of ours are running and queued
// on different servers, one of them finishes while the app is down, and `gemdirect resume` takes
// the run to its end. Each prompt in flight must be taken over on the server it was on (re-attached,
// or collected from that server's /history), no scene may reach any server twice, and the run
// directory validates.

#include "CliSandbox.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <array>
#include <memory>

namespace {
constexpr int kServers = 3;
constexpr int kScenes = 9;

// One prompt of our run found on a server: its scene and where it stood.
struct ServerPrompt
{
    int server = -1;
    QString sceneId;
    QString state; // running | pending | history:<status_str>
};

// The scene a prompt graph renders, from its save node's filename_prefix gemdirect/<run>/<scene>_a<n>.
QString sceneOf(const QJsonObject& graph, const QString& runId)
{
    const QRegularExpression re(
        QStringLiteral("^gemdirect/%1/(scene-\\d+)_a\\d+").arg(QRegularExpression::escape(runId)));
    for (const QJsonValue node : graph) {
        const auto m = re.match(node.toObject()
                                    .value(QStringLiteral("inputs"))
                                    .toObject()
                                    .value(QStringLiteral("filename_prefix"))
                                    .toString());
        if (m.hasMatch())
            return m.captured(1);
    }
    return {};
}

// Every prompt of run `runId` on the servers, by prompt id: queued, running and in history.
QHash<QString, ServerPrompt>
promptsOf(const std::array<std::unique_ptr<clitest::SandboxProcess>, kServers>& servers, const QString& runId)
{
    QHash<QString, ServerPrompt> out;
    for (int i = 0; i < kServers; ++i) {
        const QJsonObject queue = servers[i]->get(QStringLiteral("/queue"));
        for (const char* key : {"queue_running", "queue_pending"})
            for (const QJsonValue item : queue.value(QLatin1String(key)).toArray()) {
                // [number, prompt_id, prompt, extra_data, outputs_to_execute]
                const QJsonArray entry = item.toArray();
                const QString scene = sceneOf(entry.at(2).toObject(), runId);
                if (!scene.isEmpty())
                    out.insert(entry.at(1).toString(), {i, scene,
                                                        QLatin1String(key) == QLatin1String("queue_running")
                                                            ? QStringLiteral("running")
                                                            : QStringLiteral("pending")});
            }
        const QJsonObject history = servers[i]->get(QStringLiteral("/history"));
        for (auto it = history.begin(); it != history.end(); ++it) {
            const QJsonObject h = it.value().toObject();
            const QString scene =
                sceneOf(h.value(QStringLiteral("prompt")).toArray().at(2).toObject(), runId);
            if (!scene.isEmpty())
                out.insert(it.key(), {i, scene,
                                      QStringLiteral("history:") + h.value(QStringLiteral("status"))
                                                                       .toObject()
                                                                       .value(QStringLiteral("status_str"))
                                                                       .toString()});
        }
    }
    return out;
}
} // namespace

class TestPoolResume : public QObject
{
    Q_OBJECT

    QTemporaryDir m_home;

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("GEMDIRECT_DB", m_home.filePath(QStringLiteral("history.sqlite")).toUtf8());
    }

    void killedPoolRunResumesEachPromptOnItsServer()
    {
        QTemporaryDir dir;
        const QString runsRoot = dir.filePath(QStringLiteral("runs"));
        const QString story = clitest::writeStory(dir.path(), kScenes, QStringLiteral("pool-resume-test"));
        std::array<std::unique_ptr<clitest::SandboxProcess>, kServers> servers;
        QStringList runArgs{
            QStringLiteral("run"),     QStringLiteral("--story"),     story,    QStringLiteral("--workflow"),
            QStringLiteral("sandbox"), QStringLiteral("--runs-root"), runsRoot, QStringLiteral("--fast")};
        for (int i = 0; i < kServers; ++i) {
            servers[i] = std::make_unique<clitest::SandboxProcess>();
            // 12 frames after 8 sampler steps of 150 ms: a scene runs well over a second, long enough
            // to find prompts running on several servers and to kill the client under them.
            QVERIFY(servers[i]->start(dir.filePath(QStringLiteral("comfy%1/output").arg(i)), 150));
            runArgs << QStringLiteral("--comfy-url")
                    << QStringLiteral("gpu%1=%2").arg(i).arg(servers[i]->url())
                    << QStringLiteral("--comfy-output-dir")
                    << QStringLiteral("gpu%1=%2").arg(i).arg(servers[i]->outputDir());
        }
        const QStringList common{QStringLiteral("--no-quality"), QStringLiteral("--no-history"),
                                 QStringLiteral("--quiet")};

        QProcess client;
        client.setProcessChannelMode(QProcess::MergedChannels);
        client.start(clitest::cli(), runArgs + common);
        QVERIFY(client.waitForStarted());
        QString runDir;
        QTRY_VERIFY_WITH_TIMEOUT(
            !(runDir =
                  QDir(runsRoot).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot).value(0).absoluteFilePath())
                 .isEmpty(),
            20000);
        const QString runId = QFileInfo(runDir).fileName();

        // Killed in the second round: the first scenes are done, prompts of ours run on at least
        // two servers and, with one queued per server, more wait behind them.
        const auto readyToKill = [&] {
            QSet<int> running;
            int finished = 0;
            const auto prompts = promptsOf(servers, runId);
            for (const ServerPrompt& p : prompts) {
                if (p.state == QLatin1String("running"))
                    running.insert(p.server);
                finished += p.state.startsWith(QLatin1String("history:")) ? 1 : 0;
            }
            return running.size() >= 2 && finished >= 2;
        };
        QTRY_VERIFY_WITH_TIMEOUT(readyToKill(), 30000);
        client.kill(); // SIGKILL: no handler, no flush, no cleanup
        QVERIFY(client.waitForFinished(10000));
        QVERIFY2(client.exitStatus() == QProcess::CrashExit, qPrintable(QString::fromUtf8(client.readAll())));

        // What the servers hold of ours now that the client is gone: these must be taken over on
        // their own servers, never submitted again.
        QTest::qWait(200);
        QHash<QString, ServerPrompt> inFlight;
        const auto atKill = promptsOf(servers, runId);
        for (auto it = atKill.begin(); it != atKill.end(); ++it)
            if (!it->state.startsWith(QLatin1String("history:")))
                inFlight.insert(it.key(), *it);
        QVERIFY2(inFlight.size() >= 2, qPrintable(QString::number(inFlight.size())));

        // One of them finishes while the app is down (collected from /history on resume); the ones
        // still queued behind it are re-attached by prompt id.
        QString finishedWhileDown;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const auto now = promptsOf(servers, runId);
                for (auto it = inFlight.begin(); it != inFlight.end(); ++it)
                    if (now.value(it.key()).state == QLatin1String("history:success"))
                        finishedWhileDown = it.key();
                return !finishedWhileDown.isEmpty();
            }(),
            20000);
        int stillOnServer = 0;
        const auto atResume = promptsOf(servers, runId);
        for (auto it = inFlight.begin(); it != inFlight.end(); ++it)
            stillOnServer += atResume.value(it.key()).state.startsWith(QLatin1String("history:")) ? 0 : 1;
        QVERIFY2(stillOnServer >= 1, "every prompt finished before the resume: make scenes slower");
        QStringList described;
        for (auto it = inFlight.begin(); it != inFlight.end(); ++it)
            described << QStringLiteral("%1 %2 on gpu%3").arg(it->sceneId, it->state).arg(it->server);
        described.sort();
        qInfo("%d scene(s) done before the kill; in flight at the kill: %s; %d still on its server at the "
              "resume",
              int(atKill.size() - inFlight.size()), qPrintable(described.join(QStringLiteral(", "))),
              stillOnServer);

        QProcess resume;
        resume.setProcessChannelMode(QProcess::MergedChannels);
        resume.start(clitest::cli(), QStringList{QStringLiteral("resume"), runDir} + common);
        QVERIFY(resume.waitForFinished(60000));
        const QString resumeOut = QString::fromUtf8(resume.readAll());
        QVERIFY2(resume.exitStatus() == QProcess::NormalExit && resume.exitCode() == 0,
                 qPrintable(resumeOut));

        QProcess validate;
        validate.setProcessChannelMode(QProcess::MergedChannels);
        validate.start(clitest::cli(), {QStringLiteral("validate"), runDir});
        QVERIFY(validate.waitForFinished(60000));
        QVERIFY2(validate.exitCode() == 0, qPrintable(QString::fromUtf8(validate.readAll())));

        QFile af(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
        QVERIFY(af.open(QIODevice::ReadOnly));
        const QJsonArray sceneList =
            QJsonDocument::fromJson(af.readAll()).object().value(QStringLiteral("Scenes")).toArray();
        QCOMPARE(sceneList.size(), kScenes);
        QHash<QString, QJsonObject> byScene;
        for (const QJsonValue v : sceneList) {
            const QJsonObject s = v.toObject();
            const QString id = s.value(QStringLiteral("SceneId")).toString();
            byScene.insert(id, s);
            QVERIFY2(s.value(QStringLiteral("Status")).toString() == QLatin1String("succeeded"),
                     qPrintable(id + QStringLiteral(": ") + QString::fromUtf8(QJsonDocument(s).toJson())));
            QVERIFY(s.value(QStringLiteral("FrameCount")).toInt() >= 12);
            const QString framesDir =
                QDir(runDir).filePath(s.value(QStringLiteral("GeneratedFramesDir")).toString());
            QCOMPARE(QDir(framesDir).entryList(QDir::Files).size(),
                     s.value(QStringLiteral("FrameCount")).toInt());
        }

        // Each prompt in flight at the kill is the one kept for its scene, on the server it was on,
        // as the scene's only attempt.
        for (auto it = inFlight.begin(); it != inFlight.end(); ++it) {
            const QJsonObject s = byScene.value(it->sceneId);
            const QString where = QStringLiteral("%1 (prompt %2 %3 on gpu%4)")
                                      .arg(it->sceneId, it.key(), it->state)
                                      .arg(it->server);
            QVERIFY2(s.value(QStringLiteral("PromptId")).toString() == it.key(), qPrintable(where));
            QVERIFY2(s.value(QStringLiteral("Backend")).toString() == servers[it->server]->url(),
                     qPrintable(where));
            QVERIFY2(s.value(QStringLiteral("AttemptSummaries")).toArray().size() == 1, qPrintable(where));
        }

        // Over all three servers: every scene reached exactly one server once and succeeded there;
        // the kept prompt and backend are that one. Nothing was rendered twice.
        const auto finalPrompts = promptsOf(servers, runId);
        QHash<QString, QStringList> promptsPerScene;
        for (auto it = finalPrompts.begin(); it != finalPrompts.end(); ++it) {
            QCOMPARE(it->state, QStringLiteral("history:success"));
            promptsPerScene[it->sceneId] << it.key();
            const QJsonObject s = byScene.value(it->sceneId);
            QCOMPARE(s.value(QStringLiteral("PromptId")).toString(), it.key());
            QCOMPARE(s.value(QStringLiteral("Backend")).toString(), servers[it->server]->url());
        }
        QCOMPARE(promptsPerScene.size(), kScenes);
        for (auto it = promptsPerScene.begin(); it != promptsPerScene.end(); ++it)
            QVERIFY2(it->size() == 1, qPrintable(it.key() + QStringLiteral(" reached the servers as ") +
                                                 it->join(QLatin1Char(','))));
        // Scenes ran on more than one server before and after the crash.
        QSet<int> used;
        for (const ServerPrompt& p : finalPrompts)
            used.insert(p.server);
        QVERIFY(used.size() >= 2);
        for (const auto& server : servers) {
            const QJsonObject queue = server->get(QStringLiteral("/queue"));
            QVERIFY(queue.value(QStringLiteral("queue_running")).toArray().isEmpty());
            QVERIFY(queue.value(QStringLiteral("queue_pending")).toArray().isEmpty());
        }
        QFile summary(QDir(runDir).filePath(QStringLiteral("run-summary.txt")));
        QVERIFY(summary.open(QIODevice::ReadOnly));
        QVERIFY(
            QString::fromUtf8(summary.readAll()).contains(QStringLiteral("Resumed after an interruption")));
    }
};

QTEST_GUILESS_MAIN(TestPoolResume)
#include "tst_poolresume.moc"
