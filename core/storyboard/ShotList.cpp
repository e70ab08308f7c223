#include "storyboard/ShotList.h"

#include "story/StoryShots.h"
#include "storyboard/StoryboardKeys.h"

namespace gd::storyboard {

QVector<story::CharacterLook> ShotList::looksOf(const story::StoryCharacter& character)
{
    if (!character.looks.isEmpty())
        return character.looks;
    return {story::CharacterLook{QStringLiteral("default"), character.visualDescriptor, character.referencePrompt}};
}

ShotList::ShotList(const story::Story& story)
{
    for (int si = 0; si < story.scenes.size(); ++si) {
        const story::StoryScene& scene = story.scenes.at(si);
        const bool implicit = scene.shots.isEmpty();
        QVector<story::StoryShot> shots = story::effectiveShots(scene);
        for (story::StoryShot& s : shots) {
            ShotRef ref;
            ref.key = StoryboardKeys::shot(scene.id, s.id);
            ref.sceneIndex = si;
            ref.implicit = implicit;
            for (story::ShotCharacter& sc : s.visibleCharacters) {
                const story::StoryCharacter* c = story::findCharacter(story, sc.name);
                if (!c) {
                    // An implicit shot lists the scene's free-text characters: only bible names
                    // can be anchored, the others stay text (they are not "visible characters").
                    if (!implicit)
                        ref.unknownCharacters << sc.name + QLatin1Char('#') + sc.look;
                    continue;
                }
                const QVector<story::CharacterLook> looks = looksOf(*c);
                if (sc.look.isEmpty()) {
                    sc.look = looks.first().id;
                } else {
                    bool found = false;
                    for (const story::CharacterLook& l : looks)
                        found = found || l.id == sc.look;
                    if (!found)
                        ref.unknownCharacters << sc.name + QLatin1Char('#') + sc.look;
                }
            }
            if (implicit) {
                QVector<story::ShotCharacter> known;
                for (const story::ShotCharacter& sc : s.visibleCharacters)
                    if (story::findCharacter(story, sc.name))
                        known.append(sc);
                s.visibleCharacters = known;
            }
            if (!s.continuesFrom.isEmpty())
                ref.continuesFromKey = s.continuesFrom.contains(QLatin1Char('/'))
                                           ? s.continuesFrom
                                           : StoryboardKeys::shot(scene.id, s.continuesFrom);
            ref.shot = s;
            m_index.insert(ref.key, m_shots.size());
            m_shots.append(ref);
        }
    }
}

} // namespace gd::storyboard
