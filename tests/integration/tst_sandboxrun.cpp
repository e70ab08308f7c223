#include "RunHarness.h"

#include <QDirIterator>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QProcess>
#include <QScopeGuard>
#include <QTcpServer>
#include <QTest>

using gd::sandbox::FaultRule;

namespace {
FaultRule fault(const QString& spec)
{
    QString e;
    auto f = FaultRule::parse(spec, &e);
    if (!f)
        qFatal("bad fault spec %s: %s", qPrintable(spec), qPrintable(e));
    return *f;
}
const gd::telemetry::SceneRecord& scene(const RunOutcome& o, int i)
{
    return o.record.scenes.at(i);
}
QJsonObject artifact(const RunOutcome& o)
{
    QFile f(QDir(o.runDir).filePath(QStringLiteral("artifact-metadata.json")));
    f.open(QIODevice::ReadOnly);
    return QJsonDocument::fromJson(f.readAll()).object();
}
QString summary(const RunOutcome& o)
{
    QFile f(QDir(o.runDir).filePath(QStringLiteral("run-summary.txt")));
    f.open(QIODevice::ReadOnly);
    return QString::fromUtf8(f.readAll());
}
void expectValid(const RunOutcome& o)
{
    const auto v = gd::telemetry::RunValidator::validate(o.runDir);
    QVERIFY2(v.exitCode == 0, qPrintable(v.errors.join(QLatin1Char('\n'))));
}
} // namespace

// Whole runs through the real pipeline against the protocol-faithful sandbox: the happy paths and
// every failure case of the render-pipeline issue.
class TestSandboxRun : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void happyPathLocalWithDoneMarkers()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(3, 8));
        QCOMPARE(o.exitCode, 0);
        QCOMPARE(o.record.scenes.size(), 3);
        for (const auto& s : o.record.scenes) {
            QVERIFY(s.kept());
            QCOMPARE(s.kept()->frameCount, 8);
            QCOMPARE(s.attempts.size(), 1);
            QVERIFY(s.kept()->telemetry.doneMarkerDetected);
            QCOMPARE(s.kept()->telemetry.completionSignal, QStringLiteral("websocket"));
            QVERIFY(s.kept()->telemetry.executionSuccessDetected);
            QCOMPARE(s.kept()->telemetry.historyExitReason, QStringLiteral("success"));
            QCOMPARE(s.kept()->telemetry.gpu.source, QStringLiteral("system_stats"));
            const QDir frames(QDir(o.runDir).filePath(s.sceneId + QStringLiteral("/attempt-1")));
            QCOMPARE(frames.entryList({QStringLiteral("*.png")}, QDir::Files).size(), 8);
            QVERIFY(QFile::exists(QDir(o.runDir).filePath(s.sceneId + QStringLiteral("/history.json"))));
            QVERIFY(QFile::exists(QDir(o.runDir).filePath(s.sceneId + QStringLiteral("/scene.json"))));
        }
        QVERIFY(QFile::exists(QDir(o.runDir).filePath(QStringLiteral("story/story.json"))));
        expectValid(o);
        const QJsonObject a = artifact(o);
        QCOMPARE(a.value(QStringLiteral("Summary")).toObject().value(QStringLiteral("TotalFrames")).toInt(),
                 24);
        QCOMPARE(a.value(QStringLiteral("Summary"))
                     .toObject()
                     .value(QStringLiteral("DoneMarkersDetected"))
                     .toInt(),
                 3);
        QVERIFY(summary(o).contains(
            QStringLiteral("Scene summary: 3/3 succeeded | total frames=24 | requeues=0")));
    }

    void happyPathRemoteOverView()
    {
        RunHarness h;
        h.remote = true;
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(2, 6));
        QCOMPARE(o.exitCode, 0);
        for (const auto& s : o.record.scenes) {
            QCOMPARE(s.kept()->frameCount, 6);
            QVERIFY(s.kept()->telemetry.doneMarkerDetected);
        }
        expectValid(o);
    }

    void markerNodeMissingFallsBackToStabilityWindow()
    {
        RunHarness h;
        h.config.markerNodeInstalled = false;
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(1, 5));
        QCOMPARE(o.exitCode, 0);
        QCOMPARE(scene(o, 0).kept()->frameCount, 5);
        QVERIFY(!scene(o, 0).kept()->telemetry.doneMarkerDetected);
        QCOMPARE(o.warnings.size(), 1);
        QVERIFY2(o.warnings.first().contains(QStringLiteral("GemDirectSaveFrames")) &&
                     o.warnings.first().contains(QStringLiteral("custom_nodes")),
                 qPrintable(o.warnings.first()));
        expectValid(o);
    }

    void serverDownAtStartIsExit3Quickly()
    {
        RunHarness h;
        quint16 port;
        {
            QTcpServer probe;
            probe.listen(QHostAddress::LocalHost, 0);
            port = probe.serverPort();
        }
        const RunOutcome o = h.run(makeStory(1, 4), testPolicy(), QStringLiteral("sandbox"),
                                   QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
        QCOMPARE(o.exitCode, 3);
        QVERIFY(o.seconds < 10.0);
        QVERIFY(o.message.contains(QStringLiteral("not reachable")));
        QVERIFY(o.runDir.isEmpty()); // nothing queued, no run directory
    }

    void unknownWorkflowIsBadInput()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(1, 4), testPolicy(), QStringLiteral("no-such-profile"));
        QCOMPARE(o.exitCode, 2);
        QVERIFY2(o.message.contains(QStringLiteral("no-such-profile")), qPrintable(o.message));
        QCOMPARE(h.host.server()->promptPostCount(), 0);
    }

    void missingNodeClassIsNamedAndNothingQueued()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        // The operators' old SVD graph uses a marker class no installed package provides.
        const QString dir = h.root.filePath(QStringLiteral("profiles"));
        QDir().mkpath(dir);
        QFile::copy(QStringLiteral(GD_TEST_DATA_DIR "/workflows/text-to-video.json"),
                    dir + QStringLiteral("/legacy-svd.json"));
        QFile prof(dir + QStringLiteral("/legacy-svd.profile.json"));
        QVERIFY(prof.open(QIODevice::WriteOnly));
        prof.write(
            R"({"name":"legacy-svd","outputKind":"frames","mapping":{"7:filename_prefix":"filename_prefix","2:image":"keyframe_image","5:seed":"seed"}})");
        prof.close();
        // A profile needs a prompt role; map the conditioning's... the graph has no text input, so
        // this profile is rejected for that reason before any server check.
        RunOutcome o = h.run(makeStory(1, 4), testPolicy(), dir + QStringLiteral("/legacy-svd.profile.json"));
        QCOMPARE(o.exitCode, 2);
        QVERIFY2(o.message.contains(QStringLiteral("prompt")), qPrintable(o.message));

        // With a prompt mapped onto a string input the profile is valid, and the server check names
        // the classes it lacks.
        QVERIFY(prof.open(QIODevice::WriteOnly | QIODevice::Truncate));
        prof.write(
            R"({"name":"legacy-svd","outputKind":"frames","mapping":{"7:filename_prefix":"filename_prefix","1:ckpt_name":"prompt"}})");
        prof.close();
        o = h.run(makeStory(1, 4), testPolicy(), dir + QStringLiteral("/legacy-svd.profile.json"));
        QCOMPARE(o.exitCode, 2);
        QVERIFY2(o.message.contains(QStringLiteral("WriteDoneMarker|pysssss")), qPrintable(o.message));
        QVERIFY2(o.message.contains(QStringLiteral("ReroutePrimitive|pysssss")), qPrintable(o.message));
        QCOMPARE(h.host.server()->promptPostCount(), 0);
    }

    void executionErrorAndOomRequeue_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("execution-error") << QStringLiteral("execution-error");
        QTest::newRow("oom") << QStringLiteral("oom");
        QTest::newRow("interrupt") << QStringLiteral("interrupt");
    }
    void executionErrorAndOomRequeue()
    {
        QFETCH(QString, kind);
        RunHarness h;
        h.config.faults << fault(kind + QStringLiteral(":scene-001_a1"));
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(1, 4));
        QCOMPARE(o.exitCode, 0);
        const auto& s = scene(o, 0);
        QCOMPARE(s.attempts.size(), 2);
        QCOMPARE(s.attempts.at(0).frameCount, 0);
        QVERIFY(!s.attempts.at(0).errors.isEmpty());
        QCOMPARE(s.kept()->attempt, 2);
        QCOMPARE(s.kept()->frameCount, 4);
        QVERIFY(
            summary(o).contains(QStringLiteral("[Scene scene-001] Requeue requested (next attempt 2/2)")));
        if (kind == QLatin1String("oom"))
            QVERIFY(
                s.attempts.at(0).errors.join(QLatin1Char(' ')).contains(QStringLiteral("OutOfMemoryError")));
        expectValid(o);
    }

    void zeroAndFewFramesRequeueAndKeepTheBest()
    {
        RunHarness h;
        h.config.faults << fault(
            QStringLiteral("few-frames:scene-001:0:3")); // every attempt of scene 1: 3 frames
        h.config.faults << fault(QStringLiteral("zero-frames:scene-002_a1"));
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(2, 6));
        QCOMPARE(o.exitCode, 0); // below floor but > 0 frames still counts as success (with a warning)
        const auto& s1 = scene(o, 0);
        QCOMPARE(s1.attempts.size(), 2);
        QCOMPARE(s1.kept()->frameCount, 3);
        QVERIFY(!s1.kept()->meetsFrameFloor);
        QVERIFY(
            summary(o).contains(QStringLiteral("[Scene scene-001] WARNING: Frame count below floor (3/6)")));
        const auto& s2 = scene(o, 1);
        QCOMPARE(s2.attempts.size(), 2);
        QCOMPARE(s2.attempts.at(0).frameCount, 0);
        QCOMPARE(s2.kept()->frameCount, 6);
        expectValid(o);
    }

    void validationErrorNeverRequeues()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        // A profile whose checkpoint loader has no ckpt_name: the server answers 400 with node_errors.
        const QString dir = h.root.filePath(QStringLiteral("profiles"));
        QDir().mkpath(dir);
        QFile src(QStringLiteral(GD_SOURCE_DIR "/resources/workflows/sandbox.json"));
        QVERIFY(src.open(QIODevice::ReadOnly));
        QJsonObject graph = QJsonDocument::fromJson(src.readAll()).object();
        QJsonObject ks = graph.value(QStringLiteral("5")).toObject();
        QJsonObject inputs = ks.value(QStringLiteral("inputs")).toObject();
        inputs.insert(QStringLiteral("steps"), -4);
        ks.insert(QStringLiteral("inputs"), inputs);
        graph.insert(QStringLiteral("5"), ks);
        QFile g(dir + QStringLiteral("/broken.json"));
        QVERIFY(g.open(QIODevice::WriteOnly));
        g.write(QJsonDocument(graph).toJson());
        g.close();
        QFile::copy(QStringLiteral(GD_SOURCE_DIR "/resources/workflows/sandbox.profile.json"),
                    dir + QStringLiteral("/broken.profile.json"));
        const RunOutcome o = h.run(makeStory(1, 4), testPolicy(), dir + QStringLiteral("/broken.json"));
        QCOMPARE(o.exitCode, 1);
        const auto& s = scene(o, 0);
        QCOMPARE(s.attempts.size(), 1);
        const QString err = s.attempts.at(0).errors.join(QLatin1Char('\n'));
        QVERIFY2(err.contains(QStringLiteral("node 5 (KSampler) input steps")), qPrintable(err));
        QVERIFY(summary(o).contains(QStringLiteral("[Scene scene-001] ERROR: ")));
        expectValid(o);
    }

    void webSocketDropAndSilenceRecover_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("ws-drop") << QStringLiteral("ws-drop");
        QTest::newRow("ws-silent") << QStringLiteral("ws-silent");
        QTest::newRow("history-delay") << QStringLiteral("history-delay:scene-001:1:1500");
    }
    void webSocketDropAndSilenceRecover()
    {
        QFETCH(QString, kind);
        RunHarness h;
        h.config.stepDelayMs = 40; // long enough for the fault to land mid-run
        h.config.faults << fault(kind.contains(QLatin1Char(':')) ? kind
                                                                 : kind + QStringLiteral(":scene-001_a1"));
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(2, 4));
        QCOMPARE(o.exitCode, 0);
        QCOMPARE(scene(o, 0).kept()->frameCount, 4);
        QCOMPARE(scene(o, 0).attempts.size(), 1);
        QCOMPARE(scene(o, 1).kept()->frameCount, 4);
        if (kind != QLatin1String("history-delay:scene-001:1:1500"))
            QVERIFY(scene(o, 0).kept()->telemetry.historyAttempts >= 1);
        expectValid(o);
    }

    void missingMarkerUsesStabilityWindowWithNote()
    {
        RunHarness h;
        h.config.faults << fault(QStringLiteral("missing-marker:scene-001_a1"));
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(1, 4));
        QCOMPARE(o.exitCode, 0);
        const auto& t = scene(o, 0).kept()->telemetry;
        QVERIFY(!t.doneMarkerDetected);
        QVERIFY(t.doneMarkerWaitSeconds >= 0.9);
        QVERIFY2(t.fallbackNotes.join(QLatin1Char(';'))
                     .contains(QStringLiteral("Done marker not found after 1 seconds (waited ")),
                 qPrintable(t.fallbackNotes.join(QLatin1Char(';'))));
        expectValid(o);
    }

    void unstableFramesForceACopyWithDebugFile()
    {
        RunHarness h;
        h.config.markerNodeInstalled = false; // no marker: the stability window decides
        h.config.faults << fault(QStringLiteral("slow-frames:scene-001_a1:1:100"));
        QVERIFY(h.startServer());
        gd::pipeline::QueuePolicy p = testPolicy();
        // The newest frame is a few ms old when the check runs: with a 5 s window and no retries
        // it can never be stable, so the copy is forced.
        p.stabilityWindowSeconds = 5.0;
        p.stabilityRetries = 0;
        const RunOutcome o = h.run(makeStory(1, 4), p);
        QCOMPARE(o.exitCode, 0);
        const auto& t = scene(o, 0).kept()->telemetry;
        QVERIFY(t.forcedCopyTriggered);
        QCOMPARE(scene(o, 0).kept()->frameCount, 4);
        QVERIFY(t.forcedCopyDebugPath.startsWith(QStringLiteral("scene-001/forced-copy-debug-")));
        QFile dbg(QDir(o.runDir).filePath(t.forcedCopyDebugPath));
        QVERIFY(dbg.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(dbg.readAll());
        QVERIFY2(text.contains(QStringLiteral("Candidate: ")) && text.contains(QStringLiteral("frames=4")),
                 qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("Stability retries: 0")));
        QVERIFY(text.contains(QStringLiteral("Scene prefix: gemdirect/")));
        QVERIFY(t.fallbackNotes.contains(QStringLiteral("Forced copy after stability retries; see ") +
                                         t.forcedCopyDebugPath));
        expectValid(o);
    }

    void hostileOutputPathsAreRefused_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("filename") << QStringLiteral("hostile-filename");
        QTest::newRow("subfolder") << QStringLiteral("hostile-subfolder");
    }
    void hostileOutputPathsAreRefused()
    {
        QFETCH(QString, kind);
        RunHarness h;
        h.remote = true; // the /view path is where a hostile name could do damage
        h.config.faults << fault(kind + QStringLiteral(":scene-001:0"));
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(1, 4));
        const auto& s = scene(o, 0);
        const QString errors = s.attempts.at(0).errors.join(QLatin1Char('\n'));
        QVERIFY2(errors.contains(QStringLiteral("Refused output path")), qPrintable(errors));
        // Nothing was written outside the run directory.
        QVERIFY(!QFile::exists(h.root.filePath(QStringLiteral("escape.png"))));
        QVERIFY(!QFile::exists(h.root.filePath(QStringLiteral("runs/escape.png"))));
        QDirIterator it(o.runDir, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext())
            QVERIFY(
                QFileInfo(it.next()).absoluteFilePath().startsWith(QFileInfo(o.runDir).absoluteFilePath()));
        expectValid(o);
    }

    void truncatedFrameIsRejectedWithWarning()
    {
        RunHarness h;
        h.config.faults << fault(QStringLiteral("truncated-frame:scene-001:0"));
        QVERIFY(h.startServer());
        gd::pipeline::QueuePolicy p = testPolicy();
        p.frameFloor = 1;
        const RunOutcome o = h.run(makeStory(1, 5), p);
        QCOMPARE(o.exitCode, 0);
        const auto* k = scene(o, 0).kept();
        QCOMPARE(k->frameCount, 4);
        QVERIFY2(k->warnings.join(QLatin1Char('\n')).contains(QStringLiteral("rejected: truncated PNG")),
                 qPrintable(k->warnings.join(QLatin1Char('\n'))));
        expectValid(o);
    }

    void serverRestartMidRunIsBoundedAndLaterScenesRun()
    {
        RunHarness h;
        h.config.stepDelayMs = 40;
        h.config.faults << fault(QStringLiteral("restart:scene-001_a1:1:800"));
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(2, 4));
        QVERIFY2(o.exitCode == 0 || o.exitCode == 1, qPrintable(o.message));
        const auto& s1 = scene(o, 0);
        QVERIFY(!s1.attempts.at(0).errors.isEmpty()); // the lost prompt is reported
        QCOMPARE(scene(o, 1).kept()->frameCount, 4);  // the next scene ran after the reconnect
        QVERIFY(o.seconds < 60);
        expectValid(o);
    }

    void cancelInterruptsAndMarksTheRestCancelled()
    {
        RunHarness h;
        h.config.stepDelayMs = 100;
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(3, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000,
                                   [](gd::pipeline::RunController* c) {
                                       QObject::connect(c, &gd::pipeline::RunController::sceneState, c,
                                                        [c](const QString&, const QString& state) {
                                                            if (state == QLatin1String("running"))
                                                                c->cancel();
                                                        });
                                   });
        QCOMPARE(o.exitCode, 130);
        QCOMPARE(scene(o, 0).status, QStringLiteral("cancelled"));
        QCOMPARE(scene(o, 1).status, QStringLiteral("cancelled"));
        QCOMPARE(scene(o, 2).status, QStringLiteral("cancelled"));
        expectValid(o);
    }

    void fullDiskWhileCollectingKeepsArtifactsValid()
    {
        // A small tmpfs as the runs root: frames are copied (another filesystem) until it is full.
        RunHarness h;
        const QString runs = h.root.filePath(QStringLiteral("runs"));
        QDir().mkpath(runs);
        if (QProcess::execute(QStringLiteral("mount"),
                              {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                               QStringLiteral("size=160k"), QStringLiteral("tmpfs"), runs}) != 0)
            QSKIP("cannot mount a small tmpfs here (needs root)");
        auto cleanup = qScopeGuard([&] { QProcess::execute(QStringLiteral("umount"), {runs}); });
        h.config.outputDir =
            QStringLiteral("/tmp/gd-fulldisk-%1/output").arg(QCoreApplication::applicationPid());
        auto cleanupOut = qScopeGuard([&] { QDir(h.config.outputDir).removeRecursively(); });
        h.config.frameSize = QSize(480, 270);
        QVERIFY(h.startServer());
        gd::pipeline::QueuePolicy p = testPolicy();
        p.sceneRetryBudget = 0;
        // The filled tmpfs never gets space back: the queue is held for the (short) bound, then the
        // run ends, resumable, with what the scene wrote kept.
        const RunOutcome o = h.run(makeStory(1, 40), p, QStringLiteral("sandbox"), {}, 120000, {},
                                   [](gd::pipeline::RunOptions& opt) {
                                       opt.diskFullHoldSeconds = 1;
                                       opt.diskFullPollSeconds = 0.2;
                                   });
        QCOMPARE(o.exitCode, 1);
        const QString errors = scene(o, 0).attempts.at(0).errors.join(QLatin1Char('\n'));
        QVERIFY2(errors.contains(QStringLiteral("No space left on device")), qPrintable(errors));
        QVERIFY2(o.warnings.join(QLatin1Char('\n')).contains(QStringLiteral("Queue held: the disk under ")),
                 qPrintable(o.warnings.join(QLatin1Char('\n'))));
        QVERIFY2(o.message.contains(QStringLiteral("gemdirect resume")), qPrintable(o.message));
        QJsonParseError pe{};
        QFile f(QDir(o.runDir).filePath(QStringLiteral("artifact-metadata.json")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QJsonDocument::fromJson(f.readAll(), &pe);
        QCOMPARE(pe.error, QJsonParseError::NoError);
    }

    void videoOutputIsCountedFromTheContainer()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        const QString dir = h.root.filePath(QStringLiteral("profiles"));
        QDir().mkpath(dir);
        const QByteArray graph =
            "{\"1\":{\"class_type\":\"CheckpointLoaderSimple\",\"inputs\":{\"ckpt_name\":\"m.safetensors\"}},"
            "\"2\":{\"class_type\":\"CLIPTextEncode\",\"inputs\":{\"clip\":[\"1\",1],\"text\":\"\"}},"
            "\"4\":{\"class_type\":\"EmptyLatentImage\",\"inputs\":{\"width\":320,\"height\":180,\"batch_"
            "size\":9}},"
            "\"5\":{\"class_type\":\"KSampler\",\"inputs\":{\"model\":[\"1\",0],\"positive\":[\"2\",0],"
            "\"negative\":[\"2\",0],"
            "\"latent_image\":[\"4\",0],\"seed\":1,\"steps\":2,\"cfg\":7.0,\"sampler_name\":\"euler\","
            "\"scheduler\":\"normal\",\"denoise\":1.0}},"
            "\"6\":{\"class_type\":\"VAEDecode\",\"inputs\":{\"samples\":[\"5\",0],\"vae\":[\"1\",2]}},"
            "\"7\":{\"class_type\":\"CreateVideo\",\"inputs\":{\"images\":[\"6\",0],\"fps\":16}},"
            "\"8\":{\"class_type\":\"SaveVideo\",\"inputs\":{\"video\":[\"7\",0],\"filename_prefix\":\"video/"
            "x\",\"format\":\"mp4\",\"codec\":\"h264\"}}}";
        QFile g(dir + QStringLiteral("/clip.json"));
        QVERIFY(g.open(QIODevice::WriteOnly));
        g.write(graph);
        g.close();
        QFile prof(dir + QStringLiteral("/clip.profile.json"));
        QVERIFY(prof.open(QIODevice::WriteOnly));
        prof.write("{\"name\":\"clip\",\"outputKind\":\"video\",\"mapping\":{\"2:text\":\"prompt\",\"4:batch_"
                   "size\":\"frame_count\","
                   "\"5:seed\":\"seed\",\"8:filename_prefix\":\"filename_prefix\"}}");
        prof.close();
        for (const bool remote : {false, true}) {
            h.remote = remote;
            const RunOutcome o = h.run(makeStory(1, 9), testPolicy(), dir + QStringLiteral("/clip.json"));
            QVERIFY2(o.exitCode == 0,
                     qPrintable(o.message + scene(o, 0).attempts.value(0).errors.join(QLatin1Char('\n'))));
            const auto* k = scene(o, 0).kept();
            QCOMPARE(k->frameCount, 9);
            QVERIFY(k->videoFile.endsWith(QStringLiteral(".mp4")));
            QVERIFY(QFile::exists(QDir(o.runDir).filePath(k->videoFile)));
            expectValid(o);
        }
    }

    void keyframeIsUploadedAndInjected()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        QImage kf(64, 64, QImage::Format_RGB32);
        kf.fill(Qt::blue);
        const QString storyDir = h.root.filePath(QStringLiteral("story"));
        QDir().mkpath(storyDir);
        QVERIFY(kf.save(storyDir + QStringLiteral("/kf.png")));
        gd::story::Story story = makeStory(2, 5);
        story.scenes[0].keyframe = QStringLiteral("kf.png");
        const RunOutcome o = h.run(story, testPolicy(), QStringLiteral("svd-img2vid"), {}, 120000, {},
                                   [&](gd::pipeline::RunOptions& opt) { opt.storyDir = storyDir; });
        QCOMPARE(o.exitCode, 1); // scene 2 has no keyframe
        QCOMPARE(scene(o, 0).kept()->frameCount, 5);
        const QJsonObject sent = h.host.server()->lastGraph(scene(o, 0).kept()->promptId);
        QString image;
        for (const auto& node : sent)
            if (node.toObject().value(QStringLiteral("class_type")).toString() == QLatin1String("LoadImage"))
                image = node.toObject()
                            .value(QStringLiteral("inputs"))
                            .toObject()
                            .value(QStringLiteral("image"))
                            .toString();
        QVERIFY2(image.endsWith(QStringLiteral("kf.png")) && image.startsWith(QStringLiteral("gemdirect/")),
                 qPrintable(image));
        const auto& s2 = scene(o, 1);
        QCOMPARE(s2.attempts.size(), 1); // a missing keyframe is not worth a requeue
        QVERIFY(s2.attempts.at(0)
                    .errors.join(QLatin1Char(' '))
                    .contains(QStringLiteral("needs a keyframe image")));
        expectValid(o);
    }

    void serverDeathIsBoundedAndLaterScenesAreTried()
    {
        RunHarness h;
        h.config.stepDelayMs = 40;
        h.config.faults << fault(QStringLiteral("die:scene-001_a1"));
        QVERIFY(h.startServer());
        gd::pipeline::QueuePolicy p = testPolicy();
        p.maxWaitSeconds = 3;
        const RunOutcome o = h.run(makeStory(2, 4), p, QStringLiteral("sandbox"), {}, 120000, {},
                                   [](gd::pipeline::RunOptions& opt) { opt.reconnectWaitSeconds = 1; });
        QCOMPARE(o.exitCode, 1);
        QCOMPARE(o.record.scenes.size(), 2);
        const QString e1 = scene(o, 0).attempts.at(0).errors.join(QLatin1Char('\n'));
        QVERIFY2(!e1.isEmpty(), "the first scene names why it failed");
        QCOMPARE(scene(o, 0).status, QStringLiteral("failed"));
        QVERIFY(!scene(o, 1).attempts.isEmpty()); // still tried after the wait for a reconnect
        QCOMPARE(scene(o, 1).status, QStringLiteral("failed"));
        QVERIFY(o.seconds < 40);
        expectValid(o);
    }
};

QTEST_GUILESS_MAIN(TestSandboxRun)
#include "tst_sandboxrun.moc"
