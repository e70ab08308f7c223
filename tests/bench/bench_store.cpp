// bench_store: 1,000 synthetic run directories × 10 scenes → import into a fresh database, then
// the dashboard's last-24-h query. Prints figures (targets: import ≤ 20 s, query ≤ 20 ms).
// Usage: bench_store [runs=1000] [scenes=10]

#include "store/Database.h"
#include "quality/KpiEvaluator.h"
#include "quality/QualityCalculator.h"
#include "store/RunStore.h"
#include "telemetry/SweepCalculator.h"
#include "telemetry/ArtifactWriter.h"
#include "telemetry/RunModel.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QMap>
#include <QSqlQuery>
#include <QJsonArray>
#include <QFile>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTextStream>
#include <algorithm>
#include <cstdio>

using namespace gd;

namespace {

telemetry::RunRecord syntheticRun(const QString& root, int index, int sceneCount, const QDateTime& started)
{
    telemetry::RunRecord run;
    run.runId =
        started.toLocalTime().toString(QStringLiteral("yyyyMMdd-HHmmss")) + QStringLiteral("-%1").arg(index);
    run.runDir = QDir(root).filePath(run.runId);
    run.timestamp = started;
    run.appVersion = QStringLiteral("0.1.0");
    run.workflow = index % 2 ? QStringLiteral("wan-t2v") : QStringLiteral("sdxl");
    run.story.id = QStringLiteral("story-%1").arg(index);
    run.story.title = QStringLiteral("Synthetic story %1").arg(index);
    run.story.genre = index % 3 ? QStringLiteral("drama") : QStringLiteral("horror");
    run.story.templateId = QStringLiteral("story-") + run.story.genre;
    run.story.templateVersion = QStringLiteral("1.0");
    run.story.generator = QStringLiteral("local-llm");
    run.story.llm = QJsonObject{
        {QStringLiteral("Model"), index % 4 ? QStringLiteral("mistral-7b") : QStringLiteral("qwen-14b")}};
    run.story.sceneCount = sceneCount;
    run.backends = {QStringLiteral("http://127.0.0.1:8188")};
    const QJsonObject system{{QStringLiteral("comfyui_version"), QStringLiteral("0.3.64")},
                             {QStringLiteral("os"), QStringLiteral("posix")},
                             {QStringLiteral("ram_total"), 68719476736.0},
                             {QStringLiteral("ram_free"), 51539607552.0}};
    for (int s = 0; s < sceneCount; ++s) {
        telemetry::SceneRecord scene;
        scene.sceneId = QStringLiteral("scene-%1").arg(s + 1, 3, 10, QLatin1Char('0'));
        scene.title = QStringLiteral("Scene %1").arg(s + 1);
        scene.prompt =
            QStringLiteral("cinematic wide shot of scene %1, storm clouds, sodium light").arg(s + 1);
        scene.negativePrompt = QStringLiteral("blurry, watermark");
        scene.workflow = run.workflow;
        scene.status = QStringLiteral("succeeded");
        telemetry::AttemptRecord a;
        a.attempt = 1;
        a.timestamp = started.addSecs(s * 40);
        a.status = QStringLiteral("succeeded");
        a.frameCount = 25 + (index + s) % 5;
        a.durationSeconds = 30.0 + (index * 7 + s * 3) % 50;
        a.success = true;
        a.meetsFrameFloor = true;
        a.historyRetrieved = true;
        a.historyAttempts = 1;
        a.framePrefix = QStringLiteral("gemdirect/%1/%2_a1").arg(run.runId, scene.sceneId);
        a.framesDir = scene.sceneId + QStringLiteral("/attempt-1");
        a.promptId = QStringLiteral("prompt-%1-%2").arg(index).arg(s);
        a.backend = run.backends.first();
        a.seed = index * 100 + s;
        telemetry::AttemptTelemetry& t = a.telemetry;
        t.queueStart = a.timestamp;
        t.queueEnd = a.timestamp.addMSecs(static_cast<qint64>(a.durationSeconds * 1000));
        t.durationSeconds = a.durationSeconds;
        t.maxWaitSeconds = 600;
        t.pollIntervalSeconds = 2;
        t.historyAttempts = 1;
        t.historyExitReason = QStringLiteral("success");
        t.executionSuccessDetected = true;
        t.executionSuccessAt = t.queueEnd.addMSecs(-200);
        t.postExecutionTimeoutSeconds = 30;
        t.sceneRetryBudget = 1;
        t.completionSignal = QStringLiteral("websocket");
        t.doneMarkerDetected = (index + s) % 20 != 0;
        t.forcedCopyTriggered = !t.doneMarkerDetected;
        t.gpu.name = QStringLiteral("NVIDIA GeForce RTX 4090");
        t.gpu.type = QStringLiteral("cuda");
        t.gpu.index = 0;
        t.gpu.vramTotalBytes = 25769803776LL;
        t.gpu.vramFreeBeforeBytes = 20000000000LL;
        t.gpu.vramFreeAfterBytes = 19000000000LL - (s * 1000000LL);
        t.gpu.vramPeakUsedMB = 6144;
        t.gpu.source = QStringLiteral("nvml");
        t.systemBefore = system;
        t.systemAfter = system;
        scene.attempts.append(a);
        scene.keptAttempt = 0;
        run.scenes.append(scene);
    }
    return run;
}

double median(QVector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : v.at(v.size() / 2);
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const int runCount = argc > 1 ? std::max(1, std::atoi(argv[1])) : 1000;
    const int sceneCount = argc > 2 ? std::max(1, std::atoi(argv[2])) : 10;
    QTextStream out(stdout);

    QTemporaryDir tmp;
    if (!tmp.isValid()) {
        out << "cannot create a temporary directory\n";
        return 2;
    }
    const QString runsRoot = tmp.filePath(QStringLiteral("runs"));
    QDir().mkpath(runsRoot);

    // Runs spread over the last 72 hours: about a third fall in the dashboard's 24-h window.
    QElapsedTimer timer;
    timer.start();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QStringList dirs;
    qint64 artifactBytes = 0;
    for (int i = 0; i < runCount; ++i) {
        const QDateTime started = now.addSecs(-static_cast<qint64>(i) * 72 * 3600 / runCount - 60);
        const telemetry::RunRecord run = syntheticRun(runsRoot, i, sceneCount, started);
        QDir().mkpath(run.runDir);
        const QByteArray json =
            QJsonDocument(telemetry::ArtifactWriter::toJson(run)).toJson(QJsonDocument::Indented);
        QFile f(QDir(run.runDir).filePath(telemetry::ArtifactWriter::fileName()));
        if (!f.open(QIODevice::WriteOnly) || f.write(json) != json.size()) {
            out << "cannot write " << f.fileName() << "\n";
            return 2;
        }
        artifactBytes += json.size();
        dirs << run.runDir;
    }
    out << "generated " << runCount << " run directories x " << sceneCount << " scenes ("
        << artifactBytes / (1024 * 1024) << " MiB of artifacts) in " << timer.elapsed() << " ms\n";

    store::Database db;
    if (const Error e = db.open(tmp.filePath(QStringLiteral("bench.sqlite"))); !e.isNull()) {
        out << "open failed: " << e.toString() << "\n";
        return 2;
    }
    store::RunStore runs(db);

    timer.restart();
    const store::ImportReport report = runs.importDirs(dirs);
    const qint64 importMs = timer.elapsed();
    out << "import: " << report.imported << " imported, " << report.skippedDuplicates << " duplicates, "
        << report.failed.size() << " failed in " << importMs << " ms ("
        << QString::number(importMs / 1000.0, 'f', 2)
        << " s; target <= 20 s) = " << QString::number(importMs ? runCount * 1000.0 / importMs : 0, 'f', 0)
        << " runs/s\n";

    timer.restart();
    const store::ImportReport again = runs.importDirs(dirs);
    out << "re-import (all duplicates): " << again.skippedDuplicates << " skipped in " << timer.elapsed()
        << " ms\n";

    const QDateTime since = now.addSecs(-24 * 3600);
    QVector<store::RunRow> rows;
    QVector<double> samples;
    for (int i = 0; i < 21; ++i) {
        QElapsedTimer t;
        t.start();
        if (const Error e = runs.runsSince(since, rows); !e.isNull()) {
            out << "query failed: " << e.toString() << "\n";
            return 2;
        }
        samples << t.nsecsElapsed() / 1e6;
    }
    out << "dashboard runsSince(last 24 h): " << rows.size() << " runs; first "
        << QString::number(samples.first(), 'f', 2) << " ms, median of 21 "
        << QString::number(median(samples), 'f', 2) << " ms, max "
        << QString::number(*std::max_element(samples.begin(), samples.end()), 'f', 2)
        << " ms (target <= 20 ms)\n";

    samples.clear();
    QVector<store::SceneRow> scenes;
    for (int i = 0; i < 21 && !rows.isEmpty(); ++i) {
        QElapsedTimer t;
        t.start();
        runs.scenesOfRun(rows.at(i % rows.size()).runId, scenes);
        samples << t.nsecsElapsed() / 1e6;
    }
    out << "scenesOfRun: " << scenes.size() << " scenes; median of 21 "
        << QString::number(median(samples), 'f', 3) << " ms\n";

    QVector<store::SweepRow> sweep;
    timer.restart();
    runs.keptTelemetrySince(since, sweep);
    out << "sweep keptTelemetrySince(last 24 h): " << sweep.size() << " kept attempts in " << timer.elapsed()
        << " ms\n";

    // The sweep report without charts, as `gemdirect sweep` builds it: every run of the database,
    // its stored digest → §6 aggregates and every KPI. Seven times; the median is the figure.
    const QDateTime epoch = QDateTime::fromMSecsSinceEpoch(0, Qt::UTC);
    {
        QVector<double> total, query, aggregates, kpiMs;
        int runsOut = 0, scenesOut = 0, kpiCount = 0;
        for (int i = 0; i < 7; ++i) {
            QElapsedTimer t;
            t.start();
            QVector<telemetry::RunDigest> digests;
            QStringList problems;
            runs.digestsSince(epoch, digests, &problems);
            const double t0 = t.nsecsElapsed() / 1e6;
            const QJsonObject sweepReport = telemetry::SweepCalculator::computeDigests(digests);
            const double t1 = t.nsecsElapsed() / 1e6;
            const auto kpis = quality::KpiEvaluator::evaluateDigests(digests);
            const QJsonArray kpiJson = quality::KpiEvaluator::toJson(kpis);
            const double t2 = t.nsecsElapsed() / 1e6;
            query << t0;
            aggregates << t1 - t0;
            kpiMs << t2 - t1;
            total << t2;
            runsOut = sweepReport.value(QStringLiteral("Runs")).toInt();
            scenesOut = sweepReport.value(QStringLiteral("Scenes")).toInt();
            kpiCount = int(kpiJson.size());
        }
        QStringList all;
        for (double v : total)
            all << QString::number(v, 'f', 1);
        out << "sweep report without charts from the database over " << runsOut << " runs / " << scenesOut << " scenes with "
            << kpiCount << " KPIs: median of 7 " << QString::number(median(total), 'f', 1) << " ms (" << all.join(QStringLiteral(", "))
            << "; target <= 300 ms)\n  (median digest query + parse " << QString::number(median(query), 'f', 1) << " ms, aggregates "
            << QString::number(median(aggregates), 'f', 1) << " ms, KPIs " << QString::number(median(kpiMs), 'f', 1) << " ms)\n";
    }

    // The same report from the artifacts, as `gemdirect sweep` built it before the digests: the
    // database picks the runs, their artifacts are read in parallel, then aggregates and KPIs.
    {
        QElapsedTimer t;
        t.start();
        QVector<store::RunRow> rowsAll;
        runs.runsSince(epoch, rowsAll);
        QStringList selectedDirs;
        for (const auto& r : rowsAll)
            selectedDirs << r.runDir;
        const qint64 t0 = t.elapsed();
        const QVector<QJsonObject> full = telemetry::SweepCalculator::readArtifacts(selectedDirs, nullptr);
        const qint64 t1 = t.elapsed();
        const QJsonObject sweepReport = telemetry::SweepCalculator::compute(full);
        const qint64 t2 = t.elapsed();
        const auto kpis = quality::KpiEvaluator::evaluate(full);
        out << "sweep report without charts from the artifacts (parallel read) over "
            << sweepReport.value(QStringLiteral("Runs")).toInt() << " runs: " << t.elapsed() << " ms (query " << t0
            << " ms, read " << (t1 - t0) << " ms, aggregates " << (t2 - t1) << " ms, KPIs " << (t.elapsed() - t2) << " ms)\n";
    }

    // A database from before the digests (schema v1): the first sweep rebuilds every digest from
    // the run directories and stores it.
    {
        QSqlQuery clear(db.handle());
        clear.exec(QStringLiteral("UPDATE runs SET digest_version = NULL, digest_json = NULL"));
        QElapsedTimer t;
        t.start();
        QVector<telemetry::RunDigest> digests;
        runs.digestsSince(epoch, digests, nullptr);
        const qint64 rebuildMs = t.elapsed();
        t.restart();
        runs.digestsSince(epoch, digests, nullptr);
        out << "first digest query after an upgrade from schema v1 (" << digests.size() << " digests rebuilt from the run "
            << "directories and stored): " << rebuildMs << " ms; the next one " << t.elapsed() << " ms\n";
    }

    timer.restart();
    const store::ImportReport rebuilt = runs.rebuildFrom(runsRoot);
    out << "rebuildFrom(runs root): " << rebuilt.imported << " runs in " << timer.elapsed() << " ms\n";

    const bool ok = report.imported == runCount && report.failed.isEmpty();
    return ok ? 0 : 1;
}
