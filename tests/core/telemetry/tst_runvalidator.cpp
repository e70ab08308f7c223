#include "SampleRun.h"
#include "telemetry/ArtifactWriter.h"
#include "telemetry/RunSummaryLog.h"
#include "telemetry/RunValidator.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <functional>

using namespace gd::telemetry;

// A change to a valid run: the artifact as a JSON object and run-summary.txt as lines.
using Mutation = std::function<void(QJsonObject& artifact, QStringList& summary)>;
Q_DECLARE_METATYPE(Mutation)

namespace {

QStringList readLines(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'));
}

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// Sets (or with an undefined value removes) "A.B.C" inside Scenes[scene].
void setSceneField(QJsonObject& artifact, int scene, const QString& path, const QJsonValue& value)
{
    QJsonArray scenes = artifact.value(QStringLiteral("Scenes")).toArray();
    const std::function<QJsonObject(QJsonObject, QStringList)> set = [&](QJsonObject o, QStringList keys) {
        const QString key = keys.takeFirst();
        if (!keys.isEmpty())
            o.insert(key, set(o.value(key).toObject(), keys));
        else if (value.isUndefined())
            o.remove(key);
        else
            o.insert(key, value);
        return o;
    };
    scenes[scene] = set(scenes.at(scene).toObject(), path.split(QLatin1Char('.')));
    artifact.insert(QStringLiteral("Scenes"), scenes);
}

void removeLines(QStringList& lines, const QString& containing)
{
    lines.erase(
        std::remove_if(lines.begin(), lines.end(), [&](const QString& l) { return l.contains(containing); }),
        lines.end());
}

void replaceInLines(QStringList& lines, const QString& lineContaining, const QString& from, const QString& to)
{
    for (QString& l : lines) {
        if (l.contains(lineContaining))
            l.replace(from, to);
    }
}

class ValidRun
{
public:
    QTemporaryDir dir;
    RunRecord run;

    bool create()
    {
        if (!dir.isValid())
            return false;
        run = sample::run(dir.path());
        return ArtifactWriter::write(run).isNull() && sample::writeSummary(run).isNull();
    }
    QString artifactPath() const { return dir.filePath(QStringLiteral("artifact-metadata.json")); }
    QString summaryPath() const { return dir.filePath(QStringLiteral("run-summary.txt")); }

    bool apply(const Mutation& mutation)
    {
        QFile f(artifactPath());
        if (!f.open(QIODevice::ReadOnly))
            return false;
        QJsonObject artifact = QJsonDocument::fromJson(f.readAll()).object();
        f.close();
        QStringList summary = readLines(summaryPath());
        mutation(artifact, summary);
        return writeFile(artifactPath(), QJsonDocument(artifact).toJson(QJsonDocument::Indented)) &&
               writeFile(summaryPath(), summary.join(QLatin1Char('\n')).toUtf8());
    }
};

QString joined(const ValidationResult& r)
{
    return r.errors.join(QLatin1Char('\n'));
}

} // namespace

// The contract validator (§5): what `gemdirect validate RUN_DIR` reports for a run directory.
class TestRunValidator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void validRunPasses();
    void smallDurationDifferencesPass();
    void mutationsAreViolations_data();
    void mutationsAreViolations();
    void lastTelemetryLineOfAResumedRunCounts();
    void unstartedSceneOfACancelledRun();
    void truncatedJsonNamesParseErrorAndOffset();
    void missingRunOrFilesIsExitTwo_data();
    void missingRunOrFilesIsExitTwo();
    void runPrintsErrorsAndVerdict();
    void legacyRunNamesMissingContractFields();
    void runWithoutDoneMarkerSourcePasses();
};

void TestRunValidator::validRunPasses()
{
    ValidRun v;
    QVERIFY(v.create());
    const ValidationResult r = RunValidator::validate(v.dir.path());
    QVERIFY2(r.passed(), qPrintable(joined(r)));
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.errors.isEmpty());
}

void TestRunValidator::smallDurationDifferencesPass()
{
    // The line rounds to 0.1 s; a JSON value 0.05 s away is the same measurement.
    ValidRun v;
    QVERIFY(v.create());
    QVERIFY(v.apply([](QJsonObject& a, QStringList&) {
        setSceneField(a, 0, QStringLiteral("Telemetry.DurationSeconds"), 12.35);
        setSceneField(a, 1, QStringLiteral("Telemetry.DoneMarkerWaitSeconds"), 60.15);
        setSceneField(a, 1, QStringLiteral("Telemetry.GPU.VramDeltaMB"), -95.45);
    }));
    const ValidationResult r = RunValidator::validate(v.dir.path());
    QVERIFY2(r.passed(), qPrintable(joined(r)));
}

void TestRunValidator::mutationsAreViolations_data()
{
    QTest::addColumn<Mutation>("mutation");
    QTest::addColumn<QStringList>("expectedInError");

    const auto field = [](int scene, const char* path, const QJsonValue& value) {
        return Mutation(
            [=](QJsonObject& a, QStringList&) { setSceneField(a, scene, QString::fromLatin1(path), value); });
    };
    const QJsonValue removed(QJsonValue::Undefined);

    QTest::newRow("missing CompletionSignal")
        << field(0, "Telemetry.CompletionSignal", removed)
        << QStringList{QStringLiteral("scene-001"), QStringLiteral("Telemetry.CompletionSignal is missing")};
    QTest::newRow("missing GPU.VramPeakUsedMB")
        << field(1, "Telemetry.GPU.VramPeakUsedMB", removed)
        << QStringList{QStringLiteral("scene-002"),
                       QStringLiteral("Telemetry.GPU.VramPeakUsedMB is missing")};
    QTest::newRow("missing System.FallbackNotes")
        << field(2, "Telemetry.System.FallbackNotes", removed)
        << QStringList{QStringLiteral("scene-003"),
                       QStringLiteral("Telemetry.System.FallbackNotes is missing")};
    QTest::newRow("missing scene key PromptId")
        << field(0, "PromptId", removed)
        << QStringList{QStringLiteral("scene-001"), QStringLiteral("PromptId is missing")};
    QTest::newRow("HistoryAttempts as string")
        << field(0, "Telemetry.HistoryAttempts", QStringLiteral("2"))
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("Telemetry.HistoryAttempts must be an integer")};
    QTest::newRow("HistoryAttemptLimit fractional")
        << field(0, "Telemetry.HistoryAttemptLimit", 2.5)
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("Telemetry.HistoryAttemptLimit must be an integer")};
    QTest::newRow("DoneMarkerDetected as string")
        << field(0, "Telemetry.DoneMarkerDetected", QStringLiteral("true"))
        << QStringList{QStringLiteral("Telemetry.DoneMarkerDetected must be a bool")};
    QTest::newRow("DurationSeconds null")
        << field(0, "Telemetry.DurationSeconds", QJsonValue::Null)
        << QStringList{QStringLiteral("Telemetry.DurationSeconds must be a number (found null)")};
    QTest::newRow("QueueStart not ISO")
        << field(0, "Telemetry.QueueStart", QStringLiteral("yesterday"))
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("Telemetry.QueueStart must be an ISO 8601 time")};
    QTest::newRow("VramBeforeMB as string")
        << field(0, "Telemetry.GPU.VramBeforeMB", QStringLiteral("10240"))
        << QStringList{QStringLiteral("Telemetry.GPU.VramBeforeMB must be a number or null")};
    QTest::newRow("bad HistoryExitReason")
        << field(0, "Telemetry.HistoryExitReason", QStringLiteral("timeout"))
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("Telemetry.HistoryExitReason has invalid value \"timeout\"")};
    QTest::newRow("bad CompletionSignal")
        << field(2, "Telemetry.CompletionSignal", QStringLiteral("polling"))
        << QStringList{QStringLiteral("scene-003"),
                       QStringLiteral("Telemetry.CompletionSignal has invalid value \"polling\"")};
    QTest::newRow("bad GPU Source")
        << field(1, "Telemetry.GPU.Source", QStringLiteral("rocm-smi"))
        << QStringList{QStringLiteral("scene-002"),
                       QStringLiteral("Telemetry.GPU.Source has invalid value \"rocm-smi\"")};
    QTest::newRow("success without timestamp")
        << field(0, "Telemetry.ExecutionSuccessAt", QJsonValue::Null)
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("ExecutionSuccessAt must be an ISO 8601 time when "
                                      "ExecutionSuccessDetected is true")};
    QTest::newRow("delta mismatch") << field(0, "Telemetry.GPU.VramDeltaMB", -570.0)
                                    << QStringList{QStringLiteral("scene-001"),
                                                   QStringLiteral("Telemetry.GPU.VramDeltaMB=-570 differs")};
    QTest::newRow("delta without before")
        << field(0, "Telemetry.GPU.VramBeforeMB", QJsonValue::Null)
        << QStringList{QStringLiteral("scene-001"), QStringLiteral("VramDeltaMB is set although")};
    QTest::newRow("queue policy historyMaxWait mismatch")
        << Mutation([](QJsonObject&, QStringList& s) {
               replaceInLines(s, QStringLiteral("Queue policy:"), QStringLiteral("historyMaxWait=600s"),
                              QStringLiteral("historyMaxWait=300s"));
           })
        << QStringList{QStringLiteral("historyMaxWait=300s"),
                       QStringLiteral("QueueConfig.HistoryMaxWaitSeconds")};
    QTest::newRow("queue policy unbounded but limit set")
        << Mutation([](QJsonObject& a, QStringList&) {
               QJsonObject qc = a.value(QStringLiteral("QueueConfig")).toObject();
               qc.insert(QStringLiteral("HistoryMaxAttempts"), 5);
               a.insert(QStringLiteral("QueueConfig"), qc);
           })
        << QStringList{QStringLiteral("historyMaxAttempts=unbounded"),
                       QStringLiteral("QueueConfig.HistoryMaxAttempts")};
    QTest::newRow("queue policy 0 instead of unbounded")
        << Mutation([](QJsonObject&, QStringList& s) {
               replaceInLines(s, QStringLiteral("Queue policy:"),
                              QStringLiteral("historyMaxAttempts=unbounded"),
                              QStringLiteral("historyMaxAttempts=0"));
           })
        << QStringList{QStringLiteral("historyMaxAttempts=0"),
                       QStringLiteral("expected historyMaxAttempts=unbounded")};
    QTest::newRow("queue policy line missing")
        << Mutation([](QJsonObject&, QStringList& s) { removeLines(s, QStringLiteral("Queue policy:")); })
        << QStringList{QStringLiteral("no 'Queue policy:' line")};
    QTest::newRow("missing telemetry line") << Mutation([](QJsonObject&, QStringList& s) {
        removeLines(s, QStringLiteral("[Scene scene-002] Telemetry:"));
    }) << QStringList{QStringLiteral("scene-002"), QStringLiteral("no '[Scene scene-002] Telemetry:' line")};
    QTest::newRow("duration mismatch over 0.1")
        << Mutation([](QJsonObject&, QStringList& s) {
               replaceInLines(s, QStringLiteral("[Scene scene-001] Telemetry:"),
                              QStringLiteral("DurationSeconds=12.3s"),
                              QStringLiteral("DurationSeconds=12.5s"));
           })
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("DurationSeconds=12.5s differs from Telemetry.DurationSeconds")};
    QTest::newRow("done marker wait mismatch")
        << field(1, "Telemetry.DoneMarkerWaitSeconds", 58.0)
        << QStringList{QStringLiteral("scene-002"), QStringLiteral("DoneMarkerWaitSeconds=60.2s differs")};
    QTest::newRow("pollLimit mismatch")
        << field(1, "Telemetry.HistoryAttemptLimit", 0)
        << QStringList{QStringLiteral("scene-002"),
                       QStringLiteral("pollLimit=5 does not match Telemetry.HistoryAttemptLimit")};
    QTest::newRow("SceneRetryBudget mismatch")
        << field(0, "Telemetry.SceneRetryBudget", 3)
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("SceneRetryBudget=1 does not match Telemetry.SceneRetryBudget")};
    QTest::newRow("ForcedCopyTriggered mismatch")
        << Mutation([](QJsonObject&, QStringList& s) {
               replaceInLines(s, QStringLiteral("[Scene scene-002] Telemetry:"),
                              QStringLiteral("ForcedCopyTriggered=true"),
                              QStringLiteral("ForcedCopyTriggered=false"));
           })
        << QStringList{QStringLiteral("scene-002"),
                       QStringLiteral("ForcedCopyTriggered=false does not match")};
    QTest::newRow("ExecutionSuccessDetected mismatch")
        << Mutation([](QJsonObject&, QStringList& s) {
               replaceInLines(s, QStringLiteral("[Scene scene-002] Telemetry:"),
                              QStringLiteral("ExecutionSuccessDetected=true"),
                              QStringLiteral("ExecutionSuccessDetected=false"));
           })
        << QStringList{QStringLiteral("scene-002"),
                       QStringLiteral("ExecutionSuccessDetected=false does not match")};
    QTest::newRow("HistoryExitReason mismatch")
        << field(0, "Telemetry.HistoryExitReason", QStringLiteral("maxWait"))
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("HistoryExitReason=success does not match")};
    QTest::newRow("telemetry line lacks a field") << Mutation([](QJsonObject&, QStringList& s) {
        replaceInLines(s, QStringLiteral("[Scene scene-001] Telemetry:"),
                       QStringLiteral(" | DoneMarkerDetected=true"), QString());
    }) << QStringList{QStringLiteral("scene-001"), QStringLiteral("telemetry line lacks DoneMarkerDetected")};
    QTest::newRow("missing fallback note in line")
        << Mutation([](QJsonObject&, QStringList& s) {
               replaceInLines(
                   s, QStringLiteral("[Scene scene-002] Telemetry:"),
                   QStringLiteral("; Done marker not found after 60 seconds (waited 60.2 seconds)"),
                   QString());
           })
        << QStringList{
               QStringLiteral("scene-002"),
               QStringLiteral(
                   "lacks fallback note \"Done marker not found after 60 seconds (waited 60.2 seconds)\"")};
    QTest::newRow("fallback part gone")
        << Mutation([](QJsonObject&, QStringList& s) {
               for (QString& l : s) {
                   if (l.contains(QStringLiteral("[Scene scene-002] Telemetry:")))
                       l = l.left(l.indexOf(QStringLiteral(" | fallback=")));
               }
           })
        << QStringList{QStringLiteral("scene-002"),
                       QStringLiteral("lacks fallback note \"Forced copy after stability retries")};
    QTest::newRow("missing below-floor WARNING") << Mutation([](QJsonObject&, QStringList& s) {
        removeLines(s, QStringLiteral("[Scene scene-003] WARNING: Frame count below floor"));
    }) << QStringList{QStringLiteral("scene-003"), QStringLiteral("Frame count below floor (0/25)")};
    QTest::newRow("kept attempt below floor without its WARNING")
        << field(1, "MeetsFrameFloor", false) // only attempt 1's 10/25 warning was logged
        << QStringList{QStringLiteral("scene-002"), QStringLiteral("Frame count below floor (26/25)")};
    QTest::newRow("failed scene without ERROR line")
        << Mutation([](QJsonObject&, QStringList& s) {
               removeLines(s, QStringLiteral("[Scene scene-003] ERROR:"));
           })
        << QStringList{QStringLiteral("scene-003"), QStringLiteral("Success is false"),
                       QStringLiteral("no '[Scene scene-003] ERROR:' line")};
    QTest::newRow("total frames mismatch")
        << field(0, "FrameCount", 31)
        << QStringList{
               QStringLiteral("Total frames copied: 56 does not match the sum of Scenes[].FrameCount = 57")};
    QTest::newRow("total frames line missing") << Mutation([](QJsonObject&, QStringList& s) {
        removeLines(s, QStringLiteral("Total frames copied"));
    }) << QStringList{QStringLiteral("no 'Total frames copied:' line")};
    QTest::newRow("first line RunId mismatch") << Mutation([](QJsonObject& a, QStringList&) {
        a.insert(QStringLiteral("RunId"), QStringLiteral("other"));
    }) << QStringList{QStringLiteral("first line"), QStringLiteral("E2E Story-to-Video Run: other")};
    QTest::newRow("DoneMarkerSource not an allowed value")
        << field(0, "Telemetry.DoneMarkerSource", QStringLiteral("watcher"))
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("Telemetry.DoneMarkerSource has invalid value \"watcher\"")};
    QTest::newRow("DoneMarkerSource null although a marker was detected")
        << field(0, "Telemetry.DoneMarkerSource", QJsonValue(QJsonValue::Null))
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("DoneMarkerSource is null although DoneMarkerDetected is true")};
    QTest::newRow("DoneMarkerSource set without a marker")
        << field(1, "Telemetry.DoneMarkerSource", QStringLiteral("sentinel"))
        << QStringList{QStringLiteral("scene-002"),
                       QStringLiteral("DoneMarkerSource is \"sentinel\" although DoneMarkerDetected is false")};
    QTest::newRow("DoneMarkerSource as bool")
        << field(0, "Telemetry.DoneMarkerSource", true)
        << QStringList{QStringLiteral("scene-001"),
                       QStringLiteral("Telemetry.DoneMarkerSource must be a string or null")};
    QTest::newRow("top-level Summary missing")
        << Mutation([](QJsonObject& a, QStringList&) { a.remove(QStringLiteral("Summary")); })
        << QStringList{QStringLiteral("Summary is missing")};
}

void TestRunValidator::mutationsAreViolations()
{
    QFETCH(Mutation, mutation);
    QFETCH(QStringList, expectedInError);

    ValidRun v;
    QVERIFY(v.create());
    QVERIFY(v.apply(mutation));
    const ValidationResult r = RunValidator::validate(v.dir.path());
    QCOMPARE(r.exitCode, 1);
    const bool named = std::any_of(r.errors.begin(), r.errors.end(), [&](const QString& e) {
        return std::all_of(expectedInError.begin(), expectedInError.end(),
                           [&](const QString& s) { return e.contains(s); });
    });
    QVERIFY2(named, qPrintable(QStringLiteral("expected an error containing [%1], got:\n%2")
                                   .arg(expectedInError.join(QStringLiteral("] [")), joined(r))));
}

void TestRunValidator::lastTelemetryLineOfAResumedRunCounts()
{
    ValidRun v;
    QVERIFY(v.create());
    // A resumed run logs scene-001 again: an older, different line before the final one is fine...
    QVERIFY(v.apply([](QJsonObject&, QStringList& s) {
        const qsizetype i =
            s.indexOf(QRegularExpression(QStringLiteral(".*\\[Scene scene-001\\] Telemetry:.*")));
        QString older = s.at(i);
        older.replace(QStringLiteral("DurationSeconds=12.3s"), QStringLiteral("DurationSeconds=99.0s"));
        s.insert(i, older);
    }));
    ValidationResult r = RunValidator::validate(v.dir.path());
    QVERIFY2(r.passed(), qPrintable(joined(r)));

    // ...but when the last one disagrees, that one is judged.
    QVERIFY(v.apply([](QJsonObject&, QStringList& s) {
        const qsizetype i =
            s.lastIndexOf(QRegularExpression(QStringLiteral(".*\\[Scene scene-001\\] Telemetry:.*")));
        QString stale = s.at(i);
        stale.replace(QStringLiteral("DurationSeconds=12.3s"), QStringLiteral("DurationSeconds=99.0s"));
        s.insert(i + 1, stale);
    }));
    r = RunValidator::validate(v.dir.path());
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(joined(r).contains(QStringLiteral("DurationSeconds=99.0s differs")), qPrintable(joined(r)));
}

void TestRunValidator::unstartedSceneOfACancelledRun()
{
    // A cancelled run: scene-004 never started, so it has no Telemetry line and empty queue times,
    // but as a scene without frames it still needs the ERROR line that says why.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    RunRecord run = sample::run(dir.path());
    SceneRecord unstarted;
    unstarted.sceneId = QStringLiteral("scene-004");
    unstarted.status = QStringLiteral("cancelled");
    unstarted.errors = {QStringLiteral("Run cancelled before the scene started")};
    run.scenes.append(unstarted);
    QVERIFY(ArtifactWriter::write(run).isNull());
    QVERIFY(sample::writeSummary(run).isNull());
    ValidationResult r = RunValidator::validate(dir.path());
    QVERIFY2(r.passed(), qPrintable(joined(r)));

    run.scenes.last().errors.clear();
    QVERIFY(QFile::remove(dir.filePath(QStringLiteral("run-summary.txt"))));
    QVERIFY(sample::writeSummary(run).isNull());
    r = RunValidator::validate(dir.path());
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(joined(r).contains(QStringLiteral("Scene scene-004: Success is false")), qPrintable(joined(r)));
}

void TestRunValidator::truncatedJsonNamesParseErrorAndOffset()
{
    ValidRun v;
    QVERIFY(v.create());
    QFile f(v.artifactPath());
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray full = f.readAll();
    f.close();
    QVERIFY(writeFile(v.artifactPath(), full.left(full.size() / 2)));
    const ValidationResult r = RunValidator::validate(v.dir.path());
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(r.errors.size(), 1);
    QVERIFY2(r.errors.first().contains(QStringLiteral("not valid JSON")), qPrintable(r.errors.first()));
    QVERIFY2(r.errors.first().contains(QStringLiteral("at offset ")), qPrintable(r.errors.first()));
}

void TestRunValidator::missingRunOrFilesIsExitTwo_data()
{
    QTest::addColumn<QString>("remove");
    QTest::addColumn<QString>("expectedInError");
    QTest::newRow("no such directory") << QStringLiteral("dir") << QStringLiteral("Run directory not found");
    QTest::newRow("no artifact") << QStringLiteral("artifact-metadata.json")
                                 << QStringLiteral("artifact-metadata.json");
    QTest::newRow("no summary") << QStringLiteral("run-summary.txt") << QStringLiteral("run-summary.txt");
}

void TestRunValidator::missingRunOrFilesIsExitTwo()
{
    QFETCH(QString, remove);
    QFETCH(QString, expectedInError);
    ValidRun v;
    QVERIFY(v.create());
    QString runDir = v.dir.path();
    if (remove == QStringLiteral("dir"))
        runDir += QStringLiteral("/does-not-exist");
    else
        QVERIFY(QFile::remove(v.dir.filePath(remove)));
    const ValidationResult r = RunValidator::validate(runDir);
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.errors.size(), 1);
    QVERIFY2(r.errors.first().contains(expectedInError), qPrintable(r.errors.first()));
}

void TestRunValidator::runPrintsErrorsAndVerdict()
{
    ValidRun v;
    QVERIFY(v.create());
    QString text;
    QTextStream out(&text);
    QCOMPARE(RunValidator::run(v.dir.path(), out), 0);
    QCOMPARE(text, QStringLiteral("run-summary validation: PASS\n"));

    QVERIFY(v.apply([](QJsonObject& a, QStringList&) {
        setSceneField(a, 0, QStringLiteral("Telemetry.HistoryExitReason"), QStringLiteral("bogus"));
    }));
    text.clear();
    QCOMPARE(RunValidator::run(v.dir.path(), out), 1);
    const QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY(lines.size() >= 2);
    for (qsizetype i = 0; i + 1 < lines.size(); ++i)
        QVERIFY2(lines.at(i).startsWith(QStringLiteral("ERROR: ")), qPrintable(lines.at(i)));
    QCOMPARE(lines.last(), QStringLiteral("run-summary validation: FAIL"));

    text.clear();
    QCOMPARE(RunValidator::run(v.dir.filePath(QStringLiteral("nope")), out), 2);
    QVERIFY(text.endsWith(QStringLiteral("run-summary validation: FAIL\n")));
}

void TestRunValidator::legacyRunNamesMissingContractFields()
{
    // The legacy pipeline's run predates fields the contract now requires.
    const ValidationResult r = RunValidator::validate(QStringLiteral(GD_TEST_DATA_DIR "/legacy-run"));
    QCOMPARE(r.exitCode, 1);
    const QString all = joined(r);
    for (const QString& expected :
         {QStringLiteral("Scene scene-001: Telemetry.CompletionSignal is missing"),
          QStringLiteral("Scene scene-001: Telemetry.QueueStart is missing"),
          QStringLiteral("Scene scene-001: Telemetry.DoneMarkerDetected is missing"),
          QStringLiteral("Scene scene-001: Telemetry.ForcedCopyTriggered is missing"),
          QStringLiteral("Scene scene-001: Telemetry.GPU.Source is missing"),
          QStringLiteral("Scene scene-001: HistoryConfig must be an object (found null)"),
          QStringLiteral("Scene scene-001: telemetry line lacks DoneMarkerWaitSeconds"),
          QStringLiteral("AppVersion is missing")})
        QVERIFY2(all.contains(expected), qPrintable(expected + QStringLiteral("\n--- got:\n") + all));
    // What the legacy run does get right is not reported.
    QVERIFY2(!all.contains(QStringLiteral("Queue policy")), qPrintable(all));
    QVERIFY2(!all.contains(QStringLiteral("Total frames copied")), qPrintable(all));
    QVERIFY2(!all.contains(QStringLiteral("first line")), qPrintable(all));
}

void TestRunValidator::runWithoutDoneMarkerSourcePasses()
{
    // DoneMarkerSource is an addition: artifacts written before it existed stay valid.
    ValidRun v;
    QVERIFY(v.create());
    QVERIFY(v.apply([](QJsonObject& a, QStringList&) {
        const qsizetype n = a.value(QStringLiteral("Scenes")).toArray().size();
        for (int i = 0; i < n; ++i)
            setSceneField(a, i, QStringLiteral("Telemetry.DoneMarkerSource"), QJsonValue(QJsonValue::Undefined));
    }));
    const ValidationResult r = RunValidator::validate(v.dir.path());
    QVERIFY2(r.passed(), qPrintable(joined(r)));
}

QTEST_GUILESS_MAIN(TestRunValidator)
#include "tst_runvalidator.moc"
