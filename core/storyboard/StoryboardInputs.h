#pragma once

#include "story/Story.h"
#include "storyboard/ChainPlanner.h"
#include "storyboard/ShotList.h"
#include "storyboard/StoryboardState.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <functional>

namespace gd::storyboard {

// What the current story and settings say an item's inputs are, or why it cannot be rendered.
struct CurrentInputs
{
    QJsonObject inputs;
    QString hash;     // InputHasher::hash(inputs); "" when blocked
    QString blocked;  // "shot names Mara Voss, who has no approved sheet (look storm-coat)"
    bool textOnly = false;
};

// The settings that enter input hashes besides the story: profiles, models, prompt composition.
struct InputContext
{
    QString referenceProfileHash;
    QString referenceModel;
    QString keyframeProfileHash;
    // The text keyframe profile's hash: keyframes with no character reference (a shot showing no one,
    // or text-only) render with that profile, so their hash names it. "" = they use keyframeProfileHash.
    QString textKeyframeProfileHash;
    // The model files each profile's graph loads (comfy::WorkflowProfile::modelText()).
    QString keyframeModel;
    QString textKeyframeModel;
    // Whether the keyframe profile / the text keyframe profile maps style_reference_image. Only then
    // is the story's style reference image uploaded, so only then does its sha256 enter a keyframe's
    // inputs (and an image not uploaded yet block it); otherwise the inputs say "styleReferenceUnused".
    bool keyframeUsesStyleImage = true;
    bool textKeyframeUsesStyleImage = true;
    QString clipProfileHash;
    QString clipModel;
    int chainCap = ChainPlanner::kDefaultCap;
    // Seed of an item never rendered; < 0: derived from the item key (stable across runs). An item
    // already rendered keeps the seed of its selected version, so only upstream edits change hashes.
    qint64 baseSeed = -1;
    // Prompt composition belongs to core/story; these receive its result. Defaults: the look's (or
    // location's) referencePrompt; story::composeShotPrompt; description, camera and motion joined.
    std::function<QString(const story::Story&, const QString& referenceKey)> referencePrompt;
    std::function<QString(const story::Story&, const ShotRef&)> keyframePrompt;
    std::function<QString(const story::Story&, const ShotRef&)> clipPrompt;
    // Defaults: the style's negative prompt (references); story::composeShotPrompt's (keyframes).
    std::function<QString(const story::Story&, const QString& referenceKey)> referenceNegative;
    std::function<QString(const story::Story&, const ShotRef&)> keyframeNegative;
    // The video profile maps end_image (a bookend profile): the clip of a shot with a lastFrame ends on
    // the shot's end keyframe, whose selected candidate's sha256 enters the clip inputs ("end"). False:
    // lastFrame is ignored by the video pass and clips hash no end image.
    bool clipUsesEndImage = false;
    // Overrides where a clip's end image comes from: sha256 of the shot's end image ("" = none).
    // Unset (the default): the end keyframe's, as clipUsesEndImage says.
    std::function<QString(const ShotRef&)> endImageSha256;
};

// Builds the current inputs (and their hash) of every storyboard item from the story, the state's
// selected and approved upstream artifacts, and the context. This is the "current input hashes"
// function the staleness calculator and the plan use. Holds references: story and state must
// outlive it.
class StoryboardInputs
{
public:
    StoryboardInputs(const story::Story& story, const StoryboardState& state, InputContext context = {});

    const story::Story& story() const { return m_story; }
    const StoryboardState& state() const { return m_state; }
    const InputContext& context() const { return m_context; }
    const ShotList& shotList() const { return m_shots; }
    const QVector<ChainLink>& chain() const { return m_chain; }
    const ChainLink* linkOf(const QString& shotKey) const;

    // Every reference the story needs: each character look, each location with a reference
    // prompt, and "style" when the story names a style reference image.
    QStringList referenceKeys() const;
    // The reference keys a shot's keyframe is anchored on (its visible characters' looks).
    QStringList referencesOfShot(const ShotRef& shot) const;

    CurrentInputs reference(const QString& key) const;
    // allowTextOnly: a visible character without an approved sheet is left out instead of blocking.
    CurrentInputs keyframe(const QString& shotKey, bool allowTextOnly = false) const;
    // The end keyframe of a bookend shot: like its keyframe (same sheets, style, profile) but composed
    // from the shot's lastFrame, with kind "endKeyframe" and a seed of its own. Blocked for a shot
    // without a lastFrame.
    CurrentInputs endKeyframe(const QString& shotKey, bool allowTextOnly = false) const;
    // A shot with a lastFrame: the keyframes stage renders an end keyframe for it.
    static bool isBookend(const ShotRef& shot);
    // Whether the clip of this shot renders to its end keyframe (a bookend shot and a video profile
    // mapping end_image).
    bool clipNeedsEndKeyframe(const ShotRef& shot) const;
    CurrentInputs clip(const QString& shotKey) const;
    // Whether keyframe inputs name no character reference image: such a keyframe renders with the text
    // keyframe profile (no reference slot can be filled).
    static bool rendersFromText(const QJsonObject& keyframeInputs);
    CurrentInputs current(ItemKind kind, const QString& key) const;

    // The seed an item renders with (see InputContext::baseSeed). An end keyframe never rendered
    // derives its own: from "<shotKey>#end", or baseSeed + kEndKeyframeSeedOffset.
    qint64 seedFor(ItemKind kind, const QString& key) const;
    static constexpr qint64 kEndKeyframeSeedOffset = 100000;

private:
    CurrentInputs shotImage(ItemKind kind, const QString& shotKey, bool allowTextOnly) const;

    const story::Story& m_story;
    const StoryboardState& m_state;
    InputContext m_context;
    ShotList m_shots;
    QVector<ChainLink> m_chain;
};

} // namespace gd::storyboard
