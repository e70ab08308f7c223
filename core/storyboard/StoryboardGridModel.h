#pragma once

#include "story/Story.h"
#include "storyboard/GpuTimeEstimator.h"
#include "storyboard/StalenessCalculator.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardState.h"

#include <QAbstractTableModel>
#include <QPointer>
#include <QStringList>
#include <QVariantList>
#include <QVariantMap>
#include <QVector>
#include <optional>

namespace gd::storyboard {

// The storyboard's shots in story order as a table (one row per shot, implicit shots included):
// the selected keyframe, its candidates, the judge's verdict, who chose, the approval, freshness
// with reasons, the clip's state, a bookend shot's end keyframe (EndKeyframeRole) and the estimated
// GPU time of the shot's next render. Renders a
// StoryboardController (or a story + state + staleness snapshot); a refresh compares every row
// with what it showed and emits dataChanged for the rows that differ, so views keep their
// selection and scroll position while candidates stream in. QtCore only; GUI thread.
class StoryboardGridModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        SceneColumn,
        ShotColumn,
        DescriptionColumn,
        KeyframeColumn,   // the selected keyframe file (absolute path in KeyframeFileRole)
        CandidatesColumn, // "3 candidates, #2 chosen"
        ScoreColumn,      // the chosen candidate's judge score ("—" when not judged)
        ChosenByColumn,   // "judge" | "operator" | ""
        ApprovedColumn,
        FreshnessColumn, // of the keyframe
        ClipColumn,      // the clip's freshness ("missing" before the video pass)
        EstimateColumn,  // GPU time of the next render of this shot
        EndKeyframeColumn, // bookend shots: "v1 #2, approved, fresh" of the end keyframe ("" otherwise)
        ColumnCount
    };
    enum Role
    {
        ShotKeyRole = Qt::UserRole + 1,
        SceneIdRole,
        ShotIdRole,
        DescriptionRole,
        KeyframeFileRole,      // absolute path of the selected version's chosen candidate ("" = none)
        SelectedVersionRole,   // int, 0 = none
        ChosenCandidateRole,   // int, 1-based, 0 = none
        CandidateFilesRole,    // QStringList of absolute paths (selected version)
        CandidateScoresRole,   // QVariantList: double or invalid (not judged) per candidate
        CandidateReasonsRole,  // QStringList: the judge's reasons per candidate ("" = not judged)
        JudgeScoreRole,        // double of the chosen candidate, invalid when not judged
        JudgeReasonsRole,      // QString
        JudgeModelRole,        // QString
        ChosenByRole,          // "judge" | "operator" | ""
        ApprovedRole,          // bool (keyframe)
        FreshnessRole,         // "fresh" | "stale" | "missing" | "blocked" (keyframe)
        FreshnessReasonsRole,  // QStringList
        ClipStateRole,         // "fresh" | "stale" | "missing" | "blocked"
        ClipReasonsRole,       // QStringList
        ClipVersionRole,       // int, 0 = none
        EstimateRole,          // QString ("" when the shot needs nothing)
        SceneIndexRole,        // int: the scene's position in the story
        IsBookendRole,         // bool: the shot has a lastFrame, so an end keyframe
        // QVariantMap of the end keyframe (empty for other shots): "file" (absolute, "" = none), "version",
        // "chosen", "candidates" (QStringList), "scores" (QVariantList), "reasons" (QStringList), "score"
        // (invalid = not judged), "judgeReasons", "judgeModel", "chosenBy", "approved", "freshness",
        // "freshnessReasons", "used" (bool: the video profile maps end_image, so the clip ends on it).
        EndKeyframeRole,
    };

    explicit StoryboardGridModel(QObject* parent = nullptr);

    // Follows `controller` (stateChanged → refresh); null detaches and empties the model.
    void setController(StoryboardController* controller);
    StoryboardController* controller() const { return m_controller; }

    // The estimated GPU seconds per item of the keyframe and video passes (what EstimateRole shows).
    struct Estimates
    {
        std::optional<double> keyframeSecondsPerShot;
        std::optional<double> clipSecondsPerShot;
    };
    // Shows this snapshot (what setController does on every stateChanged). Rows whose content is
    // unchanged emit nothing; when the list of shot keys changes the model resets.
    void refresh(const story::Story& story, const StoryboardState& state, const StalenessReport& report,
                 const QString& directory, const Estimates& estimates = {});
    // Re-reads the followed controller.
    void refreshFromController();
    // Whether the video profile maps end_image (EndKeyframeRole "used"); the followed controller sets
    // it on every refresh. Applies from the next refresh.
    void setUsesEndKeyframes(bool uses) { m_usesEndKeyframes = uses; }

    // Row of a shot key, or -1.
    int rowOf(const QString& shotKey) const;
    QString shotKey(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    // "fresh" | "stale" | "missing" | "blocked".
    static QString freshnessName(Freshness freshness);

private:
    struct Row
    {
        QString key;
        QString sceneId;
        QString shotId;
        int sceneIndex = 0;
        QString description;
        QString keyframeFile;
        int selectedVersion = 0;
        int chosen = 0;
        QStringList candidateFiles;
        QVariantList candidateScores;
        QStringList candidateReasons;
        QVariant score;
        QString reasons;
        QString judgeModel;
        QString chosenBy;
        bool approved = false;
        QString freshness;
        QStringList freshnessReasons;
        QString clipState;
        QStringList clipReasons;
        int clipVersion = 0;
        QString estimate;
        QVariantMap end; // EndKeyframeRole

        bool operator==(const Row& other) const;
        bool operator!=(const Row& other) const { return !(*this == other); }
    };

    QVariant display(const Row& row, int column) const;
    QString toolTip(const Row& row, int column) const;

    QPointer<StoryboardController> m_controller;
    QVector<Row> m_rows;
    QHash<QString, int> m_index;
    bool m_usesEndKeyframes = false;
};

} // namespace gd::storyboard
