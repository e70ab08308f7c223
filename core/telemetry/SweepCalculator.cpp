#include "telemetry/SweepCalculator.h"

#include "telemetry/Percentiles.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QMap>
#include <QtConcurrent/QtConcurrentMap>

#include <algorithm>
#include <climits>
#include <cmath>

namespace gd::telemetry {

namespace {

QJsonValue numberOrNull(const std::optional<double>& v, int decimals = 1)
{
    if (!v)
        return QJsonValue::Null;
    const double f = std::pow(10.0, decimals);
    return std::round(*v * f) / f;
}

std::optional<double> rate(int part, int whole)
{
    if (whole <= 0)
        return std::nullopt;
    return double(part) / double(whole);
}

} // namespace

QVector<QJsonObject> SweepCalculator::readArtifacts(const QStringList& runDirs, QStringList* problems)
{
    struct Read
    {
        QJsonObject artifact;
        QString problem;
    };
    const QList<Read> results = QtConcurrent::blockingMapped(runDirs, [](const QString& dir) {
        Read r;
        QFile f(QDir(dir).filePath(QStringLiteral("artifact-metadata.json")));
        if (!f.open(QIODevice::ReadOnly)) {
            r.problem = QStringLiteral("%1: %2").arg(f.fileName(), f.errorString());
            return r;
        }
        if (f.size() > 64LL * 1024 * 1024) {
            r.problem = QStringLiteral("%1: larger than 64 MB").arg(f.fileName());
            return r;
        }
        QJsonParseError pe{};
        const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject())
            r.problem = QStringLiteral("%1: invalid JSON (%2 at offset %3)").arg(f.fileName(), pe.errorString()).arg(pe.offset);
        else
            r.artifact = doc.object();
        return r;
    });
    QVector<QJsonObject> out;
    for (const Read& r : results) {
        if (!r.problem.isEmpty()) {
            if (problems)
                problems->append(r.problem);
            continue;
        }
        out << r.artifact;
    }
    return out;
}

QJsonArray SweepCalculator::framesHistogram(const QVector<int>& frames)
{
    struct Bucket
    {
        const char* label;
        int lo;
        int hi;
    };
    static const Bucket buckets[] = {{"0", 0, 0},     {"1-9", 1, 9},     {"10-24", 10, 24},
                                     {"25-49", 25, 49}, {"50-99", 50, 99}, {"100+", 100, INT_MAX}};
    QJsonArray out;
    for (const auto& b : buckets) {
        int n = 0;
        for (int f : frames)
            if (f >= b.lo && f <= b.hi)
                ++n;
        out.append(QJsonObject{{QStringLiteral("bucket"), QLatin1String(b.label)}, {QStringLiteral("scenes"), n}});
    }
    return out;
}

QJsonObject SweepCalculator::compute(const QVector<QJsonObject>& artifacts)
{
    QVector<RunDigest> runs;
    runs.reserve(artifacts.size());
    for (const QJsonObject& a : artifacts)
        runs.append(RunDigest::fromArtifact(a));
    return computeDigests(runs);
}

QJsonObject SweepCalculator::computeDigests(const QVector<RunDigest>& digests)
{
    int scenes = 0, zeroFrame = 0, markers = 0, forced = 0, requeued = 0, execSuccess = 0;
    qsizetype sceneTotal = 0;
    for (const RunDigest& a : digests)
        sceneTotal += a.scenes.size();
    QVector<int> frames;
    QVector<double> durations;
    QVector<double> vramDelta;
    frames.reserve(sceneTotal);
    durations.reserve(sceneTotal);
    vramDelta.reserve(sceneTotal);
    QMap<QString, int> notes;
    QJsonArray runs;
    QDateTime first, last;
    for (const RunDigest& a : digests) {
        const QDateTime ts = QDateTime::fromString(a.timestamp.toString(), Qt::ISODateWithMs);
        if (ts.isValid()) {
            first = !first.isValid() || ts < first ? ts : first;
            last = !last.isValid() || ts > last ? ts : last;
        }
        int runScenes = 0, runFrames = 0;
        for (const SceneDigest& s : a.scenes) {
            ++scenes;
            ++runScenes;
            const int f = s.frameCount;
            frames << f;
            runFrames += f;
            zeroFrame += f == 0;
            markers += s.doneMarkerDetected;
            forced += s.forcedCopyTriggered;
            requeued += s.requeued;
            // Execution success: the server reported success for the kept attempt.
            execSuccess += s.executionSuccessDetected;
            if (s.attemptsRun > 0 && s.durationSeconds)
                durations << *s.durationSeconds;
            if (s.vramDeltaMB)
                vramDelta << std::abs(*s.vramDeltaMB);
            for (const QString& n : s.fallbackNotes)
                ++notes[n];
        }
        runs.append(QJsonObject{{QStringLiteral("RunId"), a.runId},
                                {QStringLiteral("Timestamp"), a.timestamp},
                                {QStringLiteral("Scenes"), runScenes},
                                {QStringLiteral("TotalFrames"), runFrames}});
    }
    std::optional<double> meanFrames;
    std::optional<double> minFrames;
    if (!frames.isEmpty()) {
        double sum = 0;
        for (int f : frames)
            sum += f;
        meanFrames = sum / frames.size();
        minFrames = *std::min_element(frames.begin(), frames.end());
    }
    QJsonObject noteCounts;
    for (auto it = notes.cbegin(); it != notes.cend(); ++it)
        noteCounts.insert(it.key(), it.value());
    std::optional<double> vramMax;
    if (!vramDelta.isEmpty())
        vramMax = *std::max_element(vramDelta.begin(), vramDelta.end());
    QJsonArray durationList;
    for (double d : durations)
        durationList.append(d);
    QJsonArray frameList;
    for (int f : frames)
        frameList.append(f);
    QJsonArray vramList;
    for (double v : vramDelta)
        vramList.append(v);
    return QJsonObject{
        {QStringLiteral("Runs"), int(digests.size())},
        {QStringLiteral("From"), first.isValid() ? QJsonValue(first.toString(Qt::ISODateWithMs)) : QJsonValue()},
        {QStringLiteral("To"), last.isValid() ? QJsonValue(last.toString(Qt::ISODateWithMs)) : QJsonValue()},
        {QStringLiteral("Scenes"), scenes},
        {QStringLiteral("FramesPerScene"),
         QJsonObject{{QStringLiteral("Mean"), numberOrNull(meanFrames)},
                     {QStringLiteral("Min"), numberOrNull(minFrames, 0)},
                     {QStringLiteral("Histogram"), framesHistogram(frames)}}},
        {QStringLiteral("DurationSeconds"),
         QJsonObject{{QStringLiteral("P50"), numberOrNull(Percentiles::nearestRank(durations, 50))},
                     {QStringLiteral("P95"), numberOrNull(Percentiles::nearestRank(durations, 95))},
                     {QStringLiteral("P99"), numberOrNull(Percentiles::nearestRank(durations, 99))},
                     {QStringLiteral("Count"), int(durations.size())}}},
        {QStringLiteral("DoneMarkerDetectionRate"), numberOrNull(rate(markers, scenes), 4)},
        {QStringLiteral("ForcedCopyRate"), numberOrNull(rate(forced, scenes), 4)},
        {QStringLiteral("ZeroFrameRate"), numberOrNull(rate(zeroFrame, scenes), 4)},
        {QStringLiteral("RequeueRate"), numberOrNull(rate(requeued, scenes), 4)},
        {QStringLiteral("ExecutionSuccessRate"), numberOrNull(rate(execSuccess, scenes), 4)},
        {QStringLiteral("VramDeltaMBAbs"),
         QJsonObject{{QStringLiteral("Max"), numberOrNull(vramMax)},
                     {QStringLiteral("P95"), numberOrNull(Percentiles::nearestRank(vramDelta, 95))}}},
        {QStringLiteral("FallbackNoteCounts"), noteCounts},
        {QStringLiteral("PerRun"), runs},
        // Raw series for charts and independent recomputation.
        {QStringLiteral("Series"), QJsonObject{{QStringLiteral("DurationSeconds"), durationList},
                                               {QStringLiteral("FrameCount"), frameList},
                                               {QStringLiteral("VramDeltaMBAbs"), vramList}}},
    };
}

QMap<QString, QMap<QString, double>> SweepCalculator::weeklyTrend(const QVector<RunDigest>& runs)
{
    QMap<QString, std::pair<int, int>> markerByWeek, successByWeek, floorByWeek;
    for (const RunDigest& a : runs) {
        const QDate day = QDateTime::fromString(a.timestamp.toString(), Qt::ISODateWithMs).date();
        int isoYear = 0;
        const int wk = day.weekNumber(&isoYear);
        const QString key = QStringLiteral("%1-W%2").arg(isoYear).arg(wk, 2, 10, QLatin1Char('0'));
        auto bump = [&](QMap<QString, std::pair<int, int>>& m, bool hit) {
            m[key].first += hit;
            m[key].second += 1;
        };
        for (const SceneDigest& s : a.scenes) {
            if (s.attemptsRun <= 0)
                continue;
            bump(markerByWeek, s.doneMarkerDetected);
            bump(successByWeek, s.executionSuccessDetected);
            bump(floorByWeek, s.frameCount >= s.frameFloor);
        }
    }
    auto rates = [](const QMap<QString, std::pair<int, int>>& m) {
        QMap<QString, double> out;
        for (auto it = m.cbegin(); it != m.cend(); ++it)
            out.insert(it.key(), it.value().second ? double(it.value().first) / it.value().second : 0.0);
        return out;
    };
    QMap<QString, QMap<QString, double>> trend;
    trend.insert(QStringLiteral("done-marker detection rate"), rates(markerByWeek));
    trend.insert(QStringLiteral("execution success rate"), rates(successByWeek));
    trend.insert(QStringLiteral("scenes meeting the frame floor"), rates(floorByWeek));
    return trend;
}

QString SweepCalculator::markdown(const QJsonObject& s, const QJsonArray& kpis)
{
    auto num = [](const QJsonValue& v, const QString& suffix = QString()) {
        return v.isNull() || v.isUndefined() ? QStringLiteral("n/a") : QString::number(v.toDouble()) + suffix;
    };
    auto pct = [](const QJsonValue& v) {
        return v.isNull() || v.isUndefined() ? QStringLiteral("n/a") : QString::number(v.toDouble() * 100.0, 'f', 1) + QLatin1Char('%');
    };
    QString md;
    md += QStringLiteral("# Sweep summary\n\n");
    md += QStringLiteral("%1 runs, %2 scenes, %3 to %4.\n\n")
              .arg(s.value(QStringLiteral("Runs")).toInt())
              .arg(s.value(QStringLiteral("Scenes")).toInt())
              .arg(s.value(QStringLiteral("From")).toString(QStringLiteral("n/a")), s.value(QStringLiteral("To")).toString(QStringLiteral("n/a")));
    const QJsonObject d = s.value(QStringLiteral("DurationSeconds")).toObject();
    const QJsonObject f = s.value(QStringLiteral("FramesPerScene")).toObject();
    const QJsonObject v = s.value(QStringLiteral("VramDeltaMBAbs")).toObject();
    md += QStringLiteral("| figure | value |\n|---|---|\n");
    md += QStringLiteral("| scene duration P50 / P95 / P99 | %1 / %2 / %3 |\n")
              .arg(num(d.value(QStringLiteral("P50")), QStringLiteral(" s")), num(d.value(QStringLiteral("P95")), QStringLiteral(" s")),
                   num(d.value(QStringLiteral("P99")), QStringLiteral(" s")));
    md += QStringLiteral("| frames per scene (mean / min) | %1 / %2 |\n").arg(num(f.value(QStringLiteral("Mean"))), num(f.value(QStringLiteral("Min"))));
    md += QStringLiteral("| done-marker detection rate | %1 |\n").arg(pct(s.value(QStringLiteral("DoneMarkerDetectionRate"))));
    md += QStringLiteral("| forced-copy rate | %1 |\n").arg(pct(s.value(QStringLiteral("ForcedCopyRate"))));
    md += QStringLiteral("| zero-frame rate | %1 |\n").arg(pct(s.value(QStringLiteral("ZeroFrameRate"))));
    md += QStringLiteral("| requeue rate | %1 |\n").arg(pct(s.value(QStringLiteral("RequeueRate"))));
    md += QStringLiteral("| execution success rate | %1 |\n").arg(pct(s.value(QStringLiteral("ExecutionSuccessRate"))));
    md += QStringLiteral("| abs(VramDeltaMB) max / P95 | %1 / %2 |\n")
              .arg(num(v.value(QStringLiteral("Max")), QStringLiteral(" MB")), num(v.value(QStringLiteral("P95")), QStringLiteral(" MB")));
    md += QStringLiteral("\n## Frames per scene\n\n| frames | scenes |\n|---|---|\n");
    for (const QJsonValue b : f.value(QStringLiteral("Histogram")).toArray())
        md += QStringLiteral("| %1 | %2 |\n").arg(b.toObject().value(QStringLiteral("bucket")).toString()).arg(b.toObject().value(QStringLiteral("scenes")).toInt());
    const QJsonObject notes = s.value(QStringLiteral("FallbackNoteCounts")).toObject();
    md += QStringLiteral("\n## Fallback notes\n\n");
    if (notes.isEmpty())
        md += QStringLiteral("None.\n");
    else {
        md += QStringLiteral("| note | count |\n|---|---|\n");
        for (auto it = notes.begin(); it != notes.end(); ++it)
            md += QStringLiteral("| %1 | %2 |\n").arg(it.key()).arg(it.value().toInt());
    }
    if (!kpis.isEmpty()) {
        md += QStringLiteral("\n## KPIs\n\n| KPI | value | threshold | status | failing scenes |\n|---|---|---|---|---|\n");
        for (const QJsonValue kv : kpis) {
            const QJsonObject k = kv.toObject();
            QStringList failing;
            for (const QJsonValue fs : k.value(QStringLiteral("FailingScenes")).toArray())
                failing << fs.toString();
            md += QStringLiteral("| %1 | %2 | %3 | %4 | %5 |\n")
                      .arg(k.value(QStringLiteral("Name")).toString(), num(k.value(QStringLiteral("Value"))),
                           k.value(QStringLiteral("Threshold")).toString(), k.value(QStringLiteral("Status")).toString(),
                           failing.join(QStringLiteral(", ")));
        }
    }
    return md;
}

} // namespace gd::telemetry
