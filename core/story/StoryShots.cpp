#include "story/StoryShots.h"

#include <QStringList>

namespace gd::story {

namespace {

// Inserts " (detail)" after the first whole-word mention of `name` in `text`, or appends
// "name (detail)"; nothing when the detail is already in the text or the mention already has one.
bool isWordChar(QChar c)
{
    return c.isLetterOrNumber() || c == QLatin1Char('_');
}

// End of the first whole-word occurrence of `name` in `text`, or -1. A plain scan: this runs for
// every visible character of every shot on each staleness recomputation (issue 8: 100 shots in
// <= 10 ms), where building a regular expression per call dominated the time.
qsizetype mentionEnd(const QString& text, const QString& name)
{
    if (name.isEmpty())
        return -1;
    for (qsizetype from = 0;;) {
        const qsizetype at = text.indexOf(name, from);
        if (at < 0)
            return -1;
        const qsizetype end = at + name.size();
        const bool startOk = at == 0 || !isWordChar(text.at(at - 1));
        const bool endOk = end == text.size() || !isWordChar(text.at(end));
        if (startOk && endOk)
            return end;
        from = at + 1;
    }
}

// Inserts " (detail)" after the first whole-word mention of `name` in `text`, or appends
// "name (detail)"; nothing when the detail is already in the text or the mention already has one.
void inject(QString& text, const QString& name, const QString& detail)
{
    if (detail.isEmpty() || text.contains(detail, Qt::CaseInsensitive))
        return;
    const qsizetype end = mentionEnd(text, name);
    if (end >= 0) {
        if (QStringView(text).mid(end).startsWith(QLatin1String(" (")))
            return;
        text.insert(end, QStringLiteral(" (") + detail + QLatin1Char(')'));
        return;
    }
    const QString tagged = name.isEmpty() ? detail : name + QStringLiteral(" (") + detail + QLatin1Char(')');
    text = text.isEmpty() ? tagged : text + QStringLiteral(", ") + tagged;
}

void append(QString& text, const QString& part)
{
    const QString p = part.trimmed();
    if (p.isEmpty() || text.contains(p, Qt::CaseInsensitive))
        return;
    text = text.isEmpty() ? p : text + QStringLiteral(", ") + p;
}

QStringList terms(const QString& list)
{
    QStringList out;
    for (const QString& t : list.split(QLatin1Char(','))) {
        const QString term = t.trimmed();
        if (!term.isEmpty())
            out << term;
    }
    return out;
}

} // namespace

QString shotKey(const QString& sceneId, const QString& shotId)
{
    return sceneId + QLatin1Char('/') + shotId;
}

QVector<StoryShot> effectiveShots(const StoryScene& scene)
{
    if (!scene.shots.isEmpty())
        return scene.shots;
    StoryShot shot;
    shot.id = QStringLiteral("shot-01");
    shot.description = scene.summary;
    shot.firstFrame = scene.prompt;
    shot.camera = scene.cameraMovement;
    for (const QString& name : scene.characters)
        shot.visibleCharacters.push_back(ShotCharacter{name, QString()});
    return {shot};
}

QVector<StoryShot> effectiveShots(const Story& story, const StoryScene& scene)
{
    QVector<StoryShot> shots = effectiveShots(scene);
    for (StoryShot& shot : shots)
        for (ShotCharacter& c : shot.visibleCharacters)
            if (c.look.isEmpty())
                if (const CharacterLook* look = findLook(story, c.name, QString()))
                    c.look = look->id;
    return shots;
}

const StoryCharacter* findCharacter(const Story& story, const QString& name)
{
    for (const StoryCharacter& c : story.characters)
        if (c.name == name)
            return &c;
    return nullptr;
}

const CharacterLook* findLook(const Story& story, const QString& characterName, const QString& lookId)
{
    const StoryCharacter* c = findCharacter(story, characterName);
    if (!c || c->looks.isEmpty())
        return nullptr;
    if (lookId.isEmpty())
        return &c->looks.first();
    for (const CharacterLook& l : c->looks)
        if (l.id == lookId)
            return &l;
    return nullptr;
}

const StoryLocation* findLocation(const Story& story, const QString& name)
{
    for (const StoryLocation& l : story.locations)
        if (l.name == name)
            return &l;
    return nullptr;
}

const StoryScene* findScene(const Story& story, const QString& sceneId)
{
    for (const StoryScene& s : story.scenes)
        if (s.id == sceneId)
            return &s;
    return nullptr;
}

ShotPrompt composeShotPrompt(const Story& story, const StoryScene& scene, const StoryShot& shot)
{
    ShotPrompt out;
    QString text = shot.firstFrame.trimmed();
    while (text.endsWith(QLatin1Char(',')) || text.endsWith(QLatin1Char('.')))
        text.chop(1);
    for (const ShotCharacter& v : shot.visibleCharacters) {
        const CharacterLook* look = findLook(story, v.name, v.look);
        inject(text, v.name, look ? look->descriptor.trimmed() : QString());
    }
    if (const StoryLocation* location = findLocation(story, shot.location))
        inject(text, location->name, location->descriptor.trimmed());
    append(text, shot.camera);
    append(text, story.style.text);
    if (!story.style.palette.trimmed().isEmpty())
        append(text, QStringLiteral("palette: ") + story.style.palette.trimmed());
    out.prompt = text;

    QStringList negative = terms(scene.negativePrompt);
    QStringList lower;
    for (const QString& t : negative)
        lower << t.toLower();
    for (const QString& t : terms(story.style.negativePrompt)) {
        if (lower.contains(t.toLower()))
            continue;
        lower << t.toLower();
        negative << t;
    }
    out.negativePrompt = negative.join(QStringLiteral(", "));
    return out;
}

} // namespace gd::story
