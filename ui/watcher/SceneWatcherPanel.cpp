#include "watcher/SceneWatcherPanel.h"

#include "pipeline/RunController.h"
#include "pipeline/SceneTableModel.h"
#include "watcher/BadgeDelegate.h"
#include "watcher/FlipBookPlayer.h"
#include "watcher/ProgressBarDelegate.h"
#include "watcher/QueuePolicyCard.h"
#include "watcher/SceneCellDelegate.h"
#include "watcher/ThumbnailCache.h"
#include "watcher/ThumbnailDelegate.h"

#include <QAction>
#include <QComboBox>
#include <QDesktopServices>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QUrl>
#include <QVBoxLayout>

namespace gd::ui {

using pipeline::SceneTableModel;

namespace {

constexpr QSize kThumbnailSize(96, 54);

} // namespace

SceneWatcherPanel::SceneWatcherPanel(QWidget* parent) : QWidget(parent)
{
    m_model = new SceneTableModel(this);
    m_thumbnails = new ThumbnailCache(kThumbnailSize, 512, this);
    buildUi();
    connect(m_thumbnails, &ThumbnailCache::thumbnailReady, m_table->viewport(), qOverload<>(&QWidget::update));
    connect(m_model, &SceneTableModel::dataChanged, this, &SceneWatcherPanel::onRowsChanged);
    connect(m_model, &SceneTableModel::modelReset, this, [this] {
        onSelectionChanged();
        updateSceneActions();
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &SceneWatcherPanel::onSelectionChanged);
    updateRunControls();
    updateSceneActions();
}

SceneWatcherPanel::~SceneWatcherPanel() = default;

void SceneWatcherPanel::buildUi()
{
    // Run controls.
    m_startButton = new QPushButton(QStringLiteral("Start"), this);
    m_startButton->setObjectName(QStringLiteral("startButton"));
    m_startButton->setToolTip(QStringLiteral("Render every scene of the current story with the chosen preset"));
    m_pauseButton = new QPushButton(QStringLiteral("Pause queue"), this);
    m_pauseButton->setObjectName(QStringLiteral("pauseButton"));
    m_pauseButton->setCheckable(true);
    m_pauseButton->setToolTip(QStringLiteral(
        "Hold the queue: the running scene finishes, no new scene or attempt is submitted until resumed"));
    m_cancelAllButton = new QPushButton(QStringLiteral("Cancel all"), this);
    m_cancelAllButton->setObjectName(QStringLiteral("cancelAllButton"));
    m_cancelAllButton->setToolTip(
        QStringLiteral("Interrupt the running scene, record every remaining scene as cancelled and end the run"));
    m_presetCombo = new QComboBox(this);
    m_presetCombo->setObjectName(QStringLiteral("presetCombo"));
    m_presetCombo->addItem(QStringLiteral("Standard"));
    m_presetCombo->addItem(QStringLiteral("FastIteration"));
    m_presetCombo->setToolTip(
        QStringLiteral("Queue policy preset for the next run: Standard (production waits) or FastIteration "
                       "(short waits while iterating on prompts)"));
    auto* presetLabel = new QLabel(QStringLiteral("Preset:"), this);
    presetLabel->setBuddy(m_presetCombo);

    auto* controls = new QHBoxLayout;
    controls->addWidget(m_startButton);
    controls->addWidget(m_pauseButton);
    controls->addWidget(m_cancelAllButton);
    controls->addSpacing(16);
    controls->addWidget(presetLabel);
    controls->addWidget(m_presetCombo);
    controls->addStretch(1);

    m_pausedBanner = new QLabel(this);
    m_pausedBanner->setObjectName(QStringLiteral("pausedBanner"));
    m_pausedBanner->setText(QStringLiteral(
        "Queue paused — the running scene continues; no new scene or attempt is submitted until you resume."));
    m_pausedBanner->setWordWrap(true);
    m_pausedBanner->setAutoFillBackground(true);
    m_pausedBanner->setMargin(6);
    m_pausedBanner->setStyleSheet(QStringLiteral("QLabel { background: rgba(255,193,7,90); border-radius: 4px; }"));
    m_pausedBanner->hide();

    m_statusLabel = new QLabel(this);
    m_statusLabel->setObjectName(QStringLiteral("statusLabel"));
    m_statusLabel->setWordWrap(true);
    m_statusLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_statusLabel->setText(QStringLiteral("No run yet: choose a preset and press Start."));

    // Scene table.
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("sceneTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(kThumbnailSize.height() + 6);
    m_table->setItemDelegate(new SceneCellDelegate(m_table));
    m_table->setItemDelegateForColumn(SceneTableModel::ProgressColumn, new ProgressBarDelegate(m_table));
    for (int column : {SceneTableModel::StatusColumn, SceneTableModel::FramesColumn,
                       SceneTableModel::ExitReasonColumn, SceneTableModel::DoneMarkerColumn,
                       SceneTableModel::ForcedCopyColumn, SceneTableModel::VramColumn})
        m_table->setItemDelegateForColumn(column, new BadgeDelegate(m_table));
    m_table->setItemDelegateForColumn(SceneTableModel::PreviewColumn, new ThumbnailDelegate(m_thumbnails, m_table));
    QHeaderView* header = m_table->horizontalHeader();
    header->setStretchLastSection(true);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->resizeSection(SceneTableModel::SceneColumn, 170);
    header->resizeSection(SceneTableModel::StatusColumn, 96);
    header->resizeSection(SceneTableModel::ProgressColumn, 120);
    header->resizeSection(SceneTableModel::FramesColumn, 80);
    header->resizeSection(SceneTableModel::DurationColumn, 72);
    header->resizeSection(SceneTableModel::AttemptsColumn, 70);
    header->resizeSection(SceneTableModel::PreviewColumn, kThumbnailSize.width() + 8);
    header->resizeSection(SceneTableModel::ExitReasonColumn, 96);
    header->resizeSection(SceneTableModel::DoneMarkerColumn, 80);
    header->resizeSection(SceneTableModel::ForcedCopyColumn, 72);
    header->resizeSection(SceneTableModel::VramColumn, 100);

    // Per-scene actions: buttons and the same actions in the table's context menu.
    const auto makeAction = [this](const QString& name, const QString& text, const QString& tip) {
        auto* action = new QAction(text, this);
        action->setObjectName(name);
        action->setToolTip(tip);
        action->setStatusTip(tip);
        return action;
    };
    m_cancelSceneAction = makeAction(QStringLiteral("cancelSceneAction"), QStringLiteral("Cancel scene"),
                                     QStringLiteral("Interrupt this scene (or skip it when it has not started) and "
                                                    "go on with the next one"));
    m_requeueSceneAction = makeAction(QStringLiteral("requeueSceneAction"), QStringLiteral("Requeue scene"),
                                      QStringLiteral("Render this failed or cancelled scene again after the scenes "
                                                     "still queued"));
    m_openFolderAction = makeAction(QStringLiteral("openFolderAction"), QStringLiteral("Open folder"),
                                    QStringLiteral("Open the scene's folder (attempts, history.json) in the file "
                                                   "manager"));
    m_telemetryAction = makeAction(QStringLiteral("telemetryAction"), QStringLiteral("Show telemetry"),
                                   QStringLiteral("Show the attempt's telemetry as written to "
                                                  "artifact-metadata.json"));
    m_cancelSceneAction->setShortcut(QKeySequence::Delete);
    m_cancelSceneAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_table->addAction(m_cancelSceneAction);
    connect(m_cancelSceneAction, &QAction::triggered, this, &SceneWatcherPanel::cancelSelectedScene);
    connect(m_requeueSceneAction, &QAction::triggered, this, &SceneWatcherPanel::requeueSelectedScene);
    connect(m_openFolderAction, &QAction::triggered, this, &SceneWatcherPanel::openSelectedFolder);
    connect(m_telemetryAction, &QAction::triggered, this, &SceneWatcherPanel::showSelectedTelemetry);

    const auto makeButton = [this](const QString& name, QAction* action) {
        auto* button = new QPushButton(action->text(), this);
        button->setObjectName(name);
        button->setToolTip(action->toolTip());
        connect(button, &QPushButton::clicked, action, &QAction::trigger);
        return button;
    };
    m_cancelSceneButton = makeButton(QStringLiteral("cancelSceneButton"), m_cancelSceneAction);
    m_requeueSceneButton = makeButton(QStringLiteral("requeueSceneButton"), m_requeueSceneAction);
    m_openFolderButton = makeButton(QStringLiteral("openFolderButton"), m_openFolderAction);
    m_telemetryButton = makeButton(QStringLiteral("telemetryButton"), m_telemetryAction);
    auto* sceneActions = new QHBoxLayout;
    sceneActions->addWidget(m_cancelSceneButton);
    sceneActions->addWidget(m_requeueSceneButton);
    sceneActions->addWidget(m_openFolderButton);
    sceneActions->addWidget(m_telemetryButton);
    sceneActions->addStretch(1);

    // Side: flip-book of the selected scene and the policy card.
    m_flipBook = new FlipBookPlayer(this);
    m_flipBook->setObjectName(QStringLiteral("flipBook"));
    m_policyCard = new QueuePolicyCard(this);

    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_table, 1);
    leftLayout->addLayout(sceneActions);
    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(m_flipBook, 1);
    rightLayout->addWidget(m_policyCard);
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("watcherSplitter"));
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_pausedBanner);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_statusLabel);

    connect(m_startButton, &QPushButton::clicked, this, &SceneWatcherPanel::startRequested);
    connect(m_pauseButton, &QPushButton::toggled, this, [this](bool paused) {
        if (m_controller && !m_runFinished)
            m_controller->setQueuePaused(paused);
        m_pauseButton->setText(paused ? QStringLiteral("Resume queue") : QStringLiteral("Pause queue"));
    });
    connect(m_cancelAllButton, &QPushButton::clicked, this, &SceneWatcherPanel::confirmCancelAll);
    connect(m_presetCombo, &QComboBox::currentIndexChanged, this,
            [this] {
                m_policyCard->setPolicy(selectedPolicy());
                Q_EMIT presetChanged(selectedPreset());
            });
    connect(m_table, &QTableView::customContextMenuRequested, this, &SceneWatcherPanel::showContextMenu);
    m_policyCard->setPolicy(selectedPolicy());
}

pipeline::RunController* SceneWatcherPanel::controller() const
{
    return m_controller;
}

pipeline::QueuePolicy SceneWatcherPanel::selectedPolicy() const
{
    const QString preset = selectedPreset();
    if (m_policySource)
        return m_policySource(preset);
    return preset == QLatin1String("fastIteration") ? pipeline::QueuePolicy::fastIteration()
                                                    : pipeline::QueuePolicy::standard();
}

QString SceneWatcherPanel::selectedPreset() const
{
    return m_presetCombo->currentIndex() == 1 ? QStringLiteral("fastIteration") : QStringLiteral("standard");
}

void SceneWatcherPanel::setSelectedPreset(const QString& preset)
{
    m_presetCombo->setCurrentIndex(preset == QLatin1String("fastIteration") ? 1 : 0);
    m_policyCard->setPolicy(selectedPolicy());
}

void SceneWatcherPanel::setPolicySource(std::function<pipeline::QueuePolicy(const QString&)> source)
{
    m_policySource = std::move(source);
    m_policyCard->setPolicy(selectedPolicy());
}

void SceneWatcherPanel::attach(pipeline::RunController* controller)
{
    if (m_controller)
        disconnect(m_controller, nullptr, this, nullptr);
    m_controller = controller;
    m_model->attach(controller);
    m_runFinished = !controller || controller->isFinished();
    m_pauseButton->blockSignals(true);
    m_pauseButton->setChecked(controller && controller->isQueuePaused());
    m_pauseButton->setText(m_pauseButton->isChecked() ? QStringLiteral("Resume queue") : QStringLiteral("Pause queue"));
    m_pauseButton->blockSignals(false);
    m_pausedBanner->setVisible(m_pauseButton->isChecked());
    if (controller) {
        connect(controller, &pipeline::RunController::message, this, &SceneWatcherPanel::showStatus);
        connect(controller, &pipeline::RunController::warning, this,
                [this](const QString& w) { showStatus(QStringLiteral("Warning: ") + w); });
        connect(controller, &pipeline::RunController::finished, this, &SceneWatcherPanel::onRunFinished);
        connect(controller, &pipeline::RunController::queuePausedChanged, this, [this](bool paused) {
            m_pausedBanner->setVisible(paused);
            m_pauseButton->blockSignals(true);
            m_pauseButton->setChecked(paused);
            m_pauseButton->setText(paused ? QStringLiteral("Resume queue") : QStringLiteral("Pause queue"));
            m_pauseButton->blockSignals(false);
        });
        // Which per-scene actions are possible changes with every scene transition.
        connect(controller, &pipeline::RunController::sceneFinished, this, &SceneWatcherPanel::updateSceneActions);
        connect(controller, &pipeline::RunController::attemptStarted, this, &SceneWatcherPanel::updateSceneActions);
        connect(controller, &pipeline::RunController::sceneCancelled, this, [this](const QString& id) {
            showStatus(QStringLiteral("%1 cancelled").arg(id));
            updateSceneActions();
        });
        connect(controller, &pipeline::RunController::sceneRequeued, this, &SceneWatcherPanel::updateSceneActions);
        connect(controller, &QObject::destroyed, this, [this] {
            m_runFinished = true;
            updateRunControls();
            updateSceneActions();
        });
        showStatus(controller->isFinished() ? QStringLiteral("Run finished") : QStringLiteral("Run starting …"));
    }
    updateRunControls();
    updateSceneActions();
}

void SceneWatcherPanel::onRunFinished(int exitCode, const QString& message)
{
    m_runFinished = true;
    const QString what = exitCode == int(pipeline::RunExit::Success)       ? QStringLiteral("Run finished")
                         : exitCode == int(pipeline::RunExit::Interrupted) ? QStringLiteral("Run cancelled")
                                                                           : QStringLiteral("Run ended (exit %1)").arg(exitCode);
    showStatus(message.isEmpty() ? what : QString(what + QStringLiteral(": ") + message));
    m_pausedBanner->hide();
    if (m_cancelAllBox)
        m_cancelAllBox->reject();
    updateRunControls();
    updateSceneActions();
}

void SceneWatcherPanel::showStatus(const QString& text)
{
    m_statusLabel->setText(text);
}

void SceneWatcherPanel::updateRunControls()
{
    const bool running = m_controller && !m_runFinished;
    m_startButton->setEnabled(!running);
    m_pauseButton->setEnabled(running);
    m_cancelAllButton->setEnabled(running);
}

int SceneWatcherPanel::selectedRow() const
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? -1 : rows.first().row();
}

QString SceneWatcherPanel::selectedSceneId() const
{
    const int row = selectedRow();
    return row < 0 ? QString() : m_model->index(row, 0).data(SceneTableModel::SceneIdRole).toString();
}

void SceneWatcherPanel::selectScene(const QString& sceneId)
{
    const int row = m_model->rowOf(sceneId);
    if (row >= 0)
        m_table->selectRow(row);
}

void SceneWatcherPanel::updateSceneActions()
{
    const int row = selectedRow();
    const QString id = selectedSceneId();
    const bool live = m_controller && !m_runFinished;
    const bool canCancel = live && row >= 0 && m_controller->canCancelScene(id);
    const bool canRequeue = live && row >= 0 && m_controller->canRequeueScene(id);
    const QString dir = row < 0 ? QString() : m_model->index(row, 0).data(SceneTableModel::SceneDirRole).toString();
    const bool hasFolder = !dir.isEmpty() && QFileInfo(dir).isDir();
    const bool hasTelemetry =
        row >= 0 && !m_model->index(row, 0).data(SceneTableModel::TelemetryRole).toJsonObject().isEmpty();
    m_cancelSceneAction->setEnabled(canCancel);
    m_requeueSceneAction->setEnabled(canRequeue);
    m_openFolderAction->setEnabled(hasFolder);
    m_telemetryAction->setEnabled(hasTelemetry);
    m_cancelSceneButton->setEnabled(canCancel);
    m_requeueSceneButton->setEnabled(canRequeue);
    m_openFolderButton->setEnabled(hasFolder);
    m_telemetryButton->setEnabled(hasTelemetry);
}

void SceneWatcherPanel::onSelectionChanged()
{
    const int row = selectedRow();
    if (row < 0) {
        m_flipBook->setFrames({});
    } else {
        const QModelIndex index = m_model->index(row, 0);
        m_flipBook->setFrames(index.data(SceneTableModel::FramePathsRole).toStringList());
        Q_EMIT sceneSelected(m_model->runDir(), index.data(SceneTableModel::SceneIdRole).toString());
    }
    updateSceneActions();
}

void SceneWatcherPanel::onRowsChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight)
{
    const int row = selectedRow();
    if (row < topLeft.row() || row > bottomRight.row())
        return;
    m_flipBook->setFrames(m_model->index(row, 0).data(SceneTableModel::FramePathsRole).toStringList());
    updateSceneActions();
}

void SceneWatcherPanel::confirmCancelAll()
{
    if (!m_controller || m_runFinished || m_cancelAllBox)
        return;
    // Window-modal and asynchronous (open(), not exec()): the run keeps rendering while it asks.
    auto* box = new QMessageBox(QMessageBox::Warning, QStringLiteral("Cancel all scenes?"),
                                QStringLiteral("Interrupt the running scene and record every remaining scene as "
                                               "cancelled? Frames collected so far are kept."),
                                QMessageBox::Yes | QMessageBox::No, this);
    box->setObjectName(QStringLiteral("cancelAllConfirm"));
    box->setDefaultButton(QMessageBox::No);
    box->setAttribute(Qt::WA_DeleteOnClose);
    m_cancelAllBox = box;
    connect(box, &QMessageBox::finished, this, [this, box](int) {
        if (box->clickedButton() == box->button(QMessageBox::Yes) && m_controller && !m_runFinished)
            m_controller->cancel();
    });
    box->open();
}

void SceneWatcherPanel::cancelSelectedScene()
{
    const QString id = selectedSceneId();
    if (!m_controller || id.isEmpty())
        return;
    if (!m_controller->cancelScene(id))
        showStatus(QStringLiteral("%1 cannot be cancelled: it has already finished").arg(id));
    updateSceneActions();
}

void SceneWatcherPanel::requeueSelectedScene()
{
    const QString id = selectedSceneId();
    if (!m_controller || id.isEmpty())
        return;
    if (!m_controller->requeueScene(id))
        showStatus(QStringLiteral("%1 cannot be requeued: only a failed or cancelled scene of a run still going can")
                       .arg(id));
    updateSceneActions();
}

void SceneWatcherPanel::openSelectedFolder()
{
    const int row = selectedRow();
    if (row < 0)
        return;
    const QString dir = m_model->index(row, 0).data(SceneTableModel::SceneDirRole).toString();
    if (!QDesktopServices::openUrl(QUrl::fromLocalFile(dir)))
        showStatus(QStringLiteral("Could not open %1: no file manager answered").arg(dir));
}

void SceneWatcherPanel::showSelectedTelemetry()
{
    const int row = selectedRow();
    if (row < 0)
        return;
    const QModelIndex index = m_model->index(row, 0);
    const QString id = index.data(SceneTableModel::SceneIdRole).toString();
    auto* dialog = new QDialog(this);
    dialog->setObjectName(QStringLiteral("telemetryDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(QStringLiteral("Telemetry — %1 (attempt %2)")
                               .arg(id)
                               .arg(index.data(SceneTableModel::AttemptRole).toInt()));
    auto* text = new QPlainTextEdit(dialog);
    text->setObjectName(QStringLiteral("telemetryJson"));
    text->setReadOnly(true);
    text->setLineWrapMode(QPlainTextEdit::NoWrap);
    text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    text->setPlainText(QString::fromUtf8(
        QJsonDocument(index.data(SceneTableModel::TelemetryRole).toJsonObject()).toJson(QJsonDocument::Indented)));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(text);
    layout->addWidget(buttons);
    dialog->resize(560, 640);
    dialog->show();
}

void SceneWatcherPanel::showContextMenu(const QPoint& pos)
{
    const QModelIndex index = m_table->indexAt(pos);
    if (!index.isValid())
        return;
    m_table->selectRow(index.row());
    // popup(), not exec(): no nested event loop while the run keeps signalling.
    auto* menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("sceneContextMenu"));
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->addAction(m_cancelSceneAction);
    menu->addAction(m_requeueSceneAction);
    menu->addSeparator();
    menu->addAction(m_openFolderAction);
    menu->addAction(m_telemetryAction);
    menu->popup(m_table->viewport()->mapToGlobal(pos));
}

} // namespace gd::ui
