#pragma once

// A small story for the storyboard tests and a helper that "renders" storyboard items the way the
// orchestration will: a new version from the current inputs, candidates with content hashes, the
// first candidate chosen, selected and approved.

#include "story/Story.h"
#include "storyboard/InputHasher.h"
#include "storyboard/StoryboardInputs.h"
#include "storyboard/StoryboardKeys.h"
#include "storyboard/StoryboardState.h"

namespace sbtest {

using namespace gd::storyboard;

inline gd::story::StoryShot shot(const QString& id, const QString& firstFrame,
                                 const QVector<gd::story::ShotCharacter>& who, const QString& continuesFrom = {})
{
    gd::story::StoryShot s;
    s.id = id;
    s.description = firstFrame + QStringLiteral(" (description)");
    s.firstFrame = firstFrame;
    s.visibleCharacters = who;
    s.continuesFrom = continuesFrom;
    return s;
}

// Mara Voss (looks storm-coat, dress), Tom Reed (no looks: "default"), the Lamp room; scene-001
// has four shots (Mara; Tom; Mara+Tom; nobody), scene-002 has none (one implicit shot with Tom).
inline gd::story::Story lighthouse()
{
    using namespace gd::story;
    Story story;
    story.storyId = QStringLiteral("sb-test");
    StoryCharacter mara;
    mara.name = QStringLiteral("Mara Voss");
    mara.visualDescriptor = QStringLiteral("keeper, 40s");
    mara.referencePrompt = QStringLiteral("character sheet, Mara Voss");
    mara.looks = {CharacterLook{QStringLiteral("storm-coat"), QStringLiteral("orange storm coat"),
                                QStringLiteral("character sheet, Mara Voss, orange storm coat")},
                  CharacterLook{QStringLiteral("dress"), QStringLiteral("grey dress"),
                                QStringLiteral("character sheet, Mara Voss, grey dress")}};
    StoryCharacter tom;
    tom.name = QStringLiteral("Tom Reed");
    tom.visualDescriptor = QStringLiteral("fisherman");
    tom.referencePrompt = QStringLiteral("character sheet, Tom Reed, fisherman");
    story.characters = {mara, tom};
    story.locations = {StoryLocation{QStringLiteral("Lamp room"), QStringLiteral("glass and brass"),
                                     QStringLiteral("location sheet, lamp room"), {}}};
    story.style.text = QStringLiteral("muted film");
    story.style.negativePrompt = QStringLiteral("text, watermark");

    StoryScene one;
    one.id = QStringLiteral("scene-001");
    one.prompt = QStringLiteral("storm over the lighthouse");
    const ShotCharacter maraCoat{QStringLiteral("Mara Voss"), QStringLiteral("storm-coat")};
    const ShotCharacter tomDefault{QStringLiteral("Tom Reed"), QString()};
    one.shots = {shot(QStringLiteral("shot-01"), QStringLiteral("Mara at the lamp"), {maraCoat}),
                 shot(QStringLiteral("shot-02"), QStringLiteral("Tom on the pier"), {tomDefault}),
                 shot(QStringLiteral("shot-03"), QStringLiteral("Mara and Tom argue"), {maraCoat, tomDefault}),
                 shot(QStringLiteral("shot-04"), QStringLiteral("the empty stairs"), {})};
    StoryScene two;
    two.id = QStringLiteral("scene-002");
    two.prompt = QStringLiteral("dawn at the harbour");
    two.characters = {QStringLiteral("Tom Reed"), QStringLiteral("a gull")};
    story.scenes = {one, two};
    return story;
}

// The lighthouse story with a lastFrame on shot-01 (Mara): a bookend shot.
inline gd::story::Story bookend()
{
    gd::story::Story story = lighthouse();
    story.scenes[0].shots[0].lastFrame = QStringLiteral("Mara turns the lamp off");
    return story;
}

inline InputContext context()
{
    InputContext c;
    c.referenceProfileHash = QStringLiteral("ref-profile-1");
    c.referenceModel = QStringLiteral("sdxl");
    c.keyframeProfileHash = QStringLiteral("kf-profile-1");
    c.keyframeModel = QStringLiteral("sdxl");
    c.clipProfileHash = QStringLiteral("i2v-profile-1");
    c.clipModel = QStringLiteral("wan");
    return c;
}

// A fake content hash that differs per item and render.
inline QString fakeSha(const QString& what)
{
    return InputHasher::sha256Hex(what.toUtf8());
}

// Renders an image item from its current inputs: 3 candidates, the first chosen and approved.
inline int renderImage(StoryboardState& state, const StoryboardInputs& inputs, ItemKind kind, const QString& key,
                       const QString& salt = {})
{
    const CurrentInputs cur = kind == ItemKind::Keyframe      ? inputs.keyframe(key, true)
                              : kind == ItemKind::EndKeyframe ? inputs.endKeyframe(key, true)
                                                              : inputs.reference(key);
    ImageVersion v;
    v.inputHash = cur.hash;
    v.inputs = cur.inputs;
    v.profile = kind == ItemKind::Reference ? QStringLiteral("sheet-sdxl") : QStringLiteral("keyframe-sdxl");
    const QString tag = kind == ItemKind::EndKeyframe ? QStringLiteral("#end") : QString();
    for (int k = 1; k <= 3; ++k)
        v.candidates.append(Candidate{QStringLiteral("x/v-c%1.png").arg(k),
                                      fakeSha(key + tag + salt + QString::number(k)), 1000 + k, std::nullopt,
                                      std::nullopt, {}});
    const int n = kind == ItemKind::Keyframe      ? state.addKeyframeVersion(key, v)
                  : kind == ItemKind::EndKeyframe ? state.addEndKeyframeVersion(key, v)
                                                  : state.addReferenceVersion(key, v);
    state.choose(kind, key, n, 1, ChosenBy::Judge);
    state.approve(kind, key);
    return n;
}

inline int renderClip(StoryboardState& state, const StoryboardInputs& inputs, const QString& shotKey,
                      const QString& salt = {})
{
    const CurrentInputs cur = inputs.clip(shotKey);
    ClipVersion v;
    v.inputHash = cur.hash;
    v.inputs = cur.inputs;
    v.dir = StoryboardKeys::clipDir(shotKey) + QStringLiteral("/v1");
    v.frames = 25;
    v.lastFrameSha256 = fakeSha(shotKey + salt + QStringLiteral("last"));
    const int n = state.addClipVersion(shotKey, v);
    state.approve(ItemKind::Clip, shotKey);
    return n;
}

// Renders everything (sheets, keyframes, clips in story order) so that all of it is fresh.
inline void renderAll(const gd::story::Story& story, StoryboardState& state, const InputContext& ctx = context())
{
    {
        const StoryboardInputs inputs(story, state, ctx);
        for (const QString& key : inputs.referenceKeys())
            renderImage(state, inputs, ItemKind::Reference, key);
    }
    {
        const StoryboardInputs inputs(story, state, ctx);
        for (const ShotRef& s : inputs.shotList().shots()) {
            renderImage(state, inputs, ItemKind::Keyframe, s.key);
            if (StoryboardInputs::isBookend(s))
                renderImage(state, inputs, ItemKind::EndKeyframe, s.key);
        }
    }
    const StoryboardInputs inputs(story, state, ctx);
    for (const ShotRef& s : inputs.shotList().shots())
        renderClip(state, inputs, s.key);
}

} // namespace sbtest
