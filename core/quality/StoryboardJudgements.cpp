#include "quality/StoryboardJudgements.h"

#include "common/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

namespace gd::quality {

namespace {

constexpr int kVersion = 1;

QJsonObject errorJson(const Error& e)
{
    return QJsonObject{{QStringLiteral("error"), e.toJson()}};
}

// {"error": {kind, message}} → that error; anything else → a null error (the object is a verdict).
std::optional<Error> errorFrom(const QJsonObject& o, QString* problem)
{
    if (!o.contains(QStringLiteral("error")))
        return std::nullopt;
    const QJsonObject e = o.value(QStringLiteral("error")).toObject();
    const QString message = e.value(QStringLiteral("message")).toString();
    if (message.isEmpty()) {
        *problem = QStringLiteral("an error without a message");
        return Error{};
    }
    return Error{e.value(QStringLiteral("kind")).toString(QStringLiteral("judge")), message,
                 e.value(QStringLiteral("detail")).toObject()};
}

QJsonObject shotJson(const ShotJudgement& s)
{
    QJsonObject o{{QStringLiteral("sceneId"), s.sceneId},
                  {QStringLiteral("shotId"), s.shotId},
                  {QStringLiteral("expectedCharacters"), s.expectedCharacters}};
    if (!s.keyframeSha256.isEmpty())
        o.insert(QStringLiteral("keyframeSha256"), s.keyframeSha256);
    if (s.keyframe)
        o.insert(QStringLiteral("keyframe"),
                 s.keyframe->ok() ? s.keyframe->toJson() : errorJson(s.keyframe->error));
    if (s.alignment)
        o.insert(QStringLiteral("alignment"), s.alignment->ok()
                                                  ? QJsonObject{{QStringLiteral("judge"), s.alignment->judge},
                                                                {QStringLiteral("model"), s.alignment->model}}
                                                  : errorJson(s.alignment->error));
    return o;
}

std::optional<ShotJudgement> shotFrom(const QJsonObject& o, QString* problem)
{
    ShotJudgement s;
    s.sceneId = o.value(QStringLiteral("sceneId")).toString();
    s.shotId = o.value(QStringLiteral("shotId")).toString();
    const QJsonValue expected = o.value(QStringLiteral("expectedCharacters"));
    if (s.sceneId.isEmpty() || s.shotId.isEmpty()) {
        *problem = QStringLiteral("a shot without sceneId or shotId");
        return std::nullopt;
    }
    if (!expected.isDouble() || expected.toDouble() != double(expected.toInt()) || expected.toInt() < 0) {
        *problem = QStringLiteral("shot %1: expectedCharacters is not a whole number ≥ 0").arg(s.key());
        return std::nullopt;
    }
    s.expectedCharacters = expected.toInt();
    s.keyframeSha256 = o.value(QStringLiteral("keyframeSha256")).toString();
    if (o.contains(QStringLiteral("keyframe"))) {
        const QJsonObject k = o.value(QStringLiteral("keyframe")).toObject();
        if (const auto e = errorFrom(k, problem)) {
            if (!problem->isEmpty())
                return std::nullopt;
            KeyframeVerdict v;
            v.error = *e;
            s.keyframe = v;
        } else if (auto v = KeyframeVerdict::fromJson(k)) {
            s.keyframe = *v;
        } else {
            *problem = QStringLiteral("shot %1: the keyframe verdict is malformed").arg(s.key());
            return std::nullopt;
        }
    }
    if (o.contains(QStringLiteral("alignment"))) {
        const QJsonObject a = o.value(QStringLiteral("alignment")).toObject();
        AlignmentVerdict v;
        if (const auto e = errorFrom(a, problem)) {
            if (!problem->isEmpty())
                return std::nullopt;
            v.error = *e;
        } else {
            v.judge = a.value(QStringLiteral("judge")).toObject();
            v.model = a.value(QStringLiteral("model")).toString();
            if (!v.judge.value(QStringLiteral("Mean")).isDouble()) {
                *problem = QStringLiteral("shot %1: the alignment verdict has no Mean").arg(s.key());
                return std::nullopt;
            }
        }
        s.alignment = v;
    }
    return s;
}

QJsonObject pairJson(const SamenessJudgement& p)
{
    QJsonObject o{{QStringLiteral("shotA"), p.shotA}, {QStringLiteral("shotB"), p.shotB}};
    if (!p.verdict.ok()) {
        o.insert(QStringLiteral("error"), p.verdict.error.toJson());
        return o;
    }
    o.insert(QStringLiteral("sameIdentity"), p.verdict.sameIdentity);
    o.insert(QStringLiteral("sameLayout"), p.verdict.sameLayout);
    o.insert(QStringLiteral("reasons"), p.verdict.reasons);
    o.insert(QStringLiteral("model"), p.verdict.model);
    return o;
}

std::optional<SamenessJudgement> pairFrom(const QJsonObject& o, QString* problem)
{
    SamenessJudgement p;
    p.shotA = o.value(QStringLiteral("shotA")).toString();
    p.shotB = o.value(QStringLiteral("shotB")).toString();
    if (p.shotA.isEmpty() || p.shotB.isEmpty()) {
        *problem = QStringLiteral("a sameness pair without shotA or shotB");
        return std::nullopt;
    }
    if (const auto e = errorFrom(o, problem)) {
        if (!problem->isEmpty())
            return std::nullopt;
        p.verdict.error = *e;
        return p;
    }
    const QJsonValue identity = o.value(QStringLiteral("sameIdentity"));
    const QJsonValue layout = o.value(QStringLiteral("sameLayout"));
    if (!identity.isBool() || !layout.isBool()) {
        *problem = QStringLiteral("pair %1 ~ %2: sameIdentity and sameLayout must be booleans")
                       .arg(p.shotA, p.shotB);
        return std::nullopt;
    }
    p.verdict.sameIdentity = identity.toBool();
    p.verdict.sameLayout = layout.toBool();
    p.verdict.reasons = o.value(QStringLiteral("reasons")).toString();
    p.verdict.model = o.value(QStringLiteral("model")).toString();
    return p;
}

} // namespace

QJsonObject StoryboardJudgements::toJson() const
{
    QJsonArray shotArray;
    for (const ShotJudgement& s : shots)
        shotArray.append(shotJson(s));
    QJsonArray pairArray;
    for (const SamenessJudgement& p : pairs)
        pairArray.append(pairJson(p));
    return QJsonObject{{QStringLiteral("version"), kVersion},
                       {QStringLiteral("shots"), shotArray},
                       {QStringLiteral("pairs"), pairArray}};
}

std::optional<StoryboardJudgements> StoryboardJudgements::fromJson(const QJsonObject& json, QString* error)
{
    if (json.value(QStringLiteral("version")).toInt() != kVersion) {
        *error = QStringLiteral("unsupported version %1 (this build reads %2)")
                     .arg(json.value(QStringLiteral("version")).toVariant().toString())
                     .arg(kVersion);
        return std::nullopt;
    }
    if (!json.value(QStringLiteral("shots")).isArray() || !json.value(QStringLiteral("pairs")).isArray()) {
        *error = QStringLiteral("\"shots\" and \"pairs\" must be arrays");
        return std::nullopt;
    }
    StoryboardJudgements out;
    QString problem;
    for (const QJsonValue& v : json.value(QStringLiteral("shots")).toArray()) {
        const auto s = shotFrom(v.toObject(), &problem);
        if (!s) {
            *error = problem;
            return std::nullopt;
        }
        out.shots.append(*s);
    }
    for (const QJsonValue& v : json.value(QStringLiteral("pairs")).toArray()) {
        const auto p = pairFrom(v.toObject(), &problem);
        if (!p) {
            *error = problem;
            return std::nullopt;
        }
        out.pairs.append(*p);
    }
    return out;
}

Error StoryboardJudgements::write(const QString& dir) const
{
    return AtomicFile::write(QDir(dir).filePath(fileName()),
                             QJsonDocument(toJson()).toJson(QJsonDocument::Indented));
}

std::optional<StoryboardJudgements> StoryboardJudgements::read(const QString& dir, Error* error)
{
    *error = {};
    const QString path = QDir(dir).filePath(fileName());
    if (!QFileInfo::exists(path))
        return std::nullopt;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = {
            QStringLiteral("io"), QStringLiteral("Cannot read %1: %2").arg(path, file.errorString()), {}};
        return std::nullopt;
    }
    if (file.size() > kMaxFileBytes) {
        *error = {QStringLiteral("tooLarge"),
                  QStringLiteral("%1 is %2 bytes, above the %3-byte limit")
                      .arg(path)
                      .arg(file.size())
                      .arg(kMaxFileBytes),
                  {}};
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    QString problem = parseError.error != QJsonParseError::NoError ? parseError.errorString()
                      : !doc.isObject()                            ? QStringLiteral("not a JSON object")
                                                                   : QString();
    std::optional<StoryboardJudgements> out;
    if (problem.isEmpty())
        out = fromJson(doc.object(), &problem);
    if (!out)
        *error = {QStringLiteral("parse"), QStringLiteral("%1: %2").arg(path, problem), {}};
    return out;
}

} // namespace gd::quality
