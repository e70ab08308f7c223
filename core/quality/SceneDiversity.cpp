#include "quality/SceneDiversity.h"

#include <QMap>

#include <algorithm>
#include <cmath>

namespace gd::quality {

const QStringList& SceneDiversity::vocabulary()
{
    static const QStringList tags{
        QStringLiteral("action"),   QStringLiteral("romance"), QStringLiteral("mystery"),
        QStringLiteral("dialogue"), QStringLiteral("exposition"), QStringLiteral("suspense"),
        QStringLiteral("comedy"),   QStringLiteral("drama"),   QStringLiteral("horror"),
        QStringLiteral("wonder"),   QStringLiteral("tragedy"), QStringLiteral("triumph")};
    return tags;
}

SceneDiversityResult SceneDiversity::compute(const QVector<QStringList>& sceneTags)
{
    SceneDiversityResult r;
    QMap<QString, int> counts; // ordered, so the float sum below is the same on every run
    for (const QStringList& tags : sceneTags) {
        for (const QString& raw : tags) {
            const QString tag = raw.trimmed().toLower();
            if (!vocabulary().contains(tag)) {
                r.ignoredTags.append(raw);
                continue;
            }
            ++counts[tag];
            ++r.tagCount;
        }
    }
    if (r.tagCount == 0)
        return r;

    const double n = r.tagCount;
    double h = 0;
    int most = 0;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it) {
        const double p = it.value() / n;
        h -= p * std::log2(p);
        most = std::max(most, it.value());
    }
    r.distinctTags = static_cast<int>(counts.size());
    // -0.0 for a single distinct tag would print as "-0"; entropy is never negative.
    r.entropyBits = h <= 0 ? 0.0 : h;
    const double maxPossible =
        std::log2(static_cast<double>(std::min<qsizetype>(r.tagCount, vocabulary().size())));
    r.maxPossibleBits = maxPossible;
    if (maxPossible > 0)
        r.normalized = *r.entropyBits / maxPossible;
    r.maxRepetitionRatio = most / n;
    return r;
}

} // namespace gd::quality
