#include "storyboard/StoryboardGridModel.h"

#include "storyboard/ShotList.h"
#include "storyboard/StoryboardController.h"

#include <QDir>

#include <algorithm>

namespace gd::storyboard {

namespace {

QString absoluteFile(const QString& directory, const QString& relative)
{
    if (relative.isEmpty())
        return {};
    return QDir::cleanPath(QDir(directory).filePath(relative));
}

QString chosenByName(ChosenBy by)
{
    switch (by) {
    case ChosenBy::Judge:
        return QStringLiteral("judge");
    case ChosenBy::Operator:
        return QStringLiteral("operator");
    case ChosenBy::None:
        break;
    }
    return {};
}

// The end keyframe of a bookend shot as EndKeyframeRole's map.
QVariantMap endKeyframeOf(const ShotEntry* entry, const ItemStatus* status, const QString& directory, bool used)
{
    QVariantMap m;
    QStringList files, reasons;
    QVariantList scores;
    QString file, chosenBy, judgeReasons, judgeModel;
    QVariant score;
    int version = 0, chosen = 0;
    if (const ImageVersion* v = entry ? entry->endKeyframe.selectedVersion() : nullptr) {
        version = v->version;
        chosen = v->chosen.value_or(0);
        chosenBy = chosenByName(v->chosenBy);
        for (const Candidate& c : v->candidates) {
            files << absoluteFile(directory, c.file);
            scores << (c.judge ? QVariant(c.judge->score) : QVariant());
            reasons << (c.judge ? c.judge->reasons : QString());
        }
        if (const Candidate* c = v->chosenCandidate()) {
            file = absoluteFile(directory, c->file);
            if (c->judge) {
                score = c->judge->score;
                judgeReasons = c->judge->reasons;
                judgeModel = c->judge->model;
            }
        }
    }
    m.insert(QStringLiteral("file"), file);
    m.insert(QStringLiteral("version"), version);
    m.insert(QStringLiteral("chosen"), chosen);
    m.insert(QStringLiteral("candidates"), files);
    m.insert(QStringLiteral("scores"), scores);
    m.insert(QStringLiteral("reasons"), reasons);
    m.insert(QStringLiteral("score"), score);
    m.insert(QStringLiteral("judgeReasons"), judgeReasons);
    m.insert(QStringLiteral("judgeModel"), judgeModel);
    m.insert(QStringLiteral("chosenBy"), chosenBy);
    m.insert(QStringLiteral("approved"), entry && entry->endKeyframe.approved);
    m.insert(QStringLiteral("freshness"),
             StoryboardGridModel::freshnessName(status ? status->freshness : Freshness::Missing));
    m.insert(QStringLiteral("freshnessReasons"), status ? status->reasons : QStringList());
    m.insert(QStringLiteral("used"), used);
    return m;
}

} // namespace

bool StoryboardGridModel::Row::operator==(const Row& o) const
{
    return key == o.key && sceneId == o.sceneId && shotId == o.shotId && sceneIndex == o.sceneIndex &&
           description == o.description && keyframeFile == o.keyframeFile && selectedVersion == o.selectedVersion &&
           chosen == o.chosen && candidateFiles == o.candidateFiles && candidateScores == o.candidateScores &&
           candidateReasons == o.candidateReasons && score == o.score && reasons == o.reasons &&
           judgeModel == o.judgeModel && chosenBy == o.chosenBy && approved == o.approved &&
           freshness == o.freshness && freshnessReasons == o.freshnessReasons && clipState == o.clipState &&
           clipReasons == o.clipReasons && clipVersion == o.clipVersion && estimate == o.estimate && end == o.end;
}

StoryboardGridModel::StoryboardGridModel(QObject* parent) : QAbstractTableModel(parent)
{
}

QString StoryboardGridModel::freshnessName(Freshness freshness)
{
    switch (freshness) {
    case Freshness::Fresh:
        return QStringLiteral("fresh");
    case Freshness::Stale:
        return QStringLiteral("stale");
    case Freshness::Missing:
        return QStringLiteral("missing");
    case Freshness::Blocked:
        return QStringLiteral("blocked");
    }
    return QStringLiteral("missing");
}

void StoryboardGridModel::setController(StoryboardController* controller)
{
    if (m_controller == controller)
        return;
    if (m_controller)
        disconnect(m_controller, nullptr, this, nullptr);
    m_controller = controller;
    if (m_controller)
        connect(m_controller, &StoryboardController::stateChanged, this, &StoryboardGridModel::refreshFromController);
    refreshFromController();
}

void StoryboardGridModel::refreshFromController()
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
    // The keyframe pass renders `candidates` images per shot; the video pass one clip.
    Estimates e;
    const int candidates = std::max(1, m_controller->options().candidates);
    if (const auto perImage = m_controller->estimate(StoryboardStage::Keyframes).secondsPerItem)
        e.keyframeSecondsPerShot = *perImage * candidates;
    e.clipSecondsPerShot = m_controller->estimate(StoryboardStage::Video).secondsPerItem;
    m_usesEndKeyframes = m_controller->usesEndKeyframes();
    refresh(m_controller->story(), m_controller->state(), m_controller->staleness(), m_controller->directory(), e);
}

void StoryboardGridModel::refresh(const story::Story& story, const StoryboardState& state,
                                  const StalenessReport& report, const QString& directory,
                                  const Estimates& estimates)
{
    const ShotList shots(story);
    QVector<Row> rows;
    rows.reserve(shots.shots().size());
    for (const ShotRef& ref : shots.shots()) {
        Row row;
        row.key = ref.key;
        row.sceneIndex = ref.sceneIndex;
        row.sceneId = ref.sceneIndex >= 0 && ref.sceneIndex < story.scenes.size() ? story.scenes.at(ref.sceneIndex).id
                                                                                   : ref.key.section(QLatin1Char('/'), 0, 0);
        row.shotId = ref.shot.id;
        row.description = ref.shot.description.isEmpty() ? ref.shot.firstFrame : ref.shot.description;

        if (const ShotEntry* entry = state.findShot(ref.key)) {
            row.approved = entry->keyframe.approved;
            if (const ImageVersion* v = entry->keyframe.selectedVersion()) {
                row.selectedVersion = v->version;
                row.chosen = v->chosen.value_or(0);
                row.chosenBy = chosenByName(v->chosenBy);
                for (const Candidate& c : v->candidates) {
                    row.candidateFiles << absoluteFile(directory, c.file);
                    row.candidateScores << (c.judge ? QVariant(c.judge->score) : QVariant());
                    row.candidateReasons << (c.judge ? c.judge->reasons : QString());
                }
                if (const Candidate* c = v->chosenCandidate()) {
                    row.keyframeFile = absoluteFile(directory, c->file);
                    if (c->judge) {
                        row.score = c->judge->score;
                        row.reasons = c->judge->reasons;
                        row.judgeModel = c->judge->model;
                    }
                }
            }
            if (const ClipVersion* clip = entry->clip.selectedVersion())
                row.clipVersion = clip->version;
        }
        const ItemStatus* keyframe = report.find(ItemKind::Keyframe, ref.key);
        row.freshness = freshnessName(keyframe ? keyframe->freshness : Freshness::Missing);
        if (keyframe)
            row.freshnessReasons = keyframe->reasons;
        const ItemStatus* clip = report.find(ItemKind::Clip, ref.key);
        row.clipState = freshnessName(clip ? clip->freshness : Freshness::Missing);
        if (clip)
            row.clipReasons = clip->reasons;
        if (StoryboardInputs::isBookend(ref))
            row.end = endKeyframeOf(state.findShot(ref.key), report.find(ItemKind::EndKeyframe, ref.key), directory,
                                    m_usesEndKeyframes);
        const QString endFreshness = row.end.value(QStringLiteral("freshness")).toString();

        // What this shot costs next: its keyframes while they are not fresh, then its clip once the
        // keyframe is approved (the video pass renders only approved shots).
        const auto text = [](const QString& stage, const std::optional<double>& seconds) {
            return seconds ? QStringLiteral("%1 ~%2").arg(stage, GpuTimeEstimator::formatSeconds(*seconds))
                           : QStringLiteral("%1, GPU time unknown").arg(stage);
        };
        if (row.freshness == QLatin1String("missing") || row.freshness == QLatin1String("stale") ||
            endFreshness == QLatin1String("missing") || endFreshness == QLatin1String("stale"))
            row.estimate = text(QStringLiteral("keyframes"), estimates.keyframeSecondsPerShot);
        else if (row.freshness == QLatin1String("fresh") && row.approved && row.clipState != QLatin1String("fresh"))
            row.estimate = text(QStringLiteral("video"), estimates.clipSecondsPerShot);
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

int StoryboardGridModel::rowOf(const QString& shotKey) const
{
    return m_index.value(shotKey, -1);
}

QString StoryboardGridModel::shotKey(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).key : QString();
}

int StoryboardGridModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : m_rows.size();
}

int StoryboardGridModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant StoryboardGridModel::display(const Row& row, int column) const
{
    switch (column) {
    case SceneColumn:
        return row.sceneId;
    case ShotColumn:
        return row.shotId;
    case DescriptionColumn:
        return row.description;
    case KeyframeColumn:
        return row.keyframeFile.isEmpty() ? QString() : QDir(row.keyframeFile).dirName();
    case CandidatesColumn:
        if (row.candidateFiles.isEmpty())
            return QString();
        return row.chosen > 0 ? QStringLiteral("%1 candidates, #%2 chosen").arg(row.candidateFiles.size()).arg(row.chosen)
                              : QStringLiteral("%1 candidates, none chosen").arg(row.candidateFiles.size());
    case ScoreColumn:
        return row.score.isValid() ? QString::number(row.score.toDouble(), 'f', 1) : QStringLiteral("—");
    case ChosenByColumn:
        return row.chosenBy;
    case ApprovedColumn:
        return row.approved ? QStringLiteral("approved") : QString();
    case FreshnessColumn:
        return row.freshness;
    case ClipColumn:
        return row.clipState;
    case EstimateColumn:
        return row.estimate;
    case EndKeyframeColumn: {
        if (row.end.isEmpty())
            return QString();
        const int version = row.end.value(QStringLiteral("version")).toInt();
        const int chosen = row.end.value(QStringLiteral("chosen")).toInt();
        QStringList parts;
        if (version > 0)
            parts << (chosen > 0 ? QStringLiteral("v%1 #%2").arg(version).arg(chosen) : QStringLiteral("v%1").arg(version));
        if (row.end.value(QStringLiteral("approved")).toBool())
            parts << QStringLiteral("approved");
        parts << row.end.value(QStringLiteral("freshness")).toString();
        if (!row.end.value(QStringLiteral("used")).toBool())
            parts << QStringLiteral("not used");
        return parts.join(QStringLiteral(", "));
    }
    default:
        return {};
    }
}

QString StoryboardGridModel::toolTip(const Row& row, int column) const
{
    switch (column) {
    case ScoreColumn:
        if (!row.score.isValid())
            return QStringLiteral("Not judged: no vision model answered; the operator picks the candidate.");
        return QStringLiteral("Judge score %1/10 (%2): %3")
            .arg(QString::number(row.score.toDouble(), 'f', 1), row.judgeModel, row.reasons);
    case FreshnessColumn:
        return row.freshnessReasons.join(QLatin1Char('\n'));
    case ClipColumn:
        return row.clipReasons.join(QLatin1Char('\n'));
    case KeyframeColumn:
        return row.keyframeFile;
    case EndKeyframeColumn: {
        if (row.end.isEmpty())
            return {};
        QString tip = row.end.value(QStringLiteral("freshnessReasons")).toStringList().join(QLatin1Char('\n'));
        if (!row.end.value(QStringLiteral("used")).toBool())
            tip += QStringLiteral("%1The video profile maps no end_image: lastFrame is ignored.")
                       .arg(tip.isEmpty() ? QString() : QStringLiteral("\n"));
        return tip;
    }
    default:
        return {};
    }
}

QVariant StoryboardGridModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() < 0 || index.row() >= m_rows.size())
        return {};
    const Row& row = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return display(row, index.column());
    case Qt::ToolTipRole: {
        const QString tip = toolTip(row, index.column());
        return tip.isEmpty() ? QVariant() : QVariant(tip);
    }
    case ShotKeyRole:
        return row.key;
    case SceneIdRole:
        return row.sceneId;
    case ShotIdRole:
        return row.shotId;
    case DescriptionRole:
        return row.description;
    case KeyframeFileRole:
        return row.keyframeFile;
    case SelectedVersionRole:
        return row.selectedVersion;
    case ChosenCandidateRole:
        return row.chosen;
    case CandidateFilesRole:
        return row.candidateFiles;
    case CandidateScoresRole:
        return row.candidateScores;
    case CandidateReasonsRole:
        return row.candidateReasons;
    case JudgeScoreRole:
        return row.score;
    case JudgeReasonsRole:
        return row.reasons;
    case JudgeModelRole:
        return row.judgeModel;
    case ChosenByRole:
        return row.chosenBy;
    case ApprovedRole:
        return row.approved;
    case FreshnessRole:
        return row.freshness;
    case FreshnessReasonsRole:
        return row.freshnessReasons;
    case ClipStateRole:
        return row.clipState;
    case ClipReasonsRole:
        return row.clipReasons;
    case ClipVersionRole:
        return row.clipVersion;
    case EstimateRole:
        return row.estimate;
    case SceneIndexRole:
        return row.sceneIndex;
    case IsBookendRole:
        return !row.end.isEmpty();
    case EndKeyframeRole:
        return row.end;
    default:
        return {};
    }
}

QVariant StoryboardGridModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case SceneColumn:
        return QStringLiteral("Scene");
    case ShotColumn:
        return QStringLiteral("Shot");
    case DescriptionColumn:
        return QStringLiteral("Description");
    case KeyframeColumn:
        return QStringLiteral("Keyframe");
    case CandidatesColumn:
        return QStringLiteral("Candidates");
    case ScoreColumn:
        return QStringLiteral("Score");
    case ChosenByColumn:
        return QStringLiteral("Chosen by");
    case ApprovedColumn:
        return QStringLiteral("Approved");
    case FreshnessColumn:
        return QStringLiteral("Freshness");
    case ClipColumn:
        return QStringLiteral("Clip");
    case EstimateColumn:
        return QStringLiteral("Estimate");
    case EndKeyframeColumn:
        return QStringLiteral("End frame");
    default:
        return {};
    }
}

QHash<int, QByteArray> StoryboardGridModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(ShotKeyRole, "shotKey");
    names.insert(KeyframeFileRole, "keyframeFile");
    names.insert(CandidateFilesRole, "candidateFiles");
    names.insert(JudgeScoreRole, "judgeScore");
    names.insert(ChosenByRole, "chosenBy");
    names.insert(ApprovedRole, "approved");
    names.insert(FreshnessRole, "freshness");
    names.insert(ClipStateRole, "clipState");
    names.insert(EstimateRole, "estimate");
    names.insert(IsBookendRole, "isBookend");
    names.insert(EndKeyframeRole, "endKeyframe");
    return names;
}

} // namespace gd::storyboard
