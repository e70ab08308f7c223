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
    static QJsonObject toJson(const Story& story);
    static QString defaultNegativePrompt();
    static constexpr int kDefaultFrameFloor = 25;
};

} // namespace gd::story
