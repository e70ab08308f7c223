#include "storyboard/StoryboardState.h"

#include "common/AtomicFile.h"
#include "common/SafePath.h"
#include "storyboard/InputHasher.h"
#include "storyboard/StoryboardKeys.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

namespace gd::storyboard {

namespace {

// Uploaded references larger than this are refused before decoding: no sheet is that big, and the
// whole file is held in memory to check and copy exactly the bytes that were checked.
constexpr qint64 kMaxUploadBytes = 256LL * 1024 * 1024;

QString chosenByText(ChosenBy by)
{
    switch (by) {
    case ChosenBy::Judge: return QStringLiteral("judge");
    case ChosenBy::Operator: return QStringLiteral("operator");
    case ChosenBy::None: break;
    }
    return {};
}

QString kindText(ItemKind kind)
{
    switch (kind) {
    case ItemKind::Reference: return QStringLiteral("reference");
    case ItemKind::Keyframe: return QStringLiteral("keyframe");
    case ItemKind::EndKeyframe: return QStringLiteral("end keyframe");
    case ItemKind::Clip: return QStringLiteral("clip");
    }
    return {};
}

// Reads storyboard.json with strict shape checks; the first problem found is kept with the JSON
// path of the offending field so the operator can find it.
class Reader
{
public:
    explicit Reader(QString path) : m_path(std::move(path)) {}

    QString problem;

    bool fail(const QString& where, const QString& what)
    {
        if (problem.isEmpty())
            problem = where + QStringLiteral(": ") + what;
        return false;
    }

    bool string(const QJsonObject& o, const char* key, const QString& where, QString& out, bool required)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull()) {
            if (required)
                return fail(where + QLatin1Char('.') + QLatin1String(key), QStringLiteral("missing"));
            return true;
        }
        if (!v.isString())
            return fail(where + QLatin1Char('.') + QLatin1String(key), QStringLiteral("not a string"));
        out = v.toString();
        return true;
    }

    bool integer(const QJsonObject& o, const char* key, const QString& where, std::optional<qint64>& out,
                 bool required)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull()) {
            if (required)
                return fail(where + QLatin1Char('.') + QLatin1String(key), QStringLiteral("missing"));
            out.reset();
            return true;
        }
        const qint64 i = v.toInteger();
        if (!v.isDouble() || static_cast<double>(i) != v.toDouble())
            return fail(where + QLatin1Char('.') + QLatin1String(key), QStringLiteral("not an integer"));
        out = i;
        return true;
    }

    bool positive(const QJsonObject& o, const char* key, const QString& where, std::optional<int>& out,
                  bool required)
    {
        std::optional<qint64> i;
        if (!integer(o, key, where, i, required))
            return false;
        if (i && (*i < 1 || *i > 1000000))
            return fail(where + QLatin1Char('.') + QLatin1String(key), QStringLiteral("must be 1 or more"));
        out = i ? std::optional<int>(static_cast<int>(*i)) : std::nullopt;
        return true;
    }

    bool boolean(const QJsonObject& o, const char* key, const QString& where, bool& out)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull()) {
            out = false;
            return true;
        }
        if (!v.isBool())
            return fail(where + QLatin1Char('.') + QLatin1String(key), QStringLiteral("not true/false"));
        out = v.toBool();
        return true;
    }

    bool array(const QJsonObject& o, const char* key, const QString& where, QJsonArray& out)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull()) {
            out = {};
            return true;
        }
        if (!v.isArray())
            return fail(where + QLatin1Char('.') + QLatin1String(key), QStringLiteral("not an array"));
        out = v.toArray();
        return true;
    }

    bool object(const QJsonValue& v, const QString& where, QJsonObject& out)
    {
        if (!v.isObject())
            return fail(where, QStringLiteral("not an object"));
        out = v.toObject();
        return true;
    }

    // A file named by storyboard.json must stay inside the storyboard directory.
    bool relativePath(const QString& path, const QString& where, bool required)
    {
        if (path.isEmpty())
            return required ? fail(where, QStringLiteral("empty path")) : true;
        const int slash = path.lastIndexOf(QLatin1Char('/'));
        const QString dir = slash < 0 ? QString() : path.left(slash);
        const QString name = path.mid(slash + 1);
        if (!SafePath::isSafeSubfolder(dir) || !SafePath::isSafeFileName(name))
            return fail(where, QStringLiteral("path '%1' leaves the storyboard directory").arg(path));
        return true;
    }

    bool judge(const QJsonObject& o, const QString& where, JudgeVerdict& j)
    {
        j.raw = o;
        const QJsonValue score = o.value(QLatin1String("score"));
        if (!score.isUndefined() && !score.isNull() && !score.isDouble())
            return fail(where + QStringLiteral(".score"), QStringLiteral("not a number"));
        j.score = score.toDouble();
        std::optional<qint64> i;
        if (!integer(o, "descriptionMatch", where, i, false))
            return false;
        j.descriptionMatch = static_cast<int>(i.value_or(0));
        if (!integer(o, "characterCount", where, i, false))
            return false;
        j.characterCount = static_cast<int>(i.value_or(0));
        const QJsonValue identity = o.value(QLatin1String("identity"));
        if (!identity.isUndefined() && !identity.isNull()) {
            if (!identity.isObject())
                return fail(where + QStringLiteral(".identity"), QStringLiteral("not an object"));
            const QJsonObject id = identity.toObject();
            for (auto it = id.begin(); it != id.end(); ++it) {
                if (!it.value().isDouble())
                    return fail(where + QStringLiteral(".identity.") + it.key(), QStringLiteral("not a number"));
                j.identity.insert(it.key(), it.value().toInt());
            }
        }
        if (!boolean(o, "bordersOrText", where, j.bordersOrText))
            return false;
        return string(o, "reasons", where, j.reasons, false) && string(o, "model", where, j.model, false);
    }

    bool candidate(const QJsonValue& value, const QString& where, Candidate& c)
    {
        QJsonObject o;
        if (!object(value, where, o))
            return false;
        c.raw = o;
        std::optional<qint64> seed;
        if (!string(o, "file", where, c.file, true) || !relativePath(c.file, where + QStringLiteral(".file"), true) ||
            !string(o, "sha256", where, c.sha256, false) || !integer(o, "seed", where, seed, false) ||
            !integer(o, "durationMs", where, c.durationMs, false))
            return false;
        c.seed = seed.value_or(0);
        const QJsonValue j = o.value(QLatin1String("judge"));
        if (!j.isUndefined() && !j.isNull()) {
            QJsonObject jo;
            JudgeVerdict verdict;
            if (!object(j, where + QStringLiteral(".judge"), jo) || !judge(jo, where + QStringLiteral(".judge"), verdict))
                return false;
            c.judge = verdict;
        }
        return true;
    }

    bool imageVersion(const QJsonValue& value, const QString& where, ImageVersion& v)
    {
        QJsonObject o;
        if (!object(value, where, o))
            return false;
        v.raw = o;
        std::optional<int> number;
        if (!positive(o, "version", where, number, true))
            return false;
        v.version = *number;
        QJsonArray candidates;
        if (!string(o, "inputHash", where, v.inputHash, false) || !array(o, "candidates", where, candidates))
            return false;
        for (qsizetype k = 0; k < candidates.size(); ++k) {
            Candidate c;
            if (!candidate(candidates.at(k), where + QStringLiteral(".candidates[%1]").arg(k), c))
                return false;
            v.candidates.append(c);
        }
        if (!positive(o, "chosen", where, v.chosen, false))
            return false;
        if (v.chosen && *v.chosen > v.candidates.size())
            return fail(where + QStringLiteral(".chosen"),
                        QStringLiteral("candidate %1 does not exist (%2 candidates)").arg(*v.chosen).arg(v.candidates.size()));
        QString by;
        if (!string(o, "chosenBy", where, by, false))
            return false;
        if (by == QLatin1String("judge"))
            v.chosenBy = ChosenBy::Judge;
        else if (by == QLatin1String("operator"))
            v.chosenBy = ChosenBy::Operator;
        else if (!by.isEmpty())
            return fail(where + QStringLiteral(".chosenBy"), QStringLiteral("'%1' is not judge or operator").arg(by));
        const QJsonValue inputs = o.value(QLatin1String("inputs"));
        if (!inputs.isUndefined() && !inputs.isNull() && !object(inputs, where + QStringLiteral(".inputs"), v.inputs))
            return false;
        return string(o, "source", where, v.source, false) && string(o, "profile", where, v.profile, false) &&
               string(o, "profileHash", where, v.profileHash, false) && string(o, "model", where, v.model, false) &&
               string(o, "createdAt", where, v.createdAt, false);
    }

    bool imageTrack(const QJsonObject& o, const QString& where, ImageTrack& t)
    {
        t.raw = o;
        QJsonArray versions;
        if (!array(o, "versions", where, versions))
            return false;
        for (qsizetype k = 0; k < versions.size(); ++k) {
            ImageVersion v;
            const QString at = where + QStringLiteral(".versions[%1]").arg(k);
            if (!imageVersion(versions.at(k), at, v))
                return false;
            if (t.version(v.version))
                return fail(at + QStringLiteral(".version"), QStringLiteral("version %1 appears twice").arg(v.version));
            t.versions.append(v);
        }
        if (!positive(o, "selected", where, t.selected, false) || !boolean(o, "approved", where, t.approved))
            return false;
        if (t.selected && !t.version(*t.selected))
            return fail(where + QStringLiteral(".selected"), QStringLiteral("version %1 does not exist").arg(*t.selected));
        return true;
    }

    bool clipTrack(const QJsonObject& o, const QString& where, ClipTrack& t)
    {
        t.raw = o;
        QJsonArray versions;
        if (!array(o, "versions", where, versions))
            return false;
        for (qsizetype k = 0; k < versions.size(); ++k) {
            const QString at = where + QStringLiteral(".versions[%1]").arg(k);
            QJsonObject vo;
            if (!object(versions.at(k), at, vo))
                return false;
            ClipVersion v;
            v.raw = vo;
            std::optional<int> number;
            std::optional<qint64> frames;
            if (!positive(vo, "version", at, number, true) || !string(vo, "inputHash", at, v.inputHash, false) ||
                !string(vo, "dir", at, v.dir, false) || !integer(vo, "frames", at, frames, false) ||
                !string(vo, "lastFrameSha256", at, v.lastFrameSha256, false) ||
                !integer(vo, "durationMs", at, v.durationMs, false) || !string(vo, "profile", at, v.profile, false))
                return false;
            if (!v.dir.isEmpty() && !SafePath::isSafeSubfolder(v.dir))
                return fail(at + QStringLiteral(".dir"), QStringLiteral("path '%1' leaves the storyboard directory").arg(v.dir));
            const QJsonValue inputs = vo.value(QLatin1String("inputs"));
            if (!inputs.isUndefined() && !inputs.isNull() && !object(inputs, at + QStringLiteral(".inputs"), v.inputs))
                return false;
            v.version = *number;
            v.frames = static_cast<int>(frames.value_or(0));
            if (t.version(v.version))
                return fail(at + QStringLiteral(".version"), QStringLiteral("version %1 appears twice").arg(v.version));
            t.versions.append(v);
        }
        if (!positive(o, "selected", where, t.selected, false) || !boolean(o, "approved", where, t.approved))
            return false;
        if (t.selected && !t.version(*t.selected))
            return fail(where + QStringLiteral(".selected"), QStringLiteral("version %1 does not exist").arg(*t.selected));
        return true;
    }

private:
    QString m_path;
};

QJsonValue optionalInt(const std::optional<int>& v)
{
    return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

void insertIfSet(QJsonObject& o, const char* key, const QString& value)
{
    if (!value.isEmpty())
        o.insert(QLatin1String(key), value);
}

QJsonObject judgeJson(const JudgeVerdict& j)
{
    QJsonObject o = j.raw;
    QJsonObject identity;
    for (auto it = j.identity.cbegin(); it != j.identity.cend(); ++it)
        identity.insert(it.key(), it.value());
    o.insert(QStringLiteral("score"), j.score);
    o.insert(QStringLiteral("descriptionMatch"), j.descriptionMatch);
    o.insert(QStringLiteral("characterCount"), j.characterCount);
    o.insert(QStringLiteral("identity"), identity);
    o.insert(QStringLiteral("bordersOrText"), j.bordersOrText);
    o.insert(QStringLiteral("reasons"), j.reasons);
    o.insert(QStringLiteral("model"), j.model);
    return o;
}

QJsonObject imageTrackJson(const ImageTrack& t, bool keyframe)
{
    QJsonObject o = t.raw;
    QJsonArray versions;
    for (const ImageVersion& v : t.versions) {
        QJsonObject vo = v.raw;
        vo.insert(QStringLiteral("version"), v.version);
        vo.insert(QStringLiteral("inputHash"), v.inputHash);
        QJsonArray candidates;
        for (const Candidate& c : v.candidates) {
            QJsonObject co = c.raw;
            co.insert(QStringLiteral("file"), c.file);
            co.insert(QStringLiteral("sha256"), c.sha256);
            co.insert(QStringLiteral("seed"), c.seed);
            if (c.durationMs)
                co.insert(QStringLiteral("durationMs"), *c.durationMs);
            else
                co.remove(QStringLiteral("durationMs"));
            if (c.judge)
                co.insert(QStringLiteral("judge"), judgeJson(*c.judge));
            else if (keyframe)
                co.insert(QStringLiteral("judge"), QJsonValue::Null);
            else
                co.remove(QStringLiteral("judge"));
            candidates.append(co);
        }
        vo.insert(QStringLiteral("candidates"), candidates);
        vo.insert(QStringLiteral("chosen"), optionalInt(v.chosen));
        if (v.chosenBy != ChosenBy::None)
            vo.insert(QStringLiteral("chosenBy"), chosenByText(v.chosenBy));
        else if (keyframe)
            vo.insert(QStringLiteral("chosenBy"), QJsonValue::Null);
        insertIfSet(vo, "source", v.source);
        insertIfSet(vo, "profile", v.profile);
        insertIfSet(vo, "profileHash", v.profileHash);
        insertIfSet(vo, "model", v.model);
        insertIfSet(vo, "createdAt", v.createdAt);
        if (!v.inputs.isEmpty())
            vo.insert(QStringLiteral("inputs"), v.inputs);
        versions.append(vo);
    }
    o.insert(QStringLiteral("versions"), versions);
    o.insert(QStringLiteral("selected"), optionalInt(t.selected));
    o.insert(QStringLiteral("approved"), t.approved);
    return o;
}

QJsonObject clipTrackJson(const ClipTrack& t)
{
    QJsonObject o = t.raw;
    QJsonArray versions;
    for (const ClipVersion& v : t.versions) {
        QJsonObject vo = v.raw;
        vo.insert(QStringLiteral("version"), v.version);
        vo.insert(QStringLiteral("inputHash"), v.inputHash);
        vo.insert(QStringLiteral("dir"), v.dir);
        vo.insert(QStringLiteral("frames"), v.frames);
        insertIfSet(vo, "lastFrameSha256", v.lastFrameSha256);
        if (v.durationMs)
            vo.insert(QStringLiteral("durationMs"), *v.durationMs);
        insertIfSet(vo, "profile", v.profile);
        vo.insert(QStringLiteral("inputs"), v.inputs);
        versions.append(vo);
    }
    o.insert(QStringLiteral("versions"), versions);
    o.insert(QStringLiteral("selected"), optionalInt(t.selected));
    o.insert(QStringLiteral("approved"), t.approved);
    return o;
}

Error notFound(ItemKind kind, const QString& key)
{
    return Error{QStringLiteral("notFound"), QStringLiteral("storyboard has no %1 '%2'").arg(kindText(kind), key), {}};
}

Error invalid(const QString& message)
{
    return Error{QStringLiteral("invalidArgument"), message, {}};
}

QString nowUtc()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
}

template <typename Track>
int nextVersion(const Track& t)
{
    int n = 0;
    for (const auto& v : t.versions)
        n = qMax(n, v.version);
    return n + 1;
}

} // namespace

Error StoryboardState::load(const QString& dir, StoryboardState& out)
{
    const QString path = QDir(dir).filePath(fileName());
    QFile f(path);
    if (!f.exists()) {
        out = StoryboardState();
        return {};
    }
    if (!f.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("unreadableStoryboard"),
                     QStringLiteral("cannot read %1: %2").arg(path, f.errorString()),
                     {{QStringLiteral("path"), path}}};
    return fromJson(f.readAll(), path, out);
}

Error StoryboardState::fromJson(const QByteArray& bytes, const QString& path, StoryboardState& out)
{
    const auto corrupt = [&](const QString& problem) {
        return Error{QStringLiteral("corruptStoryboard"), QStringLiteral("%1: %2").arg(path, problem),
                     {{QStringLiteral("path"), path}, {QStringLiteral("problem"), problem}}};
    };
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &pe);
    if (pe.error != QJsonParseError::NoError)
        return corrupt(QStringLiteral("not valid JSON (%1 at byte %2)").arg(pe.errorString()).arg(pe.offset));
    if (!doc.isObject())
        return corrupt(QStringLiteral("not a JSON object"));
    const QJsonObject root = doc.object();

    Reader r(path);
    std::optional<qint64> version;
    if (!r.integer(root, "version", QStringLiteral("storyboard"), version, true))
        return corrupt(r.problem);
    if (*version > kFormatVersion)
        return Error{QStringLiteral("newerStoryboard"),
                     QStringLiteral("%1: format version %2 is newer than this build understands (%3)")
                         .arg(path)
                         .arg(*version)
                         .arg(kFormatVersion),
                     {{QStringLiteral("path"), path}}};
    if (*version < 1)
        return corrupt(QStringLiteral("version %1 is not a storyboard format version").arg(*version));

    StoryboardState s;
    s.m_raw = root;
    QJsonArray refs;
    if (!r.array(root, "references", QStringLiteral("storyboard"), refs))
        return corrupt(r.problem);
    for (qsizetype k = 0; k < refs.size(); ++k) {
        const QString where = QStringLiteral("references[%1]").arg(k);
        QJsonObject o;
        ReferenceEntry e;
        if (!r.object(refs.at(k), where, o) || !r.string(o, "key", where, e.key, true))
            return corrupt(r.problem);
        if (!StoryboardKeys::isReferenceKey(e.key))
            return corrupt(where + QStringLiteral(".key: '%1' is not a reference key").arg(e.key));
        if (s.findReference(e.key))
            return corrupt(where + QStringLiteral(".key: '%1' appears twice").arg(e.key));
        if (!r.imageTrack(o, where, e.track))
            return corrupt(r.problem);
        s.m_referenceIndex.insert(e.key, s.m_references.size());
        s.m_references.append(e);
    }
    QJsonArray shots;
    if (!r.array(root, "shots", QStringLiteral("storyboard"), shots))
        return corrupt(r.problem);
    for (qsizetype k = 0; k < shots.size(); ++k) {
        const QString where = QStringLiteral("shots[%1]").arg(k);
        QJsonObject o;
        ShotEntry e;
        if (!r.object(shots.at(k), where, o) || !r.string(o, "key", where, e.key, true))
            return corrupt(r.problem);
        if (!e.key.contains(QLatin1Char('/')))
            return corrupt(where + QStringLiteral(".key: '%1' is not <sceneId>/<shotId>").arg(e.key));
        if (s.findShot(e.key))
            return corrupt(where + QStringLiteral(".key: '%1' appears twice").arg(e.key));
        e.raw = o;
        const QJsonValue kf = o.value(QLatin1String("keyframe"));
        if (!kf.isUndefined() && !kf.isNull()) {
            QJsonObject ko;
            if (!r.object(kf, where + QStringLiteral(".keyframe"), ko) ||
                !r.imageTrack(ko, where + QStringLiteral(".keyframe"), e.keyframe))
                return corrupt(r.problem);
        }
        const QJsonValue end = o.value(QLatin1String("endKeyframe"));
        if (!end.isUndefined() && !end.isNull()) {
            QJsonObject eo;
            if (!r.object(end, where + QStringLiteral(".endKeyframe"), eo) ||
                !r.imageTrack(eo, where + QStringLiteral(".endKeyframe"), e.endKeyframe))
                return corrupt(r.problem);
        }
        const QJsonValue clip = o.value(QLatin1String("clip"));
        if (!clip.isUndefined() && !clip.isNull()) {
            QJsonObject co;
            if (!r.object(clip, where + QStringLiteral(".clip"), co) ||
                !r.clipTrack(co, where + QStringLiteral(".clip"), e.clip))
                return corrupt(r.problem);
        }
        s.m_shotIndex.insert(e.key, s.m_shots.size());
        s.m_shots.append(e);
    }
    out = std::move(s);
    return {};
}

QJsonObject StoryboardState::toJson() const
{
    QJsonObject root = m_raw;
    root.insert(QStringLiteral("version"), kFormatVersion);
    QJsonArray refs;
    for (const ReferenceEntry& e : m_references) {
        QJsonObject o = imageTrackJson(e.track, false);
        o.insert(QStringLiteral("key"), e.key);
        refs.append(o);
    }
    root.insert(QStringLiteral("references"), refs);
    QJsonArray shots;
    for (const ShotEntry& e : m_shots) {
        QJsonObject o = e.raw;
        o.insert(QStringLiteral("key"), e.key);
        o.insert(QStringLiteral("keyframe"), imageTrackJson(e.keyframe, true));
        // Only bookend shots have an end keyframe: storyboards without one keep their shape.
        if (!e.endKeyframe.versions.isEmpty())
            o.insert(QStringLiteral("endKeyframe"), imageTrackJson(e.endKeyframe, true));
        else
            o.remove(QStringLiteral("endKeyframe"));
        o.insert(QStringLiteral("clip"), clipTrackJson(e.clip));
        shots.append(o);
    }
    root.insert(QStringLiteral("shots"), shots);
    return root;
}

Error StoryboardState::save(const QString& dir) const
{
    if (!QDir().mkpath(dir))
        return Error{QStringLiteral("io"), QStringLiteral("cannot create storyboard directory %1").arg(dir),
                     {{QStringLiteral("path"), dir}}};
    return AtomicFile::write(QDir(dir).filePath(fileName()), QJsonDocument(toJson()).toJson(QJsonDocument::Indented));
}

const ReferenceEntry* StoryboardState::findReference(const QString& key) const
{
    const int i = m_referenceIndex.value(key, -1);
    return i < 0 ? nullptr : &m_references.at(i);
}

const ShotEntry* StoryboardState::findShot(const QString& shotKey) const
{
    const int i = m_shotIndex.value(shotKey, -1);
    return i < 0 ? nullptr : &m_shots.at(i);
}

const ImageTrack* StoryboardState::imageTrack(ItemKind kind, const QString& key) const
{
    if (kind == ItemKind::Reference) {
        const ReferenceEntry* e = findReference(key);
        return e ? &e->track : nullptr;
    }
    if (kind == ItemKind::Keyframe || kind == ItemKind::EndKeyframe) {
        const ShotEntry* e = findShot(key);
        return e ? (kind == ItemKind::Keyframe ? &e->keyframe : &e->endKeyframe) : nullptr;
    }
    return nullptr;
}

ShotEntry* StoryboardState::mutableShot(const QString& shotKey, bool create)
{
    if (const int i = m_shotIndex.value(shotKey, -1); i >= 0)
        return &m_shots[i];
    if (!create || !shotKey.contains(QLatin1Char('/')))
        return nullptr;
    ShotEntry e;
    e.key = shotKey;
    m_shotIndex.insert(shotKey, m_shots.size());
    m_shots.append(e);
    return &m_shots.last();
}

ImageTrack* StoryboardState::mutableImageTrack(ItemKind kind, const QString& key, bool create)
{
    if (kind == ItemKind::Keyframe || kind == ItemKind::EndKeyframe) {
        ShotEntry* e = mutableShot(key, create);
        return e ? (kind == ItemKind::Keyframe ? &e->keyframe : &e->endKeyframe) : nullptr;
    }
    if (kind != ItemKind::Reference)
        return nullptr;
    if (const int i = m_referenceIndex.value(key, -1); i >= 0)
        return &m_references[i].track;
    if (!create || !StoryboardKeys::isReferenceKey(key))
        return nullptr;
    ReferenceEntry e;
    e.key = key;
    m_referenceIndex.insert(key, m_references.size());
    m_references.append(e);
    return &m_references.last().track;
}

ClipTrack* StoryboardState::mutableClipTrack(const QString& shotKey, bool create)
{
    ShotEntry* e = mutableShot(shotKey, create);
    return e ? &e->clip : nullptr;
}

int StoryboardState::addReferenceVersion(const QString& key, ImageVersion version)
{
    ImageTrack* t = mutableImageTrack(ItemKind::Reference, key, true);
    if (!t)
        return 0;
    version.version = nextVersion(*t);
    if (version.createdAt.isEmpty())
        version.createdAt = nowUtc();
    if (version.source.isEmpty())
        version.source = QStringLiteral("rendered");
    t->versions.append(version);
    t->selected = version.version;
    t->approved = false;
    return version.version;
}

int StoryboardState::addKeyframeVersion(const QString& shotKey, ImageVersion version)
{
    return addShotImageVersion(ItemKind::Keyframe, shotKey, std::move(version));
}

int StoryboardState::addEndKeyframeVersion(const QString& shotKey, ImageVersion version)
{
    return addShotImageVersion(ItemKind::EndKeyframe, shotKey, std::move(version));
}

int StoryboardState::addShotImageVersion(ItemKind kind, const QString& shotKey, ImageVersion version)
{
    ImageTrack* t = mutableImageTrack(kind, shotKey, true);
    if (!t)
        return 0;
    version.version = nextVersion(*t);
    if (version.createdAt.isEmpty())
        version.createdAt = nowUtc();
    t->versions.append(version);
    t->selected = version.version;
    t->approved = false;
    return version.version;
}

int StoryboardState::addClipVersion(const QString& shotKey, ClipVersion version)
{
    ClipTrack* t = mutableClipTrack(shotKey, true);
    if (!t)
        return 0;
    version.version = nextVersion(*t);
    t->versions.append(version);
    t->selected = version.version;
    t->approved = false;
    return version.version;
}

Error StoryboardState::choose(ItemKind kind, const QString& key, int version, int candidate, ChosenBy by)
{
    ImageTrack* t = mutableImageTrack(kind, key, false);
    if (!t)
        return notFound(kind, key);
    for (ImageVersion& v : t->versions) {
        if (v.version != version)
            continue;
        if (candidate < 1 || candidate > v.candidates.size())
            return invalid(QStringLiteral("%1 '%2' version %3 has no candidate %4 (%5 candidates)")
                               .arg(kindText(kind), key)
                               .arg(version)
                               .arg(candidate)
                               .arg(v.candidates.size()));
        if (t->selected == version && v.chosen != candidate)
            t->approved = false;
        v.chosen = candidate;
        v.chosenBy = by;
        return {};
    }
    return invalid(QStringLiteral("%1 '%2' has no version %3").arg(kindText(kind), key).arg(version));
}

Error StoryboardState::select(ItemKind kind, const QString& key, int version)
{
    if (kind == ItemKind::Clip) {
        ClipTrack* t = mutableClipTrack(key, false);
        if (!t)
            return notFound(kind, key);
        if (!t->version(version))
            return invalid(QStringLiteral("clip '%1' has no version %2").arg(key).arg(version));
        if (t->selected != version)
            t->approved = false;
        t->selected = version;
        return {};
    }
    ImageTrack* t = mutableImageTrack(kind, key, false);
    if (!t)
        return notFound(kind, key);
    if (!t->version(version))
        return invalid(QStringLiteral("%1 '%2' has no version %3").arg(kindText(kind), key).arg(version));
    if (t->selected != version)
        t->approved = false;
    t->selected = version;
    return {};
}

Error StoryboardState::approve(ItemKind kind, const QString& key)
{
    if (kind == ItemKind::Clip) {
        ClipTrack* t = mutableClipTrack(key, false);
        if (!t)
            return notFound(kind, key);
        if (!t->selectedVersion())
            return invalid(QStringLiteral("clip '%1' has no selected version to approve").arg(key));
        t->approved = true;
        return {};
    }
    ImageTrack* t = mutableImageTrack(kind, key, false);
    if (!t)
        return notFound(kind, key);
    if (!t->selectedVersion())
        return invalid(QStringLiteral("%1 '%2' has no selected version to approve").arg(kindText(kind), key));
    if (!t->selectedCandidate())
        return invalid(QStringLiteral("%1 '%2' version %3 has no chosen candidate to approve")
                           .arg(kindText(kind), key)
                           .arg(*t->selected));
    t->approved = true;
    return {};
}

Error StoryboardState::unapprove(ItemKind kind, const QString& key)
{
    if (kind == ItemKind::Clip) {
        ClipTrack* t = mutableClipTrack(key, false);
        if (!t)
            return notFound(kind, key);
        t->approved = false;
        return {};
    }
    ImageTrack* t = mutableImageTrack(kind, key, false);
    if (!t)
        return notFound(kind, key);
    t->approved = false;
    return {};
}

Error StoryboardState::uploadReference(const QString& dir, const QString& key, const QString& sourcePath,
                                       int* version)
{
    if (!StoryboardKeys::isReferenceKey(key))
        return invalid(QStringLiteral("'%1' is not a reference key").arg(key));
    return uploadImage(dir, ItemKind::Reference, key, sourcePath, {}, version);
}

Error StoryboardState::uploadImage(const QString& dir, ItemKind kind, const QString& key, const QString& sourcePath,
                                   const QJsonObject& inputs, int* version, const QString& profile)
{
    QString relDir;
    if (kind == ItemKind::Reference)
        relDir = StoryboardKeys::referenceDir(key);
    else if (kind == ItemKind::Keyframe)
        relDir = StoryboardKeys::keyframeDir(key);
    else if (kind == ItemKind::EndKeyframe)
        relDir = StoryboardKeys::endKeyframeDir(key);
    if (relDir.isEmpty() || (kind != ItemKind::Reference && key.isEmpty()))
        return invalid(QStringLiteral("'%1' cannot take an uploaded %2").arg(key, kindText(kind)));
    QFile f(sourcePath);
    if (!f.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("io"), QStringLiteral("cannot read %1: %2").arg(sourcePath, f.errorString()),
                     {{QStringLiteral("path"), sourcePath}}};
    if (f.size() > kMaxUploadBytes)
        return Error{QStringLiteral("notAnImage"),
                     QStringLiteral("%1 is %2 bytes: larger than any storyboard image (limit %3)")
                         .arg(sourcePath)
                         .arg(f.size())
                         .arg(kMaxUploadBytes),
                     {{QStringLiteral("path"), sourcePath}}};
    const QByteArray bytes = f.readAll();
    f.close();

    // Decode exactly the bytes that will be stored: the extension and the file name prove nothing.
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    const QByteArray format = reader.format();
    const QImage image = reader.read();
    if (format.isEmpty() || image.isNull())
        return Error{QStringLiteral("notAnImage"),
                     QStringLiteral("%1 is not an image (%2)")
                         .arg(sourcePath, reader.errorString().isEmpty() ? QStringLiteral("unknown format")
                                                                         : reader.errorString()),
                     {{QStringLiteral("path"), sourcePath}}};

    ImageTrack* existing = mutableImageTrack(kind, key, false);
    const int number = existing ? nextVersion(*existing) : 1;
    QString ext = QString::fromLatin1(format).toLower();
    if (ext == QLatin1String("jpeg"))
        ext = QStringLiteral("jpg");
    const QString relative = relDir + QStringLiteral("/v%1-c1.").arg(number) + StoryboardKeys::slug(ext);
    const QString target = QDir(dir).filePath(relative);
    if (!QDir().mkpath(QFileInfo(target).absolutePath()))
        return Error{QStringLiteral("io"), QStringLiteral("cannot create %1").arg(QFileInfo(target).absolutePath()),
                     {{QStringLiteral("path"), target}}};
    if (Error e = AtomicFile::write(target, bytes); !e.isNull())
        return e;

    const QString sha = InputHasher::sha256Hex(bytes);
    ImageVersion v;
    if (inputs.isEmpty()) {
        v.inputHash = InputHasher::hash(QJsonObject{{QStringLiteral("kind"), QStringLiteral("upload")},
                                                    {QStringLiteral("sha256"), sha}});
    } else {
        v.inputs = inputs;
        v.inputHash = InputHasher::hash(inputs);
        v.profileHash = inputs.value(QLatin1String("profileHash")).toString();
        v.model = inputs.value(QLatin1String("model")).toString();
        v.profile = profile;
    }
    v.source = QStringLiteral("uploaded");
    v.candidates.append(Candidate{relative, sha, inputs.value(QLatin1String("seed")).toInteger(), std::nullopt,
                                  std::nullopt, {}});
    v.chosen = 1;
    v.chosenBy = ChosenBy::Operator;
    v.version = number;
    v.createdAt = nowUtc();
    ImageTrack* t = mutableImageTrack(kind, key, true);
    if (!t)
        return invalid(QStringLiteral("'%1' cannot take an uploaded %2").arg(key, kindText(kind)));
    t->versions.append(v);
    t->selected = number;
    // Uploading is the operator's pick: the image is approved as it is.
    t->approved = true;
    if (version)
        *version = number;
    return {};
}

Error StoryboardState::sha256OfFile(const QString& path, QString& hex)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("io"), QStringLiteral("cannot read %1: %2").arg(path, f.errorString()),
                     {{QStringLiteral("path"), path}}};
    QCryptographicHash h(QCryptographicHash::Sha256);
    if (!h.addData(&f))
        return Error{QStringLiteral("io"), QStringLiteral("cannot read %1: %2").arg(path, f.errorString()),
                     {{QStringLiteral("path"), path}}};
    hex = QString::fromLatin1(h.result().toHex());
    return {};
}

} // namespace gd::storyboard
