#include "story/StoryDocument.h"

#include "common/AtomicFile.h"
#include "story/StoryLoader.h"

#include <QFutureWatcher>
#include <QJsonDocument>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
#include <optional>

namespace gd::story {

namespace {

struct LoadResult
{
    std::optional<Story> story;
    QStringList problems;
};

QString busyProblem()
{
    return QStringLiteral(
        "another open or save of the story is still in progress; try again when it has finished");
}

} // namespace

StoryDocument::StoryDocument(QObject* parent) : QObject(parent), m_scenes(new SceneListModel(this))
{
    connect(m_scenes, &SceneListModel::edited, this, [this](int) { touch(); });
}

StoryDocument::~StoryDocument() = default;

Story StoryDocument::story() const
{
    Story s = m_story;
    s.scenes = m_scenes->scenes();
    return s;
}

bool StoryDocument::hasStory() const
{
    return !m_story.storyId.isEmpty() || m_scenes->rowCount() > 0;
}

void StoryDocument::setStory(const Story& story)
{
    replace(story, QString(), false);
}

void StoryDocument::replace(const Story& story, const QString& path, bool clean)
{
    const bool wasDirty = isDirty();
    m_story = story;
    m_story.scenes.clear();
    // The editor changes the bible JSON; the typed view (characters, looks, locations) follows it.
    m_story.bible = StoryLoader::bibleToJson(story);
    StoryLoader::readBible(m_story);
    m_scenes->setScenes(story.scenes);
    ++m_revision;
    if (clean)
        m_cleanRevision = m_revision;
    setPath(path);
    Q_EMIT storyReplaced();
    Q_EMIT changed();
    if (wasDirty != isDirty())
        Q_EMIT dirtyChanged(isDirty());
}

void StoryDocument::touch()
{
    const bool wasDirty = isDirty();
    ++m_revision;
    Q_EMIT changed();
    if (wasDirty != isDirty())
        Q_EMIT dirtyChanged(isDirty());
}

void StoryDocument::setBusy(bool busy)
{
    if (m_busy == busy)
        return;
    m_busy = busy;
    Q_EMIT busyChanged(busy);
}

void StoryDocument::setPath(const QString& path)
{
    if (m_path == path)
        return;
    m_path = path;
    Q_EMIT pathChanged(path);
}

QString StoryDocument::field(Field field) const
{
    switch (field) {
    case Field::Title:
        return m_story.title;
    case Field::Genre:
        return m_story.genre;
    case Field::Logline:
        return m_story.logline;
    case Field::DirectorsVision:
        return m_story.directorsVision;
    case Field::Setting:
        return m_story.bible.value(QStringLiteral("setting")).toString();
    case Field::PlotOutline: {
        // Hand-written stories may give the outline as a list of acts.
        const QJsonValue v = m_story.bible.value(QStringLiteral("plotOutline"));
        if (!v.isArray())
            return v.toString();
        QStringList acts;
        for (const QJsonValue& act : v.toArray())
            acts << act.toString();
        return acts.join(QStringLiteral("\n\n"));
    }
    case Field::Characters:
        return charactersToText(m_story.bible.value(QStringLiteral("characters")).toArray());
    }
    return {};
}

void StoryDocument::setField(Field field, const QString& text)
{
    if (this->field(field) == text)
        return;
    switch (field) {
    case Field::Title:
        m_story.title = text;
        break;
    case Field::Genre:
        m_story.genre = text;
        break;
    case Field::Logline:
        m_story.logline = text;
        break;
    case Field::DirectorsVision:
        m_story.directorsVision = text;
        break;
    case Field::Setting:
        m_story.bible.insert(QStringLiteral("setting"), text);
        break;
    case Field::PlotOutline:
        m_story.bible.insert(QStringLiteral("plotOutline"), text);
        // The generator keeps its three acts beside the joined outline; once the operator edits
        // the outline, those acts are stale and would feed the old plot into a regeneration.
        m_story.bible.remove(QStringLiteral("acts"));
        break;
    case Field::Characters: {
        const QJsonArray previous = m_story.bible.value(QStringLiteral("characters")).toArray();
        m_story.bible.insert(QStringLiteral("characters"), charactersFromText(text, previous));
        StoryLoader::readBible(m_story);
        break;
    }
    }
    touch();
}

bool StoryDocument::setScenePrompts(const QString& sceneId, const QString& prompt,
                                    const QString& negativePrompt)
{
    const int row = m_scenes->rowOf(sceneId);
    if (row < 0)
        return false;
    m_scenes->setField(row, SceneListModel::Column::Prompt, prompt);
    m_scenes->setField(row, SceneListModel::Column::NegativePrompt, negativePrompt);
    return true;
}

QStringList StoryDocument::validate() const
{
    QStringList problems;
    StoryLoader::fromObject(StoryLoader::toJson(story()), &problems);
    return problems;
}

void StoryDocument::open(const QString& path)
{
    if (m_busy) {
        QTimer::singleShot(0, this, [this, path] { Q_EMIT opened(false, path, {busyProblem()}); });
        return;
    }
    setBusy(true);
    auto* watcher = new QFutureWatcher<LoadResult>(this);
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this, [this, watcher, path] {
        watcher->deleteLater();
        const LoadResult r = watcher->result();
        setBusy(false);
        if (!r.story) {
            QStringList problems = r.problems;
            if (problems.isEmpty())
                problems << QStringLiteral("%1: not a story file").arg(path);
            Q_EMIT opened(false, path, problems);
            return;
        }
        replace(*r.story, path, true);
        Q_EMIT opened(true, path, {});
    });
    watcher->setFuture(QtConcurrent::run([path] {
        LoadResult r;
        r.story = StoryLoader::load(path, &r.problems);
        return r;
    }));
}

void StoryDocument::save()
{
    saveAs(m_path);
}

void StoryDocument::saveAs(const QString& path)
{
    if (path.isEmpty()) {
        QTimer::singleShot(0, this, [this] {
            Q_EMIT saved(false, QString(),
                         {QStringLiteral("the story has no file yet: choose where to save it")});
        });
        return;
    }
    if (m_busy) {
        QTimer::singleShot(0, this, [this, path] { Q_EMIT saved(false, path, {busyProblem()}); });
        return;
    }
    const QStringList problems = validate();
    if (!problems.isEmpty()) {
        QTimer::singleShot(0, this, [this, path, problems] { Q_EMIT saved(false, path, problems); });
        return;
    }
    // Serialised here, written there: edits made while the write runs belong to the next save,
    // so only the revision that was written is marked clean.
    const QByteArray bytes = QJsonDocument(StoryLoader::toJson(story())).toJson(QJsonDocument::Indented);
    const quint64 revision = m_revision;
    setBusy(true);
    auto* watcher = new QFutureWatcher<Error>(this);
    connect(watcher, &QFutureWatcher<Error>::finished, this, [this, watcher, path, revision] {
        watcher->deleteLater();
        const Error e = watcher->result();
        setBusy(false);
        if (!e.isNull()) {
            Q_EMIT saved(false, path, {e.message.isEmpty() ? e.toString() : e.message});
            return;
        }
        const bool wasDirty = isDirty();
        m_cleanRevision = revision;
        setPath(path);
        if (wasDirty != isDirty())
            Q_EMIT dirtyChanged(isDirty());
        Q_EMIT saved(true, path, {});
    });
    watcher->setFuture(QtConcurrent::run([path, bytes] { return AtomicFile::write(path, bytes); }));
}

QString StoryDocument::charactersToText(const QJsonArray& characters)
{
    QStringList lines;
    for (const QJsonValue& c : characters) {
        const QJsonObject o = c.toObject();
        lines << QStringLiteral("%1 | %2 | %3")
                     .arg(o.value(QStringLiteral("name")).toString(),
                          o.value(QStringLiteral("role")).toString(),
                          o.value(QStringLiteral("visualDescriptor")).toString());
    }
    return lines.join(QLatin1Char('\n'));
}

QJsonArray StoryDocument::charactersFromText(const QString& text, const QJsonArray& previous)
{
    QJsonArray out;
    for (const QString& line : text.split(QLatin1Char('\n'))) {
        if (line.trimmed().isEmpty())
            continue;
        const QStringList parts = line.split(QLatin1Char('|'));
        const QString name = parts.value(0).trimmed();
        const QString role = parts.value(1).trimmed();
        // A descriptor may itself contain '|': everything after the second one belongs to it.
        const QString descriptor = parts.mid(2).join(QLatin1Char('|')).trimmed();
        QJsonObject o;
        for (const QJsonValue& p : previous)
            if (p.toObject().value(QStringLiteral("name")).toString() == name)
                o = p.toObject();
        o.insert(QStringLiteral("name"), name);
        o.insert(QStringLiteral("role"), role);
        o.insert(QStringLiteral("visualDescriptor"), descriptor);
        out.append(o);
    }
    return out;
}

} // namespace gd::story
