#include "quality/StoryboardMetrics.h"

#include <QJsonArray>
#include <QMap>
#include <cmath>

namespace gd::quality {

namespace {

// The judging models of a metric in first-use order ("a, b" when shots were judged by different models:
// their scores are not comparable, so the record says so).
void noteModel(QStringList& models, const QString& model)
{
    if (!model.isEmpty() && !models.contains(model))
        models.append(model);
}

// The first reason a metric could not be judged (the no-vision-model reason is the same for every shot).
void noteReason(QString& reason, const QString& why)
{
    if (reason.isEmpty())
        reason = why;
}

} // namespace

double StoryboardMetrics::countMatch(int seen, int expected)
{
    const double denominator = std::max(expected, 1);
    return 100.0 * std::exp(-std::abs(seen - expected) / denominator);
}

QVector<QPair<QString, QString>> StoryboardMetrics::samenessPairs(const QStringList& shotKeysInOrder)
{
    QVector<QPair<QString, QString>> out;
    for (qsizetype i = 1; i < shotKeysInOrder.size(); ++i)
        out.append({shotKeysInOrder.at(i - 1), shotKeysInOrder.at(i)});
    return out;
}

JudgeResults StoryboardMetrics::compute(const QVector<ShotJudgement>& shots,
                                        const QVector<SamenessJudgement>& pairs)
{
    JudgeResults r;
    // Per scene, per shot details, and the scene aggregates the KPI report names failing scenes by.
    struct SceneSums
    {
        QJsonObject shots;
        double alignmentSum = 0;
        int alignmentShots = 0;
        std::optional<double> alignmentMin;
        double identitySum = 0;
        int identityCount = 0;
        double countSum = 0;
        int countShots = 0;
    };
    QMap<QString, SceneSums> scenes;
    QStringList sceneOrder;

    double alignmentSum = 0;
    int alignmentShots = 0;
    double identitySum = 0;
    int identityCount = 0;
    double countSum = 0;
    int countShots = 0;
    QStringList alignmentModels, keyframeModels, samenessModels;
    QString alignmentReason, keyframeReason, samenessReason;

    for (const ShotJudgement& s : shots) {
        if (!scenes.contains(s.sceneId))
            sceneOrder.append(s.sceneId);
        SceneSums& sc = scenes[s.sceneId];
        QJsonObject shot;

        if (s.alignment && s.alignment->ok()) {
            const double mean = s.alignment->judge.value(QStringLiteral("Mean")).toDouble();
            shot.insert(QStringLiteral("KeyframeAlignmentJudge"), s.alignment->judge);
            alignmentSum += mean;
            ++alignmentShots;
            sc.alignmentSum += mean;
            ++sc.alignmentShots;
            sc.alignmentMin = std::min(sc.alignmentMin.value_or(mean), mean);
            noteModel(alignmentModels, s.alignment->model);
        } else {
            const QString why =
                s.alignment ? s.alignment->error.message : QStringLiteral("no keyframe judged");
            noteReason(alignmentReason, why);
            r.unmeasured << QStringLiteral("KeyframeAlignmentJudge[%1]: %2").arg(s.key(), why);
        }

        if (s.keyframe && s.keyframe->ok()) {
            const KeyframeVerdict& v = *s.keyframe;
            QJsonObject identity;
            for (const auto& [name, value] : v.identity) {
                identity.insert(name, value);
                identitySum += value;
                ++identityCount;
                sc.identitySum += value;
                ++sc.identityCount;
            }
            const double match = countMatch(v.characterCount, s.expectedCharacters);
            countSum += match;
            ++countShots;
            sc.countSum += match;
            ++sc.countShots;
            shot.insert(QStringLiteral("CharacterIdentity"), identity);
            shot.insert(QStringLiteral("CharacterCountSeen"), v.characterCount);
            shot.insert(QStringLiteral("CharacterCountExpected"), s.expectedCharacters);
            shot.insert(QStringLiteral("CharacterCountMatch"), match);
            shot.insert(QStringLiteral("KeyframeJudgeScore"), v.score);
            shot.insert(QStringLiteral("KeyframeJudgeModel"), v.model);
            noteModel(keyframeModels, v.model);
        } else {
            const QString why = s.keyframe ? s.keyframe->error.message : QStringLiteral("no keyframe judged");
            noteReason(keyframeReason, why);
            r.unmeasured << QStringLiteral("KeyframeJudge[%1]: %2").arg(s.key(), why);
        }
        if (!shot.isEmpty())
            sc.shots.insert(s.shotId, shot);
    }

    for (const QString& id : std::as_const(sceneOrder)) {
        const SceneSums& sc = scenes.value(id);
        QJsonObject& out = r.scenes[id];
        if (!sc.shots.isEmpty())
            out.insert(QStringLiteral("Shots"), sc.shots);
        if (sc.alignmentShots > 0) {
            out.insert(QStringLiteral("KeyframeAlignmentJudgeMean"), sc.alignmentSum / sc.alignmentShots);
            out.insert(QStringLiteral("KeyframeAlignmentJudgeMin"), *sc.alignmentMin);
        }
        if (sc.identityCount > 0)
            out.insert(QStringLiteral("CharacterIdentityMean"), sc.identitySum / sc.identityCount);
        if (sc.countShots > 0)
            out.insert(QStringLiteral("CharacterCountMatch"), sc.countSum / sc.countShots);
        if (out.isEmpty())
            r.scenes.remove(id);
    }

    const QString noShots = QStringLiteral("no storyboard shots");
    auto unmeasured = [&r](const QString& metric, const QStringList& fields, const QString& reason) {
        for (const QString& f : fields)
            r.run.insert(f, QJsonValue());
        r.unmeasured << metric + QStringLiteral(": ") + reason;
    };

    if (alignmentShots > 0) {
        r.run.insert(QStringLiteral("KeyframeAlignmentJudgeMean"), alignmentSum / alignmentShots);
        r.run.insert(QStringLiteral("KeyframeAlignmentJudgeShots"), alignmentShots);
        r.run.insert(QStringLiteral("KeyframeAlignmentJudgeModel"),
                     alignmentModels.join(QStringLiteral(", ")));
    } else {
        unmeasured(QStringLiteral("KeyframeAlignmentJudgeMean"),
                   {QStringLiteral("KeyframeAlignmentJudgeMean")},
                   shots.isEmpty() ? noShots : alignmentReason);
    }

    if (identityCount > 0) {
        r.run.insert(QStringLiteral("CharacterIdentityMean"), identitySum / identityCount);
        r.run.insert(QStringLiteral("CharacterIdentityJudgments"), identityCount);
        r.run.insert(QStringLiteral("CharacterIdentityModel"), keyframeModels.join(QStringLiteral(", ")));
    } else {
        unmeasured(QStringLiteral("CharacterIdentityMean"), {QStringLiteral("CharacterIdentityMean")},
                   shots.isEmpty() ? noShots
                   : countShots > 0
                       ? QStringLiteral("no judged shot shows a character with an approved sheet")
                       : keyframeReason);
    }

    if (countShots > 0) {
        r.run.insert(QStringLiteral("CharacterCountMatch"), countSum / countShots);
        r.run.insert(QStringLiteral("CharacterCountShots"), countShots);
        r.run.insert(QStringLiteral("CharacterCountModel"), keyframeModels.join(QStringLiteral(", ")));
    } else {
        unmeasured(QStringLiteral("CharacterCountMatch"), {QStringLiteral("CharacterCountMatch")},
                   shots.isEmpty() ? noShots : keyframeReason);
    }

    int judgedPairs = 0;
    QStringList flagged;
    for (const SamenessJudgement& p : pairs) {
        if (!p.verdict.ok()) {
            noteReason(samenessReason, p.verdict.error.message);
            r.unmeasured
                << QStringLiteral("Sameness[%1 ~ %2]: %3").arg(p.shotA, p.shotB, p.verdict.error.message);
            continue;
        }
        ++judgedPairs;
        noteModel(samenessModels, p.verdict.model);
        if (p.verdict.nearIdentical())
            flagged << QStringLiteral("%1 ~ %2").arg(p.shotA, p.shotB);
    }
    if (judgedPairs > 0) {
        r.run.insert(QStringLiteral("SamenessFlaggedPairs"), int(flagged.size()));
        r.run.insert(QStringLiteral("SamenessPairsJudged"), judgedPairs);
        r.run.insert(QStringLiteral("SamenessFlagged"), QJsonArray::fromStringList(flagged));
        r.run.insert(QStringLiteral("SamenessModel"), samenessModels.join(QStringLiteral(", ")));
    } else {
        unmeasured(QStringLiteral("SamenessFlaggedPairs"), {QStringLiteral("SamenessFlaggedPairs")},
                   pairs.isEmpty() ? QStringLiteral("fewer than two shots to compare") : samenessReason);
    }
    return r;
}

} // namespace gd::quality
