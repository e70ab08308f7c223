
#include "CliSandbox.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

// Crash-safe runs end to end: a `gemdirect run` against a sandbox ComfyUI that lives in its own
// process is SIGKILLed at random points and `gemdirect resume`d each time. Every scene must end
// done, no scene may be submitted again after it completed (checked against the server's own
// history), and every artifact validates.
class TestResume : public QObject
{
    Q_OBJECT

    QTemporaryDir m_home;

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("GEMDIRECT_DB", m_home.filePath(QStringLiteral("history.sqlite")).toUtf8());
    }

    void killedRunsResumeToTheEnd_data()
    {
        QTest::addColumn<int>("scenes");
        QTest::addColumn<int>("kills");
        QTest::addColumn<int>("stepDelayMs");
        QTest::addColumn<quint32>("seed");
        const quint32 seed = qEnvironmentVariableIsSet("GD_RESUME_SEED")
                                 ? quint32(qEnvironmentVariableIntValue("GD_RESUME_SEED"))
                                 : 20251112u;
        QTest::newRow("short: 3 scenes, 4 kills") << 3 << 4 << 150 << seed;
        if (qEnvironmentVariableIsSet("GD_RESUME_SHORT_ONLY"))
            return;
        QTest::newRow("10 scenes, 20 kills") << 10 << 20 << 250 << seed;
    }

    void killedRunsResumeToTheEnd()
    {
        QFETCH(int, scenes);
        QFETCH(int, kills);
        QFETCH(int, stepDelayMs);
        QFETCH(quint32, seed);
        qInfo("seed %u (set GD_RESUME_SEED to replay)", seed);
        QRandomGenerator rng(seed);

        QTemporaryDir dir;
        const QString output = dir.filePath(QStringLiteral("comfy/output"));
        const QString runsRoot = dir.filePath(QStringLiteral("runs"));
        const QString story = clitest::writeStory(dir.path(), scenes, QStringLiteral("resume-test"));
        // The server outlives every killed client, as a real ComfyUI would.
        clitest::SandboxProcess server;
        QVERIFY(server.start(output, stepDelayMs));
        const QString url = server.url();

        const QStringList common{QStringLiteral("--no-quality"), QStringLiteral("--no-history"),
                                 QStringLiteral("--quiet")};
        const QStringList runArgs = QStringList{QStringLiteral("run"),
                                                QStringLiteral("--story"),
                                                story,
                                                QStringLiteral("--comfy-url"),
                                                url,
                                                QStringLiteral("--comfy-output-dir"),
                                                output,
                                                QStringLiteral("--workflow"),
                                                QStringLiteral("sandbox"),
                                                QStringLiteral("--runs-root"),
                                                runsRoot,
                                                QStringLiteral("--fast")} +
                                    common;
        QString runDir;
        int done = 0;
        bool finishedEarly = false;
        while (done < kills) {
            QProcess client;
            client.setProcessChannelMode(QProcess::MergedChannels);
            const bool resuming = !runDir.isEmpty();
            client.start(clitest::cli(),
                         resuming ? QStringList{QStringLiteral("resume"), runDir} + common : runArgs);
            QVERIFY(client.waitForStarted());
            // Kills land 150–850 ms into each client; the server keeps rendering meanwhile, so its
            // scenes (steps × stepDelayMs) must outlast all the kills together by a wide margin.
            const int delayMs = 150 + int(rng.bounded(700));
            const bool exited = client.waitForFinished(delayMs);
            QString out = QString::fromUtf8(client.readAll());
            if (!exited) {
                client.kill(); // SIGKILL: no handler, no flush, no cleanup
                QVERIFY(client.waitForFinished(10000));
                out += QString::fromUtf8(client.readAll());
                ++done;
                qInfo("kill %d/%d: %s killed after %d ms", done, kills, resuming ? "resume" : "run", delayMs);
            }
            if (runDir.isEmpty()) {
                const QRegularExpressionMatch m =
                    QRegularExpression(QStringLiteral("Run directory created: (\\S+)")).match(out);
                if (m.hasMatch())
                    runDir = m.captured(1);
                continue; // killed before its run directory existed: start over
            }
            if (!exited)
                continue;
            if (client.exitCode() == 2 && out.contains(QStringLiteral("before its first scene"))) {
                runDir.clear(); // killed before anything was queued: nothing to resume, run again
                continue;
            }
            QVERIFY2(client.exitStatus() == QProcess::NormalExit && client.exitCode() == 0, qPrintable(out));
            finishedEarly = true;
            break;
        }
        QVERIFY2(!finishedEarly, "the run finished before every kill landed: make scenes slower");
        QVERIFY(!runDir.isEmpty());

        QProcess last;
        last.setProcessChannelMode(QProcess::MergedChannels);
        last.start(clitest::cli(), QStringList{QStringLiteral("resume"), runDir} + common);
        QVERIFY(last.waitForFinished(180000));
        const QString lastOut = QString::fromUtf8(last.readAll());
        QVERIFY2(last.exitCode() == 0, qPrintable(lastOut));

        // Every artifact validates, and every scene ended done.
        QProcess validate;
        validate.setProcessChannelMode(QProcess::MergedChannels);
        validate.start(clitest::cli(), {QStringLiteral("validate"), runDir});
        QVERIFY(validate.waitForFinished(60000));
        QVERIFY2(validate.exitCode() == 0, qPrintable(QString::fromUtf8(validate.readAll())));
        QFile af(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
        QVERIFY(af.open(QIODevice::ReadOnly));
        const QJsonObject artifact = QJsonDocument::fromJson(af.readAll()).object();
        const QJsonArray sceneList = artifact.value(QStringLiteral("Scenes")).toArray();
        QCOMPARE(sceneList.size(), scenes);
        QHash<QString, QString> keptPrompt;
        for (const QJsonValue v : sceneList) {
            const QJsonObject s = v.toObject();
            const QString id = s.value(QStringLiteral("SceneId")).toString();
            QVERIFY2(s.value(QStringLiteral("Status")).toString() == QLatin1String("succeeded"),
                     qPrintable(id + QStringLiteral(": ") + QString::fromUtf8(QJsonDocument(s).toJson())));
            QVERIFY(s.value(QStringLiteral("FrameCount")).toInt() >= 12);
            const QString framesDir =
                QDir(runDir).filePath(s.value(QStringLiteral("GeneratedFramesDir")).toString());
            QCOMPARE(QDir(framesDir).entryList(QDir::Files).size(),
                     s.value(QStringLiteral("FrameCount")).toInt());
            keptPrompt.insert(id, s.value(QStringLiteral("PromptId")).toString());
        }

        // The server's history: per scene, in submission order, nothing after its success, and the
        // success is the prompt whose frames were kept.
        const QJsonObject history = server.get(QStringLiteral("/history"));
        const QString runId = QFileInfo(runDir).fileName();
        QHash<QString, QList<QPair<double, QJsonObject>>> byScene;
        const QRegularExpression prefixRe(
            QStringLiteral("^gemdirect/%1/(scene-\\d+)_a(\\d+)").arg(QRegularExpression::escape(runId)));
        for (auto it = history.begin(); it != history.end(); ++it) {
            const QJsonArray prompt = it.value().toObject().value(QStringLiteral("prompt")).toArray();
            const QJsonObject graph = prompt.at(2).toObject();
            QString sceneId;
            for (const QJsonValue node : graph) {
                const QString prefix = node.toObject()
                                           .value(QStringLiteral("inputs"))
                                           .toObject()
                                           .value(QStringLiteral("filename_prefix"))
                                           .toString();
                const auto m = prefixRe.match(prefix);
                if (m.hasMatch())
                    sceneId = m.captured(1);
            }
            if (!sceneId.isEmpty())
                byScene[sceneId].append(
                    {prompt.at(0).toDouble(),
                     QJsonObject{{QStringLiteral("id"), it.key()},
                                 {QStringLiteral("status"), it.value()
                                                                .toObject()
                                                                .value(QStringLiteral("status"))
                                                                .toObject()
                                                                .value(QStringLiteral("status_str"))}}});
        }
        int submissions = 0;
        for (auto it = keptPrompt.begin(); it != keptPrompt.end(); ++it) {
            auto list = byScene.value(it.key());
            QVERIFY2(!list.isEmpty(), qPrintable(it.key() + QStringLiteral(" never reached the server")));
            std::sort(list.begin(), list.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
            submissions += list.size();
            int successes = 0;
            for (int i = 0; i < list.size(); ++i) {
                const bool success =
                    list[i].second.value(QStringLiteral("status")).toString() == QLatin1String("success");
                if (success) {
                    ++successes;
                    QVERIFY2(i == list.size() - 1,
                             qPrintable(
                                 QStringLiteral("%1 was submitted again after prompt %2 had completed")
                                     .arg(it.key(), list[i].second.value(QStringLiteral("id")).toString())));
                    QCOMPARE(list[i].second.value(QStringLiteral("id")).toString(), it.value());
                }
            }
            QCOMPARE(successes, 1);
        }
        qInfo("%d kills, %d scenes, %d prompts reached the server", done, scenes, submissions);
        const QJsonObject queue = server.get(QStringLiteral("/queue"));
        QVERIFY(queue.value(QStringLiteral("queue_running")).toArray().isEmpty());
        QVERIFY(queue.value(QStringLiteral("queue_pending")).toArray().isEmpty());
    }

    void lostPromptIsSubmittedAgainWithoutSpendingTheBudget()
    {
        QTemporaryDir dir;
        const QString output = dir.filePath(QStringLiteral("comfy/output"));
        const QString story = clitest::writeStory(dir.path(), 2, QStringLiteral("resume-test"));
        clitest::SandboxProcess server;
        QVERIFY(server.start(output, 100));
        const QString url = server.url();
        const QStringList common{QStringLiteral("--no-quality"), QStringLiteral("--no-history"),
                                 QStringLiteral("--quiet")};
        QProcess client;
        client.setProcessChannelMode(QProcess::MergedChannels);
        client.start(clitest::cli(),
                     QStringList{QStringLiteral("run"), QStringLiteral("--story"), story,
                                 QStringLiteral("--comfy-url"), url, QStringLiteral("--comfy-output-dir"),
                                 output, QStringLiteral("--workflow"), QStringLiteral("sandbox"),
                                 QStringLiteral("--runs-root"), dir.filePath(QStringLiteral("runs")),
                                 QStringLiteral("--fast"), QStringLiteral("--scene-retry-budget"),
                                 QStringLiteral("0")} +
                         common);
        QVERIFY(client.waitForStarted());
        // Killed as soon as the first scene is done.
        QString runDir;
        QTRY_VERIFY_WITH_TIMEOUT(!(runDir = QDir(dir.filePath(QStringLiteral("runs")))
                                                .entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)
                                                .value(0)
                                                .absoluteFilePath())
                                      .isEmpty(),
                                 20000);
        const QString journalPath = QDir(runDir).filePath(QStringLiteral("run-journal.jsonl"));
        auto firstDone = [&journalPath] {
            QFile f(journalPath);
            return f.open(QIODevice::ReadOnly) && f.readAll().contains("\"Type\":\"final\"");
        };
        QTRY_VERIFY_WITH_TIMEOUT(firstDone(), 30000);
        client.kill();
        QVERIFY(client.waitForFinished(10000));
        // As if the app died right after journaling scene-002's submission, before the POST left.
        QFile journal(journalPath);
        QVERIFY(journal.open(QIODevice::Append));
        journal.write(
            QJsonDocument(
                QJsonObject{
                    {QStringLiteral("Type"), QStringLiteral("submitted")},
                    {QStringLiteral("Scene"), QStringLiteral("scene-002")},
                    {QStringLiteral("Attempt"), 1},
                    {QStringLiteral("PromptId"), QStringLiteral("never-sent-0000")},
                    {QStringLiteral("Backend"), url},
                    {QStringLiteral("Seed"), 7.0},
                    {QStringLiteral("FramePrefix"),
                     QStringLiteral("gemdirect/%1/scene-002_a1").arg(QFileInfo(runDir).fileName())},
                    {QStringLiteral("At"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)}})
                .toJson(QJsonDocument::Compact) +
            '\n');
        journal.close();

        QProcess resume;
        resume.setProcessChannelMode(QProcess::MergedChannels);
        resume.start(clitest::cli(), QStringList{QStringLiteral("resume"), runDir} + common);
        QVERIFY(resume.waitForFinished(120000));
        const QString out = QString::fromUtf8(resume.readAll());
        QVERIFY2(resume.exitCode() == 0, qPrintable(out));
        QFile af(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
        QVERIFY(af.open(QIODevice::ReadOnly));
        const QJsonObject scene2 = QJsonDocument::fromJson(af.readAll())
                                       .object()
                                       .value(QStringLiteral("Scenes"))
                                       .toArray()
                                       .at(1)
                                       .toObject();
        QCOMPARE(scene2.value(QStringLiteral("Status")).toString(), QStringLiteral("succeeded"));
        const QJsonArray attempts = scene2.value(QStringLiteral("AttemptSummaries")).toArray();
        QCOMPARE(attempts.size(), 2); // the lost one is on record; with a budget of 0 the second still ran
        const QString lostErrors = QString::fromUtf8(
            QJsonDocument(attempts.at(0).toObject().value(QStringLiteral("Errors")).toArray()).toJson());
        QVERIFY2(lostErrors.contains(QStringLiteral("never-sent-0000")) &&
                     lostErrors.contains(QStringLiteral("retry budget is not spent")),
                 qPrintable(lostErrors));
        QProcess validate;
        validate.start(clitest::cli(), {QStringLiteral("validate"), runDir});
        QVERIFY(validate.waitForFinished(60000));
        QCOMPARE(validate.exitCode(), 0);
    }

    void resumeRefusesWhatItCannotResume()
    {
        QTemporaryDir dir;
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(clitest::cli(), {QStringLiteral("resume"), dir.path()});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(QString::fromUtf8(p.readAll()).contains(QStringLiteral("not a run directory")));
    }
};

QTEST_GUILESS_MAIN(TestResume)
#include "tst_resume.moc"
