#include "storyboard/StalenessCalculator.h"

#include "storyboard/StoryboardKeys.h"

#include <QJsonArray>
#include <QMap>

namespace gd::storyboard {

namespace {

QString indexKey(ItemKind kind, const QString& key)
{
    return QString::number(static_cast<int>(kind)) + QLatin1Char('|') + key;
}

QMap<QString, QString> referenceMap(const QJsonObject& inputs)
{
    QMap<QString, QString> m;
    const QJsonArray refs = inputs.value(QLatin1String("references")).toArray();
    for (const QJsonValue& v : refs) {
        const QJsonObject o = v.toObject();
        m.insert(o.value(QLatin1String("key")).toString(), o.value(QLatin1String("sha256")).toString());
    }
    return m;
}

// "model changed: a.safetensors → b.safetensors": the files (WorkflowProfile::modelText(), joined
// with ", ") that left and joined the profile's graph.
QString modelReason(const QString& was, const QString& now)
{
    const QStringList before = was.isEmpty() ? QStringList() : was.split(QStringLiteral(", "));
    const QStringList after = now.isEmpty() ? QStringList() : now.split(QStringLiteral(", "));
    QStringList gone, added;
    for (const QString& m : before)
        if (!after.contains(m))
            gone << m;
    for (const QString& m : after)
        if (!before.contains(m))
            added << m;
    if (gone.isEmpty() && added.isEmpty())
        return QStringLiteral("model changed");
    if (gone.isEmpty())
        return QStringLiteral("model changed: %1 added").arg(added.join(QStringLiteral(", ")));
    if (added.isEmpty())
        return QStringLiteral("model changed: %1 removed").arg(gone.join(QStringLiteral(", ")));
    return QStringLiteral("model changed: %1 → %2").arg(gone.join(QStringLiteral(", ")), added.join(QStringLiteral(", ")));
}

void addReason(QStringList& reasons, const QString& reason)
{
    if (!reasons.contains(reason))
        reasons << reason;
}

// Status of an image item (sheet or keyframe) from its track.
ItemStatus imageStatus(ItemKind kind, const QString& key, const ImageTrack* track, const CurrentInputs& cur)
{
    ItemStatus st{kind, key, Freshness::Fresh, {}};
    const ImageVersion* v = track ? track->selectedVersion() : nullptr;
    if (!v || !v->chosenCandidate()) {
        if (!cur.blocked.isEmpty()) {
            st.freshness = Freshness::Blocked;
            st.reasons << cur.blocked;
        } else {
            st.freshness = Freshness::Missing;
            st.reasons << (v ? QStringLiteral("no candidate chosen yet") : QStringLiteral("not rendered yet"));
        }
        return st;
    }
    if (!cur.blocked.isEmpty()) {
        st.freshness = Freshness::Stale;
        st.reasons << cur.blocked;
    } else if (cur.hash != v->inputHash) {
        st.freshness = Freshness::Stale;
        st.reasons = StalenessCalculator::diffReasons(v->inputs, cur.inputs);
    }
    return st;
}

} // namespace

const ItemStatus* StalenessReport::find(ItemKind kind, const QString& key) const
{
    const int i = index.value(indexKey(kind, key), -1);
    return i < 0 ? nullptr : &items.at(i);
}

int StalenessReport::count(ItemKind kind, Freshness freshness) const
{
    int n = 0;
    for (const ItemStatus& s : items)
        n += s.kind == kind && s.freshness == freshness ? 1 : 0;
    return n;
}

QStringList StalenessCalculator::diffReasons(const QJsonObject& recorded, const QJsonObject& current)
{
    QStringList reasons;
    if (recorded.isEmpty()) {
        reasons << QStringLiteral("inputs changed");
        return reasons;
    }
    const auto changed = [&](const char* field) {
        return recorded.value(QLatin1String(field)) != current.value(QLatin1String(field));
    };
    if (changed("prompt"))
        addReason(reasons, QStringLiteral("prompt edited"));
    if (changed("negative"))
        addReason(reasons, QStringLiteral("negative prompt edited"));
    if (changed("references")) {
        const QMap<QString, QString> was = referenceMap(recorded);
        const QMap<QString, QString> now = referenceMap(current);
        for (auto it = now.cbegin(); it != now.cend(); ++it) {
            const QString name = StoryboardKeys::displayName(it.key());
            if (!was.contains(it.key()))
                addReason(reasons, QStringLiteral("sheet of %1 added").arg(name));
            else if (was.value(it.key()) != it.value())
                addReason(reasons, QStringLiteral("sheet of %1 changed").arg(name));
        }
        for (auto it = was.cbegin(); it != was.cend(); ++it)
            if (!now.contains(it.key()))
                addReason(reasons, QStringLiteral("%1 no longer in the shot").arg(StoryboardKeys::displayName(it.key())));
    }
    if (changed("styleReference"))
        addReason(reasons, QStringLiteral("style reference changed"));
    if (changed("start")) {
        addReason(reasons, current.value(QLatin1String("startSource")).toString() == QLatin1String("previousLastFrame")
                               ? QStringLiteral("previous shot's last frame changed")
                               : QStringLiteral("keyframe re-rendered"));
    }
    if (changed("startSource"))
        addReason(reasons, QStringLiteral("first frame source changed (chain)"));
    if (changed("end"))
        addReason(reasons, current.value(QLatin1String("end")).toString().isEmpty()
                               ? QStringLiteral("end keyframe no longer used")
                           : recorded.value(QLatin1String("end")).toString().isEmpty()
                               ? QStringLiteral("end keyframe now used")
                               : QStringLiteral("end keyframe re-rendered"));
    if (changed("profileHash"))
        addReason(reasons, QStringLiteral("profile changed"));
    if (changed("model"))
        addReason(reasons, modelReason(recorded.value(QLatin1String("model")).toString(),
                                       current.value(QLatin1String("model")).toString()));
    if (changed("seed"))
        addReason(reasons, QStringLiteral("seed changed"));
    if (changed("textOnly"))
        addReason(reasons, current.value(QLatin1String("textOnly")).toBool() ? QStringLiteral("now text-only")
                                                                             : QStringLiteral("no longer text-only"));
    if (reasons.isEmpty())
        reasons << QStringLiteral("inputs changed");
    return reasons;
}

StalenessReport StalenessCalculator::compute(const StoryboardInputs& inputs)
{
    return compute(inputs, [&inputs](ItemKind kind, const QString& key, bool allowTextOnly) {
        if (kind == ItemKind::Keyframe)
            return inputs.keyframe(key, allowTextOnly);
        if (kind == ItemKind::EndKeyframe)
            return inputs.endKeyframe(key, allowTextOnly);
        return inputs.current(kind, key);
    });
}

StalenessReport StalenessCalculator::compute(const StoryboardInputs& inputs, const CurrentInputsFn& current)
{
    const StoryboardState& state = inputs.state();
    StalenessReport report;
    const auto add = [&report](const ItemStatus& s) {
        report.index.insert(indexKey(s.kind, s.key), report.items.size());
        report.items.append(s);
    };

    for (const QString& key : inputs.referenceKeys()) {
        const ReferenceEntry* ref = state.findReference(key);
        const ImageVersion* v = ref ? ref->track.selectedVersion() : nullptr;
        if (v && v->source == QLatin1String("uploaded") && v->chosenCandidate()) {
            // An operator's upload is its own input: edits to the prompt do not replace it.
            add(ItemStatus{ItemKind::Reference, key, Freshness::Fresh, {}});
            continue;
        }
        add(imageStatus(ItemKind::Reference, key, ref ? &ref->track : nullptr, current(ItemKind::Reference, key, false)));
    }

    const QVector<ShotRef>& shots = inputs.shotList().shots();
    for (int i = 0; i < shots.size(); ++i) {
        const ShotRef& shot = shots.at(i);
        const ShotEntry* entry = state.findShot(shot.key);

        // Keyframe (and a bookend shot's end keyframe): its own inputs, then the sheets it is anchored on.
        const auto shotImageStatus = [&](ItemKind kind, const ImageTrack* track) {
            const ImageVersion* version = track ? track->selectedVersion() : nullptr;
            const bool textOnly = version && version->inputs.value(QLatin1String("textOnly")).toBool();
            ItemStatus st = imageStatus(kind, shot.key, track, current(kind, shot.key, textOnly));
            if (st.freshness == Freshness::Fresh || st.freshness == Freshness::Stale) {
                for (const QString& refKey : inputs.referencesOfShot(shot)) {
                    const ItemStatus* rs = report.find(ItemKind::Reference, refKey);
                    if (rs && rs->freshness == Freshness::Stale) {
                        st.freshness = Freshness::Stale;
                        addReason(st.reasons,
                                  QStringLiteral("sheet of %1 is stale").arg(StoryboardKeys::displayName(refKey)));
                    }
                }
            }
            return st;
        };
        const ItemStatus kf = shotImageStatus(ItemKind::Keyframe, entry ? &entry->keyframe : nullptr);
        add(kf);
        ItemStatus end{ItemKind::EndKeyframe, shot.key, Freshness::Missing, {}};
        if (StoryboardInputs::isBookend(shot)) {
            end = shotImageStatus(ItemKind::EndKeyframe, entry ? &entry->endKeyframe : nullptr);
            add(end);
        }

        // Clip: its own inputs, then its first frame's source (keyframe or the previous clip).
        ItemStatus cl{ItemKind::Clip, shot.key, Freshness::Fresh, {}};
        const ClipVersion* cv = entry ? entry->clip.selectedVersion() : nullptr;
        if (!cv) {
            cl.freshness = Freshness::Missing;
            cl.reasons << QStringLiteral("not rendered yet");
            add(cl);
            continue;
        }
        const CurrentInputs cur = current(ItemKind::Clip, shot.key, false);
        if (!cur.blocked.isEmpty()) {
            cl.freshness = Freshness::Stale;
            cl.reasons << cur.blocked;
        } else if (cur.hash != cv->inputHash) {
            cl.freshness = Freshness::Stale;
            cl.reasons = diffReasons(cv->inputs, cur.inputs);
        }
        const ChainLink& link = inputs.chain().at(i);
        if (link.source == FirstFrameSource::PreviousLastFrame) {
            const ItemStatus* prev = report.find(ItemKind::Clip, link.previousKey);
            if (prev && prev->freshness == Freshness::Stale) {
                cl.freshness = Freshness::Stale;
                addReason(cl.reasons, QStringLiteral("clip of %1 is stale").arg(link.previousKey));
            }
        } else if (kf.freshness == Freshness::Stale) {
            cl.freshness = Freshness::Stale;
            addReason(cl.reasons, QStringLiteral("keyframe is stale"));
        }
        // A chained shot still ends on its own end keyframe.
        if (inputs.clipNeedsEndKeyframe(shot) && end.freshness == Freshness::Stale) {
            cl.freshness = Freshness::Stale;
            addReason(cl.reasons, QStringLiteral("end keyframe is stale"));
        }
        add(cl);
    }
    return report;
}

} // namespace gd::storyboard
