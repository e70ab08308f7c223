#pragma once

#include "story/Story.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <optional>

namespace gd::story {

// Reads and writes story.json, checking it against spec/story-format.md: every problem is reported
// as "<path>: <reason>" (all of them, not just the first), and nothing is returned when any exists.
class StoryLoader
{
public:
    static std::optional<Story> load(const QString& path, QStringList* problems);
    static std::optional<Story> fromJson(const QByteArray& json, QStringList* problems);
    static std::optional<Story> fromObject(const QJsonObject& object, QStringList* problems);
    // Writes every typed field over the keys as loaded (unknown keys survive). Keys absent when loaded
    // are not added for empty values, and a character's implicit "default" look is not written.
    static QJsonObject toJson(const Story& story);
    // Scene images ("images") that are not files relative to `storyDir`, one message per image
    // ("scenes[1].images.start_image: 'k/a.png' does not exist in /dir"). Not part of load(): a run's
    // copy of its story (run/story/story.json) keeps paths relative to the story's own folder.
    static QStringList missingImages(const Story& story, const QString& storyDir);
    // Fills story.characters and story.locations (the typed view) from story.bible; a character
    // without `looks` gets its implicit look {"default", visualDescriptor, referencePrompt}.
    // Returns the problems ("bible.characters[2].name: required"); entries with problems are kept
    // as far as they could be read.
    static QStringList readBible(Story& story);
    // story.bible with the typed view written over it: characters/locations from the typed vectors
    // when those are non-empty (a Story filled only through its bible JSON keeps that JSON).
    static QJsonObject bibleToJson(const Story& story);
    static QString defaultNegativePrompt();
    static constexpr int kDefaultFrameFloor = 25;
};

} // namespace gd::story
