#pragma once

#include "storyboard/StalenessCalculator.h"
#include "storyboard/StoryboardInputs.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

namespace gd::storyboard {

enum class PlanStage
{
    References,       // sheets not rendered yet or stale
    Keyframes,        // keyframes (and bookend shots' end keyframes) not rendered yet or stale
    VideoForApproved, // clips of shots whose keyframe (and, for a bookend profile, end keyframe) is approved and fresh
    UpdateStale,      // every stale item (sheets, keyframes, clips), nothing else
};

// One render to do, with the inputs it renders from and their hash (stored in the new version).
struct WorkItem
{
    ItemKind kind = ItemKind::Reference;
    QString key;
    Freshness was = Freshness::Missing; // Missing or Stale
    QStringList reasons;                // why it is rendered (the staleness reasons)
    QJsonObject inputs;
    QString inputHash;
    bool textOnly = false; // rendered without some sheets (operator allowed it)
    // Non-empty: the inputs depend on an item earlier in this plan (a chained clip needs the
    // previous clip's last frame; a keyframe the sheet being re-rendered), so inputs/inputHash are
    // empty here and are taken from StoryboardInputs once that item is done.
    QString waitsFor;
};

// An item the stage would render but cannot, with the message shown to the operator.
struct BlockedItem
{
    ItemKind kind = ItemKind::Reference;
    QString key;
    QString message;
};

struct PlanOptions
{
    bool allowTextOnly = false; // render keyframes of shots without approved sheets from text alone
};

struct Plan
{
    PlanStage stage = PlanStage::References;
    QVector<WorkItem> items; // in render order
    QVector<BlockedItem> blocked;
    int skippedFresh = 0;
};

// Decides what a stage renders next: missing or stale items with their inputs and hash, fresh ones
// skipped, blocked ones listed with their message.
class StoryboardPlan
{
public:
    static Plan build(PlanStage stage, const StoryboardInputs& inputs, const StalenessReport& report,
                      const PlanOptions& options = {});
    static QString stageName(PlanStage stage); // "references", "keyframes", "video", "update-stale"
};

} // namespace gd::storyboard
