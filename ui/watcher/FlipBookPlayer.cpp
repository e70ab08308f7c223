#include "watcher/FlipBookPlayer.h"

#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QPromise>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace gd::ui {

namespace {

constexpr QSize kFrameBox(480, 360);

void loadFrames(QPromise<QImage>& promise, const QStringList& paths)
{
    promise.setProgressRange(0, int(paths.size()));
    for (int i = 0; i < paths.size(); ++i) {
        if (promise.isCanceled())
            return;
        QImageReader reader(paths.at(i));
        const QSize full = reader.size();
        if (full.isValid())
            reader.setScaledSize(full.scaled(kFrameBox, Qt::KeepAspectRatio).boundedTo(full));
        // An unreadable frame stays a null image: the player shows the gap instead of stopping.
        promise.addResult(reader.read(), i);
        promise.setProgressValue(i + 1);
    }
}

} // namespace

FlipBookPlayer::FlipBookPlayer(QWidget* parent) : QWidget(parent)
{
    m_image = new QLabel(this);
    m_image->setObjectName(QStringLiteral("flipBookImage"));
    m_image->setAlignment(Qt::AlignCenter);
    m_image->setMinimumSize(240, 160);
    m_image->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    m_image->setText(QStringLiteral("Select a scene to play its frames"));
    m_image->setToolTip(QStringLiteral("The selected scene's collected frames"));

    m_playButton = new QToolButton(this);
    m_playButton->setObjectName(QStringLiteral("flipBookPlay"));
    m_playButton->setCheckable(true);
    m_playButton->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_playButton->setToolTip(QStringLiteral("Play / pause the frames (Space)"));
    m_playButton->setShortcut(Qt::Key_Space);

    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setObjectName(QStringLiteral("flipBookSlider"));
    m_slider->setToolTip(QStringLiteral("Frame"));

    m_fpsSpin = new QSpinBox(this);
    m_fpsSpin->setObjectName(QStringLiteral("flipBookFps"));
    m_fpsSpin->setRange(1, 60);
    m_fpsSpin->setValue(12);
    m_fpsSpin->setSuffix(QStringLiteral(" fps"));
    m_fpsSpin->setToolTip(QStringLiteral("Playback speed in frames per second"));

    m_position = new QLabel(this);
    m_position->setObjectName(QStringLiteral("flipBookPosition"));
    m_position->setMinimumWidth(70);

    m_loadStatus = new QLabel(this);
    m_loadStatus->setObjectName(QStringLiteral("flipBookLoadStatus"));
    m_cancelLoad = new QPushButton(QStringLiteral("Cancel"), this);
    m_cancelLoad->setObjectName(QStringLiteral("flipBookCancelLoad"));
    m_cancelLoad->setToolTip(QStringLiteral("Stop loading the frames"));
    m_cancelLoad->hide();

    auto* controls = new QHBoxLayout;
    controls->addWidget(m_playButton);
    controls->addWidget(m_slider, 1);
    controls->addWidget(m_position);
    controls->addWidget(m_fpsSpin);
    auto* loading = new QHBoxLayout;
    loading->addWidget(m_loadStatus, 1);
    loading->addWidget(m_cancelLoad);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_image, 1);
    layout->addLayout(controls);
    layout->addLayout(loading);

    connect(m_playButton, &QToolButton::toggled, this, [this](bool on) { on ? play() : pause(); });
    connect(m_slider, &QSlider::valueChanged, this, &FlipBookPlayer::showFrame);
    connect(m_fpsSpin, &QSpinBox::valueChanged, this, &FlipBookPlayer::setFps);
    connect(m_cancelLoad, &QPushButton::clicked, this, &FlipBookPlayer::cancelLoading);
    connect(&m_timer, &QTimer::timeout, this, &FlipBookPlayer::advance);
    connect(&m_watcher, &QFutureWatcher<QImage>::resultReadyAt, this, &FlipBookPlayer::onResultReady);
    connect(&m_watcher, &QFutureWatcher<QImage>::finished, this, &FlipBookPlayer::onLoadFinished);
    connect(&m_watcher, &QFutureWatcher<QImage>::progressValueChanged, this, [this](int done) {
        m_loadStatus->setText(QStringLiteral("Loading frames %1/%2 …").arg(done).arg(m_paths.size()));
    });
    setFps(m_fpsSpin->value());
    updateControls();
}

FlipBookPlayer::~FlipBookPlayer()
{
    // The loader only reads files; cancelling and waiting keeps it from outliving the watcher.
    m_watcher.cancel();
    m_watcher.waitForFinished();
}

int FlipBookPlayer::loadedCount() const
{
    int loaded = 0;
    for (const QPixmap& p : m_frames)
        loaded += p.isNull() ? 0 : 1;
    return loaded;
}

int FlipBookPlayer::fps() const
{
    return m_fpsSpin->value();
}

void FlipBookPlayer::setFrames(const QStringList& paths)
{
    if (paths == m_paths)
        return;
    pause();
    if (m_watcher.isRunning()) {
        m_watcher.cancel();
        m_watcher.waitForFinished();
    }
    m_paths = paths;
    m_frames.clear();
    m_current = -1;
    m_image->setPixmap(QPixmap());
    m_image->setText(paths.isEmpty() ? QStringLiteral("No frames collected yet") : QString());
    if (!paths.isEmpty()) {
        m_frames.resize(paths.size());
        m_loadStatus->setText(QStringLiteral("Loading frames 0/%1 …").arg(paths.size()));
        m_cancelLoad->show();
        m_watcher.setFuture(QtConcurrent::run(loadFrames, paths));
    } else {
        m_loadStatus->clear();
    }
    updateControls();
}

void FlipBookPlayer::onResultReady(int index)
{
    if (index < 0 || index >= m_frames.size())
        return;
    const QImage image = m_watcher.resultAt(index);
    m_frames[index] = QPixmap::fromImage(image);
    updateControls();
    if (m_current < 0)
        showFrame(0);
}

void FlipBookPlayer::onLoadFinished()
{
    m_cancelLoad->hide();
    const int loaded = loadedCount();
    if (m_watcher.isCanceled())
        m_loadStatus->setText(QStringLiteral("Loading stopped: %1 of %2 frames").arg(loaded).arg(m_paths.size()));
    else if (loaded < m_paths.size())
        m_loadStatus->setText(QStringLiteral("%1 frames, %2 unreadable").arg(loaded).arg(m_paths.size() - loaded));
    else
        m_loadStatus->setText(QStringLiteral("%1 frames").arg(loaded));
    updateControls();
    Q_EMIT loadFinished(loaded);
}

void FlipBookPlayer::cancelLoading()
{
    m_watcher.cancel();
}

void FlipBookPlayer::updateControls()
{
    const int n = int(m_frames.size());
    m_slider->setEnabled(n > 0);
    m_playButton->setEnabled(n > 1);
    m_slider->blockSignals(true);
    m_slider->setRange(0, std::max(0, n - 1));
    m_slider->setValue(std::max(0, m_current));
    m_slider->blockSignals(false);
    m_position->setText(n > 0 ? QStringLiteral("%1 / %2").arg(m_current + 1).arg(n) : QString());
}

void FlipBookPlayer::showFrame(int index)
{
    if (index < 0 || index >= m_frames.size())
        return;
    m_current = index;
    const QPixmap& p = m_frames.at(index);
    if (p.isNull()) {
        m_image->setPixmap(QPixmap());
        m_image->setText(m_watcher.isRunning() ? QStringLiteral("loading…") : QStringLiteral("unreadable frame"));
    } else {
        m_image->setPixmap(p.scaled(m_image->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation));
    }
    updateControls();
    Q_EMIT frameShown(index);
}

void FlipBookPlayer::play()
{
    if (m_frames.size() < 2)
        return;
    m_timer.start();
    m_playButton->blockSignals(true);
    m_playButton->setChecked(true);
    m_playButton->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
    m_playButton->blockSignals(false);
}

void FlipBookPlayer::pause()
{
    m_timer.stop();
    m_playButton->blockSignals(true);
    m_playButton->setChecked(false);
    m_playButton->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_playButton->blockSignals(false);
}

void FlipBookPlayer::setFps(int fps)
{
    m_timer.setInterval(1000 / std::clamp(fps, 1, 60));
    if (m_fpsSpin->value() != fps)
        m_fpsSpin->setValue(fps);
}

void FlipBookPlayer::advance()
{
    if (m_frames.isEmpty()) {
        pause();
        return;
    }
    showFrame((m_current + 1) % int(m_frames.size()));
}

} // namespace gd::ui
