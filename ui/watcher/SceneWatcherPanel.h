#pragma once

#include "pipeline/QueuePolicy.h"

#include <functional>

#include <QPointer>
#include <QWidget>

class QAction;
class QComboBox;
class QLabel;
class QMessageBox;
class QModelIndex;
class QPushButton;
class QTableView;

namespace gd::pipeline {
class RunController;
class SceneTableModel;
} // namespace gd::pipeline

namespace gd::ui {

class FlipBookPlayer;
class QueuePolicyCard;
class ThumbnailCache;

// The scene watcher: one row per scene of the attached run (core's SceneTableModel) with progress
// bars, telemetry badges and thumbnails, a flip-book of the selected scene, per-scene actions
// (cancel, requeue, open folder, telemetry JSON) and the run controls (start, pause queue, cancel
// all, preset). It only forwards intent: MainWindow builds the RunController on startRequested()
// with selectedPolicy() and attaches it here.
class SceneWatcherPanel : public QWidget
{
    Q_OBJECT
public:
    explicit SceneWatcherPanel(QWidget* parent = nullptr);
    ~SceneWatcherPanel() override;

    // Follows this run (nullptr detaches; the rows of the last run stay until the next attach).
    void attach(pipeline::RunController* controller);
    pipeline::RunController* controller() const;
    // The policy of the preset chosen in the switch: from the policy source when one is set (the app's
    // settings: preset plus the operator's knobs), else the bare preset.
    pipeline::QueuePolicy selectedPolicy() const;
    QString selectedPreset() const; // "standard" | "fastIteration"
    void setSelectedPreset(const QString& preset);
    void setPolicySource(std::function<pipeline::QueuePolicy(const QString& preset)> source);
    pipeline::SceneTableModel* model() const { return m_model; }
    QString selectedSceneId() const;
    void selectScene(const QString& sceneId);

Q_SIGNALS:
    void startRequested();
    void sceneSelected(const QString& runDir, const QString& sceneId);
    void presetChanged(const QString& preset);

private:
    void buildUi();
    void updateRunControls();
    void updateSceneActions();
    void onSelectionChanged();
    void onRowsChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight);
    void onRunFinished(int exitCode, const QString& message);
    void showStatus(const QString& text);
    void confirmCancelAll();
    void cancelSelectedScene();
    void requeueSelectedScene();
    void openSelectedFolder();
    void showSelectedTelemetry();
    void showContextMenu(const QPoint& pos);
    int selectedRow() const;

    pipeline::SceneTableModel* m_model;
    QPointer<pipeline::RunController> m_controller;
    bool m_runFinished = true;
    ThumbnailCache* m_thumbnails;
    QTableView* m_table;
    FlipBookPlayer* m_flipBook;
    QueuePolicyCard* m_policyCard;
    QComboBox* m_presetCombo;
    std::function<pipeline::QueuePolicy(const QString&)> m_policySource;
    QPushButton* m_startButton;
    QPushButton* m_pauseButton;
    QPushButton* m_cancelAllButton;
    QPushButton* m_cancelSceneButton;
    QPushButton* m_requeueSceneButton;
    QPushButton* m_openFolderButton;
    QPushButton* m_telemetryButton;
    QAction* m_cancelSceneAction;
    QAction* m_requeueSceneAction;
    QAction* m_openFolderAction;
    QAction* m_telemetryAction;
    QLabel* m_statusLabel;
    QLabel* m_pausedBanner;
    QPointer<QMessageBox> m_cancelAllBox;
};

} // namespace gd::ui
