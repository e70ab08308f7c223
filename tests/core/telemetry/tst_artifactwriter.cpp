#include "SampleRun.h"
#include "telemetry/ArtifactWriter.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace gd::telemetry;

namespace {

const QString kRunDir = QStringLiteral("/runs/20251112-120000");

QJsonObject scene(const QJsonObject& artifact, int i)
{
    return artifact.value(QStringLiteral("Scenes")).toArray().at(i).toObject();
}

QJsonObject telemetry(const QJsonObject& artifact, int i)
{
    return scene(artifact, i).value(QStringLiteral("Telemetry")).toObject();
}

QJsonObject gpu(const QJsonObject& artifact, int i)
{
    return telemetry(artifact, i).value(QStringLiteral("GPU")).toObject();
}

} // namespace

// artifact-metadata.json: the shape operators' tooling parses (contract §3).
class TestArtifactWriter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void topLevelShape();
    void everyTelemetryFieldPresent_data();
    void everyTelemetryFieldPresent();
    void everySceneFieldPresent();
    void nullOnlyWhereAllowed();
    void doneMarkerSourceNamesTheWriter_data();
    void doneMarkerSourceNamesTheWriter();
    void gpuPartiallyAvailable();
    void roundsToOneDecimal();
    void pathsRelativeWithForwardSlashes();
    void keptAttemptDrivesSceneValues();
    void unstartedSceneHasCompleteTelemetry();
    void extraSceneFieldsNeverOverrideContractKeys();
    void summaryBlock();
    void writeProducesIndentedParsableFile();
    void writeFailsWhenParentIsAFile();
};

void TestArtifactWriter::topLevelShape()
{
    const QJsonObject a = ArtifactWriter::toJson(sample::run(kRunDir));
    for (const char* key : {"RunId", "Timestamp", "RunDir", "AppVersion", "QueueConfig", "LLMHealthInfo",
                            "Story", "Scenes", "QualityMetrics", "Feedback", "Summary"})
        QVERIFY2(a.contains(QLatin1String(key)), key);
    QCOMPARE(a.value(QStringLiteral("RunId")).toString(), QStringLiteral("20251112-120000"));
    QCOMPARE(a.value(QStringLiteral("Timestamp")).toString(), QStringLiteral("2025-11-12T12:00:00.000Z"));
    QCOMPARE(a.value(QStringLiteral("RunDir")).toString(), kRunDir);

    const QJsonObject qc = a.value(QStringLiteral("QueueConfig")).toObject();
    QCOMPARE(qc.value(QStringLiteral("SceneRetryBudget")).toInt(), 1);
    QCOMPARE(qc.value(QStringLiteral("HistoryMaxWaitSeconds")).toDouble(), 600.0);
    QCOMPARE(qc.value(QStringLiteral("HistoryMaxAttempts")).toInt(), 0);
    QCOMPARE(qc.value(QStringLiteral("HistoryPollIntervalSeconds")).toDouble(), 2.0);
    QCOMPARE(qc.value(QStringLiteral("PostExecutionTimeoutSeconds")).toDouble(), 30.0);

    const QJsonObject llm = a.value(QStringLiteral("LLMHealthInfo")).toObject();
    for (const char* key :
         {"Url", "Status", "Models", "Skipped", "SkipReason", "Override", "Error", "Timestamp"})
        QVERIFY2(llm.contains(QLatin1String(key)), key);
    QCOMPARE(llm.value(QStringLiteral("Status")).toString(), QStringLiteral("success"));
    QCOMPARE(llm.value(QStringLiteral("Timestamp")).toString(), QStringLiteral("2025-11-12T12:00:00.500Z"));
    QVERIFY(llm.value(QStringLiteral("Override")).isNull());

    const QJsonObject story = a.value(QStringLiteral("Story")).toObject();
    for (const char* key : {"Id", "Title", "Logline", "DirectorsVision", "Genre", "TemplateId",
                            "TemplateVersion", "Generator", "File", "SceneCount", "LLM", "Warnings"})
        QVERIFY2(story.contains(QLatin1String(key)), key);
    QCOMPARE(story.value(QStringLiteral("File")).toString(), QStringLiteral("story/story.json"));
    QCOMPARE(a.value(QStringLiteral("Scenes")).toArray().size(), 3);
}

void TestArtifactWriter::everyTelemetryFieldPresent_data()
{
    QTest::addColumn<int>("sceneIndex");
    QTest::newRow("clean scene") << 0;
    QTest::newRow("forced copy scene") << 1;
    QTest::newRow("failed scene, no GPU") << 2;
    QTest::newRow("scene not started") << 3;
}

void TestArtifactWriter::everyTelemetryFieldPresent()
{
    QFETCH(int, sceneIndex);
    RunRecord run = sample::run(kRunDir);
    SceneRecord unstarted;
    unstarted.sceneId = QStringLiteral("scene-004");
    run.scenes.append(unstarted);
    const QJsonObject t = telemetry(ArtifactWriter::toJson(run), sceneIndex);

    const QStringList keys{QStringLiteral("DurationSeconds"),
                           QStringLiteral("QueueStart"),
                           QStringLiteral("QueueEnd"),
                           QStringLiteral("MaxWaitSeconds"),
                           QStringLiteral("PollIntervalSeconds"),
                           QStringLiteral("HistoryAttempts"),
                           QStringLiteral("HistoryAttemptLimit"),
                           QStringLiteral("HistoryExitReason"),
                           QStringLiteral("ExecutionSuccessDetected"),
                           QStringLiteral("ExecutionSuccessAt"),
                           QStringLiteral("PostExecutionTimeoutSeconds"),
                           QStringLiteral("HistoryPostExecutionTimeoutReached"),
                           QStringLiteral("SceneRetryBudget"),
                           QStringLiteral("CompletionSignal"),
                           QStringLiteral("DoneMarkerDetected"),
                           QStringLiteral("DoneMarkerWaitSeconds"),
                           QStringLiteral("DoneMarkerPath"),
                           QStringLiteral("ForcedCopyTriggered"),
                           QStringLiteral("ForcedCopyDebugPath"),
                           QStringLiteral("GPU"),
                           QStringLiteral("System")};
    for (const QString& key : keys)
        QVERIFY2(t.contains(key), qPrintable(key));
    const QStringList nullable{QStringLiteral("ExecutionSuccessAt"), QStringLiteral("DoneMarkerPath"),
                               QStringLiteral("ForcedCopyDebugPath")};
    for (const QString& key : keys) {
        if (!nullable.contains(key))
            QVERIFY2(!t.value(key).isNull(), qPrintable(key + QStringLiteral(" must never be null")));
    }

    const QJsonObject g = t.value(QStringLiteral("GPU")).toObject();
    for (const char* key : {"Name", "Type", "Index", "VramTotal", "VramFreeBefore", "VramFreeAfter",
                            "VramBeforeMB", "VramAfterMB", "VramDeltaMB", "VramPeakUsedMB", "Source"})
        QVERIFY2(g.contains(QLatin1String(key)), key);
    QVERIFY(g.value(QStringLiteral("Source")).isString());

    const QJsonObject sys = t.value(QStringLiteral("System")).toObject();
    for (const char* key : {"Before", "After", "FallbackNotes"})
        QVERIFY2(sys.contains(QLatin1String(key)), key);
    QVERIFY(sys.value(QStringLiteral("FallbackNotes")).isArray());
}

void TestArtifactWriter::everySceneFieldPresent()
{
    const QJsonObject s = scene(ArtifactWriter::toJson(sample::run(kRunDir)), 1);
    for (const char* key : {"SceneId",
                            "Title",
                            "Prompt",
                            "NegativePrompt",
                            "FrameFloor",
                            "FrameCount",
                            "DurationSeconds",
                            "FramePrefix",
                            "Success",
                            "MeetsFrameFloor",
                            "HistoryRetrieved",
                            "HistoryAttempts",
                            "HistoryErrors",
                            "Warnings",
                            "Errors",
                            "AttemptsRun",
                            "Requeued",
                            "AttemptSummaries",
                            "GeneratedFramesDir",
                            "HistoryPath",
                            "SceneRetryBudget",
                            "HistoryAttemptLimit",
                            "HistoryConfig",
                            "Backend",
                            "PromptId",
                            "Telemetry",
                            "Status",
                            "Workflow"})
        QVERIFY2(s.contains(QLatin1String(key)), key);
    const QJsonObject hc = s.value(QStringLiteral("HistoryConfig")).toObject();
    QCOMPARE(hc.value(QStringLiteral("MaxWaitSeconds")).toDouble(), 0.5);
    QCOMPARE(hc.value(QStringLiteral("MaxAttempts")).toInt(), 5);
    QCOMPARE(hc.value(QStringLiteral("PollIntervalSeconds")).toDouble(), 2.0);
    QCOMPARE(hc.value(QStringLiteral("PostExecutionTimeoutSeconds")).toDouble(), 30.0);
    QCOMPARE(s.value(QStringLiteral("Status")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(s.value(QStringLiteral("Workflow")).toString(), QStringLiteral("wan-t2v"));
}

void TestArtifactWriter::doneMarkerSourceNamesTheWriter_data()
{
    QTest::addColumn<bool>("detected");
    QTest::addColumn<QString>("recorded");
    QTest::addColumn<QJsonValue>("written");
    QTest::newRow("sentinel marker") << true << QStringLiteral("sentinel") << QJsonValue(QStringLiteral("sentinel"));
    QTest::newRow("node marker") << true << QStringLiteral("node") << QJsonValue(QStringLiteral("node"));
    // A marker without a recorded writer is the node's (a marker without "writer" is).
    QTest::newRow("writer not recorded") << true << QString() << QJsonValue(QStringLiteral("node"));
    QTest::newRow("no marker") << false << QString() << QJsonValue(QJsonValue::Null);
}

void TestArtifactWriter::doneMarkerSourceNamesTheWriter()
{
    QFETCH(bool, detected);
    QFETCH(QString, recorded);
    QFETCH(QJsonValue, written);
    RunRecord run = sample::run(kRunDir);
    AttemptTelemetry& t = run.scenes[0].attempts[0].telemetry;
    t.doneMarkerDetected = detected;
    t.doneMarkerSource = recorded;
    const QJsonObject tel = telemetry(ArtifactWriter::toJson(run), 0);
    QVERIFY(tel.contains(QStringLiteral("DoneMarkerSource")));
    QCOMPARE(tel.value(QStringLiteral("DoneMarkerSource")), written);
    // The scene that fell back to a forced copy has no marker and no source.
    QVERIFY(telemetry(ArtifactWriter::toJson(run), 1).value(QStringLiteral("DoneMarkerSource")).isNull());
}

void TestArtifactWriter::nullOnlyWhereAllowed()
{
    const QJsonObject a = ArtifactWriter::toJson(sample::run(kRunDir));

    // scene-001: marker seen, no forced copy.
    QCOMPARE(telemetry(a, 0).value(QStringLiteral("DoneMarkerPath")).toString(),
             QStringLiteral("/comfy/output/gemdirect_scene-001_a1.done"));
    QVERIFY(telemetry(a, 0).value(QStringLiteral("ForcedCopyDebugPath")).isNull());
    QCOMPARE(telemetry(a, 0).value(QStringLiteral("ExecutionSuccessAt")).toString(),
             QStringLiteral("2025-11-12T12:00:13.000Z"));
    QCOMPARE(telemetry(a, 0)
                 .value(QStringLiteral("System"))
                 .toObject()
                 .value(QStringLiteral("Before"))
                 .toObject()
                 .value(QStringLiteral("os"))
                 .toString(),
             QStringLiteral("posix"));

    // scene-002: forced copy, no marker.
    QVERIFY(telemetry(a, 1).value(QStringLiteral("DoneMarkerPath")).isNull());
    QVERIFY(telemetry(a, 1).value(QStringLiteral("ForcedCopyDebugPath")).isString());
    QVERIFY(
        telemetry(a, 1).value(QStringLiteral("System")).toObject().value(QStringLiteral("Before")).isNull());

    // scene-003: execution never succeeded; no GPU numbers: unavailable is null, never 0.
    const QJsonObject t3 = telemetry(a, 2);
    QVERIFY(t3.value(QStringLiteral("ExecutionSuccessAt")).isNull());
    QCOMPARE(t3.value(QStringLiteral("ExecutionSuccessDetected")).toBool(true), false);
    const QJsonObject g3 = gpu(a, 2);
    for (const char* key : {"Index", "VramTotal", "VramFreeBefore", "VramFreeAfter", "VramBeforeMB",
                            "VramAfterMB", "VramDeltaMB", "VramPeakUsedMB"})
        QVERIFY2(g3.value(QLatin1String(key)).isNull(), key);
    QCOMPARE(g3.value(QStringLiteral("Source")).toString(), QStringLiteral("missing"));
    QCOMPARE(g3.value(QStringLiteral("Name")).toString(), QString());
}

void TestArtifactWriter::gpuPartiallyAvailable()
{
    RunRecord run = sample::run(kRunDir);
    run.scenes[0].attempts[0].telemetry.gpu.vramFreeAfterBytes.reset(); // the after-sample failed
    const QJsonObject g = gpu(ArtifactWriter::toJson(run), 0);
    QCOMPARE(g.value(QStringLiteral("VramBeforeMB")).toDouble(), 10240.0);
    QVERIFY(g.value(QStringLiteral("VramAfterMB")).isNull());
    QVERIFY(g.value(QStringLiteral("VramFreeAfter")).isNull());
    QVERIFY(g.value(QStringLiteral("VramDeltaMB")).isNull());
}

void TestArtifactWriter::roundsToOneDecimal()
{
    const QJsonObject a = ArtifactWriter::toJson(sample::run(kRunDir));
    QCOMPARE(scene(a, 0).value(QStringLiteral("DurationSeconds")).toDouble(), 12.3);
    QCOMPARE(telemetry(a, 0).value(QStringLiteral("DurationSeconds")).toDouble(), 12.3);
    QCOMPARE(telemetry(a, 0).value(QStringLiteral("DoneMarkerWaitSeconds")).toDouble(), 0.4);
    QCOMPARE(telemetry(a, 1).value(QStringLiteral("DurationSeconds")).toDouble(), 75.4);
    QCOMPARE(telemetry(a, 1).value(QStringLiteral("DoneMarkerWaitSeconds")).toDouble(), 60.2);

    // Bytes stay exact; MB are free MiB to 1 dp; the delta is After − Before of the written values.
    QCOMPARE(gpu(a, 0).value(QStringLiteral("VramFreeBefore")).toInteger(), Q_INT64_C(10737418240));
    QCOMPARE(gpu(a, 0).value(QStringLiteral("VramBeforeMB")).toDouble(), 10240.0);
    QCOMPARE(gpu(a, 0).value(QStringLiteral("VramAfterMB")).toDouble(), 9664.0);
    QCOMPARE(gpu(a, 0).value(QStringLiteral("VramDeltaMB")).toDouble(), -576.0);
    QCOMPARE(gpu(a, 0).value(QStringLiteral("VramPeakUsedMB")).toDouble(), 15012.3);
    QCOMPARE(gpu(a, 1).value(QStringLiteral("VramBeforeMB")).toDouble(), 953.7);
    QCOMPARE(gpu(a, 1).value(QStringLiteral("VramAfterMB")).toDouble(), 858.3);
    QCOMPARE(gpu(a, 1).value(QStringLiteral("VramDeltaMB")).toDouble(), -95.4);
}

void TestArtifactWriter::pathsRelativeWithForwardSlashes()
{
    const QJsonObject a = ArtifactWriter::toJson(sample::run(kRunDir));
    QCOMPARE(scene(a, 0).value(QStringLiteral("GeneratedFramesDir")).toString(),
             QStringLiteral("scene-001/attempt-1"));
    QCOMPARE(scene(a, 0).value(QStringLiteral("HistoryPath")).toString(),
             QStringLiteral("scene-001/history.json"));
    QCOMPARE(scene(a, 1).value(QStringLiteral("GeneratedFramesDir")).toString(),
             QStringLiteral("scene-002/attempt-2"));
    QCOMPARE(telemetry(a, 1).value(QStringLiteral("ForcedCopyDebugPath")).toString(),
             QStringLiteral("scene-002/forced-copy-debug-20251112120105.txt"));
    QVERIFY(scene(a, 1).value(QStringLiteral("HistoryPath")).isNull());
    // A path outside the run directory (ComfyUI's output folder) cannot be relative: kept absolute.
    QCOMPARE(telemetry(a, 0).value(QStringLiteral("DoneMarkerPath")).toString(),
             QStringLiteral("/comfy/output/gemdirect_scene-001_a1.done"));
}

void TestArtifactWriter::keptAttemptDrivesSceneValues()
{
    const QJsonObject s = scene(ArtifactWriter::toJson(sample::run(kRunDir)), 1);
    QCOMPARE(s.value(QStringLiteral("FrameCount")).toInt(), 26);
    QCOMPARE(s.value(QStringLiteral("FramePrefix")).toString(), QStringLiteral("gemdirect_scene-002_a2"));
    QCOMPARE(s.value(QStringLiteral("PromptId")).toString(), QStringLiteral("p-002-2"));
    QCOMPARE(s.value(QStringLiteral("Backend")).toString(), QStringLiteral("http://10.0.0.5:8188"));
    QCOMPARE(s.value(QStringLiteral("HistoryAttempts")).toInt(), 7);
    QCOMPARE(s.value(QStringLiteral("Success")).toBool(), true);
    QCOMPARE(s.value(QStringLiteral("MeetsFrameFloor")).toBool(), true);
    QCOMPARE(s.value(QStringLiteral("AttemptsRun")).toInt(), 2);
    QCOMPARE(s.value(QStringLiteral("Requeued")).toBool(), true);
    QCOMPARE(
        s.value(QStringLiteral("Telemetry")).toObject().value(QStringLiteral("HistoryExitReason")).toString(),
        QStringLiteral("postExecution"));

    const QJsonArray summaries = s.value(QStringLiteral("AttemptSummaries")).toArray();
    QCOMPARE(summaries.size(), 2);
    const QJsonObject first = summaries.at(0).toObject();
    for (const char* key :
         {"Attempt", "Timestamp", "FrameCount", "DurationSeconds", "Success", "MeetsFrameFloor",
          "HistoryRetrieved", "Warnings", "Errors", "PromptId", "Backend", "FramePrefix", "FramesDir"})
        QVERIFY2(first.contains(QLatin1String(key)), key);
    QCOMPARE(first.value(QStringLiteral("Attempt")).toInt(), 1);
    QCOMPARE(first.value(QStringLiteral("FrameCount")).toInt(), 10);
    QCOMPARE(first.value(QStringLiteral("MeetsFrameFloor")).toBool(true), false);
    QCOMPARE(first.value(QStringLiteral("Timestamp")).toString(), QStringLiteral("2025-11-12T12:00:20.000Z"));
    QCOMPARE(first.value(QStringLiteral("Warnings")).toArray().at(0).toString(),
             QStringLiteral("Frame count below floor (10/25)"));
    QCOMPARE(first.value(QStringLiteral("PromptId")).toString(), QStringLiteral("p-002-1"));
    QCOMPARE(first.value(QStringLiteral("FramesDir")).toString(), QStringLiteral("scene-002/attempt-1"));
    QCOMPARE(summaries.at(1).toObject().value(QStringLiteral("Attempt")).toInt(), 2);
    QCOMPARE(summaries.at(1).toObject().value(QStringLiteral("FramePrefix")).toString(),
             QStringLiteral("gemdirect_scene-002_a2"));

    // The failed scene: its scene-level and attempt-level error is reported once, not twice.
    const QJsonObject failed = scene(ArtifactWriter::toJson(sample::run(kRunDir)), 2);
    QCOMPARE(failed.value(QStringLiteral("Success")).toBool(true), false);
    QCOMPARE(failed.value(QStringLiteral("Errors")).toArray().size(), 1);
    QCOMPARE(failed.value(QStringLiteral("HistoryErrors")).toArray().at(0).toString(),
             QStringLiteral("history entry missing"));
}

void TestArtifactWriter::unstartedSceneHasCompleteTelemetry()
{
    RunRecord run = sample::run(kRunDir);
    run.queueConfig.historyMaxWaitSeconds = 45;
    run.queueConfig.historyMaxAttempts = 9;
    SceneRecord unstarted;
    unstarted.sceneId = QStringLiteral("scene-004");
    run.scenes.append(unstarted);
    const QJsonObject s = scene(ArtifactWriter::toJson(run), 3);
    QCOMPARE(s.value(QStringLiteral("FrameCount")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("Success")).toBool(true), false);
    QCOMPARE(s.value(QStringLiteral("AttemptsRun")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("AttemptSummaries")).toArray().size(), 0);
    QCOMPARE(s.value(QStringLiteral("Status")).toString(), QStringLiteral("queued"));
    const QJsonObject t = s.value(QStringLiteral("Telemetry")).toObject();
    QCOMPARE(t.value(QStringLiteral("MaxWaitSeconds")).toDouble(), 45.0);
    QCOMPARE(t.value(QStringLiteral("HistoryAttemptLimit")).toInt(), 9);
    QCOMPARE(t.value(QStringLiteral("HistoryExitReason")).toString(), QStringLiteral("unknown"));
    QCOMPARE(t.value(QStringLiteral("CompletionSignal")).toString(), QStringLiteral("none"));
    QCOMPARE(t.value(QStringLiteral("QueueStart")).toString(QStringLiteral("x")), QString());
}

void TestArtifactWriter::extraSceneFieldsNeverOverrideContractKeys()
{
    RunRecord run = sample::run(kRunDir);
    run.scenes[0].extra =
        QJsonObject{{QStringLiteral("QualityMetrics"), QJsonObject{{QStringLiteral("Clip"), 0.3}}},
                    {QStringLiteral("FrameCount"), 999}};
    const QJsonObject s = scene(ArtifactWriter::toJson(run), 0);
    QCOMPARE(s.value(QStringLiteral("FrameCount")).toInt(), 30);
    QCOMPARE(s.value(QStringLiteral("QualityMetrics")).toObject().value(QStringLiteral("Clip")).toDouble(),
             0.3);
}

void TestArtifactWriter::summaryBlock()
{
    const QJsonObject s =
        ArtifactWriter::toJson(sample::run(kRunDir)).value(QStringLiteral("Summary")).toObject();
    QCOMPARE(s.value(QStringLiteral("ScenesSucceeded")).toInt(), 2);
    QCOMPARE(s.value(QStringLiteral("ScenesTotal")).toInt(), 3);
    QCOMPARE(s.value(QStringLiteral("TotalFrames")).toInt(), 56);
    QCOMPARE(s.value(QStringLiteral("Requeues")).toInt(), 1);
    QCOMPARE(s.value(QStringLiteral("ForcedCopies")).toInt(), 1);
    QCOMPARE(s.value(QStringLiteral("DoneMarkersDetected")).toInt(), 1);
    // Kept durations {12.34, 75.36, 3.0}: P50 = 12.34 -> 12.3, P95 = 75.36 -> 75.4.
    QCOMPARE(s.value(QStringLiteral("DurationP50Seconds")).toDouble(), 12.3);
    QCOMPARE(s.value(QStringLiteral("DurationP95Seconds")).toDouble(), 75.4);

    RunRecord empty;
    const QJsonObject e = ArtifactWriter::toJson(empty).value(QStringLiteral("Summary")).toObject();
    QVERIFY(e.value(QStringLiteral("DurationP50Seconds")).isNull());
    QVERIFY(e.value(QStringLiteral("DurationP95Seconds")).isNull());
}

void TestArtifactWriter::writeProducesIndentedParsableFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    RunRecord run = sample::run(tmp.path());
    QVERIFY(ArtifactWriter::write(run).isNull());

    QFile f(tmp.filePath(QStringLiteral("artifact-metadata.json")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    f.close();
    QVERIFY(bytes.contains("\n    \"RunId\": \"20251112-120000\""));
    QCOMPARE(QJsonDocument::fromJson(bytes).object(), ArtifactWriter::toJson(run));

    // A later write replaces the file as a whole and leaves no temp file behind.
    run.runId = QStringLiteral("20251112-120000-2");
    QVERIFY(ArtifactWriter::write(run).isNull());
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("RunId")).toString(),
             QStringLiteral("20251112-120000-2"));
    QCOMPARE(QDir(tmp.path()).entryList(QDir::Files), QStringList{QStringLiteral("artifact-metadata.json")});
}

void TestArtifactWriter::writeFailsWhenParentIsAFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString blocker = tmp.filePath(QStringLiteral("not-a-dir"));
    {
        QFile f(blocker);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("x");
    }
    const RunRecord run = sample::run(blocker + QStringLiteral("/run"));
    const gd::Error e = ArtifactWriter::write(run);
    QVERIFY(!e.isNull());
    QCOMPARE(e.kind, QStringLiteral("io"));
    QVERIFY2(e.message.contains(blocker), qPrintable(e.message));
    QVERIFY(!QFileInfo::exists(blocker + QStringLiteral("/run/artifact-metadata.json")));
    QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot),
             QStringList{QStringLiteral("not-a-dir")});
    QFile f(blocker);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("x"));

    RunRecord noDir = sample::run(QString());
    QVERIFY(!ArtifactWriter::write(noDir).isNull());
}

QTEST_GUILESS_MAIN(TestArtifactWriter)
#include "tst_artifactwriter.moc"
