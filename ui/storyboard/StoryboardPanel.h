#pragma once

#include "storyboard/StoryboardController.h"

#include <QHash>
#include <QPointer>
#include <QWidget>
#include <functional>

class QGridLayout;
class QHBoxLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QScrollArea;
class QStackedWidget;

namespace gd::storyboard {
class StoryboardGridModel;
class StoryboardReferenceModel;
} // namespace gd::storyboard

namespace gd::ui {

class StoryboardTile;
class ThumbnailCache;

// The storyboard panel, the approval gate of issue 8: a strip of reference sheets (one per
// character look / location) and a grid of shot tiles (scenes as rows) with the selected keyframe,
// the judge's score and reasons, stale/blocked badges with reasons, approve / re-roll / upload /
// edit-prompt per tile and a candidate strip to override the judge; a toolbar starts the stages
// (references, keyframes, video for approved shots, update stale) showing each one's estimated GPU
// time, with progress and Cancel while a stage renders. It renders core's StoryboardGridModel and
// StoryboardReferenceModel over a StoryboardController and forwards the operator's intent to it;
// thumbnails are decoded off the GUI thread (ThumbnailCache).
class StoryboardPanel : public QWidget
{
    Q_OBJECT
public:
    explicit StoryboardPanel(QWidget* parent = nullptr);
    ~StoryboardPanel() override;

    // Follows `controller` (null detaches). The panel does not own it.
    void attach(storyboard::StoryboardController* controller);
    storyboard::StoryboardController* controller() const { return m_controller; }

    // Where "Upload…" gets its file (tests return a path; the default opens a file dialog).
    void setFileChooser(std::function<QString(const QString& title)> chooser);

    storyboard::StoryboardGridModel* gridModel() const { return m_grid; }
    storyboard::StoryboardReferenceModel* referenceModel() const { return m_refs; }
    StoryboardTile* shotTile(const QString& shotKey) const { return m_shotTiles.value(shotKey); }
    StoryboardTile* referenceTile(const QString& referenceKey) const { return m_refTiles.value(referenceKey); }
    QPushButton* stageButton(storyboard::StoryboardStage stage) const;
    QPushButton* cancelButton() const { return m_cancel; }
    QLabel* messageLabel() const { return m_message; }

Q_SIGNALS:
    // A tile's edit dialog opened (tests fill it in; the app shows it).
    void promptDialogOpened(QDialog* dialog);

protected:
    void changeEvent(QEvent* event) override;

private:
    QWidget* buildToolbar();
    void rebuildShotTiles();
    void rebuildReferenceTiles();
    void updateShotTile(int row);
    void updateReferenceTile(int row);
    void fitReferenceStrip();
    void refreshStageButtons();
    void setBusy(bool busy);
    void showError(const QString& what, const Error& error);
    void showMessage(const QString& text, bool error = false);
    void applyMessagePalette();
    void connectTile(StoryboardTile* tile);
    void editShot(const QString& shotKey);
    void editReference(const QString& referenceKey);
    void upload(storyboard::ItemKind kind, const QString& key);

    QPointer<storyboard::StoryboardController> m_controller;
    storyboard::StoryboardGridModel* m_grid;
    storyboard::StoryboardReferenceModel* m_refs;
    ThumbnailCache* m_images;
    ThumbnailCache* m_candidateImages;
    std::function<QString(const QString&)> m_fileChooser;

    QHash<int, QPushButton*> m_stageButtons; // by StoryboardStage
    QPushButton* m_cancel = nullptr;
    QLabel* m_progressLabel = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_message = nullptr;
    bool m_messageIsError = false; // the message is an error: shown in the palette's error colour
    QLabel* m_summary = nullptr;
    QStackedWidget* m_stack = nullptr;
    QLabel* m_empty = nullptr;
    QScrollArea* m_refScroll = nullptr;
    QWidget* m_refStrip = nullptr;
    QHBoxLayout* m_refLayout = nullptr;
    QWidget* m_shotGrid = nullptr;
    QGridLayout* m_shotLayout = nullptr;
    QHash<QString, StoryboardTile*> m_shotTiles;
    QHash<QString, StoryboardTile*> m_refTiles;
    QVector<StoryboardTile*> m_shotByRow;
    QVector<StoryboardTile*> m_refByRow;
    int m_stageItems = 0;
    int m_stageDone = 0;
    bool m_busy = false;
};

} // namespace gd::ui
