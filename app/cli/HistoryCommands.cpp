#include "HistoryCommands.h"

#include "CliCommon.h"

#include "common/AtomicFile.h"
#include "store/Database.h"
#include "store/FeedbackService.h"
#include "store/RunStore.h"
#include "quality/KpiEvaluator.h"
#include "report/SweepCharts.h"
#include "telemetry/SweepCalculator.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMap>

using namespace gd;

QString historyDatabasePath(const QString& option)
{
    if (!option.isEmpty())
        return option;
    const QString env = qEnvironmentVariable("GEMDIRECT_DB");
    return env.isEmpty() ? store::Database::defaultPath() : env;
}

namespace {

bool parse(QCommandLineParser& p, const QStringList& args, const char* name)
{
    p.addHelpOption();
    p.addOption({QStringLiteral("history-db"), QStringLiteral("History database (GEMDIRECT_DB; default: the app data directory)."), QStringLiteral("PATH")});
    if (!p.parse(args)) {
        cli::err() << "gemdirect " << name << ": " << p.errorText() << Qt::endl;
        return false;
    }
    return true;
}

bool openDb(store::Database& db, const QCommandLineParser& p)
{
    const QString path = historyDatabasePath(p.value(QStringLiteral("history-db")));
    const Error e = db.open(path);
    if (!e.isNull()) {
        cli::err() << "error: " << e.message << Qt::endl;
        return false;
    }
    return true;
}

} // namespace

int importCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Add run directories to the history database: ours and the earlier pipeline's. A directory that holds run "
        "directories is searched. Duplicates are skipped; unreadable runs are reported and the rest imported."));
    p.addPositionalArgument(QStringLiteral("import"), QString());
    p.addPositionalArgument(QStringLiteral("DIR"), QStringLiteral("Run directories or folders of them."), QStringLiteral("DIR…"));
    if (!parse(p, args, "import"))
        return 2;
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    QStringList dirs = p.positionalArguments().mid(1);
    if (dirs.isEmpty()) {
        cli::err() << "usage: gemdirect import DIR…" << Qt::endl;
        return 2;
    }
    store::Database db;
    if (!openDb(db, p))
        return 2;
    store::RunStore runs(db);
    QStringList runDirs;
    for (const QString& d : dirs) {
        if (QFile::exists(QDir(d).filePath(QStringLiteral("artifact-metadata.json"))))
            runDirs << d;
        else
            runDirs << store::RunStore::runDirsBelow(d);
    }
    const auto report = runs.importDirs(runDirs, [](int done, int total, const QString&) {
        if (done % 100 == 0 || done == total)
            cli::out() << "imported " << done << "/" << total << Qt::endl;
    });
    cli::out() << report.imported << " imported, " << report.skippedDuplicates << " already known, " << report.failed.size()
               << " could not be read" << Qt::endl;
    for (const auto& f : report.failed)
        cli::err() << "skipped " << f.path << ": " << f.reason << Qt::endl;
    return report.failed.isEmpty() ? 0 : 1;
}

int rateCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Rate a rendered scene: 1-5 stars, optional 1-5 coherence and a comment. Written to the history database and "
        "the run's artifact-metadata.json (Feedback[])."));
    p.addPositionalArgument(QStringLiteral("rate"), QString());
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QString());
    p.addPositionalArgument(QStringLiteral("SCENE_ID"), QString());
    p.addOption({QStringLiteral("stars"), QStringLiteral("1-5"), QStringLiteral("N")});
    p.addOption({QStringLiteral("coherence"), QStringLiteral("1-5 (optional)"), QStringLiteral("N")});
    p.addOption({QStringLiteral("comment"), QStringLiteral("Free text (optional)."), QStringLiteral("TEXT")});
    if (!parse(p, args, "rate"))
        return 2;
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    const QStringList pos = p.positionalArguments();
    bool ok = false;
    const int stars = p.value(QStringLiteral("stars")).toInt(&ok);
    if (pos.size() != 3 || !p.isSet(QStringLiteral("stars")) || !ok) {
        cli::err() << "usage: gemdirect rate RUN_DIR SCENE_ID --stars 1-5 [--coherence 1-5] [--comment TEXT]" << Qt::endl;
        return 2;
    }
    std::optional<int> coherence;
    if (p.isSet(QStringLiteral("coherence"))) {
        const int c = p.value(QStringLiteral("coherence")).toInt(&ok);
        if (!ok) {
            cli::err() << "error: --coherence must be a whole number from 1 to 5" << Qt::endl;
            return 2;
        }
        coherence = c;
    }
    store::Database db;
    if (!openDb(db, p))
        return 2;
    store::FeedbackService feedback(db);
    const Error e = feedback.rate(pos.at(1), pos.at(2), stars, coherence, p.value(QStringLiteral("comment")));
    if (!e.isNull()) {
        cli::err() << "error: " << e.message << Qt::endl;
        return e.kind == QLatin1String("invalidRating") || e.kind == QLatin1String("unknownRun")
                       || e.kind == QLatin1String("unknownScene")
                   ? 2
                   : 1;
    }
    cli::out() << "Rated " << pos.at(2) << ": " << stars << "★" << (coherence ? QStringLiteral(", coherence %1").arg(*coherence) : QString())
               << Qt::endl;
    return 0;
}

int sweepCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Aggregate telemetry over the runs in the history database (contract §6): report.json and SWEEP_SUMMARY.md in "
        "OUT_DIR. Runs under --runs-root are imported first, so a fresh database still sees them."));
    p.addPositionalArgument(QStringLiteral("sweep"), QString());
    p.addOption({QStringLiteral("since"), QStringLiteral("Only runs started on or after this date (YYYY-MM-DD)."), QStringLiteral("DATE")});
    p.addOption({QStringLiteral("runs-root"), QStringLiteral("Import the runs under this folder before reporting."), QStringLiteral("DIR")});
    p.addOption({{QStringLiteral("o"), QStringLiteral("output")}, QStringLiteral("Output folder."), QStringLiteral("OUT_DIR")});
    if (!parse(p, args, "sweep"))
        return 2;
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    if (!p.isSet(QStringLiteral("output"))) {
        cli::err() << "usage: gemdirect sweep [--since DATE] [--runs-root DIR] -o OUT_DIR" << Qt::endl;
        return 2;
    }
    QDateTime since = QDateTime::fromMSecsSinceEpoch(0, Qt::UTC);
    if (p.isSet(QStringLiteral("since"))) {
        const QDate d = QDate::fromString(p.value(QStringLiteral("since")), Qt::ISODate);
        if (!d.isValid()) {
            cli::err() << "error: --since must be a date like 2026-11-01" << Qt::endl;
            return 2;
        }
        since = d.startOfDay(Qt::UTC);
    }
    store::Database db;
    if (!openDb(db, p))
        return 2;
    store::RunStore runs(db);
    if (p.isSet(QStringLiteral("runs-root"))) {
        const auto report = runs.importDirs(store::RunStore::runDirsBelow(p.value(QStringLiteral("runs-root"))));
        for (const auto& f : report.failed)
            cli::err() << "skipped " << f.path << ": " << f.reason << Qt::endl;
    }
    // From the database: each selected run's digest, stored when the run was recorded (rebuilt from
    // the run directory, the source of truth, for runs recorded before there were digests).
    QVector<telemetry::RunDigest> digests;
    QStringList unreadable;
    const Error e = runs.digestsSince(since, digests, &unreadable);
    if (!e.isNull()) {
        cli::err() << "error: " << e.message << Qt::endl;
        return 1;
    }
    for (const QString& u : unreadable)
        cli::err() << "skipped a run: " << u << Qt::endl;
    QJsonObject sweep = telemetry::SweepCalculator::computeDigests(digests);
    // Each KPI of quality-kpis.md against its threshold, over the same runs.
    const auto kpis = quality::KpiEvaluator::evaluateDigests(digests);
    const QJsonArray kpiJson = quality::KpiEvaluator::toJson(kpis);
    sweep.insert(QStringLiteral("Kpis"), kpiJson);
    const QDir out(p.value(QStringLiteral("output")));
    QDir().mkpath(out.absolutePath());
    Error w = AtomicFile::write(out.filePath(QStringLiteral("report.json")), QJsonDocument(sweep).toJson(QJsonDocument::Indented));
    if (w.isNull())
        w = AtomicFile::write(out.filePath(QStringLiteral("SWEEP_SUMMARY.md")), telemetry::SweepCalculator::markdown(sweep, kpiJson).toUtf8());
    if (!w.isNull()) {
        cli::err() << "error: " << w.message << Qt::endl;
        return 1;
    }
    // Charts: drawn by the report module from the numbers SweepCalculator computed.
    const QJsonObject series = sweep.value(QStringLiteral("Series")).toObject();
    QVector<double> durations, vram;
    QVector<int> frames;
    for (const QJsonValue v : series.value(QStringLiteral("DurationSeconds")).toArray())
        durations << v.toDouble();
    for (const QJsonValue v : series.value(QStringLiteral("FrameCount")).toArray())
        frames << v.toInt();
    for (const QJsonValue v : series.value(QStringLiteral("VramDeltaMBAbs")).toArray())
        vram << v.toDouble();
    auto opt = [](const QJsonValue& v) { return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt; };
    const QJsonObject d = sweep.value(QStringLiteral("DurationSeconds")).toObject();
    const QMap<QString, QMap<QString, double>> trend = telemetry::SweepCalculator::weeklyTrend(digests);
    const QDir charts(out.filePath(QStringLiteral("charts")));
    QDir().mkpath(charts.absolutePath());
    const bool drawn = report::SweepCharts::durationHistogram(durations, opt(d.value(QStringLiteral("P50"))), opt(d.value(QStringLiteral("P95"))))
                           .save(charts.filePath(QStringLiteral("duration-histogram.png")))
                       && report::SweepCharts::framesPerScene(frames).save(charts.filePath(QStringLiteral("frames-per-scene.png")))
                       && report::SweepCharts::vramPerScene(vram).save(charts.filePath(QStringLiteral("vram-per-scene.png")))
                       && report::SweepCharts::weeklyTrend(trend, QStringLiteral("KPI trend by ISO week"))
                              .save(charts.filePath(QStringLiteral("kpi-trend-by-week.png")));
    if (!drawn) {
        cli::err() << "error: cannot write the charts into " << charts.absolutePath() << Qt::endl;
        return 1;
    }
    cli::out() << "Sweep over " << sweep.value(QStringLiteral("Runs")).toInt() << " runs, " << sweep.value(QStringLiteral("Scenes")).toInt()
               << " scenes: " << out.filePath(QStringLiteral("report.json")) << ", " << out.filePath(QStringLiteral("SWEEP_SUMMARY.md"))
               << ", charts/*.png"
               << Qt::endl;
    return 0;
}
