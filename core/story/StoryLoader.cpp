#include "story/StoryLoader.h"

#include <QFile>
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
            s.scenes.push_back(sc);
        }
    }
    if (problems->size() != before)
        return std::nullopt;
    return s;
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
    if (!s.bible.isEmpty())
        o.insert(QStringLiteral("bible"), s.bible);
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
        scenes.append(so);
    }
    o.insert(QStringLiteral("scenes"), scenes);
    return o;
}

} // namespace gd::story
