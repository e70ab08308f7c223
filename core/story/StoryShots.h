#pragma once

#include "story/Story.h"

#include <QString>
#include <QVector>

// Lookups over a Story's shots, characters, looks and locations, and the keyframe prompt of a
// shot: free functions because they are pure views of the Story value (no state of their own).
namespace gd::story {

// The keyframe prompt of one shot (composeShotPrompt) and its negative prompt.
struct ShotPrompt
{
    QString prompt;
    QString negativePrompt;
};

// "<sceneId>/<shotId>": a shot's key across the story (storyboard.json, keyframes/ and clips/ folders).
QString shotKey(const QString& sceneId, const QString& shotId);

// The shots a scene renders as: its own, or — for a scene without shots — one implicit shot
// "shot-01" with firstFrame = the scene's prompt, description = its summary, camera = its
// cameraMovement and visibleCharacters = the scene's characters with the look left empty (= first look).
QVector<StoryShot> effectiveShots(const StoryScene& scene);
// The same, with every empty look resolved to that character's first look in `story` (a name the
// bible does not know keeps the empty look).
QVector<StoryShot> effectiveShots(const Story& story, const StoryScene& scene);

// nullptr when absent. findLook: an empty lookId means the character's first look.
const StoryCharacter* findCharacter(const Story& story, const QString& name);
const CharacterLook* findLook(const Story& story, const QString& characterName, const QString& lookId);
const StoryLocation* findLocation(const Story& story, const QString& name);
const StoryScene* findScene(const Story& story, const QString& sceneId);

// The keyframe prompt of `shot`: its firstFrame (names, not pronouns — the generator writes them so)
// with each visible character's look descriptor injected after the first mention of the name
// ("Mara Voss (orange storm coat, soaked hair)", appended when the name is not mentioned and the
// descriptor is not already there), the location's descriptor, the camera, then the style lock's
// text and palette. Negative prompt: the scene's, then the style lock's terms it lacks.
// Deterministic: the same story, scene and shot always give the same text.
ShotPrompt composeShotPrompt(const Story& story, const StoryScene& scene, const StoryShot& shot);

} // namespace gd::story
