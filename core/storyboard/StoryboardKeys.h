#pragma once

#include <QString>

namespace gd::storyboard {

// Builds and reads the item keys of storyboard.json and the directories their files live in, so
// every stage names a character-look, location or shot the same way.
class StoryboardKeys
{
public:
    static QString character(const QString& name, const QString& look); // "character:Mara Voss#storm-coat"
    static QString location(const QString& name);                       // "location:Lamp room"
    static QString style();                                             // "style"
    static QString shot(const QString& sceneId, const QString& shotId); // "scene-001/shot-01"
    // How the operator names a shot's end keyframe (CLI keys, StoryboardController::start keys):
    // "scene-001/shot-01#end". Shot keys never contain '#'.
    static QString endKeyframe(const QString& shotKey);
    static bool isEndKeyframeKey(const QString& key);
    // The shot key of an end-keyframe key ("" when `key` is not one).
    static QString shotOfEndKeyframe(const QString& key);

    // What people read in reasons and messages: "Mara Voss#storm-coat", "Lamp room", "style".
    static QString displayName(const QString& referenceKey);
    // A valid reference key (one of the three forms above, with a non-empty name)?
    static bool isReferenceKey(const QString& key);

    // Lower-case letters and digits with '-' between words; never empty, never contains '/', '.',
    // or '_' (so it cannot collide with the reserved "_locations" and "_style" folders).
    static QString slug(const QString& text);
    // Relative directory of a reference's files: "refs/<slug>/<look-slug>", "refs/_locations/<slug>"
    // or "refs/_style"; empty for an invalid key.
    static QString referenceDir(const QString& referenceKey);
    // "keyframes/<sceneId>/<shotId>" and "clips/<sceneId>/<shotId>" (slugged when a part is unsafe).
    static QString keyframeDir(const QString& shotKey);
    static QString clipDir(const QString& shotKey);
    // "keyframes/<sceneId>/<shotId>/end": the end keyframe's candidates of a bookend shot.
    static QString endKeyframeDir(const QString& shotKey);
};

} // namespace gd::storyboard
