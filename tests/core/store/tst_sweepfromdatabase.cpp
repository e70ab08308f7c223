#include "StoreTestRuns.h"
#include "quality/KpiEvaluator.h"
#include "store/Database.h"
#include "store/RunStore.h"
#include "telemetry/SweepCalculator.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace gd;
using namespace gd::store;

// `gemdirect sweep` and `kpi --last N` compute from the digests the database stores per run; these
// must give exactly the figures that the artifacts (the source of truth) give, also for a database
// written before digests existed (schema v1).
class TestSweepFromDatabase : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    int m_counter = 0;

    static QJsonObject sceneAt(const QJsonObject& a, int i) { return a.value(QStringLiteral("Scenes")).toArray().at(i).toObject(); }

    static void setScene(QJsonObject& a, int i, const QJsonObject& scene)
    {
        QJsonArray scenes = a.value(QStringLiteral("Scenes")).toArray();
        scenes[i] = scene;
        a.insert(QStringLiteral("Scenes"), scenes);
    }

    static void editTelemetry(QJsonObject& a, int i, const std::function<void(QJsonObject&)>& edit)
    {
        QJsonObject s = sceneAt(a, i);
        QJsonObject t = s.value(QStringLiteral("Telemetry")).toObject();
        edit(t);
        s.insert(QStringLiteral("Telemetry"), t);
        setScene(a, i, s);
    }

    // Four runs that between them exercise every figure: the sandbox fixture as it is; one with a
    // forced copy, a zero-frame requeued scene, fallback notes, a missing and a null contract
    // field, VRAM past the limit and run/scene quality metrics; one cancelled after its first
    // scene; and the earlier pipeline's run.
    QStringList makeRuns(const QString& root)
    {
        const QDateTime t0(QDate(2026, 11, 2), QTime(9, 0), Qt::UTC);
        QStringList dirs;
        dirs << storetest::makeRun(root, QStringLiteral("20261102-090000"), t0);
        dirs << storetest::makeRun(root, QStringLiteral("20261110-120000"), t0.addDays(8), [](QJsonObject& a) {
            editTelemetry(a, 0, [](QJsonObject& t) {
                t.insert(QStringLiteral("ForcedCopyTriggered"), true);
                t.insert(QStringLiteral("DoneMarkerDetected"), false);
                t.remove(QStringLiteral("QueueStart"));
                t.insert(QStringLiteral("HistoryExitReason"), QJsonValue::Null);
                QJsonObject gpu = t.value(QStringLiteral("GPU")).toObject();
                gpu.insert(QStringLiteral("VramDeltaMB"), -20000.5);
                gpu.insert(QStringLiteral("VramPeakUsedMB"), 19000);
                t.insert(QStringLiteral("GPU"), gpu);
                QJsonObject system = t.value(QStringLiteral("System")).toObject();
                system.insert(QStringLiteral("FallbackNotes"),
                              QJsonArray{QStringLiteral("nvml unavailable"), QStringLiteral("history polled")});
                t.insert(QStringLiteral("System"), system);
            });
            QJsonObject s1 = sceneAt(a, 1);
            s1.insert(QStringLiteral("FrameCount"), 0);
            s1.insert(QStringLiteral("Requeued"), true);
            s1.insert(QStringLiteral("AttemptsRun"), 2);
            s1.insert(QStringLiteral("QualityMetrics"),
                      QJsonObject{{QStringLiteral("EntityLinkageScore"), 0.5},
                                  {QStringLiteral("PromptTokenCount"), 90},
                                  {QStringLiteral("PromptAlignmentJudge"), QJsonObject{{QStringLiteral("Mean"), 1.5}}},
                                  {QStringLiteral("BlankFrameRatio"), 0.2},
                                  {QStringLiteral("FramesChecked"), 10},
                                  {QStringLiteral("BlankFrames"), 2}});
            setScene(a, 1, s1);
            editTelemetry(a, 2, [](QJsonObject& t) { t.insert(QStringLiteral("ExecutionSuccessDetected"), false); });
            a.insert(QStringLiteral("QualityMetrics"),
                     QJsonObject{{QStringLiteral("EntityLinkageScore"), 0.8},
                                 {QStringLiteral("CoherenceJudgeScore"), 4.5},
                                 {QStringLiteral("SceneDiversityEntropy"), 1.9},
                                 {QStringLiteral("SceneDiversityMaxPossible"), 2.32},
                                 {QStringLiteral("SceneDiversityNormalized"), 0.82},
                                 {QStringLiteral("SceneDiversityMaxRepetitionRatio"), 0.4},
                                 {QStringLiteral("LlmGenerationSeconds"), 95},
                                 {QStringLiteral("PromptTruncated"), true},
                                 {QStringLiteral("PlannerFirstTryValid"), false},
                                 {QStringLiteral("PlannerValidAfterRetry"), true},
                                 {QStringLiteral("LlmModel"), QStringLiteral("mistral-7b")},
                                 {QStringLiteral("Unmeasured"),
                                  QJsonArray{QStringLiteral("SemanticAlignmentMean: no embedding model"),
                                             QStringLiteral("HumanCoherenceScore: no ratings yet")}}});
        });
        dirs << storetest::makeRun(root, QStringLiteral("20261111-080000"), t0.addDays(9), [](QJsonObject& a) {
            for (int i = 1; i < a.value(QStringLiteral("Scenes")).toArray().size(); ++i) {
                QJsonObject s = sceneAt(a, i);
                s.insert(QStringLiteral("AttemptsRun"), 0);
                s.insert(QStringLiteral("FrameCount"), 0);
                s.insert(QStringLiteral("FrameFloor"), 16);
                s.insert(QStringLiteral("AttemptSummaries"), QJsonArray{});
                s.insert(QStringLiteral("Telemetry"), QJsonObject{});
                setScene(a, i, s);
            }
            a.insert(QStringLiteral("QualityMetrics"), QJsonObject{{QStringLiteral("EntityLinkageScore"), 0.95},
                                                                   {QStringLiteral("PlannerFirstTryValid"), true},
                                                                   {QStringLiteral("PlannerValidAfterRetry"), true},
                                                                   {QStringLiteral("LlmModel"), QStringLiteral("qwen-14b")}});
        });
        const QString legacy = QDir(root).filePath(QStringLiteral("legacy"));
        QDir().mkpath(legacy);
        QFile::copy(storetest::legacyDir() + QStringLiteral("/artifact-metadata.json"),
                    legacy + QStringLiteral("/artifact-metadata.json"));
        dirs << legacy;
        return dirs;
    }

    static QVector<QJsonObject> artifactsOf(const QVector<RunRow>& rows)
    {
        QVector<QJsonObject> out;
        for (const RunRow& r : rows)
            out << storetest::readJson(r.runDir + QStringLiteral("/artifact-metadata.json"));
        return out;
    }

    static QByteArray json(const QJsonObject& o) { return QJsonDocument(o).toJson(QJsonDocument::Indented); }
    static QByteArray json(const QJsonArray& a) { return QJsonDocument(a).toJson(QJsonDocument::Indented); }

    // The sweep report and the KPI verdicts from the database equal those from the artifacts of the
    // same runs, in the same order.
    static void compareWithArtifacts(RunStore& store, int expectedRuns)
    {
        const QDateTime epoch = QDateTime::fromMSecsSinceEpoch(0, Qt::UTC);
        QVector<telemetry::RunDigest> digests;
        QStringList problems;
        QVERIFY(store.digestsSince(epoch, digests, &problems).isNull());
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        QVector<RunRow> rows;
        QVERIFY(store.runsSince(epoch, rows).isNull());
        QCOMPARE(digests.size(), expectedRuns);
        QCOMPARE(rows.size(), expectedRuns);
        const QVector<QJsonObject> artifacts = artifactsOf(rows);

        const QJsonObject fromDb = telemetry::SweepCalculator::computeDigests(digests);
        const QJsonObject fromArtifacts = telemetry::SweepCalculator::compute(artifacts);
        QCOMPARE(json(fromDb), json(fromArtifacts));
        QCOMPARE(fromDb.value(QStringLiteral("Runs")).toInt(), expectedRuns);
        QCOMPARE(json(quality::KpiEvaluator::toJson(quality::KpiEvaluator::evaluateDigests(digests))),
                 json(quality::KpiEvaluator::toJson(quality::KpiEvaluator::evaluate(artifacts))));

        QVERIFY(store.lastDigests(2, digests, &problems).isNull());
        QVERIFY(store.lastRuns(2, rows).isNull());
        QCOMPARE(digests.size(), 2);
        QCOMPARE(json(quality::KpiEvaluator::toJson(quality::KpiEvaluator::evaluateDigests(digests))),
                 json(quality::KpiEvaluator::toJson(quality::KpiEvaluator::evaluate(artifactsOf(rows)))));
    }

    static QVariant scalar(const Database& db, const QString& sql)
    {
        QSqlQuery q(db.handle());
        return q.exec(sql) && q.next() ? q.value(0) : QVariant();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void databaseAndArtifactsGiveTheSameFigures()
    {
        const QString root = m_tmp.filePath(QStringLiteral("runs-%1").arg(++m_counter));
        const QStringList dirs = makeRuns(root);
        Database db;
        QVERIFY(db.open(m_tmp.filePath(QStringLiteral("same.sqlite"))).isNull());
        RunStore store(db);
        const ImportReport report = store.importDirs(dirs);
        QCOMPARE(report.imported, dirs.size());

        compareWithArtifacts(store, dirs.size());
        // The figures are the ones the edits put there, not an agreement on nothing.
        QVector<telemetry::RunDigest> digests;
        QVERIFY(store.digestsSince(QDateTime::fromMSecsSinceEpoch(0, Qt::UTC), digests, nullptr).isNull());
        const QJsonObject sweep = telemetry::SweepCalculator::computeDigests(digests);
        QCOMPARE(sweep.value(QStringLiteral("Scenes")).toInt(), 16); // 3 × 5 + 1 legacy
        QCOMPARE(sweep.value(QStringLiteral("FallbackNoteCounts")).toObject().value(QStringLiteral("history polled")).toInt(), 1);
        QCOMPARE(sweep.value(QStringLiteral("VramDeltaMBAbs")).toObject().value(QStringLiteral("Max")).toDouble(), 20000.5);
        const auto kpis = quality::KpiEvaluator::evaluateDigests(digests);
        QStringList failing;
        for (const auto& k : kpis)
            if (k.status == QLatin1String("FAIL"))
                failing << k.id;
        QVERIFY2(failing.contains(QStringLiteral("zero-frame-rate")) && failing.contains(QStringLiteral("vram-delta")) &&
                     failing.contains(QStringLiteral("telemetry-completeness")) && failing.contains(QStringLiteral("blank-frames")),
                 qPrintable(failing.join(QLatin1Char(' '))));
    }

    void databaseOfTheEarlierSchemaIsUpgradedAndItsRunsStillAppear()
    {
        const QString root = m_tmp.filePath(QStringLiteral("runs-%1").arg(++m_counter));
        const QStringList dirs = makeRuns(root);
        const QString path = m_tmp.filePath(QStringLiteral("v1.sqlite"));
        {
            Database db;
            QVERIFY(db.open(path).isNull());
            QCOMPARE(RunStore(db).importDirs(dirs).imported, dirs.size());
            // Back to exactly what schema v1 had: no digest columns, user_version 1.
            QSqlQuery q(db.handle());
            QVERIFY(q.exec(QStringLiteral("ALTER TABLE runs DROP COLUMN digest_json")));
            QVERIFY(q.exec(QStringLiteral("ALTER TABLE runs DROP COLUMN digest_version")));
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version = 1")));
        }
        Database db;
        const Error opened = db.open(path);
        QVERIFY2(opened.isNull(), qPrintable(opened.toString()));
        QCOMPARE(db.schemaVersion(), 2);
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA user_version")).toInt(), 2);
        QCOMPARE(scalar(db, QStringLiteral("SELECT COUNT(*) FROM runs WHERE digest_json IS NULL")).toInt(), dirs.size());
        RunStore store(db);

        // The first sweep rebuilds the digests from the run directories and keeps them.
        compareWithArtifacts(store, dirs.size());
        QCOMPARE(scalar(db, QStringLiteral("SELECT COUNT(*) FROM runs WHERE digest_json IS NULL")).toInt(), 0);

        // A damaged or outdated digest is rebuilt too; a run whose directory is gone is named, not
        // counted as an empty run.
        QSqlQuery q(db.handle());
        QVERIFY(q.exec(QStringLiteral("UPDATE runs SET digest_json = '{\"DigestVersion\":2,\"Scenes\":[{\"f\":\"x\"}]}' "
                                      "WHERE run_id = '20261102-090000'")));
        QVERIFY(q.exec(QStringLiteral("UPDATE runs SET digest_version = 0 WHERE run_id = '20261110-120000'")));
        compareWithArtifacts(store, dirs.size());

        QVERIFY(q.exec(QStringLiteral("UPDATE runs SET digest_json = NULL WHERE run_id = '20261111-080000'")));
        QVERIFY(QDir(dirs.at(2)).removeRecursively());
        QVector<telemetry::RunDigest> digests;
        QStringList problems;
        QVERIFY(store.digestsSince(QDateTime::fromMSecsSinceEpoch(0, Qt::UTC), digests, &problems).isNull());
        QCOMPARE(digests.size(), dirs.size() - 1);
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems.first().contains(QStringLiteral("20261111-080000")), qPrintable(problems.first()));
    }
};

QTEST_GUILESS_MAIN(TestSweepFromDatabase)
#include "tst_sweepfromdatabase.moc"
