#include "story/SceneListModel.h"

#include "story/StoryLoader.h"

namespace gd::story {

namespace {

constexpr int kMaxExpectedFrames = 100000; // StoryLoader's limit for expectedFrames

} // namespace

SceneListModel::SceneListModel(QObject* parent) : QAbstractTableModel(parent) {}

void SceneListModel::setScenes(const QVector<StoryScene>& scenes)
{
    beginResetModel();
    m_scenes = scenes;
    endResetModel();
}

int SceneListModel::rowOf(const QString& sceneId) const
{
    for (int i = 0; i < m_scenes.size(); ++i)
        if (m_scenes.at(i).id == sceneId)
            return i;
    return -1;
}

QModelIndex SceneListModel::indexOf(int row, Column column) const
{
    return index(row, int(column));
}

int SceneListModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_scenes.size());
}

int SceneListModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(Column::Count);
}

QStringList SceneListModel::splitList(const QString& text)
{
    QStringList out;
    for (const QString& part : text.split(QLatin1Char(','))) {
        const QString item = part.trimmed();
        if (!item.isEmpty() && !out.contains(item))
            out << item;
    }
    return out;
}

QVariant SceneListModel::editValue(const StoryScene& sc, Column column) const
{
    switch (column) {
    case Column::Id:
        return sc.id;
    case Column::Title:
        return sc.title;
    case Column::Summary:
        return sc.summary;
    case Column::Prompt:
        return sc.prompt;
    case Column::NegativePrompt:
        return sc.negativePrompt;
    case Column::Mood:
        return sc.mood;
    case Column::Themes:
        return sc.themes.join(QStringLiteral(", "));
    case Column::CameraMovement:
        return sc.cameraMovement;
    case Column::Palette:
        return sc.palette;
    case Column::Characters:
        return sc.characters.join(QStringLiteral(", "));
    case Column::ExpectedFrames:
        return sc.expectedFrames;
    case Column::Count:
        break;
    }
    return {};
}

QVariant SceneListModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_scenes.size() || index.column() >= int(Column::Count))
        return {};
    const StoryScene& sc = m_scenes.at(index.row());
    const auto column = Column(index.column());
    switch (role) {
    case Qt::EditRole:
        return editValue(sc, column);
    case Qt::DisplayRole:
        if (column == Column::ExpectedFrames && sc.expectedFrames == 0)
            return QStringLiteral("default");
        // One line in the table; the detail editor shows the whole text.
        return editValue(sc, column).toString().simplified();
    case Qt::ToolTipRole:
        if (column == Column::ExpectedFrames)
            return QStringLiteral("Frames the render must produce at least (0 = the default floor of %1)")
                .arg(StoryLoader::kDefaultFrameFloor);
        if (column == Column::Id)
            return QStringLiteral("Scene id from story.json; renders, telemetry and ratings refer to it, so "
                                  "it is not editable");
        return editValue(sc, column).toString();
    default:
        return {};
    }
}

bool SceneListModel::setField(int row, Column column, const QVariant& value)
{
    if (row < 0 || row >= m_scenes.size())
        return false;
    StoryScene sc = m_scenes.at(row);
    const QString text = value.toString();
    switch (column) {
    case Column::Id:
    case Column::Count:
        return false;
    case Column::Title:
        sc.title = text;
        break;
    case Column::Summary:
        sc.summary = text;
        break;
    case Column::Prompt:
        sc.prompt = text;
        break;
    case Column::NegativePrompt:
        sc.negativePrompt = text;
        break;
    case Column::Mood:
        sc.mood = text;
        break;
    case Column::Themes:
        sc.themes = splitList(text);
        break;
    case Column::CameraMovement:
        sc.cameraMovement = text;
        break;
    case Column::Palette:
        sc.palette = text;
        break;
    case Column::Characters:
        sc.characters = splitList(text);
        break;
    case Column::ExpectedFrames: {
        bool ok = false;
        const int frames = value.toInt(&ok);
        if (!ok || frames < 0 || frames > kMaxExpectedFrames)
            return false;
        sc.expectedFrames = frames;
        break;
    }
    }
    if (editValue(sc, column) == editValue(m_scenes.at(row), column))
        return true; // nothing changed: no edit, no dirty flag
    m_scenes[row] = sc;
    const QModelIndex changed = index(row, int(column));
    Q_EMIT dataChanged(changed, changed, {Qt::DisplayRole, Qt::EditRole, Qt::ToolTipRole});
    Q_EMIT edited(row);
    return true;
}

bool SceneListModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (!index.isValid() || role != Qt::EditRole)
        return false;
    return setField(index.row(), Column(index.column()), value);
}

Qt::ItemFlags SceneListModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (Column(index.column()) != Column::Id)
        f |= Qt::ItemIsEditable;
    return f;
}

QVariant SceneListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case Column::Id:
        return QStringLiteral("Id");
    case Column::Title:
        return QStringLiteral("Title");
    case Column::Summary:
        return QStringLiteral("Summary");
    case Column::Prompt:
        return QStringLiteral("Prompt");
    case Column::NegativePrompt:
        return QStringLiteral("Negative prompt");
    case Column::Mood:
        return QStringLiteral("Mood");
    case Column::Themes:
        return QStringLiteral("Themes");
    case Column::CameraMovement:
        return QStringLiteral("Camera");
    case Column::Palette:
        return QStringLiteral("Palette");
    case Column::Characters:
        return QStringLiteral("Characters");
    case Column::ExpectedFrames:
        return QStringLiteral("Frames");
    case Column::Count:
        break;
    }
    return {};
}

} // namespace gd::story
