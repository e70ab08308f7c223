#pragma once

#include "storyboard/StoryboardInputs.h"
#include "storyboard/StoryboardTypes.h"

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <functional>

namespace gd::storyboard {

enum class Freshness
{
    Fresh,   // the selected version was made from the current inputs
    Stale,   // made from other inputs, or an upstream it used is stale; kept, never deleted
    Missing, // nothing rendered (or chosen) yet
    Blocked, // cannot be rendered now (e.g. a visible character has no approved sheet)
};

struct ItemStatus
{
    ItemKind kind = ItemKind::Reference;
    QString key;
    Freshness freshness = Freshness::Missing;
    QStringList reasons; // stale: "sheet of Mara Voss#storm-coat changed", "prompt edited", ...; blocked: the message
};

// Status of every item of a storyboard, in order: references, then per shot keyframe, end keyframe
// (bookend shots only) and clip.
struct StalenessReport
{
    QVector<ItemStatus> items;
    QHash<QString, int> index; // "<kind>|<key>" → items index

    const ItemStatus* find(ItemKind kind, const QString& key) const;
    int count(ItemKind kind, Freshness freshness) const;
};

// Decides fresh / stale / missing / blocked for each sheet, keyframe and clip, with reasons.
// An item is stale when the hash of its current inputs differs from the selected version's
// inputHash, or when an upstream it used is stale: a sheet → the keyframes showing that
// character-look → their clips (and clips continuing from those clips); a bookend shot's end keyframe
// goes stale like its keyframe, and makes the clip stale when the video profile uses it (end_image).
// Reasons come from comparing the version's recorded inputs with the current ones. Pure: reads,
// never changes state.
class StalenessCalculator
{
public:
    // Current inputs of an item; for keyframes `allowTextOnly` is true when the selected version
    // was rendered text-only by the operator's choice.
    using CurrentInputsFn = std::function<CurrentInputs(ItemKind kind, const QString& key, bool allowTextOnly)>;

    // The story's items from `inputs` (which also supplies the current inputs).
    static StalenessReport compute(const StoryboardInputs& inputs);
    // The same with another source of current inputs (tests, a caller with cached profile hashes).
    static StalenessReport compute(const StoryboardInputs& inputs, const CurrentInputsFn& current);

    // Human reasons for the difference between recorded and current inputs.
    static QStringList diffReasons(const QJsonObject& recorded, const QJsonObject& current);
};

} // namespace gd::storyboard
