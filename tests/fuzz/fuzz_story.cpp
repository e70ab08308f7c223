// libFuzzer target: story.json through StoryLoader::fromJson. Property: a story that loads survives
// a save/load round trip unchanged (what the story panel does on every save).
#include "FuzzInput.h"
#include "story/StoryLoader.h"

#include <QJsonDocument>

using gd::story::StoryLoader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    QStringList problems;
    const auto story = StoryLoader::fromJson(gd::fuzz::bytesOf(data, size), &problems);
    gd::fuzz::require(story.has_value() == problems.isEmpty(), "problems and result disagree");
    if (!story)
        return 0;
    gd::fuzz::require(!story->scenes.isEmpty(), "a story without scenes loaded");
    const QJsonObject saved = StoryLoader::toJson(*story);
    QStringList again;
    const auto reloaded = StoryLoader::fromJson(QJsonDocument(saved).toJson(QJsonDocument::Compact), &again);
    gd::fuzz::require(reloaded.has_value(), "a saved story does not load again");
    gd::fuzz::require(StoryLoader::toJson(*reloaded) == saved, "save/load changes the story");
    return 0;
}
