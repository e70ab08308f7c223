#include "storyboard/StoryboardReferenceModel.h"

#include "story/StoryShots.h"
#include "storyboard/GpuTimeEstimator.h"
#include "storyboard/ShotList.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardGridModel.h"
#include "storyboard/StoryboardInputs.h"
#include "storyboard/StoryboardKeys.h"

#include <QDir>

#include <algorithm>

namespace gd::storyboard {

namespace {

const QString kCharacterPrefix = QStringLiteral("character:");
const QString kLocationPrefix = QStringLiteral("location:");

QString absoluteFile(const QString& directory, const QString& relative)
{
    return relative.isEmpty() ? QString() : QDir::cleanPath(QDir(directory).filePath(relative));
}

} // namespace

bool StoryboardReferenceModel::Row::operator==(const Row& o) const
{
    return key == o.key && kind == o.kind && name == o.name && look == o.look && prompt == o.prompt &&
           sheetFile == o.sheetFile && selectedVersion == o.selectedVersion && chosen == o.chosen &&
           candidateFiles == o.candidateFiles && approved == o.approved && source == o.source &&
           freshness == o.freshness && freshnessReasons == o.freshnessReasons && estimate == o.estimate;
}

StoryboardReferenceModel::StoryboardReferenceModel(QObject* parent) : QAbstractTableModel(parent)
{
}

QString StoryboardReferenceModel::promptOf(const story::Story& story, const QString& referenceKey)
{
    if (referenceKey.startsWith(kCharacterPrefix)) {
        const QString rest = referenceKey.mid(kCharacterPrefix.size());
        const int hash = rest.lastIndexOf(QLatin1Char('#'));
        const QString name = hash < 0 ? rest : rest.left(hash);
        const QString look = hash < 0 ? QString() : rest.mid(hash + 1);
        if (const story::StoryCharacter* c = story::findCharacter(story, name)) {
            for (const story::CharacterLook& l : ShotList::looksOf(*c))
                if (l.id == look)
                    return l.referencePrompt.isEmpty() ? c->referencePrompt : l.referencePrompt;
            return c->referencePrompt;
        }
        return {};
    }
    if (referenceKey.startsWith(kLocationPrefix)) {
        const story::StoryLocation* l = story::findLocation(story, referenceKey.mid(kLocationPrefix.size()));
        return l ? l->referencePrompt : QString();
    }
    if (referenceKey == StoryboardKeys::style())
        return story.style.referenceImage;
    return {};
}

void StoryboardReferenceModel::setController(StoryboardController* controller)
{
    if (m_controller == controller)
        return;
    if (m_controller)
        disconnect(m_controller, nullptr, this, nullptr);
    m_controller = controller;
    if (m_controller)
        connect(m_controller, &StoryboardController::stateChanged, this,
                &StoryboardReferenceModel::refreshFromController);
    refreshFromController();
}

void StoryboardReferenceModel::refreshFromController()
{
    if (!m_controller || m_controller->directory().isEmpty()) {
        if (!m_rows.isEmpty()) {
            beginResetModel();
            m_rows.clear();
            m_index.clear();
            endResetModel();
        }
        return;
    }
    // Per sheet: the stage renders `candidates` images of each.
    std::optional<double> perSheet = m_controller->estimate(StoryboardStage::References).secondsPerItem;
    if (perSheet)
        *perSheet *= std::max(1, m_controller->options().candidates);
    refresh(m_controller->story(), m_controller->state(), m_controller->staleness(), m_controller->directory(),
            perSheet);
}

void StoryboardReferenceModel::refresh(const story::Story& story, const StoryboardState& state,
                                       const StalenessReport& report, const QString& directory,
                                       std::optional<double> secondsPerSheet)
{
    const StoryboardInputs inputs(story, state);
    QVector<Row> rows;
    for (const QString& key : inputs.referenceKeys()) {
        Row row;
        row.key = key;
        if (key.startsWith(kCharacterPrefix)) {
            row.kind = QStringLiteral("character");
            const QString rest = key.mid(kCharacterPrefix.size());
            const int hash = rest.lastIndexOf(QLatin1Char('#'));
            row.name = hash < 0 ? rest : rest.left(hash);
            row.look = hash < 0 ? QString() : rest.mid(hash + 1);
        } else if (key.startsWith(kLocationPrefix)) {
            row.kind = QStringLiteral("location");
            row.name = key.mid(kLocationPrefix.size());
        } else {
            row.kind = QStringLiteral("style");
            row.name = StoryboardKeys::displayName(key);
        }
        row.prompt = promptOf(story, key);
        if (const ReferenceEntry* entry = state.findReference(key)) {
            row.approved = entry->track.approved;
            if (const ImageVersion* v = entry->track.selectedVersion()) {
                row.selectedVersion = v->version;
                row.chosen = v->chosen.value_or(0);
                row.source = v->source;
                for (const Candidate& c : v->candidates)
                    row.candidateFiles << absoluteFile(directory, c.file);
                if (const Candidate* c = v->chosenCandidate())
                    row.sheetFile = absoluteFile(directory, c->file);
            }
        }
        const ItemStatus* status = report.find(ItemKind::Reference, key);
        row.freshness = StoryboardGridModel::freshnessName(status ? status->freshness : Freshness::Missing);
        if (status)
            row.freshnessReasons = status->reasons;
        if (row.freshness == QLatin1String("missing") || row.freshness == QLatin1String("stale"))
            row.estimate = secondsPerSheet
                               ? QStringLiteral("~%1").arg(GpuTimeEstimator::formatSeconds(*secondsPerSheet))
                               : QStringLiteral("unknown");
        rows.append(row);
    }

    bool sameKeys = rows.size() == m_rows.size();
    for (int i = 0; sameKeys && i < rows.size(); ++i)
        sameKeys = rows.at(i).key == m_rows.at(i).key;
    if (!sameKeys) {
        beginResetModel();
        m_rows = std::move(rows);
        m_index.clear();
        for (int i = 0; i < m_rows.size(); ++i)
            m_index.insert(m_rows.at(i).key, i);
        endResetModel();
        return;
    }
    for (int i = 0; i < rows.size(); ++i) {
        if (rows.at(i) == m_rows.at(i))
            continue;
        m_rows[i] = rows.at(i);
        Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
    }
}

int StoryboardReferenceModel::rowOf(const QString& referenceKey) const
{
    return m_index.value(referenceKey, -1);
}

QString StoryboardReferenceModel::referenceKey(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).key : QString();
}

int StoryboardReferenceModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : m_rows.size();
}

int StoryboardReferenceModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant StoryboardReferenceModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() < 0 || index.row() >= m_rows.size())
        return {};
    const Row& row = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case NameColumn:
            return row.name;
        case LookColumn:
            return row.look;
        case PromptColumn:
            return row.prompt;
        case SheetColumn:
            return row.sheetFile.isEmpty() ? QString() : QDir(row.sheetFile).dirName();
        case CandidatesColumn:
            return row.candidateFiles.isEmpty() ? QString() : QString::number(row.candidateFiles.size());
        case ApprovedColumn:
            return row.approved ? QStringLiteral("approved") : QString();
        case SourceColumn:
            return row.source;
        case FreshnessColumn:
            return row.freshness;
        case EstimateColumn:
            return row.estimate;
        default:
            return {};
        }
    case Qt::ToolTipRole:
        if (index.column() == FreshnessColumn && !row.freshnessReasons.isEmpty())
            return row.freshnessReasons.join(QLatin1Char('\n'));
        if (index.column() == PromptColumn)
            return row.prompt;
        return {};
    case ReferenceKeyRole:
        return row.key;
    case KindRole:
        return row.kind;
    case NameRole:
        return row.name;
    case LookRole:
        return row.look;
    case PromptRole:
        return row.prompt;
    case SheetFileRole:
        return row.sheetFile;
    case SelectedVersionRole:
        return row.selectedVersion;
    case ChosenCandidateRole:
        return row.chosen;
    case CandidateFilesRole:
        return row.candidateFiles;
    case ApprovedRole:
        return row.approved;
    case SourceRole:
        return row.source;
    case FreshnessRole:
        return row.freshness;
    case FreshnessReasonsRole:
        return row.freshnessReasons;
    case EstimateRole:
        return row.estimate;
    default:
        return {};
    }
}

QVariant StoryboardReferenceModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char* const names[] = {"Name", "Look", "Prompt", "Sheet", "Candidates",
                                        "Approved", "Source", "Freshness", "Estimate"};
    return section >= 0 && section < ColumnCount ? QString::fromLatin1(names[section]) : QString();
}

} // namespace gd::storyboard
