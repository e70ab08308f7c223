#include "StoreTestRuns.h"
#include "store/Database.h"
#include "store/RunStore.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace gd::store;

class TestRunStore : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    int m_dbCounter = 0;

    // A fresh database per test.
    QString newDbPath() { return m_tmp.filePath(QStringLiteral("store-%1.sqlite").arg(++m_dbCounter)); }

    static QJsonObject artifactOf(const QString& runDir)
    {
        return storetest::readJson(runDir + QStringLiteral("/artifact-metadata.json"));
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void recordedRunComesBackFromTheQueries()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        QTemporaryDir runs;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QString dir =
            storetest::makeRun(runs.path(), QStringLiteral("20260301-101500"), now.addSecs(-3600),
                               storetest::withStory(QStringLiteral("drama"), QStringLiteral("1.0"),
                                                    QStringLiteral("mistral-7b"), QStringLiteral("wan-t2v")));
        const gd::Error e = store.recordRun(artifactOf(dir), dir);
        QVERIFY2(e.isNull(), qPrintable(e.toString()));

        QVector<RunRow> recent;
        QVERIFY(store.runsSince(now.addSecs(-24 * 3600), recent).isNull());
        QCOMPARE(recent.size(), 1);
        const RunRow& r = recent.first();
        QCOMPARE(r.runId, QStringLiteral("20260301-101500"));
        QCOMPARE(r.runDir, RunStore::normalizeRunDir(dir));
        QCOMPARE(r.format, QStringLiteral("gemdirect"));
        QCOMPARE(r.startedAt.toMSecsSinceEpoch(), now.addSecs(-3600).toMSecsSinceEpoch());
        QCOMPARE(r.genre, QStringLiteral("drama"));
        QCOMPARE(r.templateVersion, QStringLiteral("1.0"));
        QCOMPARE(r.model, QStringLiteral("mistral-7b"));
        QCOMPARE(r.workflow, QStringLiteral("wan-t2v"));
        QCOMPARE(r.storyTitle, QStringLiteral("The Last Lighthouse"));
        QCOMPARE(r.scenesTotal, std::optional<int>(5));
        QCOMPARE(r.scenesSucceeded, std::optional<int>(5));
        QCOMPARE(r.totalFrames, std::optional<int>(125));
        QCOMPARE(r.durationP95Seconds, std::optional<double>(0.7));

        // Outside the window: nothing.
        QVERIFY(store.runsSince(now.addSecs(-60), recent).isNull());
        QVERIFY(recent.isEmpty());

        QVector<SceneRow> scenes;
        QVERIFY(store.scenesOfRun(QStringLiteral("20260301-101500"), scenes).isNull());
        QCOMPARE(scenes.size(), 5);
        QCOMPARE(scenes.first().sceneId, QStringLiteral("scene-001"));
        QCOMPARE(scenes.first().title, QStringLiteral("Storm Watch"));
        QCOMPARE(scenes.last().sceneId, QStringLiteral("scene-005"));
        QCOMPARE(scenes.first().frameCount, std::optional<int>(25));
        QCOMPARE(scenes.first().success, std::optional<bool>(true));

        QVector<SweepRow> sweep;
        QVERIFY(store.keptTelemetrySince(now.addSecs(-24 * 3600), sweep).isNull());
        QCOMPARE(sweep.size(), 5);
        const QJsonObject expected = artifactOf(dir)
                                         .value(QStringLiteral("Scenes"))
                                         .toArray()
                                         .at(0)
                                         .toObject()
                                         .value(QStringLiteral("Telemetry"))
                                         .toObject();
        QCOMPARE(sweep.first().telemetry, expected);
        QCOMPARE(sweep.first().telemetry.value(QStringLiteral("HistoryExitReason")).toString(),
                 QStringLiteral("success"));
    }

    void lastRunsAreNewestFirst()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        QTemporaryDir runs;
        const QDateTime base = QDateTime::currentDateTimeUtc().addDays(-3);
        QStringList dirs;
        for (int i = 0; i < 4; ++i)
            dirs << storetest::makeRun(runs.path(), QStringLiteral("run-%1").arg(i), base.addSecs(i * 600));
        QCOMPARE(store.importDirs(dirs).imported, 4);
        QVector<RunRow> last;
        QVERIFY(store.lastRuns(2, last).isNull());
        QCOMPARE(last.size(), 2);
        QCOMPARE(last.at(0).runId, QStringLiteral("run-3"));
        QCOMPARE(last.at(1).runId, QStringLiteral("run-2"));
    }

    void sceneDurationsOfWorkflowAreTheSucceededScenesNewestFirst()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        QTemporaryDir runs;
        const QDateTime base = QDateTime::currentDateTimeUtc().addDays(-1);
        // Scene durations first + 0..4; `sceneWorkflow` empty: the scenes carry no Workflow of their own.
        const auto withScenes = [](const QString& runWorkflow, const QString& sceneWorkflow, double first,
                                   int failedScene) {
            return [=](QJsonObject& a) {
                a.insert(QStringLiteral("Workflow"), runWorkflow);
                QJsonArray scenes = a.value(QStringLiteral("Scenes")).toArray();
                for (int i = 0; i < scenes.size(); ++i) {
                    QJsonObject sc = scenes.at(i).toObject();
                    if (sceneWorkflow.isEmpty())
                        sc.remove(QStringLiteral("Workflow"));
                    else
                        sc.insert(QStringLiteral("Workflow"), sceneWorkflow);
                    sc.insert(QStringLiteral("DurationSeconds"), first + i);
                    if (i == failedScene)
                        sc.insert(QStringLiteral("Success"), false);
                    scenes.replace(i, sc);
                }
                a.insert(QStringLiteral("Scenes"), scenes);
            };
        };
        const QStringList dirs{
            storetest::makeRun(runs.path(), QStringLiteral("old"), base,
                               withScenes(QStringLiteral("sandbox"), QStringLiteral("wan-i2v"), 10, 2)),
            storetest::makeRun(runs.path(), QStringLiteral("new"), base.addSecs(600),
                               withScenes(QStringLiteral("wan-i2v"), QString(), 20, -1)),
            storetest::makeRun(runs.path(), QStringLiteral("other"), base.addSecs(1200),
                               withScenes(QStringLiteral("other"), QStringLiteral("other"), 99, -1))};
        QCOMPARE(store.importDirs(dirs).imported, 3);

        QVector<double> durations;
        QVERIFY(store.sceneDurationsOfWorkflow(QStringLiteral("wan-i2v"), 100, durations).isNull());
        // The failed scene (12 s) of the old run is not history of a render that worked.
        QCOMPARE(durations, (QVector<double>{20, 21, 22, 23, 24, 10, 11, 13, 14}));
        QVERIFY(store.sceneDurationsOfWorkflow(QStringLiteral("wan-i2v"), 3, durations).isNull());
        QCOMPARE(durations, (QVector<double>{20, 21, 22}));
        QVERIFY(store.sceneDurationsOfWorkflow(QStringLiteral("never-used"), 100, durations).isNull());
        QVERIFY(durations.isEmpty());
    }

    void reRecordingReplacesTheRun()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        QTemporaryDir runs;
        const QString dir = storetest::makeRun(runs.path(), QStringLiteral("20260301-120000"),
                                               QDateTime::currentDateTimeUtc());
        QJsonObject artifact = artifactOf(dir);
        QVERIFY(store.recordRun(artifact, dir).isNull());
        QJsonArray scenes = artifact.value(QStringLiteral("Scenes")).toArray();
        scenes.removeLast();
        artifact.insert(QStringLiteral("Scenes"), scenes);
        QVERIFY(store.recordRun(artifact, dir).isNull());

        int count = 0;
        QVERIFY(store.runCount(count).isNull());
        QCOMPARE(count, 1);
        QVector<SceneRow> rows;
        QVERIFY(store.scenesOfRun(QStringLiteral("20260301-120000"), rows).isNull());
        QCOMPARE(rows.size(), 4);
    }

    void duplicateImportIsSkipped()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        QTemporaryDir runs;
        const QString a =
            storetest::makeRun(runs.path(), QStringLiteral("run-a"), QDateTime::currentDateTimeUtc());
        const QString b =
            storetest::makeRun(runs.path(), QStringLiteral("run-b"), QDateTime::currentDateTimeUtc());
        ImportReport first = store.importDirs({a, b});
        QCOMPARE(first.imported, 2);
        QCOMPARE(first.skippedDuplicates, 0);

        int progressCalls = 0;
        const ImportReport again = store.importDirs({a, b, a}, [&](int done, int total, const QString&) {
            ++progressCalls;
            QCOMPARE(total, 3);
            QCOMPARE(done, progressCalls);
        });
        QCOMPARE(again.imported, 0);
        QCOMPARE(again.skippedDuplicates, 3);
        QVERIFY(again.failed.isEmpty());
        QCOMPARE(progressCalls, 3);
        int count = 0;
        QVERIFY(store.runCount(count).isNull());
        QCOMPARE(count, 2);
    }

    void corruptArtifactIsReportedAndTheOthersImported_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("reasonPart");
        const QByteArray good =
            storetest::readFile(storetest::fixtureDir() + QStringLiteral("/artifact-metadata.json"));
        QTest::newRow("half-written") << good.left(good.size() / 2) << QStringLiteral("not valid JSON");
        QTest::newRow("garbage") << QByteArray("\x00\x01\x02 not json", sizeof("\x00\x01\x02 not json") - 1)
                                 << QStringLiteral("not valid JSON");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("not valid JSON");
        QTest::newRow("array") << QByteArray("[1, 2, 3]") << QStringLiteral("not an object");
        QTest::newRow("no RunId") << QByteArray("{\"Scenes\": []}") << QStringLiteral("no RunId");
        QTest::newRow("Scenes not an array")
            << QByteArray("{\"RunId\": \"x\", \"Scenes\": 3}") << QStringLiteral("Scenes is not an array");
    }

    void corruptArtifactIsReportedAndTheOthersImported()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, reasonPart);
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        QTemporaryDir runs;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QString good1 = storetest::makeRun(runs.path(), QStringLiteral("good-1"), now);
        const QString bad = storetest::makeRun(runs.path(), QStringLiteral("bad"), now);
        const QString good2 = storetest::makeRun(runs.path(), QStringLiteral("good-2"), now);
        const QString missing = runs.filePath(QStringLiteral("no-such-run"));
        QVERIFY(storetest::writeFile(bad + QStringLiteral("/artifact-metadata.json"), content));

        const ImportReport report = store.importDirs({good1, bad, good2, missing});
        QCOMPARE(report.imported, 2);
        QCOMPARE(report.failed.size(), 2);
        QCOMPARE(report.failed.at(0).path, bad);
        QVERIFY2(report.failed.at(0).reason.contains(reasonPart), qPrintable(report.failed.at(0).reason));
        QVERIFY(report.failed.at(0).reason.contains(QStringLiteral("artifact-metadata.json")));
        QCOMPARE(report.failed.at(1).path, missing);
        QVERIFY(report.failed.at(1).reason.contains(QStringLiteral("no artifact-metadata.json")));
        QVector<RunRow> rows;
        QVERIFY(store.lastRuns(10, rows).isNull());
        QCOMPARE(rows.size(), 2);
    }

    void invalidSceneListIsRolledBackWhole()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        QTemporaryDir runs;
        const QString dir = storetest::makeRun(runs.path(), QStringLiteral("dup-scenes"),
                                               QDateTime::currentDateTimeUtc(), [](QJsonObject& a) {
                                                   QJsonArray s = a.value(QStringLiteral("Scenes")).toArray();
                                                   s.append(s.at(0));
                                                   a.insert(QStringLiteral("Scenes"), s);
                                               });
        const ImportReport report = store.importRunDir(dir);
        QCOMPARE(report.failed.size(), 1);
        QVERIFY2(report.failed.first().reason.contains(QStringLiteral("scene-001 twice")),
                 qPrintable(report.failed.first().reason));
        int count = -1;
        QVERIFY(store.runCount(count).isNull());
        QCOMPARE(count, 0);
        QSqlQuery q(db.handle());
        QVERIFY(q.exec(QStringLiteral("SELECT COUNT(*) FROM scenes")) && q.next());
        QCOMPARE(q.value(0).toInt(), 0);
    }

    void legacyRunIsImportedWithMissingFieldsNull()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        const ImportReport report = store.importRunDir(storetest::legacyDir());
        QCOMPARE(report.imported, 1);
        QVERIFY(report.failed.isEmpty());

        QVector<RunRow> rows;
        QVERIFY(store.lastRuns(5, rows).isNull());
        QCOMPARE(rows.size(), 1);
        const RunRow& r = rows.first();
        QCOMPARE(r.runId, QStringLiteral("test"));
        QCOMPARE(r.format, QStringLiteral("legacy"));
        QCOMPARE(r.runDir, RunStore::normalizeRunDir(storetest::legacyDir()));
        QCOMPARE(r.startedAt, QDateTime(QDate(2025, 11, 12), QTime(12, 0), Qt::UTC));
        QCOMPARE(r.storyId, QStringLiteral("story-123"));
        QVERIFY(r.appVersion.isEmpty());
        QVERIFY(r.genre.isEmpty());
        QVERIFY(r.model.isEmpty());
        QCOMPARE(r.scenesTotal, std::optional<int>(1));
        QCOMPARE(r.totalFrames, std::optional<int>(25));
        QCOMPARE(r.durationP50Seconds, std::nullopt);

        QVector<SceneRow> scenes;
        QVERIFY(store.scenesOfRun(QStringLiteral("test"), scenes).isNull());
        QCOMPARE(scenes.size(), 1);
        QCOMPARE(scenes.first().frameCount, std::optional<int>(25));
        QVERIFY(scenes.first().title.isEmpty());

        QVector<SweepRow> sweep;
        QVERIFY(store.keptTelemetrySince(QDateTime(QDate(2025, 1, 1), QTime(0, 0), Qt::UTC), sweep).isNull());
        QCOMPARE(sweep.size(), 1);
        QCOMPARE(sweep.first()
                     .telemetry.value(QStringLiteral("GPU"))
                     .toObject()
                     .value(QStringLiteral("VramDeltaMB"))
                     .toDouble(),
                 -576.0);

        QSqlQuery q(db.handle());
        QVERIFY(q.exec(QStringLiteral(
            "SELECT vram_delta_mb, gpu_source, done_marker_detected FROM attempts WHERE kept = 1")));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toDouble(), -576.0);
        QVERIFY(q.value(1).isNull());
        QVERIFY(q.value(2).isNull());
    }

    void rebuildRecreatesTheDatabaseFromRunDirectories()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        QTemporaryDir runs;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        storetest::makeRun(runs.path(), QStringLiteral("20260301-000001"), now.addSecs(-10));
        storetest::makeRun(runs.path(), QStringLiteral("20260301-000002"), now.addSecs(-5));
        QVERIFY(QDir().mkpath(runs.filePath(QStringLiteral(".sandbox-xyz/output"))));
        QVERIFY(QDir().mkpath(runs.filePath(QStringLiteral("not-a-run"))));
        const QString broken = storetest::makeRun(runs.path(), QStringLiteral("20260301-000003"), now);
        QVERIFY(storetest::writeFile(broken + QStringLiteral("/artifact-metadata.json"),
                                     "{\"RunId\": \"20260301-0"));

        // Something that is not in any run directory: gone after the rebuild.
        QTemporaryDir elsewhere;
        const QString stray = storetest::makeRun(elsewhere.path(), QStringLiteral("stray"), now);
        QCOMPARE(store.importRunDir(stray).imported, 1);

        int progressCalls = 0;
        const ImportReport report =
            store.rebuildFrom(runs.path(), [&](int, int, const QString&) { ++progressCalls; });
        QCOMPARE(report.imported, 2);
        QCOMPARE(report.failed.size(), 1);
        QCOMPARE(report.failed.first().path, broken);
        QCOMPARE(progressCalls, 3);

        QVector<RunRow> rows;
        QVERIFY(store.lastRuns(10, rows).isNull());
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows.at(0).runId, QStringLiteral("20260301-000002"));
        QCOMPARE(rows.at(1).runId, QStringLiteral("20260301-000001"));
        QVector<SceneRow> scenes;
        QVERIFY(store.scenesOfRun(QStringLiteral("20260301-000002"), scenes).isNull());
        QCOMPARE(scenes.size(), 5);

        const ImportReport missingRoot = store.rebuildFrom(runs.filePath(QStringLiteral("nope")));
        QCOMPARE(missingRoot.failed.size(), 1);
        QVERIFY(store.lastRuns(10, rows).isNull());
        QCOMPARE(rows.size(), 2); // a wrong root never empties the database
    }

    void gpuSamplesAndKpiResultsBelongToTheirRun()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        RunStore store(db);
        QTemporaryDir runs;
        const QString dir =
            storetest::makeRun(runs.path(), QStringLiteral("kpi-run"), QDateTime::currentDateTimeUtc());
        QCOMPARE(store.importRunDir(dir).imported, 1);

        gd::gpu::GpuSnapshot s;
        s.source = QStringLiteral("nvml");
        s.vramUsedBytes = 1024;
        s.takenAt = QDateTime::currentDateTimeUtc();
        QVERIFY(store.recordGpuSamples(QStringLiteral("kpi-run"), dir, {s, s}).isNull());
        QCOMPARE(store.recordGpuSamples(QStringLiteral("other"), dir, {s}).kind,
                 QStringLiteral("unknownRun"));

        KpiResult k;
        k.kpi = QStringLiteral("forcedCopyRate");
        k.value = 0.0;
        k.threshold = QStringLiteral("< 0.05");
        k.status = QStringLiteral("PASS");
        QVERIFY(store.recordKpiResults(QStringLiteral("kpi-run"), dir, {k}).isNull());
        k.status = QStringLiteral("FAIL");
        k.value = 0.2;
        QVERIFY(store.recordKpiResults(QStringLiteral("kpi-run"), dir, {k}).isNull());
        QVector<KpiResult> kpis;
        QVERIFY(store.kpiResultsOfRun(dir, kpis).isNull());
        QCOMPARE(kpis.size(), 1);
        QCOMPARE(kpis.first().status, QStringLiteral("FAIL"));
    }
};

QTEST_GUILESS_MAIN(TestRunStore)
#include "tst_runstore.moc"
