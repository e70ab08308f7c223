#pragma once

#include "story/Story.h"

#include <QHash>
#include <QString>
#include <QVector>

namespace gd::storyboard {

// One shot of the story as the storyboard sees it: implicit shots filled in, looks resolved.
struct ShotRef
{
    QString key;     // "<sceneId>/<shotId>"
    int sceneIndex = 0;
    bool implicit = false; // the scene has no shots[]: this is its one implicit "shot-01"
    story::StoryShot shot; // for an implicit shot: firstFrame = scene prompt, scene characters
    QString continuesFromKey; // continuesFrom as a full key ("" when none)
    // Visible characters whose name or look is not in the bible, as "name#look" (blocking).
    QStringList unknownCharacters;
};

// The story's shots in story order (story::effectiveShots: a scene without shots renders as one
// implicit "shot-01"), with looks resolved for the storyboard: an omitted look is the character's
// first look, a character without looks has one "default" look, and the implicit shot's free-text
// scene characters that the bible does not know are dropped. Lookups by shot key are O(1).
class ShotList
{
public:
    explicit ShotList(const story::Story& story);

    const QVector<ShotRef>& shots() const { return m_shots; }
    // Index into shots() or -1.
    int indexOf(const QString& shotKey) const { return m_index.value(shotKey, -1); }
    const ShotRef* find(const QString& shotKey) const
    {
        const int i = indexOf(shotKey);
        return i < 0 ? nullptr : &m_shots.at(i);
    }

    // The looks of a character (one implicit "default" look when the bible lists none).
    static QVector<story::CharacterLook> looksOf(const story::StoryCharacter& character);

private:
    QVector<ShotRef> m_shots;
    QHash<QString, int> m_index;
};

} // namespace gd::storyboard
