#pragma once

#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::quality {

// Counts of one scene (or the whole story) under the entity-linkage rule of quality-kpis.md.
struct EntityLinkageCounts
{
    int namedMentions = 0;     // mentions of any known character name (bible or not)
    int matchedMentions = 0;   // ... of which resolve to a bible character
    int pronouns = 0;          // third-person pronouns of the spec's list
    int linkedPronouns = 0;    // ... with a bible character earlier in the scene or in the previous scene
    int scenesCounted = 0;     // scenes with at least one mention or pronoun

    int denominator() const { return namedMentions + pronouns; }
    int numerator() const { return matchedMentions + linkedPronouns; }
    // numerator / denominator; std::nullopt when nothing was mentioned at all.
    std::optional<double> score() const;
};

// Automated coherence (quality-kpis.md "Entity linkage"): resolves character names and
// third-person pronouns in scene text against the story bible, literally as the spec defines it.
class EntityLinkage
{
public:
    // The spec's pronoun list, lower case.
    static const QStringList& pronouns();

    // Splits text into words the way the rule reads it: maximal runs of letters and digits, lower
    // cased (so "Wren's" yields "wren", "s" and a possessive still counts as a mention of Wren).
    static QStringList words(const QString& text);

    // `bibleNames`: full names of the story bible's characters. `otherNames`: character names known
    // from elsewhere (the scenes' `characters` lists) that are NOT in the bible: their mentions count
    // in the denominator only. `sceneTexts`: one text per scene, in story order. A name matches
    // case-insensitively by its full name or its first name (full name tried first, so "Wren Thorne"
    // is one mention, not two); when a first name is shared, a bible character wins.
    // `perScene` (optional) receives the counts of each scene.
    static EntityLinkageCounts compute(const QStringList& bibleNames, const QStringList& otherNames,
                                       const QStringList& sceneTexts,
                                       QVector<EntityLinkageCounts>* perScene = nullptr);
};

} // namespace gd::quality
