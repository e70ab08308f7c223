#include "quality/KpiEvaluator.h"

#include "quality/PipelineStats.h"

#include <QMap>

#include <algorithm>
#include <cmath>

namespace gd::quality {

namespace {

const QString kPass = QStringLiteral("PASS");
const QString kWarn = QStringLiteral("WARN");
const QString kFail = QStringLiteral("FAIL");
const QString kUnmeasured = QStringLiteral("UNMEASURED");

QString str(const char* s)
{
    return QString::fromUtf8(s);
}

QString fmt(double v)
{
    return QString::number(v, 'g', 4);
}

using telemetry::RunDigest;
using telemetry::SceneDigest;
using RunNumber = std::optional<double> RunDigest::*;

// One run, with what the evaluator reads from it.
struct RunView
{
    QString runId;
    const RunDigest* digest = nullptr;
    QVector<const SceneDigest*> scenes; // the Scenes[] entries that are objects
};

class Context
{
public:
    explicit Context(const QVector<RunDigest>& digests)
    {
        runs.reserve(digests.size());
        for (const RunDigest& d : digests) {
            RunView r;
            r.runId = d.runId.toString();
            r.digest = &d;
            r.scenes.reserve(d.scenes.size());
            for (const SceneDigest& s : d.scenes)
                if (s.isObject)
                    r.scenes.append(&s);
            runs.append(r);
        }
        multi = runs.size() > 1;
    }

    QString label(const RunView& r, const SceneDigest& scene) const
    {
        return multi ? r.runId + QLatin1Char('/') + scene.sceneId : scene.sceneId;
    }

    // The first Unmeasured[] reason of the runs for a metric family, or `fallback` (else a generic one).
    QString reasonFor(const QString& prefix, const QString& fallback = {}) const
    {
        for (const RunView& r : runs)
            for (const QString& text : r.digest->unmeasured)
                if (text.startsWith(prefix)) {
                    const qsizetype colon = text.indexOf(QStringLiteral(": "));
                    return (multi ? r.runId + QStringLiteral(": ") : QString()) +
                           (colon >= 0 ? text.mid(colon + 2) : text);
                }
        if (runs.isEmpty())
            return QStringLiteral("no runs");
        return fallback.isEmpty() ? QStringLiteral("not computed for this run") : fallback;
    }

    // Mean over runs of a numeric QualityMetrics value; runs without a value are left out.
    std::optional<double> mean(RunNumber key) const
    {
        double sum = 0;
        int n = 0;
        for (const RunView& r : runs) {
            const std::optional<double>& v = r.digest->*key;
            if (v && std::isfinite(*v)) {
                sum += *v;
                ++n;
            }
        }
        return n > 0 ? std::optional<double>(sum / n) : std::nullopt;
    }

    QVector<RunView> runs;
    bool multi = false;
};

KpiResult row(const char* id, const char* name, const char* threshold)
{
    KpiResult k;
    k.id = str(id);
    k.name = str(name);
    k.threshold = str(threshold);
    return k;
}

KpiResult unmeasured(KpiResult k, const QString& reason)
{
    k.status = kUnmeasured;
    k.reason = reason;
    return k;
}

// A run-level score ≥ threshold, mean over runs; failing runs listed when several.
KpiResult meanAtLeast(const Context& c, KpiResult k, RunNumber key, const QString& family, double threshold,
                      double cap, const QString& noData = {})
{
    k.value = c.mean(key);
    if (!k.value)
        return unmeasured(k, c.reasonFor(family, noData));
    k.status = KpiEvaluator::statusAtLeast(*k.value, threshold, cap);
    if (c.multi)
        for (const RunView& r : c.runs)
            if ((r.digest->*key) && *(r.digest->*key) < threshold)
                k.failingScenes.append(r.runId);
    if (k.status == kWarn)
        k.reason = QStringLiteral("within 5 % of the threshold");
    else if (k.status == kFail)
        k.reason = QStringLiteral("%1 below %2").arg(fmt(*k.value), fmt(threshold));
    return k;
}

KpiResult entityLinkage(const Context& c)
{
    KpiResult k = meanAtLeast(c, row("entity-linkage", "Entity linkage", "≥ 0.85"),
                              &RunDigest::entityLinkageScore, QStringLiteral("EntityLinkage"), 0.85, 1.0);
    if (k.status == kFail || k.status == kWarn) {
        k.failingScenes.clear();
        for (const RunView& r : c.runs)
            for (const SceneDigest* s : r.scenes)
                if (s->entityLinkageScore && *s->entityLinkageScore < 0.85)
                    k.failingScenes.append(c.label(r, *s));
    }
    return k;
}

KpiResult sceneDiversity(const Context& c)
{
    KpiResult k = row("scene-diversity", "Scene diversity (entropy, bits)",
                      "H ≥ 2.0 (MaxPossible ≥ 2.0) else Normalized ≥ 0.85; MaxRepetitionRatio ≤ 0.4");
    k.value = c.mean(&RunDigest::sceneDiversityEntropy);
    const auto maxPossible = c.mean(&RunDigest::sceneDiversityMaxPossible);
    const auto normalized = c.mean(&RunDigest::sceneDiversityNormalized);
    const auto repetition = c.mean(&RunDigest::sceneDiversityMaxRepetitionRatio);
    if (!k.value || !maxPossible || !repetition)
        return unmeasured(k, c.reasonFor(QStringLiteral("SceneDiversity")));
    QString entropyStatus;
    QString entropyWhat;
    if (*maxPossible >= 2.0) {
        entropyStatus = KpiEvaluator::statusAtLeast(*k.value, 2.0);
        entropyWhat = QStringLiteral("H %1 (needs ≥ 2.0)").arg(fmt(*k.value));
    } else if (!normalized) {
        return unmeasured(k, c.reasonFor(QStringLiteral("SceneDiversityNormalized")));
    } else {
        entropyStatus = KpiEvaluator::statusAtLeast(*normalized, 0.85, 1.0);
        entropyWhat = QStringLiteral("Normalized %1 (needs ≥ 0.85, MaxPossible %2 < 2.0)").arg(fmt(*normalized), fmt(*maxPossible));
    }
    const QString repetitionStatus = KpiEvaluator::statusAtMost(*repetition, 0.4);
    k.status = KpiEvaluator::worse(entropyStatus, repetitionStatus);
    QStringList why;
    if (entropyStatus != kPass)
        why.append(entropyWhat);
    if (repetitionStatus != kPass)
        why.append(QStringLiteral("MaxRepetitionRatio %1 (needs ≤ 0.4)").arg(fmt(*repetition)));
    k.reason = why.join(QStringLiteral("; "));
    return k;
}

KpiResult promptLength(const Context& c)
{
    KpiResult k = row("prompt-length", "Prompt length (tokens per scene)", "150–500 per scene, story not truncated");
    double sum = 0;
    int n = 0;
    QString status = kPass;
    QStringList why;
    for (const RunView& r : c.runs) {
        for (const SceneDigest* s : r.scenes) {
            if (!s->promptTokenCount)
                continue;
            const double t = *s->promptTokenCount;
            sum += t;
            ++n;
            const QString st = KpiEvaluator::worse(KpiEvaluator::statusAtLeast(t, 150), KpiEvaluator::statusAtMost(t, 500));
            if (st == kFail)
                k.failingScenes.append(c.label(r, *s));
            status = KpiEvaluator::worse(status, st);
        }
        if (r.digest->promptTruncated) {
            status = kFail;
            why.append((c.multi ? r.runId + QStringLiteral(": ") : QString()) + QStringLiteral("story truncated"));
        }
    }
    if (n == 0)
        return unmeasured(k, c.reasonFor(QStringLiteral("PromptTokenCount")));
    k.value = sum / n;
    k.status = status;
    if (!k.failingScenes.isEmpty())
        why.prepend(QStringLiteral("%1 scene(s) outside 150–500 tokens").arg(k.failingScenes.size()));
    else if (status == kWarn)
        why.prepend(QStringLiteral("a scene is within 5 % of a bound"));
    k.reason = why.join(QStringLiteral("; "));
    return k;
}

QVector<KpiResult> plannerReliability(const Context& c)
{
    struct Counts
    {
        int runs = 0;
        int firstTry = 0;
        int afterRetry = 0;
        QStringList failedRuns;
    };
    QMap<QString, Counts> perModel;
    for (const RunView& r : c.runs) {
        if (!r.digest->plannerFirstTryValid)
            continue;
        Counts& m = perModel[r.digest->llmModel];
        ++m.runs;
        if (*r.digest->plannerFirstTryValid)
            ++m.firstTry;
        if (r.digest->plannerValidAfterRetry)
            ++m.afterRetry;
        else
            m.failedRuns.append(r.runId);
    }
    QVector<KpiResult> out;
    if (perModel.isEmpty()) {
        out.append(unmeasured(row("planner-reliability", "Planner reliability", "≥ 95 % first try, ≥ 99 % after retry"),
                              c.reasonFor(QStringLiteral("PlannerReliability"))));
        return out;
    }
    for (auto it = perModel.cbegin(); it != perModel.cend(); ++it) {
        const QString model = it.key().isEmpty() ? QStringLiteral("unknown model") : it.key();
        KpiResult first = row("planner-first-try", "Planner first-try valid", "≥ 95 %");
        first.id += QLatin1Char('[') + model + QLatin1Char(']');
        first.name += QStringLiteral(" (") + model + QLatin1Char(')');
        first.value = static_cast<double>(it.value().firstTry) / it.value().runs;
        first.status = KpiEvaluator::statusAtLeast(*first.value, 0.95, 1.0);
        first.reason = QStringLiteral("%1 of %2 run(s)").arg(it.value().firstTry).arg(it.value().runs);
        KpiResult after = row("planner-after-retry", "Planner valid after one retry", "≥ 99 %");
        after.id += QLatin1Char('[') + model + QLatin1Char(']');
        after.name += QStringLiteral(" (") + model + QLatin1Char(')');
        after.value = static_cast<double>(it.value().afterRetry) / it.value().runs;
        after.status = KpiEvaluator::statusAtLeast(*after.value, 0.99, 1.0);
        after.reason = QStringLiteral("%1 of %2 run(s)").arg(it.value().afterRetry).arg(it.value().runs);
        after.failingScenes = it.value().failedRuns;
        out.append(first);
        out.append(after);
    }
    return out;
}

KpiResult promptAlignment(const Context& c)
{
    KpiResult k = meanAtLeast(c, row("prompt-alignment-judge", "Prompt alignment (judge)", "story mean ≥ 3.0, no scene < 2.0"),
                              &RunDigest::promptAlignmentJudgeMean, QStringLiteral("PromptAlignment"), 3.0, 4.0);
    if (k.status == kUnmeasured)
        return k;
    k.failingScenes.clear();
    QString sceneStatus = kPass;
    for (const RunView& r : c.runs)
        for (const SceneDigest* s : r.scenes) {
            if (!s->promptAlignmentJudgeMean)
                continue;
            const QString st = KpiEvaluator::statusAtLeast(*s->promptAlignmentJudgeMean, 2.0, 4.0);
            if (st == kFail)
                k.failingScenes.append(c.label(r, *s));
            sceneStatus = KpiEvaluator::worse(sceneStatus, st);
        }
    k.status = KpiEvaluator::worse(k.status, sceneStatus);
    if (!k.failingScenes.isEmpty())
        k.reason = (k.reason.isEmpty() ? QString() : k.reason + QStringLiteral("; ")) +
                   QStringLiteral("%1 scene(s) below 2.0").arg(k.failingScenes.size());
    return k;
}

KpiResult semanticAlignment(const Context& c)
{
    KpiResult k = row("semantic-alignment", "Semantic alignment (caption margin)",
                      "Margin ≥ 0.10 and RetrievalTop1 ≥ 0.8; absolute < 0.75 WARN only");
    k.value = c.mean(&RunDigest::semanticAlignmentMargin);
    const auto top1 = c.mean(&RunDigest::semanticAlignmentRetrievalTop1);
    const auto absolute = c.mean(&RunDigest::semanticAlignmentMean);
    if (!k.value || !top1)
        return unmeasured(k, c.reasonFor(QStringLiteral("SemanticAlignment")));
    const QString marginStatus = KpiEvaluator::statusAtLeast(*k.value, 0.10);
    const QString top1Status = KpiEvaluator::statusAtLeast(*top1, 0.8, 1.0);
    k.status = KpiEvaluator::worse(marginStatus, top1Status);
    QStringList why;
    if (marginStatus != kPass)
        why.append(QStringLiteral("Margin %1 (needs ≥ 0.10)").arg(fmt(*k.value)));
    if (top1Status != kPass)
        why.append(QStringLiteral("RetrievalTop1 %1 (needs ≥ 0.8)").arg(fmt(*top1)));
    // The absolute cosine depends on the embedding model: kept for continuity, never a failure.
    if (absolute && *absolute < 0.75) {
        k.status = KpiEvaluator::worse(k.status, kWarn);
        why.append(QStringLiteral("absolute cosine %1 < 0.75").arg(fmt(*absolute)));
    }
    k.reason = why.join(QStringLiteral("; "));
    return k;
}

KpiResult blankFrames(const Context& c)
{
    KpiResult k = row("blank-frames", "Blank frames", "0 blank frames");
    int checked = 0;
    int blank = 0;
    int scenesUnmeasured = 0;
    for (const RunView& r : c.runs)
        for (const SceneDigest* s : r.scenes) {
            if (!s->blankFrameRatio) {
                ++scenesUnmeasured;
                continue;
            }
            checked += s->framesChecked;
            const int b = s->blankFrames;
            blank += b;
            if (b > 0)
                k.failingScenes.append(c.label(r, *s));
        }
    if (checked == 0)
        return unmeasured(k, c.reasonFor(QStringLiteral("BlankFrameRatio")));
    k.value = static_cast<double>(blank) / checked;
    k.status = blank > 0 ? kFail : kPass;
    QStringList why;
    if (blank > 0)
        why.append(QStringLiteral("%1 blank of %2 frames").arg(blank).arg(checked));
    if (scenesUnmeasured > 0)
        why.append(QStringLiteral("%1 scene(s) not measured").arg(scenesUnmeasured));
    k.reason = why.join(QStringLiteral("; "));
    return k;
}

KpiResult framesPerScene(const Context& c)
{
    KpiResult k = row("frames-per-scene", "Frames per scene", "≥ floor (25) every scene; mean ≥ 25");
    double sum = 0;
    int n = 0;
    for (const RunView& r : c.runs)
        for (const SceneDigest* s : r.scenes) {
            sum += s->frameCount;
            ++n;
            if (s->frameCount < s->frameFloor)
                k.failingScenes.append(c.label(r, *s));
        }
    if (n == 0)
        return unmeasured(k, QStringLiteral("no scenes"));
    k.value = sum / n;
    k.status = KpiEvaluator::statusAtLeast(*k.value, 25);
    if (!k.failingScenes.isEmpty()) {
        k.status = kFail;
        k.reason = QStringLiteral("%1 scene(s) below their frame floor").arg(k.failingScenes.size());
    } else if (k.status == kFail) {
        k.reason = QStringLiteral("mean %1 below 25").arg(fmt(*k.value));
    }
    return k;
}

// Runs without a storyboard have none of the storyboard metrics: that is their reason, not a failure.
const char* const kNoStoryboard = "no storyboard in this run";

// A storyboard score (run mean ≥ threshold) whose scenes are named when their own figure is below
// `sceneThreshold` (the scene's worst shot for alignment, the scene mean for the others).
KpiResult storyboardScore(const Context& c, KpiResult k, RunNumber key, const QString& family,
                          double threshold, double cap, std::optional<double> SceneDigest::*sceneKey,
                          double sceneThreshold)
{
    k = meanAtLeast(c, k, key, family, threshold, cap, str(kNoStoryboard));
    if (k.status == kUnmeasured)
        return k;
    k.failingScenes.clear();
    QString sceneStatus = kPass;
    for (const RunView& r : c.runs)
        for (const SceneDigest* s : r.scenes) {
            const std::optional<double>& v = s->*sceneKey;
            if (!v)
                continue;
            const QString st = KpiEvaluator::statusAtLeast(*v, sceneThreshold, cap);
            if (st == kFail)
                k.failingScenes.append(c.label(r, *s));
            sceneStatus = KpiEvaluator::worse(sceneStatus, st);
        }
    if (sceneThreshold != threshold) // "no scene below" is a rule of its own; otherwise scenes only name
        k.status = KpiEvaluator::worse(k.status, sceneStatus);
    else if (k.status == kPass) // like entity linkage: scenes are named when the mean is not a plain PASS
        k.failingScenes.clear();
    if (!k.failingScenes.isEmpty())
        k.reason =
            (k.reason.isEmpty() ? QString() : k.reason + QStringLiteral("; ")) +
            QStringLiteral("%1 scene(s) below %2").arg(k.failingScenes.size()).arg(fmt(sceneThreshold));
    return k;
}

QVector<KpiResult> storyboard(const Context& c)
{
    QVector<KpiResult> out;
    out.append(storyboardScore(c,
                               row("keyframe-alignment-judge", "Prompt alignment on keyframes (judge)",
                                   "story mean ≥ 3.0 and no scene < 2.0"),
                               &RunDigest::keyframeAlignmentJudgeMean, QStringLiteral("KeyframeAlignment"),
                               3.0, 4.0, &SceneDigest::keyframeAlignmentJudgeMin, 2.0));
    out.append(storyboardScore(c, row("character-identity", "Character identity (judge, 0–4)", "mean ≥ 3.0"),
                               &RunDigest::characterIdentityMean, QStringLiteral("CharacterIdentity"), 3.0,
                               4.0, &SceneDigest::characterIdentityMean, 3.0));
    out.append(storyboardScore(c, row("character-count-match", "Character count match", "≥ 85"),
                               &RunDigest::characterCountMatch, QStringLiteral("CharacterCount"), 85.0, 100.0,
                               &SceneDigest::characterCountMatch, 85.0));

    KpiResult same =
        row("sameness-guard", "Sameness guard (near-identical keyframe pairs)", "0 flagged pairs");
    double flagged = 0;
    bool any = false;
    for (const RunView& r : c.runs) {
        if (!r.digest->samenessFlaggedPairs)
            continue;
        any = true;
        flagged += *r.digest->samenessFlaggedPairs;
        for (const QString& pair : r.digest->samenessFlagged)
            same.failingScenes.append(c.multi ? r.runId + QLatin1Char('/') + pair : pair);
    }
    if (!any) {
        out.append(unmeasured(same, c.reasonFor(QStringLiteral("Sameness"), str(kNoStoryboard))));
        return out;
    }
    same.value = flagged;
    same.status = flagged > 0 ? kFail : kPass;
    if (flagged > 0)
        same.reason = QStringLiteral("%1 pair(s) of shots the judge calls near-identical").arg(fmt(flagged));
    out.append(same);
    return out;
}

KpiResult rate(KpiResult k, const std::optional<double>& v, const QString& status, const QStringList& scenes,
               const QString& noData)
{
    if (!v)
        return unmeasured(k, noData);
    k.value = v;
    k.status = status;
    if (status == kFail)
        k.failingScenes = scenes;
    return k;
}

QVector<KpiResult> pipeline(const Context& c)
{
    QVector<SceneDigest> scenes;
    QStringList labels;
    for (const RunView& r : c.runs)
        for (const SceneDigest* s : r.scenes) {
            scenes.append(*s);
            labels.append(c.label(r, *s));
        }
    const PipelineFigures f = PipelineStats::compute(scenes, labels);
    const QString noScenes = QStringLiteral("no scene was rendered");
    QVector<KpiResult> out;
    out.append(rate(row("done-marker-rate", "Done-marker detection rate", "≥ 95 %"), f.doneMarkerRate,
                    f.doneMarkerRate ? KpiEvaluator::statusAtLeast(*f.doneMarkerRate, 0.95, 1.0) : QString(),
                    f.noMarkerSceneIds, noScenes));
    out.append(rate(row("forced-copy-rate", "Forced-copy rate", "< 5 %"), f.forcedCopyRate,
                    f.forcedCopyRate ? KpiEvaluator::statusBelow(*f.forcedCopyRate, 0.05) : QString(),
                    f.forcedCopySceneIds, noScenes));
    out.append(rate(row("zero-frame-rate", "Zero-frame scenes", "< 2 %"), f.zeroFrameRate,
                    f.zeroFrameRate ? KpiEvaluator::statusBelow(*f.zeroFrameRate, 0.02) : QString(),
                    f.zeroFrameSceneIds, noScenes));
    out.append(rate(row("execution-success-rate", "Execution success rate", "≥ 95 %"), f.executionSuccessRate,
                    f.executionSuccessRate ? KpiEvaluator::statusAtLeast(*f.executionSuccessRate, 0.95, 1.0) : QString(),
                    f.failedExecutionSceneIds, noScenes));

    auto slowScenes = [&](double limit) {
        QStringList ids;
        for (qsizetype i = 0; i < scenes.size(); ++i) {
            const SceneDigest& s = scenes.at(i);
            if (s.attemptsRun > 0 && s.durationSeconds && *s.durationSeconds > limit)
                ids.append(labels.at(i));
        }
        return ids;
    };
    out.append(rate(row("duration-p50", "Scene duration P50 (s)", "≤ 60 s"), f.durationP50Seconds,
                    f.durationP50Seconds ? KpiEvaluator::statusAtMost(*f.durationP50Seconds, 60) : QString(),
                    slowScenes(60), noScenes));
    out.append(rate(row("duration-p95", "Scene duration P95 (s)", "≤ 120 s"), f.durationP95Seconds,
                    f.durationP95Seconds ? KpiEvaluator::statusAtMost(*f.durationP95Seconds, 120) : QString(),
                    slowScenes(120), noScenes));

    auto vramScenes = [&](std::optional<double> SceneDigest::*key, bool absolute) {
        QStringList ids;
        for (qsizetype i = 0; i < scenes.size(); ++i) {
            const std::optional<double>& v = scenes.at(i).*key;
            if (v && (absolute ? std::fabs(*v) : *v) > 18432)
                ids.append(labels.at(i));
        }
        return ids;
    };
    out.append(rate(row("vram-delta", "VRAM taken per scene, max |VramDeltaMB|", "≤ 18432 MB"), f.vramDeltaAbsMaxMB,
                    f.vramDeltaAbsMaxMB ? KpiEvaluator::statusAtMost(*f.vramDeltaAbsMaxMB, 18432) : QString(),
                    vramScenes(&SceneDigest::vramDeltaMB, true), QStringLiteral("no GPU memory reading in any scene")));
    out.append(rate(row("vram-peak", "VRAM peak used (MB)", "≤ 18432 MB"), f.vramPeakUsedMaxMB,
                    f.vramPeakUsedMaxMB ? KpiEvaluator::statusAtMost(*f.vramPeakUsedMaxMB, 18432) : QString(),
                    vramScenes(&SceneDigest::vramPeakUsedMB, false), QStringLiteral("no peak GPU memory sample in any scene")));
    KpiResult completeness = rate(row("telemetry-completeness", "Telemetry completeness", "100 % of contract fields"),
                                  f.telemetryCompleteness,
                                  f.telemetryCompleteness ? KpiEvaluator::statusAtLeast(*f.telemetryCompleteness, 1.0, 1.0)
                                                          : QString(),
                                  {}, QStringLiteral("no scenes"));
    if (completeness.status == kFail) {
        completeness.reason = QStringLiteral("missing: ") + f.missingTelemetryFields.mid(0, 5).join(QStringLiteral(", "));
        for (const QString& m : f.missingTelemetryFields) {
            const QString id = m.section(QStringLiteral(": "), 0, 0);
            if (!completeness.failingScenes.contains(id))
                completeness.failingScenes.append(id);
        }
    }
    out.append(completeness);
    return out;
}

bool isShare(const QString& id)
{
    static const QStringList ids{QStringLiteral("done-marker-rate"), QStringLiteral("forced-copy-rate"),
                                 QStringLiteral("zero-frame-rate"), QStringLiteral("execution-success-rate"),
                                 QStringLiteral("telemetry-completeness"), QStringLiteral("blank-frames")};
    return ids.contains(id) || id.startsWith(QStringLiteral("planner-"));
}

QString valueText(const KpiResult& k)
{
    if (!k.value)
        return QStringLiteral("—");
    if (isShare(k.id))
        return QString::number(*k.value * 100.0, 'f', 1) + QStringLiteral(" %");
    if (k.id == QLatin1String("sameness-guard"))
        return QString::number(*k.value, 'f', 0);
    return QString::number(*k.value, 'f', std::fabs(*k.value) >= 100 ? 1 : 3);
}

int rank(const QString& status)
{
    if (status == kFail)
        return 3;
    if (status == kUnmeasured)
        return 2;
    if (status == kWarn)
        return 1;
    return 0;
}

} // namespace

QString KpiEvaluator::statusAtLeast(double value, double threshold, std::optional<double> cap)
{
    if (!std::isfinite(value) || value < threshold)
        return kFail;
    if (value >= threshold + 0.05 * std::fabs(threshold) || (cap && value >= *cap))
        return kPass;
    return kWarn;
}

QString KpiEvaluator::statusAtMost(double value, double threshold)
{
    if (!std::isfinite(value) || value > threshold)
        return kFail;
    if (value <= threshold - 0.05 * std::fabs(threshold))
        return kPass;
    return kWarn;
}

QString KpiEvaluator::statusBelow(double value, double threshold)
{
    if (!std::isfinite(value) || value >= threshold)
        return kFail;
    if (value < threshold - 0.05 * std::fabs(threshold))
        return kPass;
    return kWarn;
}

QString KpiEvaluator::worse(const QString& a, const QString& b)
{
    return rank(a) >= rank(b) ? a : b;
}

QVector<KpiResult> KpiEvaluator::evaluate(const QVector<QJsonObject>& artifacts)
{
    QVector<RunDigest> digests;
    digests.reserve(artifacts.size());
    for (const QJsonObject& a : artifacts)
        digests.append(RunDigest::fromArtifact(a));
    return evaluateDigests(digests);
}

QVector<KpiResult> KpiEvaluator::evaluateDigests(const QVector<telemetry::RunDigest>& digests)
{
    const Context c(digests);
    QVector<KpiResult> out;
    // Story quality
    out.append(entityLinkage(c));
    out.append(meanAtLeast(c, row("coherence-judge", "Coherence judge", "≥ 4.0"), &RunDigest::coherenceJudgeScore,
                           QStringLiteral("CoherenceJudge"), 4.0, 5.0));
    out.append(meanAtLeast(c, row("human-coherence", "Human coherence", "≥ 4.0"), &RunDigest::humanCoherenceScore,
                           QStringLiteral("HumanCoherence"), 4.0, 5.0));
    out.append(sceneDiversity(c));
    out.append(promptLength(c));
    KpiResult llm = row("llm-generation-time", "LLM generation time (s)", "≤ 90 s");
    llm.value = c.mean(&RunDigest::llmGenerationSeconds);
    if (llm.value) {
        llm.status = statusAtMost(*llm.value, 90);
        if (c.multi && llm.status == kFail)
            for (const RunView& r : c.runs)
                if (r.digest->llmGenerationSeconds.value_or(0.0) > 90)
                    llm.failingScenes.append(r.runId);
        out.append(llm);
    } else {
        out.append(unmeasured(llm, c.reasonFor(QStringLiteral("LlmGenerationSeconds"))));
    }
    out.append(plannerReliability(c));
    // Output quality
    out.append(promptAlignment(c));
    out.append(semanticAlignment(c));
    out.append(blankFrames(c));
    out.append(framesPerScene(c));
    // Storyboard (issue 8; UNMEASURED for runs without one)
    out.append(storyboard(c));
    // Pipeline reliability and speed
    out.append(pipeline(c));
    for (KpiResult& k : out)
        if (k.status == kWarn && k.reason.isEmpty())
            k.reason = QStringLiteral("within 5 % of the threshold");
    return out;
}

QString KpiEvaluator::table(const QVector<KpiResult>& results)
{
    const QStringList header{QStringLiteral("KPI"), QStringLiteral("Value"), QStringLiteral("Threshold"),
                             QStringLiteral("Status"), QStringLiteral("Details")};
    QVector<QStringList> rows{header};
    for (const KpiResult& k : results) {
        QStringList details;
        if (!k.reason.isEmpty())
            details.append(k.reason);
        if (!k.failingScenes.isEmpty())
            details.append(QStringLiteral("scenes: ") + k.failingScenes.join(QStringLiteral(", ")));
        rows.append({k.name, valueText(k), k.threshold, k.status, details.join(QStringLiteral(" | "))});
    }
    QVector<qsizetype> width(header.size(), 0);
    for (const QStringList& r : rows)
        for (qsizetype i = 0; i + 1 < r.size(); ++i)
            width[i] = std::max(width[i], r.at(i).size());
    QString out;
    for (const QStringList& r : rows) {
        QString line;
        for (qsizetype i = 0; i < r.size(); ++i)
            line += i + 1 < r.size() ? r.at(i).leftJustified(width.at(i) + 2) : r.at(i);
        out += line.trimmed() + QLatin1Char('\n');
    }
    return out;
}

QJsonArray KpiEvaluator::toJson(const QVector<KpiResult>& results)
{
    QJsonArray out;
    for (const KpiResult& k : results)
        out.append(QJsonObject{{QStringLiteral("Id"), k.id},
                               {QStringLiteral("Name"), k.name},
                               {QStringLiteral("Value"), k.value ? QJsonValue(*k.value) : QJsonValue(QJsonValue::Null)},
                               {QStringLiteral("Threshold"), k.threshold},
                               {QStringLiteral("Status"), k.status},
                               {QStringLiteral("Reason"), k.reason},
                               {QStringLiteral("FailingScenes"), QJsonArray::fromStringList(k.failingScenes)}});
    return out;
}

bool KpiEvaluator::anyFail(const QVector<KpiResult>& results)
{
    return std::any_of(results.begin(), results.end(), [](const KpiResult& k) { return k.status == kFail; });
}

} // namespace gd::quality
