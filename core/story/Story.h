#pragma once

#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QVector>

namespace gd::story {

// One look (outfit, age, state) of a character; a shot names the look it shows. A character with no
// `looks` in story.json has one implicit look with id "default" built from its descriptor and prompt.
struct CharacterLook
{
    QString id;
    QString descriptor;      // injected into shot prompts wherever this look is visible
    QString referencePrompt; // the reference-sheet prompt for this look
};

// A character of the bible with its reference-sheet prompt (storyboard stage "References").
struct StoryCharacter
{
    QString name;
    QString role;
    QString visualDescriptor;
    QString referencePrompt;
    QVector<CharacterLook> looks; // never empty after loading (see CharacterLook)
    QJsonObject raw;
};

// An important location of the bible; rendered as a reference sheet like a character.
struct StoryLocation
{
    QString name;
    QString descriptor;
    QString referencePrompt;
    QJsonObject raw;
};

// Project-level style lock applied to every keyframe (story.json "style").
struct StyleLock
{
    QString text;
    QString palette;
    QString negativePrompt;
    QString referenceImage; // optional path relative to the story file
    bool isEmpty() const { return text.isEmpty() && palette.isEmpty() && negativePrompt.isEmpty() && referenceImage.isEmpty(); }
};

// A character visible in a shot, with the look it wears there.
struct ShotCharacter
{
    QString name;
    QString look; // a look id of that character
};

// One shot of a scene (story.json scenes[].shots[]). Its key across the story is "<sceneId>/<shotId>".
struct StoryShot
{
    QString id;          // "shot-" + two digits, unique within the scene
    QString description;
    QString firstFrame;  // keyframe prompt for the first frame
    QString lastFrame;   // optional: bookend profiles render start and end images
    QVector<ShotCharacter> visibleCharacters;
    QString location;    // optional: a bible location name
    QString camera;
    QString motion;
    QString continuesFrom; // optional: an earlier shot ("shot-02" in this scene, or "scene-001/shot-03")
    QJsonObject raw;
};

// One scene of story.json (spec/story-format.md). `raw` keeps every key as loaded so unknown keys
// survive a load/save round trip.
struct StoryScene
{
    QString id;
    QString title;
    QString summary;
    QString prompt;
    QString negativePrompt;
    QString mood;
    QStringList themes;
    QString cameraMovement;
    QString palette;
    QStringList characters;
    int expectedFrames = 0; // 0 = not given
    QString keyframe;       // optional image path for image-conditioned profiles
    QVector<StoryShot> shots; // empty: the scene renders as one implicit shot
    // Images the render stage uploads and injects by workflow role name (story.json "images", e.g.
    // {"start_image": "...", "character_reference_image[0]": "..."}); paths relative to the story file.
    // The storyboard writes these into the render stories it builds; `keyframe` above stays the
    // spelling of the single-image case.
    QMap<QString, QString> images;
    QJsonObject raw;
};

// The hand-off between the LLM stage and the render stage.
struct Story
{
    QString storyId;
    QString title;
    QString genre;
    QString templateId;
    QString templateVersion;
    QString logline;
    QString directorsVision;
    QJsonObject bible;                   // as loaded; characters/locations below are its typed view
    QVector<StoryCharacter> characters;  // bible.characters
    QVector<StoryLocation> locations;    // bible.locations
    StyleLock style;                     // "style"
    QVector<StoryScene> scenes;
    QJsonObject raw;
};

} // namespace gd::story
