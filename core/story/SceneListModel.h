#pragma once

#include "story/Story.h"

#include <QAbstractTableModel>
#include <QVector>

namespace gd::story {

// The scenes of one story as an editable table (one row per scene, one column per story.json
// field) for the story panel's scene table and detail editor. Ids are not editable: they are the
// contract's keys (scene-NNN) that renders, telemetry and feedback refer to.
class SceneListModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum class Column : int
    {
        Id,
        Title,
        Summary,
        Prompt,
        NegativePrompt,
        Mood,
        Themes,
        CameraMovement,
        Palette,
        Characters,
        ExpectedFrames,
        Count
    };
    Q_ENUM(Column)

    explicit SceneListModel(QObject* parent = nullptr);

    // Replaces every row (model reset); emits no edited().
    void setScenes(const QVector<StoryScene>& scenes);
    const QVector<StoryScene>& scenes() const { return m_scenes; }
    // -1 when no scene has that id.
    int rowOf(const QString& sceneId) const;
    QModelIndex indexOf(int row, Column column) const;
    // The user-facing edit path (same as setData with Qt::EditRole): themes and characters are
    // comma-separated text, expected frames a whole number 0..100000 (0 = the default floor).
    // Returns false (and changes nothing) for a value that does not fit the field.
    bool setField(int row, Column column, const QVariant& value);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QStringList splitList(const QString& text);

Q_SIGNALS:
    // A scene's content changed through setField()/setData() (not through setScenes()).
    void edited(int row);

private:
    QVariant editValue(const StoryScene& scene, Column column) const;

    QVector<StoryScene> m_scenes;
};

} // namespace gd::story
