#pragma once

#include "story/SceneListModel.h"
#include "story/Story.h"

#include <QJsonArray>
#include <QObject>
#include <QString>
#include <QStringList>

namespace gd::story {

// The story being edited in the GUI: its metadata and bible fields, the scene table, the file it
// came from and a dirty flag, with validated asynchronous open/save of story.json (the file work
// runs on the thread pool; results come back as signals on the document's thread).
class StoryDocument : public QObject
{
    Q_OBJECT
public:
    // Editable story-level text: top-level keys (title, genre, logline, directorsVision) and the
    // bible's (setting, plotOutline, characters as "Name | role | visual descriptor" lines).
    enum class Field
    {
        Title,
        Genre,
        Logline,
        DirectorsVision,
        Setting,
        PlotOutline,
        Characters
    };
    Q_ENUM(Field)

    explicit StoryDocument(QObject* parent = nullptr);
    ~StoryDocument() override;

    // The story as edited: metadata, bible and the scene table's rows.
    Story story() const;
    bool hasStory() const;
    // Replaces the whole story with one that has no file yet (a freshly generated story):
    // path cleared, dirty.
    void setStory(const Story& story);
    QString path() const { return m_path; }
    bool isDirty() const { return m_revision != m_cleanRevision; }
    bool isBusy() const { return m_busy; }
    SceneListModel* sceneModel() const { return m_scenes; }

    QString field(Field field) const;
    void setField(Field field, const QString& text);
    // Replaces only the prompt fields of one scene (a regenerated prompt); false when no scene has
    // that id (the story was replaced meanwhile).
    bool setScenePrompts(const QString& sceneId, const QString& prompt, const QString& negativePrompt);

    // StoryLoader's problems ("<path>: <reason>") for the story as it is now; empty = valid.
    QStringList validate() const;

    // Reads and checks `path` off this thread; opened() follows. On failure the current story is
    // left exactly as it was.
    void open(const QString& path);
    // Validates, then writes story.json atomically off this thread (to the current path, or to
    // `path` for "save as"); saved() follows. Nothing is written while validate() has problems.
    void save();
    void saveAs(const QString& path);

    static QString charactersToText(const QJsonArray& characters);
    // Parses "Name | role | visual descriptor" lines (blank lines skipped); an entry whose name
    // matches one in `previous` keeps that entry's other keys.
    static QJsonArray charactersFromText(const QString& text, const QJsonArray& previous = {});

Q_SIGNALS:
    // The whole story was replaced (generated or opened): views reload every field.
    void storyReplaced();
    // Any content change, edits included.
    void changed();
    void dirtyChanged(bool dirty);
    void pathChanged(const QString& path);
    void busyChanged(bool busy);
    void opened(bool ok, const QString& path, const QStringList& problems);
    void saved(bool ok, const QString& path, const QStringList& problems);

private:
    void replace(const Story& story, const QString& path, bool clean);
    void touch();
    void setBusy(bool busy);
    void setPath(const QString& path);

    Story m_story; // everything but the scenes, which live in m_scenes
    SceneListModel* m_scenes;
    QString m_path;
    quint64 m_revision = 0;
    quint64 m_cleanRevision = 0;
    bool m_busy = false;
};

} // namespace gd::story
