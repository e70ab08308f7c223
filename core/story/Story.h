#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

namespace gd::story {

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
    QJsonObject bible;
    QVector<StoryScene> scenes;
    QJsonObject raw;
};

} // namespace gd::story
