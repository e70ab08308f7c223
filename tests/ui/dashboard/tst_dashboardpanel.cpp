#include "dashboard/DashboardPanel.h"
#include "dashboard/KpiTile.h"
#include "gpu/GpuMonitor.h"
#include "gpu/GpuSource.h"
#include "store/Database.h"
#include "store/RunHistoryModel.h"
#include "store/RunStore.h"

#include "StoreTestRuns.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QLabel>
#include <QTableView>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QScrollArea>
#include <QTextDocument>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <atomic>

using gd::gpu::GpuMonitor;
using gd::gpu::GpuSnapshot;
using gd::gpu::GpuSource;
using gd::ui::DashboardPanel;
using gd::ui::KpiTile;

namespace {
constexpr qint64 MiB = 1024 * 1024;
constexpr qint64 kT0 = 1'767'225'600'000; // 2026-01-01T00:00:00Z, on a minute boundary

// Plays back `count` readings one simulated second apart (a fake clock), then repeats the last
// timestamp, so the point counts do not depend on how fast the monitor thread runs.
class ClockedSource : public GpuSource
{
public:
    enum class Kind
    {
        Nvml,
        SystemStatsWithoutUtilisation,
        Missing
    };
    ClockedSource(int count, Kind kind) : m_count(count), m_kind(kind) {}

    GpuSnapshot sample(int index) override
    {
        const int n = std::min(m_next++, m_count - 1);
        GpuSnapshot s;
        s.index = index;
        s.takenAt = QDateTime::fromMSecsSinceEpoch(kT0 + qint64(n) * 1000, Qt::UTC);
        switch (m_kind) {
        case Kind::Missing:
            s.source = QStringLiteral("missing");
            s.notes << QStringLiteral("NVML: libnvidia-ml.so.1 not found")
                    << QStringLiteral("nvidia-smi: not found on PATH");
            break;
        case Kind::SystemStatsWithoutUtilisation:
            s.source = QStringLiteral("system_stats");
            s.vramTotalBytes = 16384 * MiB;
            s.vramFreeBytes = (16384 - 4096) * MiB;
            break;
        case Kind::Nvml:
            s.source = QStringLiteral("nvml");
            s.vramTotalBytes = 24576 * MiB;
            s.vramUsedBytes = qint64(2000 + n) * MiB;
            s.vramFreeBytes = *s.vramTotalBytes - *s.vramUsedBytes;
            s.utilizationPercent = n % 100;
            break;
        }
        return s;
    }

private:
    int m_count;
    Kind m_kind;
    int m_next = 0;
};

GpuSnapshot nvmlReading(int n)
{
    GpuSnapshot s;
    s.source = QStringLiteral("nvml");
    s.takenAt = QDateTime::fromMSecsSinceEpoch(kT0 + qint64(n) * 1000, Qt::UTC);
    s.vramTotalBytes = 24576 * MiB;
    s.vramUsedBytes = 8000 * MiB;
    s.vramFreeBytes = *s.vramTotalBytes - *s.vramUsedBytes;
    s.utilizationPercent = 50;
    return s;
}

QLineSeries* series(const QWidget& panel, const char* view, const QString& name)
{
    auto* chartView = panel.findChild<QChartView*>(QLatin1String(view));
    if (!chartView)
        return nullptr;
    for (QAbstractSeries* s : chartView->chart()->series())
        if (s->objectName() == name)
            return qobject_cast<QLineSeries*>(s);
    return nullptr;
}

template <typename T> T* axis(const QWidget& panel, const char* view, const QString& name)
{
    auto* chartView = panel.findChild<QChartView*>(QLatin1String(view));
    for (QAbstractAxis* a : chartView->chart()->axes())
        if (a->objectName() == name)
            return qobject_cast<T*>(a);
    return nullptr;
}

QString labelText(const QWidget& panel, const char* name)
{
    auto* label = panel.findChild<QLabel*>(QLatin1String(name));
    return label ? label->text() : QStringLiteral("<no label %1>").arg(QLatin1String(name));
}

// Records run directories into a fresh history database, as a finished run does.
bool record(const QString& dbPath, const QStringList& runDirs)
{
    gd::store::Database db;
    if (!db.open(dbPath).isNull())
        return false;
    gd::store::RunStore store(db);
    for (const QString& dir : runDirs) {
        QJsonObject artifact;
        if (!gd::store::RunStore::readArtifact(dir, artifact).isNull() || !store.recordRun(artifact, dir).isNull())
            return false;
    }
    return true;
}

// One scene that did not succeed (the status a "has failures" filter looks for).
void failScene(QJsonObject& a)
{
    QJsonArray scenes = a.value(QStringLiteral("Scenes")).toArray();
    QJsonObject s = scenes.at(2).toObject();
    s.insert(QStringLiteral("Status"), QStringLiteral("failed"));
    s.insert(QStringLiteral("Success"), false);
    scenes.replace(2, s);
    a.insert(QStringLiteral("Scenes"), scenes);
    QJsonObject summary = a.value(QStringLiteral("Summary")).toObject();
    summary.insert(QStringLiteral("ScenesSucceeded"), 4);
    a.insert(QStringLiteral("Summary"), summary);
}

void clickRow(QTableView* view, int row)
{
    const QRect rect = view->visualRect(view->model()->index(row, 1));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
}

// The labels a value axis prints: one per tick, with the axis' own "%.0f" format.
QStringList tickLabels(const QValueAxis* axis)
{
    QStringList out;
    const double step = (axis->max() - axis->min()) / std::max(1, axis->tickCount() - 1);
    for (int i = 0; i < axis->tickCount(); ++i)
        out << QString::asprintf(axis->labelFormat().toLatin1().constData(), axis->min() + i * step);
    return out;
}

// Whole numbers, each printed once ("0, 1, 1" is what a 0.5 step printed with "%.0f" looks like).
bool wholeDistinctTicks(const QValueAxis* axis, QString* why)
{
    QStringList labels = tickLabels(axis);
    const double step = (axis->max() - axis->min()) / std::max(1, axis->tickCount() - 1);
    *why = labels.join(QStringLiteral(", "));
    return labels.size() >= 2 && labels.removeDuplicates() == 0 && step == std::floor(step) &&
           axis->min() == std::floor(axis->min());
}

QColor tileColor(KpiTile* tile)
{
    // A pixel just inside the frame: what the operator sees as the tile's colour.
    return tile->grab().toImage().pixelColor(4, 4);
}
} // namespace

// The dashboard as an operator sees it: GPU chart fed by a monitor, window switch, unavailable
// GPU, KPI tile colours for a run with known figures, history filters.
class TestDashboardPanel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void gpuChartShowsTheMonitorsSamples()
    {
        GpuMonitor monitor(std::make_unique<ClockedSource>(420, ClockedSource::Kind::Nvml));
        monitor.setIntervalMs(1);
        DashboardPanel panel(m_tmp.filePath(QStringLiteral("empty.sqlite")));
        panel.resize(1200, 900);
        panel.show();
        QCOMPARE(labelText(panel, "gpuSourceLabel"), QStringLiteral("GPU readings unavailable"));
        panel.setGpuMonitor(&monitor);
        QTRY_COMPARE(labelText(panel, "gpuSourceLabel"), QStringLiteral("Waiting for the first GPU reading"));
        monitor.start();
        QTRY_VERIFY_WITH_TIMEOUT(panel.gpuHistory().samplesAdded() >= 420, 20000);
        monitor.stop();

        // The newest bucket is reading 419 (2000 + 419 MiB used), drawn at the next coalesced redraw.
        QTRY_COMPARE(series(panel, "gpuChartView", QStringLiteral("vramUsedSeries"))->points().last().y(),
                     (2000.0 + 419) / 1024.0);
        // 420 simulated seconds; the 5-minute window holds the last 300 one-second buckets.
        QCOMPARE(series(panel, "gpuChartView", QStringLiteral("vramUsedSeries"))->count(), 300);
        QCOMPARE(series(panel, "gpuChartView", QStringLiteral("vramTotalSeries"))->count(), 300);
        QCOMPARE(series(panel, "gpuChartView", QStringLiteral("utilizationSeries"))->count(), 300);
        auto* time = axis<QDateTimeAxis>(panel, "gpuChartView", QStringLiteral("gpuTimeAxis"));
        QCOMPARE(time->max().toMSecsSinceEpoch(), kT0 + 420'000);
        QCOMPARE(time->min().toMSecsSinceEpoch(), kT0 + 120'000);
        // 24 GiB total: the axis ends at a round number above 24 × 1.05.
        QCOMPARE(axis<QValueAxis>(panel, "gpuChartView", QStringLiteral("gpuVramAxis"))->max(), 30.0);
        QCOMPARE(axis<QValueAxis>(panel, "gpuChartView", QStringLiteral("gpuUtilAxis"))->max(), 100.0);
        QCOMPARE(labelText(panel, "gpuSourceLabel"), QStringLiteral("Source: NVML"));
    }

    void emptyGpuChartHasASaneAxisAndSaysSo()
    {
        DashboardPanel panel(m_tmp.filePath(QStringLiteral("empty.sqlite")));
        panel.resize(1200, 900);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        // Before any reading: a card-sized GiB range with whole-number ticks, not "0, 1, 1".
        auto* vram = axis<QValueAxis>(panel, "gpuChartView", QStringLiteral("gpuVramAxis"));
        QCOMPARE(vram->min(), 0.0);
        QCOMPARE(vram->max(), 24.0);
        QString ticks;
        QVERIFY2(wholeDistinctTicks(vram, &ticks), qPrintable(ticks));
        QCOMPARE(ticks, QStringLiteral("0, 6, 12, 18, 24"));
        QVERIFY2(wholeDistinctTicks(axis<QValueAxis>(panel, "gpuChartView", QStringLiteral("gpuUtilAxis")), &ticks),
                 qPrintable(ticks));
        // ... and says so over the plot.
        auto* empty = panel.findChild<QLabel*>(QStringLiteral("gpuEmptyLabel"));
        QVERIFY(empty);
        QVERIFY(empty->isVisible());
        QCOMPARE(empty->text(), QStringLiteral("No GPU readings yet"));
        auto* view = panel.findChild<QChartView*>(QStringLiteral("gpuChartView"));
        const QRect plot =
            view->mapFromScene(view->chart()->mapToScene(view->chart()->plotArea())).boundingRect();
        QVERIFY2(plot.contains(empty->geometry().center()), "the note is not over the plot area");

        // A reading arrives: the note goes, the axis follows the card (24 GiB total → 0..30).
        panel.addGpuSample(nvmlReading(0));
        panel.redrawNow();
        QVERIFY(empty->isHidden());
        QCOMPARE(vram->max(), 30.0);
        QVERIFY2(wholeDistinctTicks(vram, &ticks), qPrintable(ticks));
    }

    void smallVramReadingsStillGetWholeNumberTicks()
    {
        // A source that reports a little used memory and no total: the range is below 1 GiB.
        DashboardPanel panel(m_tmp.filePath(QStringLiteral("empty.sqlite")));
        GpuSnapshot s;
        s.source = QStringLiteral("system_stats");
        s.takenAt = QDateTime::fromMSecsSinceEpoch(kT0, Qt::UTC);
        s.vramUsedBytes = 300 * MiB;
        panel.addGpuSample(s);
        panel.redrawNow();
        QString ticks;
        QVERIFY2(wholeDistinctTicks(axis<QValueAxis>(panel, "gpuChartView", QStringLiteral("gpuVramAxis")), &ticks),
                 qPrintable(ticks));
        QVERIFY(panel.findChild<QLabel*>(QStringLiteral("gpuEmptyLabel"))->isHidden());
    }

    void everyLegendEntryIsReadable_data()
    {
        QTest::addColumn<QSize>("size");
        // The dashboard's share of the default 1600×1000 window (the bottom row beside the feedback
        // panel) and the screenshot tour's floating dock.
        QTest::newRow("default window") << QSize(1085, 420);
        QTest::newRow("screenshot tour") << QSize(1300, 1120);
    }

    void everyLegendEntryIsReadable()
    {
        QFETCH(QSize, size);
        QTemporaryDir dir;
        const QString run = storetest::makeRun(dir.path(), QStringLiteral("20260101-110000"),
                                               QDateTime::currentDateTimeUtc().addSecs(-600), [](QJsonObject&) {});
        QVERIFY(!run.isEmpty());
        const QString db = dir.filePath(QStringLiteral("history.sqlite"));
        QVERIFY(record(db, {run}));
        DashboardPanel panel(db);
        panel.resize(size);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        auto* history = panel.findChild<QTableView*>(QStringLiteral("historyView"));
        QTRY_COMPARE(history->model()->rowCount(), 1);
        clickRow(history, 0);
        QTRY_COMPARE(panel.figures().runId, QStringLiteral("20260101-110000"));
        panel.redrawNow();
        QTest::qWait(50); // let the layouts settle after the figures arrived

        const QList<QPair<const char*, const char*>> charts{
            {"gpuChartView", "gpuLegend"}, {"durationChartView", "durationLegend"}, {"framesChartView", "framesLegend"}};
        for (const auto& [viewName, legendName] : charts) {
            auto* view = panel.findChild<QChartView*>(QLatin1String(viewName));
            auto* legend = panel.findChild<QLabel*>(QLatin1String(legendName));
            QVERIFY2(view && legend, legendName);
            // Qt's own legend elides entries when the chart is narrow; it must not be what is shown.
            QVERIFY(!view->chart()->legend()->isVisible());
            QVERIFY(legend->isVisible());
            // Every series is named in full ...
            QTextDocument doc;
            doc.setHtml(legend->text());
            const QString shown = doc.toPlainText().replace(QChar(0x00a0), QLatin1Char(' '));
            for (QAbstractSeries* s : view->chart()->series())
                QVERIFY2(shown.contains(s->name()), qPrintable(QStringLiteral("%1 lacks \"%2\": %3")
                                                                   .arg(QLatin1String(legendName), s->name(), shown)));
            // ... and nothing is cut off: the label is as tall as its wrapped text and within its chart's width.
            QVERIFY2(legend->height() >= legend->heightForWidth(legend->width()),
                     qPrintable(QStringLiteral("%1: %2 px tall, needs %3")
                                    .arg(QLatin1String(legendName))
                                    .arg(legend->height())
                                    .arg(legend->heightForWidth(legend->width()))));
            QVERIFY(legend->width() <= view->width() + 1);
            // ... and the centred text lies inside what the scroll area shows.
            QTextDocument layout;
            layout.setDefaultFont(legend->font());
            layout.setHtml(legend->text());
            layout.setTextWidth(legend->width());
            auto* viewport = panel.findChild<QScrollArea*>()->viewport();
            const int centre = legend->mapTo(viewport, legend->rect().center()).x();
            const double half = layout.idealWidth() / 2.0;
            QVERIFY2(centre - half >= 0 && centre + half <= viewport->width(),
                     qPrintable(QStringLiteral("%1: text %2..%3 px, viewport 0..%4")
                                    .arg(QLatin1String(legendName))
                                    .arg(centre - half)
                                    .arg(centre + half)
                                    .arg(viewport->width())));
        }
        // The duration chart's target entry, the one that used to read "Target P95 ≤…".
        auto* duration = panel.findChild<QLabel*>(QStringLiteral("durationLegend"));
        QTextDocument doc;
        doc.setHtml(duration->text());
        QVERIFY(doc.toPlainText().replace(QChar(0x00a0), QLatin1Char(' ')).contains(QStringLiteral("Target P95 ≤ 120 s")));
    }

    void windowSwitchChangesThePointSet_data()
    {
        QTest::addColumn<int>("comboIndex");
        QTest::addColumn<int>("points");
        QTest::addColumn<qint64>("spanMs");
        // 7,200 simulated seconds (2 h) at 1 Hz.
        QTest::newRow("5 min: 1 s buckets") << 0 << 300 << qint64(300'000);
        QTest::newRow("1 h: 6 s buckets") << 1 << 600 << qint64(3'600'000);
        QTest::newRow("24 h: 144 s buckets") << 2 << 50 << qint64(86'400'000);
    }
    void windowSwitchChangesThePointSet()
    {
        QFETCH(int, comboIndex);
        QFETCH(int, points);
        QFETCH(qint64, spanMs);
        DashboardPanel panel(m_tmp.filePath(QStringLiteral("empty.sqlite")));
        panel.show();
        for (int i = 0; i < 7200; ++i)
            panel.addGpuSample(nvmlReading(i));
        auto* combo = panel.findChild<QComboBox*>(QStringLiteral("gpuWindowCombo"));
        QVERIFY(combo);
        combo->setCurrentIndex(comboIndex);
        QTRY_COMPARE(series(panel, "gpuChartView", QStringLiteral("vramUsedSeries"))->count(), points);
        QCOMPARE(series(panel, "gpuChartView", QStringLiteral("utilizationSeries"))->count(), points);
        auto* time = axis<QDateTimeAxis>(panel, "gpuChartView", QStringLiteral("gpuTimeAxis"));
        QCOMPARE(time->max().toMSecsSinceEpoch() - time->min().toMSecsSinceEpoch(), spanMs);
    }

    void unavailableGpuShowsTheTextNotZero()
    {
        GpuMonitor monitor(std::make_unique<ClockedSource>(5, ClockedSource::Kind::Missing));
        monitor.setIntervalMs(1);
        DashboardPanel panel(m_tmp.filePath(QStringLiteral("empty.sqlite")));
        panel.show();
        panel.setGpuMonitor(&monitor);
        monitor.start();
        QTRY_VERIFY_WITH_TIMEOUT(panel.gpuHistory().samplesAdded() >= 5, 20000);
        monitor.stop();
        // The notes of the last reading say why, in the tooltip.
        QTRY_VERIFY(panel.findChild<QLabel*>(QStringLiteral("gpuSourceLabel"))->toolTip().contains(QStringLiteral("libnvidia-ml")));
        QCOMPARE(labelText(panel, "gpuSourceLabel"), QStringLiteral("GPU readings unavailable"));
        for (const QString& name : {QStringLiteral("vramUsedSeries"), QStringLiteral("vramTotalSeries"),
                                    QStringLiteral("utilizationSeries")})
            QCOMPARE(series(panel, "gpuChartView", name)->count(), 0);
        QCOMPARE(panel.findChild<QChartView*>(QStringLiteral("gpuChartView"))->chart()->title(),
                 QStringLiteral("GPU readings unavailable"));
    }

    void sourceWithoutUtilisationDrawsNoUtilisationLine()
    {
        GpuMonitor monitor(std::make_unique<ClockedSource>(10, ClockedSource::Kind::SystemStatsWithoutUtilisation));
        monitor.setIntervalMs(1);
        DashboardPanel panel(m_tmp.filePath(QStringLiteral("empty.sqlite")));
        panel.setGpuMonitor(&monitor);
        monitor.start();
        QTRY_VERIFY_WITH_TIMEOUT(panel.gpuHistory().samplesAdded() >= 10, 20000);
        monitor.stop();
        QTRY_COMPARE(series(panel, "gpuChartView", QStringLiteral("vramUsedSeries"))->count(), 10);
        QCOMPARE(series(panel, "gpuChartView", QStringLiteral("utilizationSeries"))->count(), 0);
        // Used VRAM derived from total − free: 4 GiB.
        QCOMPARE(series(panel, "gpuChartView", QStringLiteral("vramUsedSeries"))->points().first().y(), 4.0);
        QCOMPARE(labelText(panel, "gpuSourceLabel"), QStringLiteral("Source: ComfyUI /system_stats (no utilisation)"));
    }

    void kpiTilesShowStatusColoursOfASelectedRun()
    {
        QTemporaryDir dir;
        const QString run = storetest::makeRun(dir.path(), QStringLiteral("20260101-100000"),
                                               QDateTime::currentDateTimeUtc().addSecs(-3600), [](QJsonObject& a) {
                                                   QJsonArray scenes = a.value(QStringLiteral("Scenes")).toArray();
                                                   // scene-002 below its floor of 25 → frames per scene FAIL
                                                   QJsonObject s2 = scenes.at(1).toObject();
                                                   s2.insert(QStringLiteral("FrameCount"), 10);
                                                   scenes.replace(1, s2);
                                                   // scene-004 took 118 s → P95 118 s, within 5 % of 120 → WARN
                                                   QJsonObject s4 = scenes.at(3).toObject();
                                                   QJsonObject t = s4.value(QStringLiteral("Telemetry")).toObject();
                                                   t.insert(QStringLiteral("DurationSeconds"), 118.0);
                                                   s4.insert(QStringLiteral("Telemetry"), t);
                                                   scenes.replace(3, s4);
                                                   a.insert(QStringLiteral("Scenes"), scenes);
                                               });
        QVERIFY(!run.isEmpty());
        const QString db = dir.filePath(QStringLiteral("history.sqlite"));
        QVERIFY(record(db, {run}));

        DashboardPanel panel(db);
        panel.resize(1400, 1000);
        panel.show();
        auto* view = panel.findChild<QTableView*>(QStringLiteral("historyView"));
        QTRY_COMPARE(view->model()->rowCount(), 1);
        clickRow(view, 0);
        QTRY_COMPARE(panel.figures().runId, QStringLiteral("20260101-100000"));
        QVERIFY(!panel.findChild<QCheckBox*>(QStringLiteral("followLiveCheck"))->isChecked());

        const auto tile = [&panel](const QString& id) {
            return panel.findChild<KpiTile*>(QStringLiteral("kpiTile-") + id);
        };
        QTRY_VERIFY(tile(QStringLiteral("frames-per-scene")));
        QCOMPARE(tile(QStringLiteral("frames-per-scene"))->status(), QStringLiteral("FAIL"));
        QCOMPARE(tileColor(tile(QStringLiteral("frames-per-scene"))), KpiTile::statusColor(QStringLiteral("FAIL")));
        QVERIFY(tile(QStringLiteral("frames-per-scene"))->toolTip().contains(QStringLiteral("scene-002")));
        QCOMPARE(tile(QStringLiteral("duration-p95"))->status(), QStringLiteral("WARN"));
        QCOMPARE(tileColor(tile(QStringLiteral("duration-p95"))), KpiTile::statusColor(QStringLiteral("WARN")));
        QCOMPARE(tile(QStringLiteral("done-marker-rate"))->status(), QStringLiteral("PASS"));
        QCOMPARE(tileColor(tile(QStringLiteral("done-marker-rate"))), KpiTile::statusColor(QStringLiteral("PASS")));
        // No judge ran for this run: grey, and the tooltip says why.
        QCOMPARE(tile(QStringLiteral("coherence-judge"))->status(), QStringLiteral("UNMEASURED"));
        QCOMPARE(tileColor(tile(QStringLiteral("coherence-judge"))), KpiTile::statusColor(QStringLiteral("UNMEASURED")));
        QVERIFY(tile(QStringLiteral("coherence-judge"))->toolTip().contains(QStringLiteral("Reason:")));
        // Every KPI of quality-kpis.md has a tile.
        for (const char* id : {"entity-linkage", "human-coherence", "scene-diversity", "prompt-length",
                               "llm-generation-time", "prompt-alignment-judge", "semantic-alignment", "blank-frames",
                               "forced-copy-rate", "zero-frame-rate", "execution-success-rate", "duration-p50",
                               "vram-delta", "vram-peak", "telemetry-completeness"})
            QVERIFY2(tile(QLatin1String(id)), id);
        QVERIFY(!panel.findChildren<KpiTile*>(QRegularExpression(QStringLiteral("^kpiTile-planner"))).isEmpty());

        // (b) and (c) from the same run: five scenes, P95 118 s, target 120 s, floor 25.
        QTRY_COMPARE(series(panel, "durationChartView", QStringLiteral("durationSeries"))->count(), 5);
        QCOMPARE(series(panel, "durationChartView", QStringLiteral("durationP95Series"))->points().first().y(), 118.0);
        QCOMPARE(series(panel, "durationChartView", QStringLiteral("durationP50Series"))->points().first().y(), 0.7);
        QCOMPARE(series(panel, "durationChartView", QStringLiteral("durationTargetSeries"))->points().first().y(), 120.0);
        QCOMPARE(series(panel, "framesChartView", QStringLiteral("framesSeries"))->points().at(1).y(), 10.0);
        QCOMPARE(series(panel, "framesChartView", QStringLiteral("frameFloorSeries"))->points().first().y(), 25.0);
    }

    void unreadableRunShowsEveryKpiUnmeasured()
    {
        QTemporaryDir dir;
        const QString run = storetest::makeRun(dir.path(), QStringLiteral("20260101-110000"),
                                               QDateTime::currentDateTimeUtc().addSecs(-60));
        const QString db = dir.filePath(QStringLiteral("history.sqlite"));
        QVERIFY(record(db, {run}));
        // The run directory was damaged after it was recorded.
        QVERIFY(storetest::writeFile(run + QStringLiteral("/artifact-metadata.json"), "{ truncated"));

        DashboardPanel panel(db);
        panel.show();
        auto* view = panel.findChild<QTableView*>(QStringLiteral("historyView"));
        QTRY_COMPARE(view->model()->rowCount(), 1);
        clickRow(view, 0);
        QTRY_VERIFY(panel.figures().problem.contains(QStringLiteral("not valid JSON")));
        const QList<KpiTile*> tiles = panel.findChildren<KpiTile*>();
        QVERIFY(!tiles.isEmpty());
        for (KpiTile* t : tiles) {
            QCOMPARE(t->status(), QStringLiteral("UNMEASURED"));
            QVERIFY2(t->toolTip().contains(QStringLiteral("artifact-metadata.json")), qPrintable(t->toolTip()));
        }
        QVERIFY(labelText(panel, "runLabel").contains(QStringLiteral("artifact-metadata.json")));
        QCOMPARE(series(panel, "durationChartView", QStringLiteral("durationSeries"))->count(), 0);
    }

    void historyFiltersNarrowTheList()
    {
        QTemporaryDir dir;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QString a = storetest::makeRun(dir.path(), QStringLiteral("run-drama"), now.addSecs(-3600),
                                             storetest::withStory(QStringLiteral("drama"), QStringLiteral("1.0"),
                                                                  QStringLiteral("mistral-7b"), QStringLiteral("sdxl")));
        const QString b = storetest::makeRun(dir.path(), QStringLiteral("run-horror-failed"), now.addSecs(-7200),
                                             [](QJsonObject& art) {
                                                 storetest::withStory(QStringLiteral("horror"), QStringLiteral("1.0"),
                                                                      QStringLiteral("qwen-14b"),
                                                                      QStringLiteral("sdxl"))(art);
                                                 failScene(art);
                                             });
        const QString c = storetest::makeRun(dir.path(), QStringLiteral("run-horror-old"), now.addDays(-40),
                                             storetest::withStory(QStringLiteral("horror"), QStringLiteral("1.0"),
                                                                  QStringLiteral("mistral-7b"), QStringLiteral("sdxl")));
        const QString db = dir.filePath(QStringLiteral("history.sqlite"));
        QVERIFY(record(db, {a, b, c}));

        DashboardPanel panel(db);
        panel.show();
        auto* view = panel.findChild<QTableView*>(QStringLiteral("historyView"));
        QTRY_COMPARE(view->model()->rowCount(), 3);
        QCOMPARE(labelText(panel, "historyStatus"), QStringLiteral("3 runs"));
        const auto runIds = [view] {
            QStringList ids;
            for (int r = 0; r < view->model()->rowCount(); ++r)
                ids << view->model()->index(r, 0).data(gd::store::RunHistoryModel::RunIdRole).toString();
            return ids;
        };
        QCOMPARE(runIds(), (QStringList{QStringLiteral("run-drama"), QStringLiteral("run-horror-failed"),
                                        QStringLiteral("run-horror-old")}));

        auto* genre = panel.findChild<QComboBox*>(QStringLiteral("historyGenre"));
        QTRY_COMPARE(genre->count(), 3); // All genres, drama, horror
        genre->setCurrentIndex(genre->findText(QStringLiteral("horror")));
        QTRY_COMPARE(runIds(), (QStringList{QStringLiteral("run-horror-failed"), QStringLiteral("run-horror-old")}));

        auto* model = panel.findChild<QComboBox*>(QStringLiteral("historyModel"));
        model->setCurrentIndex(model->findText(QStringLiteral("mistral-7b")));
        QTRY_COMPARE(runIds(), QStringList{QStringLiteral("run-horror-old")});
        model->setCurrentIndex(0);
        QTRY_COMPARE(runIds().size(), 2);

        auto* outcome = panel.findChild<QComboBox*>(QStringLiteral("historyOutcome"));
        outcome->setCurrentIndex(outcome->findText(QStringLiteral("Has failures")));
        QTRY_COMPARE(runIds(), QStringList{QStringLiteral("run-horror-failed")});
        outcome->setCurrentIndex(outcome->findText(QStringLiteral("No failures")));
        QTRY_COMPARE(runIds(), QStringList{QStringLiteral("run-horror-old")});
        outcome->setCurrentIndex(0);
        genre->setCurrentIndex(0);
        QTRY_COMPARE(runIds().size(), 3);

        // The last week only: the 40-day-old run drops out.
        panel.findChild<QDateEdit*>(QStringLiteral("historyFrom"))->setDate(QDate::currentDate().addDays(-7));
        panel.findChild<QDateEdit*>(QStringLiteral("historyTo"))->setDate(QDate::currentDate());
        QTest::mouseClick(panel.findChild<QCheckBox*>(QStringLiteral("historyUseDates")), Qt::LeftButton);
        QTRY_COMPARE(runIds(), (QStringList{QStringLiteral("run-drama"), QStringLiteral("run-horror-failed")}));
        QCOMPARE(labelText(panel, "historyStatus"), QStringLiteral("2 runs"));
    }

    void missingDatabaseIsReportedNotFatal()
    {
        // A path that cannot be created: the list says so instead of crashing or blocking.
        DashboardPanel panel(QStringLiteral("/proc/no-such-dir/history.sqlite"));
        QTRY_VERIFY(labelText(panel, "historyStatus").startsWith(QStringLiteral("History unavailable:")));
        QCOMPARE(panel.findChild<QTableView*>(QStringLiteral("historyView"))->model()->rowCount(), 0);
    }

private:
    QTemporaryDir m_tmp;
};

QTEST_MAIN(TestDashboardPanel)
#include "tst_dashboardpanel.moc"
