#pragma once

#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::quality {

// The scene-diversity figures of quality-kpis.md for one story.
struct SceneDiversityResult
{
    int tagCount = 0;                           // size of the multiset of vocabulary tags
    int distinctTags = 0;
    std::optional<double> entropyBits;          // Shannon entropy H in bits
    std::optional<double> maxPossibleBits;      // log2(min(#tags, 12))
    std::optional<double> normalized;           // H / MaxPossible; null when MaxPossible is 0 (one tag)
    std::optional<double> maxRepetitionRatio;   // share of the most common tag
    QStringList ignoredTags;                    // tags outside the fixed vocabulary, as written
};

// Shannon entropy over the theme tags of all scenes (quality-kpis.md "Scene diversity").
class SceneDiversity
{
public:
    // The fixed vocabulary of 12 theme tags.
    static const QStringList& vocabulary();
    // `sceneTags`: each scene's themes. Tags are trimmed and lower cased; tags outside the
    // vocabulary do not enter the multiset (they are listed in ignoredTags), because the spec's
    // MaxPossible assumes the 12-tag vocabulary. No tags at all → every figure std::nullopt.
    static SceneDiversityResult compute(const QVector<QStringList>& sceneTags);
};

} // namespace gd::quality
