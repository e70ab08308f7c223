#pragma once

#include "gpu/GpuHistory.h"
#include "gpu/GpuSnapshot.h"
#include "quality/RunFiguresCalculator.h"

#include <QHash>
#include <QPointer>
#include <QStringList>
#include <QWidget>

class QChart;
class QChartView;
class QCheckBox;
class QComboBox;
class QDateEdit;
class QGridLayout;
class QLabel;
class QLineSeries;
class QTableView;
class QTimer;
class QValueAxis;
class QDateTimeAxis;

namespace gd::gpu {
class GpuMonitor;
}
namespace gd::pipeline {
class RunController;
class RunFiguresController;
}
namespace gd::store {
class RunHistoryModel;
}

namespace gd::ui {

class KpiTile;

// The live dashboard: GPU memory and utilisation over a selectable window (from a GpuHistory fed
// by the GPU monitor), scene durations with P50/P95 and the 120 s target, frames per scene against
// the floor, one tile per KPI, and the run history list with filters. Renders core objects only:
// GpuHistory, RunFiguresController (figures computed on the pool) and RunHistoryModel (queries on
// the pool). Chart updates are coalesced: data changes mark a chart dirty and a timer redraws at
// most every RedrawIntervalMs, replacing each series' points in one call.
class DashboardPanel : public QWidget
{
    Q_OBJECT
public:
    static constexpr int RedrawIntervalMs = 250;

    explicit DashboardPanel(QString historyDatabasePath, QWidget* parent = nullptr);
    ~DashboardPanel() override;

    // Follows this run: its figures are recomputed as scenes finish (while "Follow the live run" is
    // checked), and the history list reloads when it finishes. nullptr detaches.
    void attach(gd::pipeline::RunController* controller);
    // Feeds the GPU chart from this monitor (its recent history first). nullptr detaches.
    void setGpuMonitor(gd::gpu::GpuMonitor* monitor);

    gpu::GpuWindow gpuWindow() const { return m_window; }
    void setGpuWindow(gpu::GpuWindow window);
    // The history behind the GPU chart (thread-safe; the benchmark feeds it directly).
    gpu::GpuHistory& gpuHistory() { return m_history; }
    // The figures (b)–(d) currently show.
    const quality::RunFigures& figures() const { return m_figures; }
    store::RunHistoryModel* historyModel() const { return m_historyModel; }

    // Reloads the run history list with the current filters.
    void refreshHistory();
    // Re-reads the figures of the live run from its artifact (e.g. once its QualityMetrics are written),
    // unless the operator is looking at another run.
    void refreshLiveRunFigures(const QString& runDir);
    // Redraws every dirty chart now instead of at the next coalescing tick.
    void redrawNow();

public Q_SLOTS:
    void addGpuSample(const gd::gpu::GpuSnapshot& snapshot);

Q_SIGNALS:
    // A run of the history list was selected (its directory), e.g. for the feedback panel.
    void runSelected(const QString& runDir);

private:
    void buildGpuChart(QWidget* box);
    void buildSceneCharts(QWidget* durationBox, QWidget* framesBox);
    QWidget* buildHistory();
    void scheduleRedraw();
    void redrawGpu();
    void placeGpuEmptyLabel();
    void redrawScenes();
    void updateKpiTiles();
    void applyFilter();
    void onHistorySelection();
    void onFigures(const quality::RunFigures& figures);
    void showLiveRun();

    QString m_databasePath;
    gpu::GpuHistory m_history;
    gpu::GpuWindow m_window = gpu::GpuWindow::FiveMinutes;
    QStringList m_lastGpuNotes;
    QPointer<gpu::GpuMonitor> m_monitor;
    QPointer<pipeline::RunController> m_run;
    pipeline::RunFiguresController* m_figuresController = nullptr;
    store::RunHistoryModel* m_historyModel = nullptr;
    quality::RunFigures m_figures;

    QTimer* m_redrawTimer = nullptr;
    bool m_gpuDirty = true;
    bool m_scenesDirty = true;

    // (a) GPU chart
    QComboBox* m_windowCombo = nullptr;
    QLabel* m_sourceLabel = nullptr;
    QChartView* m_gpuView = nullptr;
    QLineSeries* m_vramUsed = nullptr;
    QLineSeries* m_vramTotal = nullptr;
    QLineSeries* m_utilization = nullptr;
    QDateTimeAxis* m_gpuTimeAxis = nullptr;
    QValueAxis* m_gpuVramAxis = nullptr;
    QValueAxis* m_gpuUtilAxis = nullptr;
    QLabel* m_gpuEmpty = nullptr; // over the plot area while there is nothing to draw
    // (b) durations, (c) frames
    QLabel* m_runLabel = nullptr;
    QCheckBox* m_followLive = nullptr;
    QChartView* m_durationView = nullptr;
    QLineSeries* m_durations = nullptr;
    QLineSeries* m_p50 = nullptr;
    QLineSeries* m_p95 = nullptr;
    QLineSeries* m_target = nullptr;
    QValueAxis* m_durationX = nullptr;
    QValueAxis* m_durationY = nullptr;
    QChartView* m_framesView = nullptr;
    QLineSeries* m_frames = nullptr;
    QLineSeries* m_floor = nullptr;
    QValueAxis* m_framesX = nullptr;
    QValueAxis* m_framesY = nullptr;
    // (d) KPI tiles, keyed by KPI id
    QWidget* m_tilesBox = nullptr;
    QGridLayout* m_tilesLayout = nullptr;
    QHash<QString, KpiTile*> m_tiles;
    QStringList m_tileOrder;
    // (e) history
    QCheckBox* m_useDates = nullptr;
    QDateEdit* m_from = nullptr;
    QDateEdit* m_to = nullptr;
    QComboBox* m_genre = nullptr;
    QComboBox* m_model = nullptr;
    QComboBox* m_outcome = nullptr;
    QTableView* m_historyView = nullptr;
    QLabel* m_historyStatus = nullptr;
};

} // namespace gd::ui
