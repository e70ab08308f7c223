#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QSize>
#include <QStringList>
#include <QVector>
#include <functional>

class QDialog;
class QTimer;
class QWidget;

namespace gd::storyboard {
enum class StoryboardStage;
}

namespace gd::studio {

class Studio;

// Drives the assembled app unattended for `gemdirect-studio --sandbox --screenshots DIR`: writes an idea,
// generates the story through the LLM stand-in, starts the run and, once it is mid-way (some scenes done,
// one rendering), rates a finished scene and saves PNGs of the whole window and of each panel and the
// settings dialog; then lets the run and its quality step finish and shoots the dashboard again, and
// finally makes a storyboard of the story (sheets approved, keyframes judged) and shoots its panel. Every
// step has its own deadline and is checked on a short poll timer (no nested event loops); finished()
// reports exit 0, or non-zero with the step that failed or timed out.
class ScreenshotTour : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString outputDir;
        QString idea = QStringLiteral(
            "An old lighthouse keeper must relight the beacon during the worst storm in a century, while a "
            "lost fishing boat searches for the harbour.");
        int sceneCount = 5;
        int seed = 42;
        // "Mid-way": at least this many scenes done and the next one rendering.
        int scenesDoneMidway = 2;
        QSize windowSize{1600, 1000};
        int stepTimeoutMs = 60000;
    };

    ScreenshotTour(Studio& studio, Options options, QObject* parent = nullptr);
    ~ScreenshotTour() override;

    void start();
    // The PNGs written so far, absolute paths in the order they were taken.
    QStringList writtenFiles() const { return m_written; }

Q_SIGNALS:
    // Exactly once. exitCode 0: every shot written; otherwise `message` says which step failed and why.
    void finished(int exitCode, const QString& message);

private:
    struct Step
    {
        QString name;
        std::function<bool()> ready;       // polled until true or the deadline
        std::function<void()> act;         // runs once when ready
        std::function<QString()> failWhen; // non-empty: the step failed (checked before `ready`)
        int timeoutMs = 0;
    };

    void addStep(const QString& name, std::function<bool()> ready, std::function<void()> act,
                 std::function<QString()> failWhen = {}, int timeoutMs = 0);
    void addAction(const QString& name, std::function<void()> act);
    void buildSteps();
    void poll();
    void fail(const QString& message);
    void finish(int exitCode, const QString& message);

    bool isMidway() const;
    void rateFinishedScene();
    void shoot(QWidget* widget, const QString& fileName);
    // Floats a dock so its panel is shot at a readable size, independent of the window layout.
    void floatDock(const QString& dockName, const QSize& size);
    void restoreLayout();
    void showSettingsDialog();
    void closeSettingsDialog();
    void startStoryboard();
    void addStoryboardSteps();
    void clickStage(storyboard::StoryboardStage stage);

    Studio& m_studio;
    Options m_options;
    QTimer* m_poll;
    QVector<Step> m_steps;
    int m_current = -1;
    QElapsedTimer m_stepClock;
    QStringList m_written;
    QByteArray m_dockState;
    QPointer<QDialog> m_settingsDialog;
    QString m_ratedScene;
    bool m_ratingSaved = false;
    QString m_saveError;
    bool m_runFinished = false;
    int m_runExitCode = -1;
    QString m_runMessage;
    bool m_qualityFinished = false;
    bool m_done = false;
    int m_storyboardStages = 0; // storyboard stages finished
    int m_storyboardExit = 0;
    QString m_storyboardText;
};

} // namespace gd::studio
