#include "storyboard/StoryboardPlan.h"

#include "storyboard/StoryboardKeys.h"

namespace gd::storyboard {

namespace {

const QString kNoEndImageNote =
    QStringLiteral("the video profile maps no end_image: lastFrame ignored, the end keyframe is not used");

class Builder
{
public:
    Builder(PlanStage stage, const StoryboardInputs& inputs, const StalenessReport& report, const PlanOptions& options)
        : m_inputs(inputs), m_report(report), m_options(options)
    {
        m_plan.stage = stage;
    }

    Plan take() { return std::move(m_plan); }

    bool planned(ItemKind kind, const QString& key) const
    {
        for (const WorkItem& w : m_plan.items)
            if (w.kind == kind && w.key == key)
                return true;
        return false;
    }

    void block(ItemKind kind, const QString& key, const QString& message)
    {
        m_plan.blocked.append(BlockedItem{kind, key, message});
    }

    void addWork(const ItemStatus& st, const CurrentInputs& cur, const QString& waitsFor = {})
    {
        WorkItem w;
        w.kind = st.kind;
        w.key = st.key;
        w.was = st.freshness;
        w.reasons = st.reasons;
        w.waitsFor = waitsFor;
        if (waitsFor.isEmpty()) {
            w.inputs = cur.inputs;
            w.inputHash = cur.hash;
            w.textOnly = cur.textOnly;
        }
        m_plan.items.append(w);
    }

    void references(bool staleOnly)
    {
        for (const QString& key : m_inputs.referenceKeys()) {
            const ItemStatus* st = m_report.find(ItemKind::Reference, key);
            if (!st)
                continue;
            if (st->freshness == Freshness::Fresh) {
                ++m_plan.skippedFresh;
                continue;
            }
            if (staleOnly && st->freshness != Freshness::Stale)
                continue;
            const CurrentInputs cur = m_inputs.reference(key);
            if (!cur.blocked.isEmpty())
                block(ItemKind::Reference, key, cur.blocked);
            else
                addWork(*st, cur);
        }
    }

    // Each shot's keyframe, then (bookend shots) its end keyframe: both anchored on the same sheets.
    void keyframes(bool staleOnly)
    {
        for (const ShotRef& shot : m_inputs.shotList().shots()) {
            shotImage(ItemKind::Keyframe, shot, staleOnly);
            if (StoryboardInputs::isBookend(shot))
                shotImage(ItemKind::EndKeyframe, shot, staleOnly);
        }
    }

    void shotImage(ItemKind kind, const ShotRef& shot, bool staleOnly)
    {
        const ItemStatus* st = m_report.find(kind, shot.key);
        if (!st)
            return;
        if (st->freshness == Freshness::Fresh) {
            ++m_plan.skippedFresh;
            return;
        }
        if (staleOnly && st->freshness != Freshness::Stale)
            return;
        // A sheet being re-rendered in this plan: the keyframe renders from the new one.
        QString waitsFor;
        QStringList staleSheets;
        for (const QString& ref : m_inputs.referencesOfShot(shot)) {
            const ItemStatus* rs = m_report.find(ItemKind::Reference, ref);
            if (!rs || rs->freshness != Freshness::Stale)
                continue;
            if (planned(ItemKind::Reference, ref))
                waitsFor = waitsFor.isEmpty() ? ref : waitsFor;
            else
                staleSheets << StoryboardKeys::displayName(ref);
        }
        if (!staleSheets.isEmpty()) {
            block(kind, shot.key,
                  QStringLiteral("sheet of %1 is stale: update the references first")
                      .arg(staleSheets.join(QStringLiteral(", "))));
            return;
        }
        const CurrentInputs cur = kind == ItemKind::EndKeyframe
                                      ? m_inputs.endKeyframe(shot.key, m_options.allowTextOnly)
                                      : m_inputs.keyframe(shot.key, m_options.allowTextOnly);
        if (!cur.blocked.isEmpty() && waitsFor.isEmpty()) {
            block(kind, shot.key, cur.blocked);
            return;
        }
        addWork(*st, cur, waitsFor);
    }

    void clips(bool staleOnly)
    {
        const StoryboardState& state = m_inputs.state();
        const QVector<ShotRef>& shots = m_inputs.shotList().shots();
        for (int i = 0; i < shots.size(); ++i) {
            const ShotRef& shot = shots.at(i);
            const ItemStatus* st = m_report.find(ItemKind::Clip, shot.key);
            if (!st)
                continue;
            if (st->freshness == Freshness::Fresh) {
                ++m_plan.skippedFresh;
                continue;
            }
            if (staleOnly && st->freshness != Freshness::Stale)
                continue;
            const ShotEntry* entry = state.findShot(shot.key);
            const ItemStatus* kf = m_report.find(ItemKind::Keyframe, shot.key);
            if (!entry || !entry->keyframe.approved || !entry->keyframe.selectedCandidate()) {
                block(ItemKind::Clip, shot.key, QStringLiteral("keyframe not approved yet"));
                continue;
            }
            if (kf && kf->freshness != Freshness::Fresh) {
                block(ItemKind::Clip, shot.key, QStringLiteral("keyframe is stale: update it and approve it first"));
                continue;
            }
            // A bookend profile ends the clip on the end keyframe: it passes the same gate.
            if (m_inputs.clipNeedsEndKeyframe(shot)) {
                const ItemStatus* end = m_report.find(ItemKind::EndKeyframe, shot.key);
                if (!entry->endKeyframe.approved || !entry->endKeyframe.selectedCandidate()) {
                    block(ItemKind::Clip, shot.key, QStringLiteral("end keyframe not approved yet"));
                    continue;
                }
                if (end && end->freshness != Freshness::Fresh) {
                    block(ItemKind::Clip, shot.key,
                          QStringLiteral("end keyframe is stale: update it and approve it first"));
                    continue;
                }
            }
            const ChainLink& link = m_inputs.chain().at(i);
            if (link.source == FirstFrameSource::PreviousLastFrame && planned(ItemKind::Clip, link.previousKey)) {
                addWork(*st, {}, link.previousKey);
                continue;
            }
            if (link.source == FirstFrameSource::PreviousLastFrame) {
                const ItemStatus* prev = m_report.find(ItemKind::Clip, link.previousKey);
                if (prev && prev->freshness != Freshness::Fresh) {
                    block(ItemKind::Clip, shot.key,
                          QStringLiteral("continues from %1, whose clip is %2")
                              .arg(link.previousKey, prev->freshness == Freshness::Stale ? QStringLiteral("stale")
                                                                                         : QStringLiteral("not rendered")));
                    continue;
                }
            }
            const CurrentInputs cur = m_inputs.clip(shot.key);
            if (!cur.blocked.isEmpty()) {
                block(ItemKind::Clip, shot.key, cur.blocked);
                continue;
            }
            addWork(*st, cur);
            if (StoryboardInputs::isBookend(shot) && !m_inputs.context().clipUsesEndImage)
                m_plan.items.last().reasons << kNoEndImageNote;
        }
    }

private:
    const StoryboardInputs& m_inputs;
    const StalenessReport& m_report;
    const PlanOptions& m_options;
    Plan m_plan;
};

} // namespace

Plan StoryboardPlan::build(PlanStage stage, const StoryboardInputs& inputs, const StalenessReport& report,
                           const PlanOptions& options)
{
    Builder b(stage, inputs, report, options);
    switch (stage) {
    case PlanStage::References: b.references(false); break;
    case PlanStage::Keyframes: b.keyframes(false); break;
    case PlanStage::VideoForApproved: b.clips(false); break;
    case PlanStage::UpdateStale:
        b.references(true);
        b.keyframes(true);
        b.clips(true);
        break;
    }
    return b.take();
}

QString StoryboardPlan::stageName(PlanStage stage)
{
    switch (stage) {
    case PlanStage::References: return QStringLiteral("references");
    case PlanStage::Keyframes: return QStringLiteral("keyframes");
    case PlanStage::VideoForApproved: return QStringLiteral("video");
    case PlanStage::UpdateStale: return QStringLiteral("update-stale");
    }
    return {};
}

} // namespace gd::storyboard
