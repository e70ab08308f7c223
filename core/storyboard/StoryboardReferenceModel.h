#pragma once

#include "story/Story.h"
#include "storyboard/StalenessCalculator.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardState.h"

#include <QAbstractTableModel>
#include <QPointer>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::storyboard {

// The reference sheets a storyboard needs (each character × look, each location with a reference
// prompt, the style reference) as a table: prompt, selected sheet, candidates, approval, source and
// freshness with reasons. Follows a StoryboardController like StoryboardGridModel: per-row
// dataChanged on every stateChanged, a reset only when the set of references changes. QtCore only.
class StoryboardReferenceModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        NameColumn, // "Mara Voss", "Lamp room", "style"
        LookColumn, // the look id of a character sheet ("" otherwise)
        PromptColumn,
        SheetColumn, // the selected sheet file
        CandidatesColumn,
        ApprovedColumn,
        SourceColumn, // "rendered" | "uploaded"
        FreshnessColumn,
        EstimateColumn,
        ColumnCount
    };
    enum Role
    {
        ReferenceKeyRole = Qt::UserRole + 1,
        KindRole,            // "character" | "location" | "style"
        NameRole,            // the character or location name
        LookRole,
        PromptRole,          // the reference prompt the story holds now
        SheetFileRole,       // absolute path of the selected version's chosen candidate ("" = none)
        SelectedVersionRole, // int, 0 = none
        ChosenCandidateRole, // int, 1-based, 0 = none
        CandidateFilesRole,  // QStringList of absolute paths (selected version)
        ApprovedRole,        // bool
        SourceRole,          // "rendered" | "uploaded" | ""
        FreshnessRole,       // "fresh" | "stale" | "missing" | "blocked"
        FreshnessReasonsRole,
        EstimateRole,
    };

    explicit StoryboardReferenceModel(QObject* parent = nullptr);

    void setController(StoryboardController* controller);
    StoryboardController* controller() const { return m_controller; }
    // `secondsPerSheet`: the references stage's per-item estimate (EstimateRole), empty = unknown.
    void refresh(const story::Story& story, const StoryboardState& state, const StalenessReport& report,
                 const QString& directory, std::optional<double> secondsPerSheet = {});
    void refreshFromController();

    int rowOf(const QString& referenceKey) const;
    QString referenceKey(int row) const;

    // The prompt of a reference as the story holds it: the look's (else the character's)
    // referencePrompt, the location's referencePrompt, or the style reference image path.
    static QString promptOf(const story::Story& story, const QString& referenceKey);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        QString key;
        QString kind;
        QString name;
        QString look;
        QString prompt;
        QString sheetFile;
        int selectedVersion = 0;
        int chosen = 0;
        QStringList candidateFiles;
        bool approved = false;
        QString source;
        QString freshness;
        QStringList freshnessReasons;
        QString estimate;

        bool operator==(const Row& other) const;
    };

    QPointer<StoryboardController> m_controller;
    QVector<Row> m_rows;
    QHash<QString, int> m_index;
};

} // namespace gd::storyboard
