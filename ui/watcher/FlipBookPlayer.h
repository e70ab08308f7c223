#pragma once

#include <QFutureWatcher>
#include <QImage>
#include <QPixmap>
#include <QTimer>
#include <QVector>
#include <QWidget>

class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;
class QToolButton;

namespace gd::ui {

// Plays a scene's collected frames as a flip-book: play/pause, a frame slider and frames per
// second. Frames are decoded (scaled to the player) on the global thread pool, in order, with
// progress shown and a cancel button; a new frame list cancels the load in progress.
class FlipBookPlayer : public QWidget
{
    Q_OBJECT
public:
    explicit FlipBookPlayer(QWidget* parent = nullptr);
    ~FlipBookPlayer() override;

    // Same list as now = no reload (the model repeats it on every progress update).
    void setFrames(const QStringList& paths);
    QStringList frames() const { return m_paths; }
    // Frames decoded so far (the slider covers the whole list from the start).
    int loadedCount() const;
    int currentFrame() const { return m_current; }
    bool isPlaying() const { return m_timer.isActive(); }
    bool isLoading() const { return m_watcher.isRunning(); }
    int fps() const;

public Q_SLOTS:
    void play();
    void pause();
    void showFrame(int index);
    void setFps(int fps);
    void cancelLoading();

Q_SIGNALS:
    void loadFinished(int frames);
    void frameShown(int index);

private:
    void onResultReady(int index);
    void onLoadFinished();
    void updateControls();
    void advance();

    QStringList m_paths;
    QVector<QPixmap> m_frames;
    int m_current = -1;
    QTimer m_timer;
    QFutureWatcher<QImage> m_watcher;
    QLabel* m_image;
    QToolButton* m_playButton;
    QSlider* m_slider;
    QSpinBox* m_fpsSpin;
    QLabel* m_position;
    QLabel* m_loadStatus;
    QPushButton* m_cancelLoad;
};

} // namespace gd::ui
