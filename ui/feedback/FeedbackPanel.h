#pragma once

#include "common/Error.h"
#include "store/StoreTypes.h"

#include <QStringList>
#include <QThreadPool>
#include <QWidget>

class QComboBox;
class QLabel;
class QListWidget;
class QPlainTextEdit;
class QPushButton;

namespace gd::ui {

class StarRating;

// Rates the scene selected in the watcher: 1–5 stars, optional coherence 1–5 and a comment, saved
// through core's FeedbackService (database row and the run's Feedback[] together) on a worker
// thread, with a visible saving / saved / error state; beside it the mean ratings grouped by
// genre / template version / model / workflow, refreshed after each save.
// Threading: every database job opens its own connection on the panel's one-thread pool, so jobs
// run in order and no connection crosses threads.
class FeedbackPanel : public QWidget
{
    Q_OBJECT
public:
    explicit FeedbackPanel(const QString& databasePath, QWidget* parent = nullptr);
    // Waits for a save in flight: a rating the operator pressed Save on is never cut off.
    ~FeedbackPanel() override;

    QString runDir() const { return m_runDir; }
    QString sceneId() const { return m_sceneId; }
    QStringList aggregateLines() const;
    bool isBusy() const { return m_jobsInFlight > 0; }
    // Which attributes the aggregates are grouped by (the panel's group switch).
    store::FeedbackGroup grouping() const;

public Q_SLOTS:
    // Shows this scene for rating (empty = nothing selected) and refreshes the aggregates.
    void showScene(const QString& runDir, const QString& sceneId);
    void save();
    void refreshAggregates();

Q_SIGNALS:
    void ratingSaved(const QString& runDir, const QString& sceneId, int stars);
    void saveFailed(const QString& message);
    void aggregatesRefreshed();

private:
    struct SaveRequest
    {
        QString runDir;
        QString sceneId;
        int stars = 0;
        std::optional<int> coherence;
        QString comment;
    };
    struct Outcome
    {
        bool saveRequested = false;
        SaveRequest request;
        Error saveError;
        store::Rating rating;
        QStringList aggregates;
        QString aggregatesError;
        QString ratingsRunDir;
        QString ratingsSceneId;
        QStringList sceneRatings;
    };

    static Outcome runJob(const QString& databasePath, std::optional<SaveRequest> save, const QString& runDir,
                          const QString& sceneId, store::FeedbackGroup grouping);
    void startJob(std::optional<SaveRequest> save);
    void onJobFinished(const Outcome& outcome);
    void setSaveState(const QString& text, const QString& kind);
    void updateEnabled();

    QString m_databasePath;
    QString m_runDir;
    QString m_sceneId;
    QThreadPool m_pool;
    int m_jobsInFlight = 0;
    bool m_saveInFlight = false;
    QLabel* m_sceneLabel;
    StarRating* m_stars;
    StarRating* m_coherence;
    QPlainTextEdit* m_comment;
    QPushButton* m_saveButton;
    QLabel* m_saveState;
    QLabel* m_previousRatings;
    QComboBox* m_groupCombo;
    QListWidget* m_aggregates;
};

} // namespace gd::ui
