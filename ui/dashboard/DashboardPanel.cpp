#include "dashboard/DashboardPanel.h"

#include "dashboard/ChartLegend.h"
#include "dashboard/KpiTile.h"
#include "gpu/GpuMonitor.h"
#include "pipeline/RunController.h"
#include "pipeline/RunFiguresController.h"
#include "store/RunHistoryModel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QScrollArea>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>

namespace gd::ui {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
// The VRAM axis before any reading: a common card size with whole-number ticks (0, 6, 12, 18, 24 GiB)
// rather than ticks derived from nothing.
constexpr double kEmptyVramAxisGiB = 24.0;
constexpr int kEmptyVramTicks = 5;
constexpr int kTileColumns = 4;

QString sourceText(const QString& source)
{
    if (source == QLatin1String("nvml"))
        return QStringLiteral("NVML");
    if (source == QLatin1String("nvidia-smi"))
        return QStringLiteral("nvidia-smi");
    if (source == QLatin1String("system_stats"))
        return QStringLiteral("ComfyUI /system_stats");
    return {};
}

QLineSeries* makeSeries(QChart* chart, const QString& objectName, const QString& name, const QColor& color,
                        Qt::PenStyle style = Qt::SolidLine, bool points = false)
{
    auto* s = new QLineSeries(chart);
    s->setObjectName(objectName);
    s->setName(name);
    QPen pen(color);
    pen.setWidthF(style == Qt::SolidLine ? 2.0 : 1.5);
    pen.setStyle(style);
    s->setPen(pen);
    s->setPointsVisible(points);
    chart->addSeries(s);
    return s;
}

// Charts follow the widget palette so that light and dark themes both read well.
void themeChart(QChart* chart, const QPalette& pal)
{
    chart->setBackgroundBrush(pal.brush(QPalette::Base));
    chart->setTitleBrush(pal.brush(QPalette::Text));
    chart->legend()->setLabelColor(pal.color(QPalette::Text));
    chart->setMargins(QMargins(4, 4, 4, 4));
    for (QAbstractAxis* axis : chart->axes()) {
        axis->setLabelsColor(pal.color(QPalette::Text));
        axis->setTitleBrush(pal.brush(QPalette::Text));
        axis->setGridLineColor(pal.color(QPalette::Mid));
        axis->setLinePenColor(pal.color(QPalette::Mid));
    }
}

QChartView* makeView(QChart* chart, const QString& objectName, QWidget* parent)
{
    auto* view = new QChartView(chart, parent);
    view->setObjectName(objectName);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(220);
    return view;
}

// 0..top with round ticks (steps of 1, 2 or 5 × 10^k, four to eight of them) just above `top`. The
// axes label whole numbers ("%.0f"), so a step is never below `minStep` (1): a step of 0.5 would
// print "0, 1, 1".
void setNiceRange(QValueAxis* axis, double top, double minStep = 1.0)
{
    top = std::max(top, 1e-9);
    const double raw = top / 4.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    step = std::max(step, minStep);
    const double max = std::ceil(top / step) * step;
    axis->setRange(0, max);
    axis->setTickCount(static_cast<int>(std::lround(max / step)) + 1);
}

QList<QPointF> horizontalLine(std::optional<double> y, double x0, double x1)
{
    if (!y)
        return {};
    return {QPointF(x0, *y), QPointF(x1, *y)};
}

} // namespace

DashboardPanel::DashboardPanel(QString historyDatabasePath, QWidget* parent)
    : QWidget(parent), m_databasePath(std::move(historyDatabasePath))
{
    setObjectName(QStringLiteral("dashboardPanel"));
    m_figuresController = new pipeline::RunFiguresController(this);
    m_historyModel = new store::RunHistoryModel(m_databasePath, this);
    m_redrawTimer = new QTimer(this);
    m_redrawTimer->setSingleShot(true);
    m_redrawTimer->setInterval(RedrawIntervalMs);
    connect(m_redrawTimer, &QTimer::timeout, this, &DashboardPanel::redrawNow);

    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);

    auto* gpuBox = new QGroupBox(QStringLiteral("GPU"), right);
    buildGpuChart(gpuBox);
    rightLayout->addWidget(gpuBox);

    auto* runBox = new QGroupBox(QStringLiteral("Run"), right);
    auto* runLayout = new QVBoxLayout(runBox);
    auto* runHeader = new QHBoxLayout;
    m_runLabel = new QLabel(QStringLiteral("No run selected"), runBox);
    m_runLabel->setObjectName(QStringLiteral("runLabel"));
    m_runLabel->setWordWrap(true);
    m_followLive = new QCheckBox(QStringLiteral("Follow the live run"), runBox);
    m_followLive->setObjectName(QStringLiteral("followLiveCheck"));
    m_followLive->setChecked(true);
    m_followLive->setToolTip(QStringLiteral(
        "When checked, the charts and tiles show the run in progress and update as each scene finishes. "
        "Selecting a run in the history unchecks it."));
    runHeader->addWidget(m_runLabel, 1);
    runHeader->addWidget(m_followLive);
    runLayout->addLayout(runHeader);
    auto* charts = new QHBoxLayout;
    auto* durationBox = new QWidget(runBox);
    auto* framesBox = new QWidget(runBox);
    buildSceneCharts(durationBox, framesBox);
    charts->addWidget(durationBox);
    charts->addWidget(framesBox);
    runLayout->addLayout(charts);
    rightLayout->addWidget(runBox);

    auto* kpiBox = new QGroupBox(QStringLiteral("KPIs"), right);
    auto* kpiLayout = new QVBoxLayout(kpiBox);
    m_tilesBox = new QWidget(kpiBox);
    m_tilesBox->setObjectName(QStringLiteral("kpiTiles"));
    m_tilesLayout = new QGridLayout(m_tilesBox);
    m_tilesLayout->setContentsMargins(0, 0, 0, 0);
    kpiLayout->addWidget(m_tilesBox);
    rightLayout->addWidget(kpiBox);
    rightLayout->addStretch(1);

    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setWidget(right);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("dashboardSplitter"));
    splitter->addWidget(buildHistory());
    splitter->addWidget(scroll);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    connect(m_figuresController, &pipeline::RunFiguresController::figuresReady, this, &DashboardPanel::onFigures);
    connect(m_figuresController, &pipeline::RunFiguresController::busyChanged, this, [this](bool busy) {
        setProperty("computingFigures", busy);
    });
    connect(m_followLive, &QCheckBox::toggled, this, [this](bool on) {
        if (on)
            showLiveRun();
    });

    m_figures = quality::RunFiguresCalculator::unavailable({}, QStringLiteral("no run selected"));
    updateKpiTiles();
    redrawNow();
    refreshHistory();
}

DashboardPanel::~DashboardPanel() = default;

void DashboardPanel::buildGpuChart(QWidget* box)
{
    auto* layout = new QVBoxLayout(box);
    auto* header = new QHBoxLayout;
    m_windowCombo = new QComboBox(box);
    m_windowCombo->setObjectName(QStringLiteral("gpuWindowCombo"));
    m_windowCombo->addItem(QStringLiteral("Last 5 min"), static_cast<int>(gpu::GpuWindow::FiveMinutes));
    m_windowCombo->addItem(QStringLiteral("Last hour"), static_cast<int>(gpu::GpuWindow::OneHour));
    m_windowCombo->addItem(QStringLiteral("Last 24 h"), static_cast<int>(gpu::GpuWindow::OneDay));
    m_windowCombo->setToolTip(QStringLiteral(
        "Time window of the GPU chart. Longer windows show coarser buckets (1 s, 6 s, 144 s): the highest "
        "VRAM use and the mean utilisation of each bucket."));
    m_sourceLabel = new QLabel(box);
    m_sourceLabel->setObjectName(QStringLiteral("gpuSourceLabel"));
    header->addWidget(new QLabel(QStringLiteral("Window:"), box));
    header->addWidget(m_windowCombo);
    header->addStretch(1);
    header->addWidget(m_sourceLabel);
    layout->addLayout(header);

    auto* chart = new QChart;
    chart->legend()->setAlignment(Qt::AlignBottom);
    m_vramUsed = makeSeries(chart, QStringLiteral("vramUsedSeries"), QStringLiteral("VRAM used (GiB, bucket peak)"),
                            QColor(0x1e, 0x88, 0xe5));
    m_vramTotal = makeSeries(chart, QStringLiteral("vramTotalSeries"), QStringLiteral("VRAM total (GiB)"),
                             QColor(0x8e, 0x24, 0xaa), Qt::DashLine);
    m_utilization = makeSeries(chart, QStringLiteral("utilizationSeries"),
                               QStringLiteral("Utilisation (%, bucket mean)"), QColor(0x43, 0xa0, 0x47));
    m_gpuTimeAxis = new QDateTimeAxis(chart);
    m_gpuTimeAxis->setObjectName(QStringLiteral("gpuTimeAxis"));
    m_gpuTimeAxis->setFormat(QStringLiteral("HH:mm:ss"));
    m_gpuTimeAxis->setTickCount(6);
    m_gpuVramAxis = new QValueAxis(chart);
    m_gpuVramAxis->setObjectName(QStringLiteral("gpuVramAxis"));
    m_gpuVramAxis->setTitleText(QStringLiteral("GiB"));
    m_gpuVramAxis->setLabelFormat(QStringLiteral("%.0f"));
    m_gpuUtilAxis = new QValueAxis(chart);
    m_gpuUtilAxis->setObjectName(QStringLiteral("gpuUtilAxis"));
    m_gpuUtilAxis->setTitleText(QStringLiteral("%"));
    m_gpuUtilAxis->setRange(0, 100);
    m_gpuUtilAxis->setLabelFormat(QStringLiteral("%.0f"));
    chart->addAxis(m_gpuTimeAxis, Qt::AlignBottom);
    chart->addAxis(m_gpuVramAxis, Qt::AlignLeft);
    chart->addAxis(m_gpuUtilAxis, Qt::AlignRight);
    for (QLineSeries* s : {m_vramUsed, m_vramTotal}) {
        s->attachAxis(m_gpuTimeAxis);
        s->attachAxis(m_gpuVramAxis);
    }
    m_utilization->attachAxis(m_gpuTimeAxis);
    m_utilization->attachAxis(m_gpuUtilAxis);
    themeChart(chart, palette());
    m_gpuView = makeView(chart, QStringLiteral("gpuChartView"), box);
    layout->addWidget(m_gpuView);
    auto* legend = new ChartLegend(chart, box);
    legend->setObjectName(QStringLiteral("gpuLegend"));
    layout->addWidget(legend);

    // Says "no GPU readings yet" over the empty plot instead of leaving an empty grid to interpret.
    m_gpuEmpty = new QLabel(m_gpuView);
    m_gpuEmpty->setObjectName(QStringLiteral("gpuEmptyLabel"));
    m_gpuEmpty->setAlignment(Qt::AlignCenter);
    m_gpuEmpty->setWordWrap(true);
    m_gpuEmpty->setAttribute(Qt::WA_TransparentForMouseEvents);
    QFont big = m_gpuEmpty->font();
    if (big.pointSizeF() > 0) {
        big.setPointSizeF(big.pointSizeF() * 1.25);
        m_gpuEmpty->setFont(big);
    }
    QPalette muted = m_gpuEmpty->palette();
    muted.setColor(QPalette::WindowText, palette().color(QPalette::PlaceholderText));
    m_gpuEmpty->setPalette(muted);
    connect(chart, &QChart::plotAreaChanged, this, &DashboardPanel::placeGpuEmptyLabel);

    connect(m_windowCombo, &QComboBox::currentIndexChanged, this, [this](int index) {
        setGpuWindow(static_cast<gpu::GpuWindow>(m_windowCombo->itemData(index).toInt()));
    });
}

void DashboardPanel::buildSceneCharts(QWidget* durationBox, QWidget* framesBox)
{
    auto* dLayout = new QVBoxLayout(durationBox);
    dLayout->setContentsMargins(0, 0, 0, 0);
    auto* dChart = new QChart;
    dChart->setTitle(QStringLiteral("Scene duration"));
    dChart->legend()->setAlignment(Qt::AlignBottom);
    m_durations = makeSeries(dChart, QStringLiteral("durationSeries"), QStringLiteral("Duration (s)"),
                             QColor(0x1e, 0x88, 0xe5), Qt::SolidLine, true);
    m_p50 = makeSeries(dChart, QStringLiteral("durationP50Series"), QStringLiteral("P50"), QColor(0x00, 0x89, 0x7b),
                       Qt::DashLine);
    m_p95 = makeSeries(dChart, QStringLiteral("durationP95Series"), QStringLiteral("P95"), QColor(0xef, 0x6c, 0x00),
                       Qt::DashLine);
    m_target = makeSeries(dChart, QStringLiteral("durationTargetSeries"),
                          QStringLiteral("Target P95 ≤ %1 s").arg(quality::RunFiguresCalculator::DurationTargetSeconds),
                          QColor(0xc6, 0x28, 0x28), Qt::DotLine);
    m_durationX = new QValueAxis(dChart);
    m_durationX->setObjectName(QStringLiteral("durationXAxis"));
    m_durationX->setTitleText(QStringLiteral("Scene"));
    m_durationX->setLabelFormat(QStringLiteral("%d"));
    m_durationY = new QValueAxis(dChart);
    m_durationY->setObjectName(QStringLiteral("durationYAxis"));
    m_durationY->setTitleText(QStringLiteral("s"));
    m_durationY->setLabelFormat(QStringLiteral("%.0f"));
    dChart->addAxis(m_durationX, Qt::AlignBottom);
    dChart->addAxis(m_durationY, Qt::AlignLeft);
    for (QLineSeries* s : {m_durations, m_p50, m_p95, m_target}) {
        s->attachAxis(m_durationX);
        s->attachAxis(m_durationY);
    }
    themeChart(dChart, palette());
    m_durationView = makeView(dChart, QStringLiteral("durationChartView"), durationBox);
    dLayout->addWidget(m_durationView);
    auto* durationLegend = new ChartLegend(dChart, durationBox);
    durationLegend->setObjectName(QStringLiteral("durationLegend"));
    dLayout->addWidget(durationLegend);

    auto* fLayout = new QVBoxLayout(framesBox);
    fLayout->setContentsMargins(0, 0, 0, 0);
    auto* fChart = new QChart;
    fChart->setTitle(QStringLiteral("Frames per scene"));
    fChart->legend()->setAlignment(Qt::AlignBottom);
    m_frames = makeSeries(fChart, QStringLiteral("framesSeries"), QStringLiteral("Frames"), QColor(0x1e, 0x88, 0xe5),
                          Qt::SolidLine, true);
    m_floor = makeSeries(fChart, QStringLiteral("frameFloorSeries"), QStringLiteral("Frame floor"),
                         QColor(0xc6, 0x28, 0x28), Qt::DotLine);
    m_framesX = new QValueAxis(fChart);
    m_framesX->setObjectName(QStringLiteral("framesXAxis"));
    m_framesX->setTitleText(QStringLiteral("Scene"));
    m_framesX->setLabelFormat(QStringLiteral("%d"));
    m_framesY = new QValueAxis(fChart);
    m_framesY->setObjectName(QStringLiteral("framesYAxis"));
    m_framesY->setTitleText(QStringLiteral("frames"));
    m_framesY->setLabelFormat(QStringLiteral("%.0f"));
    fChart->addAxis(m_framesX, Qt::AlignBottom);
    fChart->addAxis(m_framesY, Qt::AlignLeft);
    for (QLineSeries* s : {m_frames, m_floor}) {
        s->attachAxis(m_framesX);
        s->attachAxis(m_framesY);
    }
    themeChart(fChart, palette());
    m_framesView = makeView(fChart, QStringLiteral("framesChartView"), framesBox);
    fLayout->addWidget(m_framesView);
    auto* framesLegend = new ChartLegend(fChart, framesBox);
    framesLegend->setObjectName(QStringLiteral("framesLegend"));
    fLayout->addWidget(framesLegend);

    // The scene a point stands for, on hover (the x axis only numbers them).
    const auto sceneTip = [this](QLineSeries* series, const QString& unit) {
        connect(series, &QXYSeries::hovered, this, [this, unit](const QPointF& p, bool state) {
            const int i = static_cast<int>(std::lround(p.x())) - 1;
            if (!state || i < 0 || i >= m_figures.scenes.size()) {
                QToolTip::hideText();
                return;
            }
            const quality::SceneFigure& s = m_figures.scenes.at(i);
            QToolTip::showText(QCursor::pos(), QStringLiteral("%1 %2\n%3 %4 (%5)")
                                                   .arg(s.sceneId, s.title)
                                                   .arg(p.y(), 0, 'f', unit == QLatin1String("s") ? 1 : 0)
                                                   .arg(unit, s.status));
        });
    };
    sceneTip(m_durations, QStringLiteral("s"));
    sceneTip(m_frames, QStringLiteral("frames"));
}

QWidget* DashboardPanel::buildHistory()
{
    auto* box = new QGroupBox(QStringLiteral("Run history"), this);
    auto* layout = new QVBoxLayout(box);
    auto* form = new QFormLayout;

    m_useDates = new QCheckBox(QStringLiteral("Only runs between"), box);
    m_useDates->setObjectName(QStringLiteral("historyUseDates"));
    m_from = new QDateEdit(QDate::currentDate().addDays(-7), box);
    m_from->setObjectName(QStringLiteral("historyFrom"));
    m_from->setCalendarPopup(true);
    m_to = new QDateEdit(QDate::currentDate(), box);
    m_to->setObjectName(QStringLiteral("historyTo"));
    m_to->setCalendarPopup(true);
    m_from->setEnabled(false);
    m_to->setEnabled(false);
    auto* dates = new QHBoxLayout;
    dates->addWidget(m_from);
    dates->addWidget(new QLabel(QStringLiteral("and"), box));
    dates->addWidget(m_to);
    form->addRow(m_useDates, dates);

    m_genre = new QComboBox(box);
    m_genre->setObjectName(QStringLiteral("historyGenre"));
    m_genre->addItem(QStringLiteral("All genres"), QString());
    form->addRow(QStringLiteral("Genre:"), m_genre);
    m_model = new QComboBox(box);
    m_model->setObjectName(QStringLiteral("historyModel"));
    m_model->addItem(QStringLiteral("All models"), QString());
    form->addRow(QStringLiteral("Model:"), m_model);
    m_outcome = new QComboBox(box);
    m_outcome->setObjectName(QStringLiteral("historyOutcome"));
    m_outcome->addItem(QStringLiteral("Any outcome"), static_cast<int>(store::RunFilter::Outcome::Any));
    m_outcome->addItem(QStringLiteral("Has failures"), static_cast<int>(store::RunFilter::Outcome::HasFailures));
    m_outcome->addItem(QStringLiteral("No failures"), static_cast<int>(store::RunFilter::Outcome::NoFailures));
    m_outcome->setToolTip(QStringLiteral("Has failures: at least one scene did not succeed (failed or cancelled)."));
    form->addRow(QStringLiteral("Status:"), m_outcome);
    layout->addLayout(form);

    m_historyView = new QTableView(box);
    m_historyView->setObjectName(QStringLiteral("historyView"));
    m_historyView->setModel(m_historyModel);
    m_historyView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_historyView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_historyView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_historyView->verticalHeader()->hide();
    m_historyView->horizontalHeader()->setStretchLastSection(true);
    m_historyView->setAlternatingRowColors(true);
    layout->addWidget(m_historyView, 1);
    m_historyStatus = new QLabel(box);
    m_historyStatus->setObjectName(QStringLiteral("historyStatus"));
    m_historyStatus->setWordWrap(true);
    layout->addWidget(m_historyStatus);

    connect(m_useDates, &QCheckBox::toggled, this, [this](bool on) {
        m_from->setEnabled(on);
        m_to->setEnabled(on);
        applyFilter();
    });
    connect(m_from, &QDateEdit::dateChanged, this, &DashboardPanel::applyFilter);
    connect(m_to, &QDateEdit::dateChanged, this, &DashboardPanel::applyFilter);
    // Refilling the choices blocks these signals, so only the operator's changes query again.
    for (QComboBox* c : {m_genre, m_model, m_outcome})
        connect(c, &QComboBox::currentIndexChanged, this, &DashboardPanel::applyFilter);
    connect(m_historyView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &DashboardPanel::onHistorySelection);
    connect(m_historyModel, &store::RunHistoryModel::loadingChanged, this, [this](bool loading) {
        if (loading)
            m_historyStatus->setText(QStringLiteral("Loading…"));
    });
    connect(m_historyModel, &store::RunHistoryModel::loaded, this, [this](int rows) {
        m_historyStatus->setText(rows == 1 ? QStringLiteral("1 run") : QStringLiteral("%1 runs").arg(rows));
        m_historyStatus->setToolTip(m_databasePath);
        m_historyView->resizeColumnsToContents();
    });
    connect(m_historyModel, &store::RunHistoryModel::loadFailed, this, [this](const QString& message) {
        m_historyStatus->setText(QStringLiteral("History unavailable: %1").arg(message));
    });
    connect(m_historyModel, &store::RunHistoryModel::choicesChanged, this, [this] {
        // Keep the operator's choice when it is still offered.
        const auto refill = [](QComboBox* combo, const QStringList& values) {
            const QString current = combo->currentData().toString();
            const QSignalBlocker block(combo);
            while (combo->count() > 1)
                combo->removeItem(1);
            for (const QString& v : values)
                combo->addItem(v, v);
            combo->setCurrentIndex(std::max(0, combo->findData(current)));
        };
        refill(m_genre, m_historyModel->genres());
        refill(m_model, m_historyModel->models());
    });
    return box;
}

void DashboardPanel::attach(pipeline::RunController* controller)
{
    if (m_run)
        disconnect(m_run, nullptr, this, nullptr);
    m_run = controller;
    if (!controller)
        return;
    const auto onSceneFinished = [this] {
        if (m_followLive->isChecked())
            showLiveRun();
    };
    connect(controller, &pipeline::RunController::runDirectoryCreated, this, onSceneFinished);
    connect(controller, &pipeline::RunController::sceneFinished, this, onSceneFinished);
    connect(controller, &pipeline::RunController::finished, this, [this, onSceneFinished] {
        onSceneFinished();
        refreshHistory();
    });
    if (m_followLive->isChecked())
        showLiveRun();
}

void DashboardPanel::refreshLiveRunFigures(const QString& runDir)
{
    if (!m_followLive->isChecked() || !m_run || m_run->runDir() != runDir)
        return;
    m_figuresController->showRunDir(runDir);
}

void DashboardPanel::showLiveRun()
{
    if (m_run)
        m_figuresController->showRecord(m_run->record());
}

void DashboardPanel::setGpuMonitor(gpu::GpuMonitor* monitor)
{
    if (m_monitor)
        disconnect(m_monitor, nullptr, this, nullptr);
    m_monitor = monitor;
    m_history.clear();
    m_lastGpuNotes.clear();
    if (monitor) {
        // The monitor's recent readings give the chart a past at once.
        for (const gpu::GpuSnapshot& s : monitor->history())
            m_history.add(s);
        // `sampled` comes from the monitor's thread: queued to this (GUI) thread by the context.
        connect(monitor, &gpu::GpuMonitor::sampled, this, &DashboardPanel::addGpuSample);
    }
    m_gpuDirty = true;
    scheduleRedraw();
}

void DashboardPanel::addGpuSample(const gpu::GpuSnapshot& snapshot)
{
    m_history.add(snapshot);
    m_lastGpuNotes = snapshot.notes;
    m_gpuDirty = true;
    scheduleRedraw();
}

void DashboardPanel::setGpuWindow(gpu::GpuWindow window)
{
    if (window == m_window)
        return;
    m_window = window;
    const int index = m_windowCombo->findData(static_cast<int>(window));
    if (index != m_windowCombo->currentIndex()) {
        const QSignalBlocker block(m_windowCombo);
        m_windowCombo->setCurrentIndex(index);
    }
    m_gpuDirty = true;
    scheduleRedraw();
}

void DashboardPanel::scheduleRedraw()
{
    if (!m_redrawTimer->isActive())
        m_redrawTimer->start();
}

void DashboardPanel::redrawNow()
{
    m_redrawTimer->stop();
    if (m_gpuDirty)
        redrawGpu();
    if (m_scenesDirty)
        redrawScenes();
    m_gpuDirty = false;
    m_scenesDirty = false;
}

void DashboardPanel::redrawGpu()
{
    const QVector<gpu::GpuHistoryPoint> points = m_history.points(m_window);
    QList<QPointF> used, total, util;
    used.reserve(points.size());
    total.reserve(points.size());
    util.reserve(points.size());
    double maxGiB = 0;
    // Unavailable metrics are left out (no point), never drawn as 0.
    for (const gpu::GpuHistoryPoint& p : points) {
        const double x = static_cast<double>(p.bucketStartMs);
        if (p.vramUsedMaxBytes) {
            used.append(QPointF(x, static_cast<double>(*p.vramUsedMaxBytes) / kGiB));
            maxGiB = std::max(maxGiB, used.last().y());
        }
        if (p.vramTotalBytes) {
            total.append(QPointF(x, static_cast<double>(*p.vramTotalBytes) / kGiB));
            maxGiB = std::max(maxGiB, total.last().y());
        }
        if (p.utilizationMeanPercent)
            util.append(QPointF(x, *p.utilizationMeanPercent));
    }
    m_vramUsed->replace(used);
    m_vramTotal->replace(total);
    m_utilization->replace(util);

    const qint64 span = gpu::GpuHistory::spanMs(m_window);
    const qint64 end = points.isEmpty() ? QDateTime::currentMSecsSinceEpoch()
                                        : points.last().bucketStartMs + gpu::GpuHistory::bucketMs(m_window);
    m_gpuTimeAxis->setRange(QDateTime::fromMSecsSinceEpoch(end - span), QDateTime::fromMSecsSinceEpoch(end));
    m_gpuTimeAxis->setFormat(m_window == gpu::GpuWindow::OneDay ? QStringLiteral("HH:mm") : QStringLiteral("HH:mm:ss"));
    // A round number above the largest figure, so the total line is not glued to the top edge; with
    // no memory reading yet a fixed card-sized range.
    if (maxGiB > 0) {
        setNiceRange(m_gpuVramAxis, maxGiB * 1.05);
    } else {
        m_gpuVramAxis->setRange(0, kEmptyVramAxisGiB);
        m_gpuVramAxis->setTickCount(kEmptyVramTicks);
    }

    const QString source = m_history.latestSource();
    const QString label = sourceText(source);
    const bool anyMetric = !used.isEmpty() || !total.isEmpty() || !util.isEmpty();
    QString text;
    QString tip;
    if (source.isEmpty()) {
        text = m_monitor ? QStringLiteral("Waiting for the first GPU reading") : QStringLiteral("GPU readings unavailable");
        tip = m_monitor ? QStringLiteral("The GPU monitor has not reported yet.")
                        : QStringLiteral("No GPU monitor is attached to the dashboard.");
    } else if (label.isEmpty() || !anyMetric) {
        text = QStringLiteral("GPU readings unavailable");
        tip = QStringLiteral("No source (NVML, nvidia-smi, ComfyUI /system_stats) reported GPU memory or utilisation. "
                             "Missing readings are not drawn as 0.");
        if (!m_lastGpuNotes.isEmpty())
            tip += QStringLiteral("\n") + m_lastGpuNotes.join(QLatin1Char('\n'));
    } else {
        text = QStringLiteral("Source: ") + label;
        tip = QStringLiteral("Where the readings come from (NVML, then nvidia-smi, then ComfyUI /system_stats). "
                             "A metric the source does not report is left out, not drawn as 0.");
        if (util.isEmpty())
            text += QStringLiteral(" (no utilisation)");
        if (used.isEmpty())
            text += QStringLiteral(" (no VRAM)");
    }
    m_sourceLabel->setText(text);
    m_sourceLabel->setToolTip(tip);
    m_gpuView->chart()->setTitle(anyMetric ? QStringLiteral("GPU memory and utilisation") : text);
    m_gpuEmpty->setText(source.isEmpty() || m_history.samplesAdded() == 0
                            ? QStringLiteral("No GPU readings yet")
                            : QStringLiteral("No GPU readings: no source reports memory or utilisation"));
    m_gpuEmpty->setToolTip(tip);
    m_gpuEmpty->setVisible(!anyMetric);
    placeGpuEmptyLabel();
}

void DashboardPanel::placeGpuEmptyLabel()
{
    if (!m_gpuEmpty || m_gpuEmpty->isHidden())
        return;
    const QRectF plot = m_gpuView->chart()->plotArea();
    QRect area = m_gpuView->mapFromScene(m_gpuView->chart()->mapToScene(plot)).boundingRect();
    if (area.width() < 40 || area.height() < 20)
        area = m_gpuView->rect();
    m_gpuEmpty->setGeometry(area.adjusted(8, 8, -8, -8));
}

void DashboardPanel::redrawScenes()
{
    const QVector<quality::SceneFigure>& scenes = m_figures.scenes;
    QList<QPointF> durations, frames, floor;
    double maxDuration = quality::RunFiguresCalculator::DurationTargetSeconds;
    int maxFrames = 0;
    for (int i = 0; i < scenes.size(); ++i) {
        const double x = i + 1;
        if (scenes[i].durationSeconds) {
            durations.append(QPointF(x, *scenes[i].durationSeconds));
            maxDuration = std::max(maxDuration, *scenes[i].durationSeconds);
        }
        if (scenes[i].frameCount) {
            frames.append(QPointF(x, *scenes[i].frameCount));
            maxFrames = std::max(maxFrames, *scenes[i].frameCount);
        }
        floor.append(QPointF(x, scenes[i].frameFloor));
        maxFrames = std::max(maxFrames, scenes[i].frameFloor);
    }
    // One scene would give a zero-width floor line: widen it to the axis range.
    const double x0 = 0.5;
    const double x1 = std::max<double>(1, static_cast<double>(scenes.size())) + 0.5;
    if (floor.size() == 1)
        floor = {QPointF(x0, floor[0].y()), QPointF(x1, floor[0].y())};
    m_durations->replace(durations);
    m_p50->replace(horizontalLine(m_figures.durationP50Seconds, x0, x1));
    m_p95->replace(horizontalLine(m_figures.durationP95Seconds, x0, x1));
    m_target->replace(horizontalLine(quality::RunFiguresCalculator::DurationTargetSeconds, x0, x1));
    m_frames->replace(frames);
    m_floor->replace(floor);
    m_durationX->setRange(x0, x1);
    m_framesX->setRange(x0, x1);
    const int ticks = std::clamp(static_cast<int>(scenes.size()), 1, 10) + 1;
    m_durationX->setTickCount(ticks);
    m_framesX->setTickCount(ticks);
    setNiceRange(m_durationY, maxDuration * 1.1);
    setNiceRange(m_framesY, std::max(10.0, maxFrames * 1.2));
    m_p50->setName(m_figures.durationP50Seconds
                       ? QStringLiteral("P50 %1 s").arg(*m_figures.durationP50Seconds, 0, 'f', 1)
                       : QStringLiteral("P50"));
    m_p95->setName(m_figures.durationP95Seconds
                       ? QStringLiteral("P95 %1 s").arg(*m_figures.durationP95Seconds, 0, 'f', 1)
                       : QStringLiteral("P95"));
}

void DashboardPanel::onFigures(const quality::RunFigures& figures)
{
    m_figures = figures;
    if (!figures.problem.isEmpty())
        m_runLabel->setText(figures.runDir.isEmpty() ? figures.problem
                                                     : QStringLiteral("%1: %2").arg(figures.runDir, figures.problem));
    else
        m_runLabel->setText(QStringLiteral("%1 — %2 (%3 of %4 scenes rendered)")
                                .arg(figures.runId, figures.title.isEmpty() ? QStringLiteral("untitled") : figures.title)
                                .arg(figures.scenes.size())
                                .arg(figures.scenesTotal));
    m_runLabel->setToolTip(figures.runDir);
    updateKpiTiles();
    m_scenesDirty = true;
    scheduleRedraw();
}

void DashboardPanel::updateKpiTiles()
{
    QStringList order;
    for (const quality::KpiResult& k : m_figures.kpis)
        order << k.id;
    if (order != m_tileOrder) {
        // The set of KPIs changes with the run (planner reliability is per model): lay out again.
        qDeleteAll(m_tiles);
        m_tiles.clear();
        for (int i = 0; i < order.size(); ++i) {
            auto* tile = new KpiTile(m_tilesBox);
            tile->setObjectName(QStringLiteral("kpiTile-") + order.at(i));
            m_tilesLayout->addWidget(tile, i / kTileColumns, i % kTileColumns);
            m_tiles.insert(order.at(i), tile);
        }
        m_tileOrder = order;
    }
    for (const quality::KpiResult& k : m_figures.kpis)
        m_tiles.value(k.id)->setResult(k);
}

void DashboardPanel::refreshHistory()
{
    applyFilter();
}

void DashboardPanel::applyFilter()
{
    store::RunFilter f;
    if (m_useDates->isChecked()) {
        // Whole local days: from the start of `from` up to the end of `to`.
        f.from = m_from->date().startOfDay().toUTC();
        f.to = m_to->date().addDays(1).startOfDay().toUTC();
    }
    f.genre = m_genre->currentData().toString();
    f.model = m_model->currentData().toString();
    f.outcome = static_cast<store::RunFilter::Outcome>(m_outcome->currentData().toInt());
    m_historyModel->setFilter(f);
}

void DashboardPanel::onHistorySelection()
{
    const QModelIndexList rows = m_historyView->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    const QString runDir = rows.first().data(store::RunHistoryModel::RunDirRole).toString();
    {
        // Looking at a past run: stop following the live one until the operator asks again.
        const QSignalBlocker block(m_followLive);
        m_followLive->setChecked(false);
    }
    m_runLabel->setText(QStringLiteral("Loading %1…").arg(runDir));
    m_figuresController->showRunDir(runDir);
    Q_EMIT runSelected(runDir);
}

} // namespace gd::ui
