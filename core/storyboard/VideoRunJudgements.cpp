#include "storyboard/VideoRunJudgements.h"

#include "quality/StoryboardMetrics.h"
#include "storyboard/ShotList.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <algorithm>

namespace gd::storyboard {

namespace {

// Recorded verdicts are trusted only for the keyframe bytes they were given on.
const quality::ShotJudgement* recordedShot(const std::optional<quality::StoryboardJudgements>& recorded,
                                           const QString& key, const QString& sha256)
{
    if (!recorded || sha256.isEmpty())
        return nullptr;
    for (const quality::ShotJudgement& s : recorded->shots)
        if (s.key() == key && s.keyframeSha256 == sha256)
            return &s;
    return nullptr;
}

} // namespace

std::optional<quality::StoryboardJudgements> VideoRunJudgements::recorded(const QString& storyboardDir,
                                                                          Error* error)
{
    *error = {};
    const QString path = QDir(storyboardDir).filePath(metricsFileName());
    if (!QFileInfo::exists(path))
        return std::nullopt;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly) || file.size() > quality::StoryboardJudgements::kMaxFileBytes) {
        *error = {QStringLiteral("io"),
                  QStringLiteral("Cannot read %1: %2")
                      .arg(path, file.isOpen() ? QStringLiteral("too large") : file.errorString()),
                  {}};
        return std::nullopt;
    }
    const QJsonObject doc = QJsonDocument::fromJson(file.readAll()).object();
    if (!doc.value(QStringLiteral("judgements")).isObject())
        return std::nullopt;
    QString problem;
    auto out =
        quality::StoryboardJudgements::fromJson(doc.value(QStringLiteral("judgements")).toObject(), &problem);
    if (!out)
        *error = {QStringLiteral("parse"), QStringLiteral("%1: judgements: %2").arg(path, problem), {}};
    return out;
}

quality::StoryboardJudgements
VideoRunJudgements::build(const story::Story& story, const StoryboardState& state,
                          const VideoRenderStory& render,
                          const std::optional<quality::StoryboardJudgements>& recorded)
{
    const ShotList shots(story);
    struct Rendered
    {
        int order = 0; // story order
        QString key;
        QString sha256;
    };
    QVector<Rendered> rendered;
    quality::StoryboardJudgements out;
    for (qsizetype i = 0; i < render.items.size() && i < render.story.scenes.size(); ++i) {
        const QString& key = render.items.at(i).key;
        const ShotRef* ref = shots.find(key);
        const ShotEntry* entry = state.findShot(key);
        const Candidate* c = entry ? entry->keyframe.selectedCandidate() : nullptr;
        if (!ref || !c)
            continue;
        quality::ShotJudgement j;
        j.sceneId = render.story.scenes.at(i).id;
        j.shotId = key;
        j.expectedCharacters = int(ref->shot.visibleCharacters.size());
        j.keyframeSha256 = c->sha256;
        const quality::ShotJudgement* rec = recordedShot(recorded, key, c->sha256);
        if (c->judge) {
            if (auto v = quality::KeyframeVerdict::fromJson(c->judge->raw)) {
                j.keyframe = *v;
            } else {
                quality::KeyframeVerdict bad;
                bad.error = {QStringLiteral("judge"),
                             QStringLiteral("the stored verdict in storyboard.json is malformed"),
                             {}};
                j.keyframe = bad;
            }
        } else if (rec && rec->keyframe && !rec->keyframe->ok()) {
            j.keyframe = rec->keyframe; // e.g. "no vision model: …" as the keyframe stage found it
        } else {
            quality::KeyframeVerdict none;
            none.error = {
                QStringLiteral("no_model"), QStringLiteral("the selected keyframe was not judged"), {}};
            j.keyframe = none;
        }
        if (rec && rec->alignment) {
            j.alignment = rec->alignment;
        } else {
            quality::AlignmentVerdict none;
            none.error = {
                QStringLiteral("no_model"),
                QStringLiteral("the keyframe stage recorded no alignment verdict on the selected keyframe"),
                {}};
            j.alignment = none;
        }
        out.shots.append(j);
        rendered.append({shots.indexOf(key), key, c->sha256});
    }

    std::sort(rendered.begin(), rendered.end(),
              [](const Rendered& a, const Rendered& b) { return a.order < b.order; });
    QStringList order;
    QHash<QString, QString> shaOf;
    for (const Rendered& r : std::as_const(rendered)) {
        order << r.key;
        shaOf.insert(r.key, r.sha256);
    }
    for (const auto& [a, b] : quality::StoryboardMetrics::samenessPairs(order)) {
        quality::SamenessJudgement pair{a, b, {}};
        bool found = false;
        if (recorded && recordedShot(recorded, a, shaOf.value(a)) &&
            recordedShot(recorded, b, shaOf.value(b)))
            for (const quality::SamenessJudgement& p : recorded->pairs)
                if (p.shotA == a && p.shotB == b) {
                    pair.verdict = p.verdict;
                    found = true;
                    break;
                }
        if (!found)
            pair.verdict.error = {
                QStringLiteral("no_model"),
                QStringLiteral("the keyframe stage recorded no sameness verdict on these two keyframes"),
                {}};
        out.pairs.append(pair);
    }
    return out;
}

Error VideoRunJudgements::writeForRun(const QString& storyboardDir, const QString& runDir,
                                      const story::Story& story, const StoryboardState& state,
                                      const VideoRenderStory& render, QString* warning)
{
    Error e;
    const auto rec = recorded(storyboardDir, &e);
    if (!e.isNull() && warning)
        *warning = e.message;
    return build(story, state, render, rec).write(runDir);
}

} // namespace gd::storyboard
