#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"
#include "telemetry/RunValidator.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <cmath>
#include <csignal>

// The `gemdirect` command line as an operator uses it: exit codes, messages, the last line.
class TestCli : public QObject
{
    Q_OBJECT

    struct Result
    {
        int exitCode = -1;
        QString out;
        QString err;
        double seconds = 0;
    };

    static Result run(const QStringList& args,
                      const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment(),
                      int timeoutMs = 120000)
    {
        QProcess p;
        p.setProcessEnvironment(env);
        QElapsedTimer t;
        t.start();
        p.start(QStringLiteral(GD_CLI_PATH), args);
        p.waitForFinished(timeoutMs);
        Result r;
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = QString::fromUtf8(p.readAllStandardOutput());
        r.err = QString::fromUtf8(p.readAllStandardError());
        r.seconds = t.elapsed() / 1000.0;
        return r;
    }
    static QString lastLine(const QString& text) { return text.trimmed().split(QLatin1Char('\n')).last(); }
    static quint16 freePort()
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        return probe.serverPort();
    }

    QTemporaryDir m_home;

private Q_SLOTS:
    void initTestCase()
    {
        // Every child process records runs into a throwaway history database, never the user's.
        qputenv("GEMDIRECT_DB", m_home.filePath(QStringLiteral("history.sqlite")).toUtf8());
    }

    void sandboxRunOfTheBundledStoryValidates()
    {
        QTemporaryDir dir;
        const Result r = run({QStringLiteral("run"), QStringLiteral("--story"),
                              QStringLiteral("examples/lighthouse.json"), QStringLiteral("--sandbox"),
                              QStringLiteral("--runs-root"), dir.path(), QStringLiteral("--fast")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QString last = lastLine(r.out);
        QVERIFY2(last.startsWith(QStringLiteral("Run directory: /")), qPrintable(last));
        const QString runDir = last.mid(15);
        QVERIFY(r.out.contains(QStringLiteral("[scene-001] progress")));
        QVERIFY(r.out.contains(QStringLiteral("[scene-005] succeeded: 25/25 frames")));
        const Result v = run({QStringLiteral("validate"), runDir});
        QCOMPARE(v.exitCode, 0);
        QVERIFY(v.out.contains(QStringLiteral("run-summary validation: PASS")));
        QCOMPARE(
            QDir(runDir + QStringLiteral("/scene-003/attempt-1")).entryList({QStringLiteral("*.png")}).size(),
            25);
    }

    void invalidStoryListsEveryProblemAndQueuesNothing()
    {
        QTemporaryDir dir;
        const QString story = dir.filePath(QStringLiteral("bad.json"));
        QFile f(story);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"storyId":"s","scenes":[{"id":"scene-1","prompt":"p"},{"id":"scene-002"}]})");
        f.close();
        const Result r =
            run({QStringLiteral("run"), QStringLiteral("--story"), story, QStringLiteral("--sandbox"),
                 QStringLiteral("--runs-root"), dir.filePath(QStringLiteral("runs"))});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains(QStringLiteral("logline: required")));
        QVERIFY(r.err.contains(QStringLiteral("scenes[0].id: 'scene-1'")));
        QVERIFY(r.err.contains(QStringLiteral("scenes[1].prompt: required")));
        QVERIFY(r.err.contains(QStringLiteral("Nothing was queued")));
        QVERIFY(!QDir(dir.filePath(QStringLiteral("runs"))).exists() ||
                QDir(dir.filePath(QStringLiteral("runs")))
                    .entryList(QDir::Dirs | QDir::NoDotAndDotDot)
                    .isEmpty());
    }

    void invalidKnobIsNamed()
    {
        const Result r =
            run({QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"),
                 QStringLiteral("--scene-max-wait"), QStringLiteral("0")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QStringLiteral("--scene-max-wait")), qPrintable(r.err));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("SCENE_HISTORY_POLL_INTERVAL_SECONDS"), QStringLiteral("0.01"));
        const Result e = run(
            {QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json")},
            env);
        QCOMPARE(e.exitCode, 2);
        QVERIFY2(e.err.contains(QStringLiteral("SCENE_HISTORY_POLL_INTERVAL_SECONDS")), qPrintable(e.err));
    }

    void diskFullHoldIsDocumentedAndChecked()
    {
        for (const QString& command : {QStringLiteral("run"), QStringLiteral("resume")}) {
            const Result help = run({command, QStringLiteral("--help")});
            QVERIFY2(help.out.contains(QStringLiteral("--disk-full-hold <SECONDS>")), qPrintable(help.out));
        }
        const Result r =
            run({QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"),
                 QStringLiteral("--disk-full-hold"), QStringLiteral("-5")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QStringLiteral("--disk-full-hold: '-5'")), qPrintable(r.err));
    }

    void unreachableComfyIsExit3WithinTenSeconds()
    {
        QTemporaryDir dir;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(freePort());
        env.insert(QStringLiteral("LOCAL_COMFY_URL"), url);
        const Result r =
            run({QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"),
                 QStringLiteral("--runs-root"), dir.path()},
                env);
        QCOMPARE(r.exitCode, 3);
        QVERIFY(r.seconds < 10.0);
        QVERIFY2(r.err.contains(url), qPrintable(r.err));
    }

    void ctrlCInterruptsAndWritesArtifacts()
    {
        QTemporaryDir dir;
        QProcess p;
        p.start(QStringLiteral(GD_CLI_PATH),
                {QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"),
                 QStringLiteral("--sandbox"), QStringLiteral("--runs-root"), dir.path()});
        QVERIFY(p.waitForStarted());
        // Wait until the first scene is rendering, then press Ctrl-C.
        QString out;
        QTRY_VERIFY_WITH_TIMEOUT((out += QString::fromUtf8(p.readAllStandardOutput()))
                                     .contains(QStringLiteral("[scene-002] attempt 1/2 started")),
                                 60000);
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 130);
        out += QString::fromUtf8(p.readAllStandardOutput());
        const QString runDir = lastLine(out).mid(15);
        QVERIFY2(QFile::exists(runDir + QStringLiteral("/artifact-metadata.json")), qPrintable(out));
        QFile f(runDir + QStringLiteral("/artifact-metadata.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject a = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(a.value(QStringLiteral("Scenes"))
                     .toArray()
                     .last()
                     .toObject()
                     .value(QStringLiteral("Status"))
                     .toString(),
                 QStringLiteral("cancelled"));
        QCOMPARE(gd::telemetry::RunValidator::validate(runDir).exitCode, 0);
    }

    void ctrlCDuringTheQualityStepCancelsTheJudges()
    {
        QTemporaryDir dir;
        const Result rendered = run({QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"),
                                     QStringLiteral("--sandbox"), QStringLiteral("--fast"), QStringLiteral("--quiet"),
                                     QStringLiteral("--no-quality"), QStringLiteral("--runs-root"), dir.path()});
        QVERIFY2(rendered.exitCode == 0, qPrintable(rendered.out + rendered.err));
        const QString runDir = lastLine(rendered.out).mid(15);
        // A judge LLM that takes a minute before answering: the step is judging when Ctrl-C comes.
        gd::sandbox::SandboxLlmConfig slow;
        slow.visionModel = true;
        slow.firstTokenDelayMs = 60000;
        gd::sandbox::SandboxLlmHost judge;
        QString error;
        QVERIFY2(judge.start(slow, 0, &error), qPrintable(error));

        QProcess p;
        p.start(QStringLiteral(GD_CLI_PATH), {QStringLiteral("quality"), runDir, QStringLiteral("--llm-url"),
                                               judge.url().toString(), QStringLiteral("--history-db"),
                                               dir.filePath(QStringLiteral("h.sqlite"))});
        QVERIFY(p.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(judge.server()->chatRequestCount() >= 1, 30000);
        ::kill(pid_t(p.processId()), SIGINT);
        // Ends well before the LLM's first token would arrive, with the interrupted exit code.
        QVERIFY(p.waitForFinished(30000));
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QVERIFY2(p.exitCode() == 130, qPrintable(out + err));
        QVERIFY2(err.contains(QStringLiteral("cancelling the model judges")), qPrintable(err));
        // The KPI table is still printed, with the judge metrics UNMEASURED and why.
        QVERIFY2(out.contains(QStringLiteral("unmeasured: CoherenceJudgeScore: cancelled by the operator")), qPrintable(out));
        QFile f(runDir + QStringLiteral("/artifact-metadata.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject qm =
            QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("QualityMetrics")).toObject();
        QVERIFY(qm.value(QStringLiteral("CoherenceJudgeScore")).isNull());
        QVERIFY(qm.value(QStringLiteral("EntityLinkageScore")).isDouble());
        QCOMPARE(gd::telemetry::RunValidator::validate(runDir).exitCode, 0);
    }

    void validateMissingRunIsExit2()
    {
        const Result r = run({QStringLiteral("validate"), QStringLiteral("/nonexistent/run")});
        QCOMPARE(r.exitCode, 2);
    }

    void standaloneSandboxServes()
    {
        QTemporaryDir dir;
        const quint16 port = freePort();
        QProcess p;
        p.start(QStringLiteral(GD_CLI_PATH),
                {QStringLiteral("sandbox"), QStringLiteral("comfyui"), QStringLiteral("--port"),
                 QString::number(port), QStringLiteral("--output-dir"), dir.path()});
        QVERIFY(p.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(QString::fromUtf8(p.peek(4096)).contains(QStringLiteral("listening")),
                                 10000);
        QNetworkAccessManager nam;
        QNetworkReply* reply =
            nam.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/api/system_stats").arg(port))));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10000);
        const QJsonObject stats = QJsonDocument::fromJson(reply->readAll()).object();
        QVERIFY(stats.value(QStringLiteral("devices")).toArray().size() == 1);
        reply->deleteLater();
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 0);
    }

    void legacyProfilesImport()
    {
        QTemporaryDir dir;
        const Result r = run({QStringLiteral("profile"), QStringLiteral("import"),
                              QStringLiteral(GD_TEST_DATA_DIR "/workflows/legacy-profiles.json"),
                              QStringLiteral("-o"), dir.path()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY(QFile::exists(dir.filePath(QStringLiteral("flux-t2i.json"))));
        QVERIFY(QFile::exists(dir.filePath(QStringLiteral("flux-t2i.profile.json"))));
        QVERIFY(r.out.contains(QStringLiteral("note: ")));
    }

    void unknownCommandIsUsageError()
    {
        const Result r = run({QStringLiteral("frobnicate")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains(QStringLiteral("unknown command")));
    }

    void installNodeKeepsADisabledBackup()
    {
        QTemporaryDir comfy;
        QVERIFY(QDir().mkpath(comfy.filePath(QStringLiteral("custom_nodes"))));
        Result r = run({QStringLiteral("comfy"), QStringLiteral("install-node"), QStringLiteral("--comfy-dir"), comfy.path()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QString pkg = comfy.filePath(QStringLiteral("custom_nodes/gemdirect_nodes"));
        QVERIFY(QFile::exists(pkg + QStringLiteral("/__init__.py")));
        QVERIFY(QFile::exists(pkg + QStringLiteral("/save_frames.py")));
        QVERIFY(r.out.contains(QStringLiteral("Restart ComfyUI")));
        // A second install keeps the first as a backup ComfyUI will not load (*.disabled).
        r = run({QStringLiteral("comfy"), QStringLiteral("install-node"), QStringLiteral("--comfy-dir"), comfy.path()});
        QCOMPARE(r.exitCode, 0);
        const QStringList entries = QDir(comfy.filePath(QStringLiteral("custom_nodes"))).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(entries.size(), 2);
        QVERIFY(entries.contains(QStringLiteral("gemdirect_nodes")));
        QVERIFY(entries.filter(QStringLiteral(".disabled")).size() == 1);
        // Not a ComfyUI folder: refused with a reason.
        QTemporaryDir empty;
        r = run({QStringLiteral("comfy"), QStringLiteral("install-node"), QStringLiteral("--comfy-dir"), empty.path()});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains(QStringLiteral("custom_nodes")));
    }

    void storyFromAnIdeaWithTheSandboxLlm()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("story.json"));
        const Result r = run({QStringLiteral("story"), QStringLiteral("--idea"), QStringLiteral("A keeper must relight the beacon"),
                              QStringLiteral("--genre"), QStringLiteral("drama"), QStringLiteral("--scenes"), QStringLiteral("4"),
                              QStringLiteral("--seed"), QStringLiteral("3"), QStringLiteral("--sandbox"), QStringLiteral("-o"), out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY(r.out.contains(QStringLiteral("== bible ==")));          // stages are announced
        QVERIFY(r.out.contains(QStringLiteral("\"logline\"")));          // tokens streamed to the console
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject story = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(story.value(QStringLiteral("scenes")).toArray().size(), 4);
        QCOMPARE(story.value(QStringLiteral("templateId")).toString(), QStringLiteral("story-drama"));
        // Issue 8: shot lists per scene, streamed under their own stage, with bible references.
        QVERIFY(r.out.contains(QStringLiteral("== shots:scene-004 ==")));
        QCOMPARE(story.value(QStringLiteral("templateVersion")).toString(), QStringLiteral("2.0"));
        const QJsonObject bible = story.value(QStringLiteral("bible")).toObject();
        QVERIFY(!bible.value(QStringLiteral("locations")).toArray().isEmpty());
        QVERIFY(!bible.value(QStringLiteral("characters")).toArray().at(0).toObject().value(QStringLiteral("referencePrompt")).toString().isEmpty());
        for (const QJsonValue& sc : story.value(QStringLiteral("scenes")).toArray()) {
            const QJsonArray shots = sc.toObject().value(QStringLiteral("shots")).toArray();
            QVERIFY(!shots.isEmpty());
            QCOMPARE(shots.at(0).toObject().value(QStringLiteral("id")).toString(), QStringLiteral("shot-01"));
        }

        const QString plain = dir.filePath(QStringLiteral("plain.json"));
        const Result noShots = run({QStringLiteral("story"), QStringLiteral("--idea"), QStringLiteral("A keeper must relight the beacon"),
                                    QStringLiteral("--scenes"), QStringLiteral("2"), QStringLiteral("--no-shots"), QStringLiteral("--quiet"),
                                    QStringLiteral("--sandbox"), QStringLiteral("-o"), plain});
        QVERIFY2(noShots.exitCode == 0, qPrintable(noShots.out + noShots.err));
        QVERIFY(!noShots.out.contains(QStringLiteral("== shots:")));
        QFile p(plain);
        QVERIFY(p.open(QIODevice::ReadOnly));
        for (const QJsonValue& sc : QJsonDocument::fromJson(p.readAll()).object().value(QStringLiteral("scenes")).toArray())
            QVERIFY(!sc.toObject().contains(QStringLiteral("shots")));
    }

    void runFromAnIdeaValidates()
    {
        QTemporaryDir dir;
        const Result r = run({QStringLiteral("run"), QStringLiteral("--idea"), QStringLiteral("A lighthouse keeper and a lost ship"),
                              QStringLiteral("--scenes"), QStringLiteral("2"), QStringLiteral("--sandbox"), QStringLiteral("--quiet"),
                              QStringLiteral("--fast"), QStringLiteral("--runs-root"), dir.path()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QString runDir = lastLine(r.out).mid(15);
        QCOMPARE(gd::telemetry::RunValidator::validate(runDir).exitCode, 0);
        QFile f(runDir + QStringLiteral("/artifact-metadata.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject a = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(a.value(QStringLiteral("LLMHealthInfo")).toObject().value(QStringLiteral("Status")).toString(), QStringLiteral("success"));
        const QJsonObject storyInfo = a.value(QStringLiteral("Story")).toObject();
        QCOMPARE(storyInfo.value(QStringLiteral("Generator")).toString(), QStringLiteral("local-llm"));
        QCOMPARE(storyInfo.value(QStringLiteral("LLM")).toObject().value(QStringLiteral("Status")).toString(), QStringLiteral("success"));
        QCOMPARE(storyInfo.value(QStringLiteral("Prompts")).toArray().size(), 2);
        QVERIFY(QFile::exists(runDir + QStringLiteral("/story/raw/bible-1.txt")));
        QFile summary(runDir + QStringLiteral("/run-summary.txt"));
        QVERIFY(summary.open(QIODevice::ReadOnly));
        QVERIFY(summary.readAll().contains("[LLM] Health check: success (url="));
    }

    void unloadLlmBeforeRenderingIsRecorded()
    {
        // `run --idea --sandbox --unload-llm`: the story's LLM (the sandbox LM Studio) is unloaded
        // through /api/v1/models/unload before ComfyUI renders, and the run says so.
        QTemporaryDir dir;
        const Result r = run({QStringLiteral("run"), QStringLiteral("--idea"), QStringLiteral("A lighthouse keeper and a lost ship"),
                              QStringLiteral("--scenes"), QStringLiteral("2"), QStringLiteral("--sandbox"), QStringLiteral("--quiet"),
                              QStringLiteral("--fast"), QStringLiteral("--unload-llm"), QStringLiteral("--runs-root"), dir.path()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QString runDir = lastLine(r.out).mid(15);
        QFile f(runDir + QStringLiteral("/artifact-metadata.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject hygiene = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("VramHygiene")).toObject();
        const QJsonObject unload = hygiene.value(QStringLiteral("LlmUnload")).toObject();
        QCOMPARE(unload.value(QStringLiteral("Status")).toString(), QStringLiteral("unloaded"));
        QCOMPARE(unload.value(QStringLiteral("Endpoint")).toString(), QStringLiteral("/api/v1/models/unload"));
        QVERIFY(unload.value(QStringLiteral("Models")).toArray().contains(QStringLiteral("sandbox-story-7b-instruct")));
        QFile summary(runDir + QStringLiteral("/run-summary.txt"));
        QVERIFY(summary.open(QIODevice::ReadOnly));
        const QByteArray text = summary.readAll();
        QVERIFY2(text.contains("VRAM hygiene: llmUnload=unloaded"), text.constData());
        QVERIFY2(text.contains("[LLM] VRAM: unloaded sandbox-story-7b-instruct"), text.constData());
    }

    void ideaErrorsAreExplained()
    {
        QTemporaryDir dir;
        Result r = run({QStringLiteral("story"), QStringLiteral("--idea"), QStringLiteral(" "), QStringLiteral("--sandbox"),
                        QStringLiteral("-o"), dir.filePath(QStringLiteral("s.json"))});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QStringLiteral("idea is empty")), qPrintable(r.err));
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(freePort());
        r = run({QStringLiteral("run"), QStringLiteral("--idea"), QStringLiteral("x"), QStringLiteral("--llm-url"), url,
                 QStringLiteral("--runs-root"), dir.path()});
        QCOMPARE(r.exitCode, 3);
        QVERIFY(r.seconds < 10.0);
        QVERIFY2(r.out.contains(QStringLiteral("[LLM] Health check failed:")), qPrintable(r.out));
        QVERIFY(QDir(dir.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty()); // no empty run left behind
    }

    void templatesAreListed()
    {
        const Result r = run({QStringLiteral("templates")});
        QCOMPARE(r.exitCode, 0);
        for (const char* key : {"story-sci-fi@1.0", "story-drama@1.0", "story-thriller@1.0"})
            QVERIFY2(r.out.contains(QLatin1String(key)), qPrintable(r.out));
    }

    void healthExitCodesFollowServerState()
    {
        QTemporaryDir dir;
        Result r = run({QStringLiteral("health"), QStringLiteral("--sandbox"), QStringLiteral("--runs-root"), dir.path()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY(r.out.contains(QStringLiteral("overall: healthy")));
        // Everything up but the disk below the threshold: degraded.
        r = run({QStringLiteral("health"), QStringLiteral("--sandbox"), QStringLiteral("--runs-root"), dir.path(),
                 QStringLiteral("--min-free-gb"), QStringLiteral("100000000"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 1);
        const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(j.value(QStringLiteral("status")).toString(), QStringLiteral("degraded"));
        QCOMPARE(j.value(QStringLiteral("components")).toArray().size(), 4);
        // Nothing listening: down, within the probe's bound.
        r = run({QStringLiteral("health"), QStringLiteral("--runs-root"), dir.path(), QStringLiteral("--comfy-url"),
                 QStringLiteral("http://127.0.0.1:%1").arg(freePort()), QStringLiteral("--llm-url"),
                 QStringLiteral("http://127.0.0.1:%1").arg(freePort())});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.out.contains(QStringLiteral("comfyui  DOWN")));
        QVERIFY(r.out.contains(QStringLiteral("llm      DOWN")));
        QVERIFY(r.seconds < 20);
    }

    void ratingsImportAndSweepUseTheHistoryDatabase()
    {
        QTemporaryDir dir;
        const QString db = dir.filePath(QStringLiteral("h.sqlite"));
        Result r = run({QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"), QStringLiteral("--sandbox"),
                        QStringLiteral("--fast"), QStringLiteral("--quiet"), QStringLiteral("--runs-root"), dir.filePath(QStringLiteral("runs")),
                        QStringLiteral("--history-db"), db});
        QCOMPARE(r.exitCode, 0);
        const QString runDir = lastLine(r.out).mid(15);
        r = run({QStringLiteral("rate"), runDir, QStringLiteral("scene-002"), QStringLiteral("--stars"), QStringLiteral("4"),
                 QStringLiteral("--coherence"), QStringLiteral("5"), QStringLiteral("--comment"), QStringLiteral("good fog"),
                 QStringLiteral("--history-db"), db});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        r = run({QStringLiteral("rate"), runDir, QStringLiteral("scene-002"), QStringLiteral("--stars"), QStringLiteral("6"),
                 QStringLiteral("--history-db"), db});
        QCOMPARE(r.exitCode, 2);
        r = run({QStringLiteral("rate"), runDir, QStringLiteral("scene-042"), QStringLiteral("--stars"), QStringLiteral("3"),
                 QStringLiteral("--history-db"), db});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains(QStringLiteral("scene-042")));
        QFile f(runDir + QStringLiteral("/artifact-metadata.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonArray feedback = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("Feedback")).toArray();
        QCOMPARE(feedback.size(), 1);
        QCOMPARE(feedback.at(0).toObject().value(QStringLiteral("Stars")).toInt(), 4);
        QCOMPARE(gd::telemetry::RunValidator::validate(runDir).exitCode, 0);

        r = run({QStringLiteral("import"), QStringLiteral(GD_TEST_DATA_DIR "/legacy-run"), dir.filePath(QStringLiteral("runs")),
                 QStringLiteral("--history-db"), db});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains(QStringLiteral("1 imported, 1 already known, 0 could not be read")), qPrintable(r.out));

        r = run({QStringLiteral("sweep"), QStringLiteral("-o"), dir.filePath(QStringLiteral("sweep")), QStringLiteral("--history-db"), db});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QFile rep(dir.filePath(QStringLiteral("sweep/report.json")));
        QVERIFY(rep.open(QIODevice::ReadOnly));
        const QJsonObject report = QJsonDocument::fromJson(rep.readAll()).object();
        QCOMPARE(report.value(QStringLiteral("Runs")).toInt(), 2);
        QCOMPARE(report.value(QStringLiteral("Scenes")).toInt(), 6); // 5 rendered + 1 legacy
        QVERIFY(QFile::exists(dir.filePath(QStringLiteral("sweep/SWEEP_SUMMARY.md"))));
        QVERIFY(report.value(QStringLiteral("Kpis")).toArray().size() >= 15); // each KPI against its threshold
        for (const char* chart : {"duration-histogram", "frames-per-scene", "vram-per-scene", "kpi-trend-by-week"}) {
            const QImage img(dir.filePath(QStringLiteral("sweep/charts/%1.png").arg(QLatin1String(chart))));
            QVERIFY2(!img.isNull() && img.width() > 100, chart);
        }
    }

    void sandboxRunEndsWithQualityMetricsAndKpis()
    {
        QTemporaryDir dir;
        const QString db = dir.filePath(QStringLiteral("h.sqlite"));
        Result r = run({QStringLiteral("run"), QStringLiteral("--idea"), QStringLiteral("A keeper and a lost ship"), QStringLiteral("--scenes"),
                        QStringLiteral("3"), QStringLiteral("--sandbox"), QStringLiteral("--fast"), QStringLiteral("--quiet"),
                        QStringLiteral("--runs-root"), dir.filePath(QStringLiteral("runs")), QStringLiteral("--history-db"), db});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QString runDir = lastLine(r.out).mid(15);
        QFile f(runDir + QStringLiteral("/artifact-metadata.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject a = QJsonDocument::fromJson(f.readAll()).object();
        const QJsonObject qm = a.value(QStringLiteral("QualityMetrics")).toObject();
        // With the sandbox LLM (and its vision model) every metric is measured or says why not.
        QVERIFY(qm.value(QStringLiteral("EntityLinkageScore")).isDouble());
        QVERIFY(qm.value(QStringLiteral("SceneDiversityEntropy")).isDouble());
        QVERIFY2(qm.value(QStringLiteral("CoherenceJudgeScore")).isDouble(), QJsonDocument(qm).toJson().constData());
        QVERIFY(qm.value(QStringLiteral("SemanticAlignmentMargin")).isDouble());
        for (const QJsonValue u : qm.value(QStringLiteral("Unmeasured")).toArray())
            QVERIFY2(u.toString().contains(QLatin1Char(':')), qPrintable(u.toString())); // "<Metric>: <reason>"
        QVERIFY(a.value(QStringLiteral("Scenes")).toArray().at(0).toObject().value(QStringLiteral("QualityMetrics")).toObject()
                    .contains(QStringLiteral("BlankFrameRatio")));
        QCOMPARE(gd::telemetry::RunValidator::validate(runDir).exitCode, 0);

        r = run({QStringLiteral("kpi"), runDir, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0 || r.exitCode == 1, qPrintable(r.err));
        const QJsonArray kpis = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QVERIFY(kpis.size() >= 15);
        bool anyFail = false;
        for (const QJsonValue k : kpis)
            anyFail = anyFail || k.toObject().value(QStringLiteral("Status")).toString() == QLatin1String("FAIL");
        QVERIFY(!kpis.at(0).toObject().value(QStringLiteral("Status")).toString().isEmpty());
        QCOMPARE(r.exitCode, anyFail ? 1 : 0); // exit 1 exactly when a KPI fails
        r = run({QStringLiteral("kpi"), QStringLiteral("--last"), QStringLiteral("5"), QStringLiteral("--history-db"), db});
        QVERIFY2(r.out.contains(QStringLiteral("KPIs over 1 run(s)")), qPrintable(r.out + r.err));
    }

    void sweepFiguresMatchAnIndependentRecount()
    {
        QTemporaryDir dir;
        const QString db = dir.filePath(QStringLiteral("h.sqlite"));
        for (int i = 0; i < 2; ++i)
            QCOMPARE(run({QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"), QStringLiteral("--sandbox"),
                          QStringLiteral("--fast"), QStringLiteral("--quiet"), QStringLiteral("--no-quality"), QStringLiteral("--runs-root"),
                          dir.filePath(QStringLiteral("runs")), QStringLiteral("--history-db"), db})
                         .exitCode,
                     0);
        QCOMPARE(run({QStringLiteral("sweep"), QStringLiteral("-o"), dir.filePath(QStringLiteral("sweep")), QStringLiteral("--history-db"), db}).exitCode, 0);
        QFile rep(dir.filePath(QStringLiteral("sweep/report.json")));
        QVERIFY(rep.open(QIODevice::ReadOnly));
        const QJsonObject report = QJsonDocument::fromJson(rep.readAll()).object();
        // Recount from the artifacts themselves: nearest-rank P50 of DurationSeconds and the frame total.
        QVector<double> durations;
        int frames = 0;
        for (const QString& run : QDir(dir.filePath(QStringLiteral("runs"))).entryList({QStringLiteral("2*")}, QDir::Dirs)) {
            QFile f(dir.filePath(QStringLiteral("runs/") + run + QStringLiteral("/artifact-metadata.json")));
            QVERIFY(f.open(QIODevice::ReadOnly));
            for (const QJsonValue s : QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("Scenes")).toArray()) {
                durations << s.toObject().value(QStringLiteral("Telemetry")).toObject().value(QStringLiteral("DurationSeconds")).toDouble();
                frames += s.toObject().value(QStringLiteral("FrameCount")).toInt();
            }
        }
        std::sort(durations.begin(), durations.end());
        const double p50 = durations.at(int(std::ceil(0.5 * durations.size())) - 1);
        QCOMPARE(report.value(QStringLiteral("Scenes")).toInt(), int(durations.size()));
        QCOMPARE(report.value(QStringLiteral("DurationSeconds")).toObject().value(QStringLiteral("P50")).toDouble(), p50);
        int reportFrames = 0;
        for (const QJsonValue v : report.value(QStringLiteral("Series")).toObject().value(QStringLiteral("FrameCount")).toArray())
            reportFrames += v.toInt();
        QCOMPARE(reportFrames, frames);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
