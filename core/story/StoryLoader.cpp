#include "story/StoryLoader.h"

#include "story/StoryShots.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <cmath>

namespace gd::story {

namespace {

QString optString(const QJsonObject& o, const char* key, const QString& path, QStringList* problems)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return {};
    if (!v.isString()) {
        problems->append(QStringLiteral("%1%2: must be a string").arg(path, QLatin1String(key)));
        return {};
    }
    return v.toString();
}

QStringList optStringList(const QJsonObject& o, const char* key, const QString& path, QStringList* problems)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return {};
    if (!v.isArray()) {
        problems->append(QStringLiteral("%1%2: must be a list of strings").arg(path, QLatin1String(key)));
        return {};
    }
    QStringList out;
    const QJsonArray a = v.toArray();
    for (int i = 0; i < a.size(); ++i) {
        if (!a.at(i).isString())
            problems->append(
                QStringLiteral("%1%2[%3]: must be a string").arg(path, QLatin1String(key)).arg(i));
        else
            out << a.at(i).toString();
    }
    return out;
}

QString reqString(const QJsonObject& o, const char* key, const QString& path, QStringList* problems)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull()) {
        problems->append(QStringLiteral("%1%2: required").arg(path, QLatin1String(key)));
        return {};
    }
    if (!v.isString()) {
        problems->append(QStringLiteral("%1%2: must be a string").arg(path, QLatin1String(key)));
        return {};
    }
    if (v.toString().trimmed().isEmpty())
        problems->append(QStringLiteral("%1%2: must not be empty").arg(path, QLatin1String(key)));
    return v.toString();
}

// An optional JSON list: absent/null gives an empty list, anything else but a list is a problem.
QJsonArray optArray(const QJsonObject& o, const char* key, const QString& path, QStringList* problems)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return {};
    if (!v.isArray()) {
        problems->append(QStringLiteral("%1%2: must be a list").arg(path, QLatin1String(key)));
        return {};
    }
    return v.toArray();
}

// Writes `value` under `key` when it says something or the key was there when loaded, so a load/save
// round trip never adds keys an operator did not write.
void setIfAny(QJsonObject& o, const char* key, const QString& value)
{
    if (!value.isEmpty() || o.contains(QLatin1String(key)))
        o.insert(QLatin1String(key), value);
}

// Look ids become folder names (refs/<slug>/<look>/) and storyboard keys ("character:Name#look").
const QRegularExpression& lookIdPattern()
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"));
    return re;
}

const QRegularExpression& shotIdPattern()
{
    static const QRegularExpression re(QStringLiteral("^shot-\\d{2}$"));
    return re;
}

// Images named in story.json are read relative to the story file: nothing outside its folder.
// The image roles a scene's "images" may name (the spellings of comfy::roleName; core/story does not
// link core/comfy). character_reference_image[N] takes N in 0..15 (comfy::kMaxCharacterReferences).
bool isImageRole(const QString& role)
{
    static const QRegularExpression indexed(QStringLiteral("^character_reference_image\\[(?:[0-9]|1[0-5])\\]$"));
    return role == QLatin1String("keyframe_image") || role == QLatin1String("start_image") ||
           role == QLatin1String("end_image") || role == QLatin1String("style_reference_image") ||
           indexed.match(role).hasMatch();
}

bool isInsideStoryFolder(const QString& path)
{
    const QString p = QDir::fromNativeSeparators(path);
    return !(QDir::isAbsolutePath(p) || p.startsWith(QLatin1Char('/')) || p.contains(QLatin1Char(':'))
             || p.split(QLatin1Char('/')).contains(QStringLiteral("..")));
}

// The look a character without `looks` has: its own descriptor and reference prompt.
CharacterLook implicitLook(const StoryCharacter& c)
{
    return CharacterLook{QStringLiteral("default"), c.visualDescriptor, c.referencePrompt};
}

StoryShot readShot(const QJsonObject& so, const QString& path, QStringList* problems)
{
    StoryShot shot;
    shot.raw = so;
    shot.id = reqString(so, "id", path, problems);
    if (!shot.id.isEmpty() && !shotIdPattern().match(shot.id).hasMatch())
        problems->append(QStringLiteral("%1id: '%2' is not 'shot-' followed by two digits").arg(path, shot.id));
    shot.description = optString(so, "description", path, problems);
    shot.firstFrame = reqString(so, "firstFrame", path, problems);
    shot.lastFrame = optString(so, "lastFrame", path, problems);
    shot.location = optString(so, "location", path, problems);
    shot.camera = optString(so, "camera", path, problems);
    shot.motion = optString(so, "motion", path, problems);
    shot.continuesFrom = optString(so, "continuesFrom", path, problems);
    const QJsonArray visible = optArray(so, "visibleCharacters", path, problems);
    for (int k = 0; k < visible.size(); ++k) {
        const QString vpath = QStringLiteral("%1visibleCharacters[%2]").arg(path).arg(k);
        if (!visible.at(k).isObject()) {
            problems->append(vpath + QStringLiteral(": must be an object with name and look"));
            continue;
        }
        const QJsonObject vo = visible.at(k).toObject();
        ShotCharacter sc;
        sc.name = reqString(vo, "name", vpath + QLatin1Char('.'), problems);
        sc.look = optString(vo, "look", vpath + QLatin1Char('.'), problems);
        shot.visibleCharacters.push_back(sc);
    }
    return shot;
}

QJsonObject shotToJson(const StoryShot& shot)
{
    QJsonObject o = shot.raw;
    setIfAny(o, "id", shot.id);
    setIfAny(o, "description", shot.description);
    setIfAny(o, "firstFrame", shot.firstFrame);
    setIfAny(o, "lastFrame", shot.lastFrame);
    if (!shot.visibleCharacters.isEmpty() || o.value(QStringLiteral("visibleCharacters")).isArray()) {
        const QJsonArray before = o.value(QStringLiteral("visibleCharacters")).toArray();
        QJsonArray visible;
        for (int k = 0; k < shot.visibleCharacters.size(); ++k) {
            const ShotCharacter& c = shot.visibleCharacters.at(k);
            // Unknown keys of an entry survive while the entry still names the same character.
            QJsonObject vo = before.at(k).toObject();
            if (vo.value(QStringLiteral("name")).toString() != c.name)
                vo = QJsonObject();
            vo.insert(QStringLiteral("name"), c.name);
            setIfAny(vo, "look", c.look);
            visible.append(vo);
        }
        o.insert(QStringLiteral("visibleCharacters"), visible);
    }
    setIfAny(o, "location", shot.location);
    setIfAny(o, "camera", shot.camera);
    setIfAny(o, "motion", shot.motion);
    setIfAny(o, "continuesFrom", shot.continuesFrom);
    return o;
}

// Checks what a shot names against the rest of the story: bible characters and their looks, bible
// locations, and an EARLIER shot for continuesFrom (this scene's, or one of an earlier scene).
void checkShotReferences(const Story& s, QStringList* problems)
{
    QHash<QString, int> sceneIndex;
    for (int i = 0; i < s.scenes.size(); ++i)
        if (!sceneIndex.contains(s.scenes.at(i).id))
            sceneIndex.insert(s.scenes.at(i).id, i);
    for (int i = 0; i < s.scenes.size(); ++i) {
        const StoryScene& sc = s.scenes.at(i);
        for (int j = 0; j < sc.shots.size(); ++j) {
            const StoryShot& shot = sc.shots.at(j);
            const QString path = QStringLiteral("scenes[%1].shots[%2].").arg(i).arg(j);
            QSet<QString> visibleNames;
            for (int k = 0; k < shot.visibleCharacters.size(); ++k) {
                const ShotCharacter& v = shot.visibleCharacters.at(k);
                if (v.name.isEmpty())
                    continue;
                const QString vpath = QStringLiteral("%1visibleCharacters[%2].").arg(path).arg(k);
                if (visibleNames.contains(v.name))
                    problems->append(QStringLiteral("%1name: '%2' is listed twice in this shot").arg(vpath, v.name));
                visibleNames.insert(v.name);
                const StoryCharacter* c = findCharacter(s, v.name);
                if (!c) {
                    problems->append(
                        QStringLiteral("%1name: '%2' is not a character of the bible").arg(vpath, v.name));
                    continue;
                }
                if (!v.look.isEmpty() && !findLook(s, v.name, v.look)) {
                    QStringList ids;
                    for (const CharacterLook& l : c->looks)
                        ids << l.id;
                    problems->append(QStringLiteral("%1look: '%2' is not a look of %3 (%4)")
                                         .arg(vpath, v.look, v.name, ids.join(QStringLiteral(", "))));
                }
            }
            if (!shot.location.isEmpty() && !findLocation(s, shot.location))
                problems->append(
                    QStringLiteral("%1location: '%2' is not a location of the bible").arg(path, shot.location));
            if (shot.continuesFrom.isEmpty())
                continue;
            const QString from = shot.continuesFrom;
            const qsizetype slash = from.indexOf(QLatin1Char('/'));
            const QString fromScene = slash < 0 ? sc.id : from.left(slash);
            const QString fromShot = slash < 0 ? from : from.mid(slash + 1);
            const int fromSceneIndex = sceneIndex.value(fromScene, -1);
            int fromShotIndex = -1;
            if (fromSceneIndex >= 0) {
                const StoryScene& other = s.scenes.at(fromSceneIndex);
                for (int k = 0; k < other.shots.size() && fromShotIndex < 0; ++k)
                    if (other.shots.at(k).id == fromShot)
                        fromShotIndex = k;
            }
            if (fromSceneIndex < 0 || fromShotIndex < 0)
                problems->append(QStringLiteral("%1continuesFrom: '%2' names no shot of this story").arg(path, from));
            else if (fromSceneIndex == i && fromShotIndex == j)
                problems->append(QStringLiteral("%1continuesFrom: '%2' names the shot itself").arg(path, from));
            else if (fromSceneIndex > i || (fromSceneIndex == i && fromShotIndex > j))
                problems->append(
                    QStringLiteral("%1continuesFrom: '%2' is a later shot; a shot can only continue an earlier one")
                        .arg(path, from));
        }
    }
}

} // namespace

QString StoryLoader::defaultNegativePrompt()
{
    return QStringLiteral("blurry, low-resolution, watermark, text, deformed, extra limbs");
}

std::optional<Story> StoryLoader::load(const QString& path, QStringList* problems)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        problems->append(QStringLiteral("%1: cannot open (%2)").arg(path, f.errorString()));
        return std::nullopt;
    }
    // A story is text; anything this large is not a story file.
    if (f.size() > 16 * 1024 * 1024) {
        problems->append(QStringLiteral("%1: file is larger than 16 MB").arg(path));
        return std::nullopt;
    }
    QStringList local;
    auto story = fromJson(f.readAll(), &local);
    for (const QString& p : local)
        problems->append(p);
    return story;
}

QStringList StoryLoader::missingImages(const Story& story, const QString& storyDir)
{
    QStringList problems;
    const QDir dir(storyDir);
    for (qsizetype i = 0; i < story.scenes.size(); ++i) {
        const StoryScene& sc = story.scenes.at(i);
        for (auto it = sc.images.constBegin(); it != sc.images.constEnd(); ++it)
            if (!QFileInfo(dir.absoluteFilePath(it.value())).isFile())
                problems.append(QStringLiteral("scenes[%1].images.%2: '%3' does not exist in %4")
                                    .arg(i)
                                    .arg(it.key(), it.value(), dir.absolutePath()));
    }
    return problems;
}

std::optional<Story> StoryLoader::fromJson(const QByteArray& json, QStringList* problems)
{
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError) {
        problems->append(
            QStringLiteral("story: invalid JSON at offset %1: %2").arg(pe.offset).arg(pe.errorString()));
        return std::nullopt;
    }
    if (!doc.isObject()) {
        problems->append(QStringLiteral("story: the top level must be a JSON object"));
        return std::nullopt;
    }
    return fromObject(doc.object(), problems);
}

std::optional<Story> StoryLoader::fromObject(const QJsonObject& o, QStringList* problems)
{
    const int before = problems->size();
    Story s;
    s.raw = o;
    s.storyId = reqString(o, "storyId", QString(), problems);
    s.logline = reqString(o, "logline", QString(), problems);
    s.title = optString(o, "title", QString(), problems);
    s.genre = optString(o, "genre", QString(), problems);
    s.templateId = optString(o, "templateId", QString(), problems);
    s.templateVersion = optString(o, "templateVersion", QString(), problems);
    s.directorsVision = optString(o, "directorsVision", QString(), problems);
    const QJsonValue bible = o.value(QStringLiteral("bible"));
    if (!bible.isUndefined() && !bible.isNull() && !bible.isObject())
        problems->append(QStringLiteral("bible: must be an object"));
    s.bible = bible.toObject();
    problems->append(readBible(s));
    const QJsonValue style = o.value(QStringLiteral("style"));
    if (!style.isUndefined() && !style.isNull() && !style.isObject()) {
        problems->append(QStringLiteral("style: must be an object"));
    } else {
        const QJsonObject so = style.toObject();
        const QString path = QStringLiteral("style.");
        s.style.text = optString(so, "text", path, problems);
        s.style.palette = optString(so, "palette", path, problems);
        s.style.negativePrompt = optString(so, "negativePrompt", path, problems);
        s.style.referenceImage = optString(so, "referenceImage", path, problems);
        if (!s.style.referenceImage.isEmpty() && !isInsideStoryFolder(s.style.referenceImage))
            problems->append(QStringLiteral("style.referenceImage: '%1' must be a relative path inside the story's folder")
                                 .arg(s.style.referenceImage));
    }

    const QJsonValue scenes = o.value(QStringLiteral("scenes"));
    if (scenes.isUndefined() || scenes.isNull()) {
        problems->append(QStringLiteral("scenes: required (at least one scene)"));
    } else if (!scenes.isArray()) {
        problems->append(QStringLiteral("scenes: must be a list"));
    } else if (scenes.toArray().isEmpty()) {
        problems->append(QStringLiteral("scenes: must contain at least one scene"));
    } else {
        static const QRegularExpression idPattern(QStringLiteral("^scene-\\d{3}$"));
        QSet<QString> seen;
        const QJsonArray arr = scenes.toArray();
        for (int i = 0; i < arr.size(); ++i) {
            const QString path = QStringLiteral("scenes[%1].").arg(i);
            if (!arr.at(i).isObject()) {
                problems->append(QStringLiteral("scenes[%1]: must be an object").arg(i));
                continue;
            }
            const QJsonObject so = arr.at(i).toObject();
            StoryScene sc;
            sc.raw = so;
            sc.id = reqString(so, "id", path, problems);
            if (!sc.id.isEmpty()) {
                if (!idPattern.match(sc.id).hasMatch())
                    problems->append(QStringLiteral("%1id: '%2' is not 'scene-' followed by three digits")
                                         .arg(path, sc.id));
                else if (seen.contains(sc.id))
                    problems->append(
                        QStringLiteral("%1id: '%2' is used by an earlier scene").arg(path, sc.id));
                seen.insert(sc.id);
            }
            sc.prompt = reqString(so, "prompt", path, problems);
            sc.title = optString(so, "title", path, problems);
            sc.summary = optString(so, "summary", path, problems);
            sc.negativePrompt = optString(so, "negativePrompt", path, problems);
            if (!so.contains(QStringLiteral("negativePrompt")))
                sc.negativePrompt = defaultNegativePrompt();
            sc.mood = optString(so, "mood", path, problems);
            sc.themes = optStringList(so, "themes", path, problems);
            sc.cameraMovement = optString(so, "cameraMovement", path, problems);
            sc.palette = optString(so, "palette", path, problems);
            sc.characters = optStringList(so, "characters", path, problems);
            sc.keyframe = optString(so, "keyframe", path, problems);
            const QJsonValue ef = so.value(QStringLiteral("expectedFrames"));
            if (!ef.isUndefined() && !ef.isNull()) {
                const double d = ef.toDouble(-1);
                // Range before integrality: converting 1e308 to int to test wholeness is undefined.
                if (!ef.isDouble() || d < 0 || d > 100000 || d != std::floor(d))
                    problems->append(
                        QStringLiteral("%1expectedFrames: must be a whole number from 0 to 100000")
                            .arg(path));
                else
                    sc.expectedFrames = static_cast<int>(d);
            }
            const QJsonValue images = so.value(QStringLiteral("images"));
            if (!images.isUndefined() && !images.isNull() && !images.isObject()) {
                problems->append(path + QStringLiteral("images: must be an object of workflow role -> image path"));
            } else {
                const QJsonObject io = images.toObject();
                for (auto it = io.begin(); it != io.end(); ++it) {
                    if (!isImageRole(it.key()))
                        problems->append(QStringLiteral("%1images.%2: not an image role (keyframe_image, start_image, "
                                                        "end_image, style_reference_image or "
                                                        "character_reference_image[N], N 0-15)")
                                             .arg(path, it.key()));
                    else if (!it->isString() || it->toString().trimmed().isEmpty())
                        problems->append(QStringLiteral("%1images.%2: must be an image path").arg(path, it.key()));
                    else if (!isInsideStoryFolder(it->toString()))
                        problems->append(QStringLiteral("%1images.%2: '%3' must be a relative path inside the story's folder")
                                             .arg(path, it.key(), it->toString()));
                    else
                        sc.images.insert(it.key(), it->toString());
                }
            }
            const QJsonArray shots = optArray(so, "shots", path, problems);
            QSet<QString> shotIds;
            for (int j = 0; j < shots.size(); ++j) {
                const QString spath = QStringLiteral("%1shots[%2]").arg(path).arg(j);
                if (!shots.at(j).isObject()) {
                    problems->append(spath + QStringLiteral(": must be an object"));
                    continue;
                }
                StoryShot shot = readShot(shots.at(j).toObject(), spath + QLatin1Char('.'), problems);
                if (!shot.id.isEmpty() && shotIds.contains(shot.id))
                    problems->append(
                        QStringLiteral("%1.id: '%2' is used by an earlier shot of this scene").arg(spath, shot.id));
                shotIds.insert(shot.id);
                sc.shots.push_back(shot);
            }
            s.scenes.push_back(sc);
        }
    }
    checkShotReferences(s, problems);
    if (problems->size() != before)
        return std::nullopt;
    return s;
}

QStringList StoryLoader::readBible(Story& s)
{
    QStringList problems;
    s.characters.clear();
    s.locations.clear();
    const QJsonObject& bible = s.bible;
    const QJsonArray characters = optArray(bible, "characters", QStringLiteral("bible."), &problems);
    QSet<QString> names;
    for (int i = 0; i < characters.size(); ++i) {
        const QString path = QStringLiteral("bible.characters[%1]").arg(i);
        if (!characters.at(i).isObject()) {
            problems.append(path + QStringLiteral(": must be an object"));
            continue;
        }
        const QJsonObject co = characters.at(i).toObject();
        const QString p = path + QLatin1Char('.');
        StoryCharacter c;
        c.raw = co;
        c.name = reqString(co, "name", p, &problems);
        if (!c.name.isEmpty() && names.contains(c.name))
            problems.append(QStringLiteral("%1name: '%2' is used by an earlier character").arg(p, c.name));
        names.insert(c.name);
        c.role = optString(co, "role", p, &problems);
        c.visualDescriptor = optString(co, "visualDescriptor", p, &problems);
        c.referencePrompt = optString(co, "referencePrompt", p, &problems);
        const QJsonArray looks = optArray(co, "looks", p, &problems);
        QSet<QString> ids;
        for (int k = 0; k < looks.size(); ++k) {
            const QString lpath = QStringLiteral("%1looks[%2]").arg(p).arg(k);
            if (!looks.at(k).isObject()) {
                problems.append(lpath + QStringLiteral(": must be an object"));
                continue;
            }
            const QJsonObject lo = looks.at(k).toObject();
            CharacterLook look;
            look.id = reqString(lo, "id", lpath + QLatin1Char('.'), &problems);
            if (!look.id.isEmpty() && !lookIdPattern().match(look.id).hasMatch())
                problems.append(QStringLiteral("%1.id: '%2' must be letters, digits, '-' or '_' (at most 64)")
                                    .arg(lpath, look.id));
            else if (ids.contains(look.id))
                problems.append(QStringLiteral("%1.id: '%2' is used by an earlier look of this character").arg(lpath, look.id));
            ids.insert(look.id);
            look.descriptor = optString(lo, "descriptor", lpath + QLatin1Char('.'), &problems);
            look.referencePrompt = optString(lo, "referencePrompt", lpath + QLatin1Char('.'), &problems);
            c.looks.push_back(look);
        }
        if (c.looks.isEmpty())
            c.looks.push_back(implicitLook(c));
        s.characters.push_back(c);
    }
    const QJsonArray locations = optArray(bible, "locations", QStringLiteral("bible."), &problems);
    QSet<QString> places;
    for (int i = 0; i < locations.size(); ++i) {
        const QString path = QStringLiteral("bible.locations[%1]").arg(i);
        if (!locations.at(i).isObject()) {
            problems.append(path + QStringLiteral(": must be an object"));
            continue;
        }
        const QJsonObject lo = locations.at(i).toObject();
        const QString p = path + QLatin1Char('.');
        StoryLocation l;
        l.raw = lo;
        l.name = reqString(lo, "name", p, &problems);
        if (!l.name.isEmpty() && places.contains(l.name))
            problems.append(QStringLiteral("%1name: '%2' is used by an earlier location").arg(p, l.name));
        places.insert(l.name);
        l.descriptor = optString(lo, "descriptor", p, &problems);
        l.referencePrompt = optString(lo, "referencePrompt", p, &problems);
        s.locations.push_back(l);
    }
    return problems;
}

QJsonObject StoryLoader::bibleToJson(const Story& s)
{
    QJsonObject bible = s.bible;
    // The typed view wins where it has entries; a Story built with only the bible JSON (older code,
    // hand-made tests) keeps that JSON as it is.
    if (!s.characters.isEmpty()) {
        QJsonArray characters;
        for (const StoryCharacter& c : s.characters) {
            QJsonObject co = c.raw;
            setIfAny(co, "name", c.name);
            setIfAny(co, "role", c.role);
            setIfAny(co, "visualDescriptor", c.visualDescriptor);
            setIfAny(co, "referencePrompt", c.referencePrompt);
            // The implicit look is not written back: a character loaded without looks stays without.
            // ("looks": [] or null stays as written.)
            const bool implicit = co.value(QStringLiteral("looks")).toArray().isEmpty()
                && (c.looks.isEmpty() || (c.looks.size() == 1 && c.looks.first().id == QLatin1String("default")));
            if (!implicit) {
                const QJsonArray before = co.value(QStringLiteral("looks")).toArray();
                QJsonArray looks;
                for (int k = 0; k < c.looks.size(); ++k) {
                    const CharacterLook& l = c.looks.at(k);
                    QJsonObject lo = before.at(k).toObject();
                    if (lo.value(QStringLiteral("id")).toString() != l.id)
                        lo = QJsonObject();
                    lo.insert(QStringLiteral("id"), l.id);
                    setIfAny(lo, "descriptor", l.descriptor);
                    setIfAny(lo, "referencePrompt", l.referencePrompt);
                    looks.append(lo);
                }
                co.insert(QStringLiteral("looks"), looks);
            }
            characters.append(co);
        }
        bible.insert(QStringLiteral("characters"), characters);
    }
    if (!s.locations.isEmpty()) {
        QJsonArray locations;
        for (const StoryLocation& l : s.locations) {
            QJsonObject lo = l.raw;
            setIfAny(lo, "name", l.name);
            setIfAny(lo, "descriptor", l.descriptor);
            setIfAny(lo, "referencePrompt", l.referencePrompt);
            locations.append(lo);
        }
        bible.insert(QStringLiteral("locations"), locations);
    }
    return bible;
}

QJsonObject StoryLoader::toJson(const Story& s)
{
    QJsonObject o = s.raw;
    auto set = [&o](const char* key, const QString& v) {
        if (!v.isEmpty() || o.contains(QLatin1String(key)))
            o.insert(QLatin1String(key), v);
    };
    set("storyId", s.storyId);
    set("title", s.title);
    set("genre", s.genre);
    set("templateId", s.templateId);
    set("templateVersion", s.templateVersion);
    set("logline", s.logline);
    set("directorsVision", s.directorsVision);
    const QJsonObject bible = bibleToJson(s);
    if (!bible.isEmpty())
        o.insert(QStringLiteral("bible"), bible);
    if (!s.style.isEmpty() || o.value(QStringLiteral("style")).isObject()) {
        QJsonObject style = o.value(QStringLiteral("style")).toObject();
        setIfAny(style, "text", s.style.text);
        setIfAny(style, "palette", s.style.palette);
        setIfAny(style, "negativePrompt", s.style.negativePrompt);
        setIfAny(style, "referenceImage", s.style.referenceImage);
        o.insert(QStringLiteral("style"), style);
    }
    QJsonArray scenes;
    for (const StoryScene& sc : s.scenes) {
        QJsonObject so = sc.raw;
        auto sset = [&so](const char* key, const QString& v) {
            if (!v.isEmpty() || so.contains(QLatin1String(key)))
                so.insert(QLatin1String(key), v);
        };
        sset("id", sc.id);
        sset("title", sc.title);
        sset("summary", sc.summary);
        sset("prompt", sc.prompt);
        so.insert(QStringLiteral("negativePrompt"), sc.negativePrompt);
        sset("mood", sc.mood);
        so.insert(QStringLiteral("themes"), QJsonArray::fromStringList(sc.themes));
        sset("cameraMovement", sc.cameraMovement);
        sset("palette", sc.palette);
        so.insert(QStringLiteral("characters"), QJsonArray::fromStringList(sc.characters));
        if (sc.expectedFrames > 0 || so.contains(QStringLiteral("expectedFrames")))
            so.insert(QStringLiteral("expectedFrames"), sc.expectedFrames);
        sset("keyframe", sc.keyframe);
        if (!sc.images.isEmpty() || so.value(QStringLiteral("images")).isObject()) {
            QJsonObject images;
            for (auto it = sc.images.constBegin(); it != sc.images.constEnd(); ++it)
                images.insert(it.key(), it.value());
            so.insert(QStringLiteral("images"), images);
        }
        if (!sc.shots.isEmpty() || so.value(QStringLiteral("shots")).isArray()) {
            QJsonArray shots;
            for (const StoryShot& shot : sc.shots)
                shots.append(shotToJson(shot));
            so.insert(QStringLiteral("shots"), shots);
        }
        scenes.append(so);
    }
    o.insert(QStringLiteral("scenes"), scenes);
    return o;
}

} // namespace gd::story
