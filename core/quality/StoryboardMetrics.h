#pragma once

#include "quality/JudgeResults.h"
#include "quality/KeyframeJudge.h"

#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::quality {

// What the vision judge said about one shot's selected keyframe.
struct ShotJudgement
{
    QString sceneId;
    QString shotId;
    int expectedCharacters = 0; // the shot's visibleCharacters
    QString keyframeSha256;     // the judged keyframe's bytes: ties recorded verdicts to one image
    std::optional<KeyframeVerdict>
        keyframe; // the rubric verdict of the selected candidate (may carry an error)
    std::optional<AlignmentVerdict> alignment; // the prompt-alignment judge on that keyframe

    QString key() const { return sceneId + QLatin1Char('/') + shotId; }
};

// What the sameness judge said about two shots' selected keyframes.
struct SamenessJudgement
{
    QString shotA; // shot keys "<sceneId>/<shotId>"
    QString shotB;
    SamenessVerdict verdict;
};

// The storyboard metrics of issue 8 (docs/QUALITY_METRICS.md, additions to quality-kpis.md), computed from
// judge results already in hand — no network, no files — so the storyboard controller, the quality pass and
// the tests share one definition: prompt alignment on keyframes, character identity mean, character count
// match and the sameness guard. Each records the judging model(s); a metric nothing could be judged for is
// null with its reason in JudgeResults::unmeasured ("<Metric>: <reason>"), never 0.
class StoryboardMetrics
{
public:
    // 100·exp(−|seen − expected| / max(expected, 1)): expected = 0 counts against 1, so an empty shot that
    // shows nobody scores 100 and one stray person 36.8.
    static double countMatch(int seen, int expected);
    // The pairs the sameness guard judges: each shot with the next one, in story order.
    static QVector<QPair<QString, QString>> samenessPairs(const QStringList& shotKeysInOrder);

    static JudgeResults compute(const QVector<ShotJudgement>& shots, const QVector<SamenessJudgement>& pairs);
};

} // namespace gd::quality
