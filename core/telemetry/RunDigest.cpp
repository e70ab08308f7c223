#include "telemetry/RunDigest.h"

#include <QJsonArray>

namespace gd::telemetry {

namespace {

const QStringList& nullableFields()
{
    static const QStringList fields{
        QStringLiteral("ExecutionSuccessAt"), QStringLiteral("DoneMarkerPath"),
        QStringLiteral("ForcedCopyDebugPath"), QStringLiteral("GPU.Name"),
        QStringLiteral("GPU.Type"), QStringLiteral("GPU.Index"), QStringLiteral("GPU.VramTotal"),
        QStringLiteral("GPU.VramFreeBefore"), QStringLiteral("GPU.VramFreeAfter"),
        QStringLiteral("GPU.VramBeforeMB"), QStringLiteral("GPU.VramAfterMB"),
        QStringLiteral("GPU.VramDeltaMB"), QStringLiteral("GPU.VramPeakUsedMB"),
        QStringLiteral("System.Before"), QStringLiteral("System.After")};
    return fields;
}

// One contract field, pre-split: parent 0 = the Telemetry object, 1 = GPU, 2 = System.
struct FieldCheck
{
    QString field;
    QString key;
    int parent = 0;
    bool nullable = false;
};

const QVector<FieldCheck>& fieldChecks()
{
    static const QVector<FieldCheck> checks = [] {
        QVector<FieldCheck> out;
        for (const QString& field : RunDigest::contractFields()) {
            FieldCheck c;
            c.field = field;
            const qsizetype dot = field.indexOf(QLatin1Char('.'));
            c.key = dot > 0 ? field.mid(dot + 1) : field;
            c.parent = dot <= 0 ? 0 : (field.startsWith(QLatin1String("GPU.")) ? 1 : 2);
            c.nullable = nullableFields().contains(field);
            out.append(c);
        }
        return out;
    }();
    return checks;
}

std::optional<double> number(const QJsonObject& o, QLatin1String key)
{
    const QJsonValue v = o.value(key);
    return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
}

QStringList strings(const QJsonValue& v)
{
    QStringList out;
    const QJsonArray a = v.toArray();
    out.reserve(a.size());
    for (const QJsonValue e : a)
        out.append(e.toString()); // a non-string entry reads as "" (as the passes always read it)
    return out;
}

QStringList missingFields(const QJsonObject& t)
{
    QStringList missing;
    const QJsonValue gpuValue = t.value(QLatin1String("GPU"));
    const QJsonValue systemValue = t.value(QLatin1String("System"));
    const QJsonObject gpu = gpuValue.toObject();
    const QJsonObject system = systemValue.toObject();
    for (const FieldCheck& fc : fieldChecks()) {
        const QJsonObject* holder = &t;
        bool parentOk = true;
        if (fc.parent == 1) {
            holder = &gpu;
            parentOk = gpuValue.isObject();
        } else if (fc.parent == 2) {
            holder = &system;
            parentOk = systemValue.isObject();
        }
        bool present = false;
        if (parentOk) {
            const auto it = holder->constFind(fc.key);
            present = it != holder->constEnd() && (!it.value().isNull() || fc.nullable);
        }
        if (!present)
            missing.append(fc.field);
    }
    return missing;
}

SceneDigest sceneFrom(const QJsonValue& value)
{
    SceneDigest s;
    if (!value.isObject()) {
        s.isObject = false;
        return s;
    }
    const QJsonObject o = value.toObject();
    s.sceneId = o.value(QLatin1String("SceneId")).toString();
    s.frameCount = o.value(QLatin1String("FrameCount")).toInt();
    s.frameFloor = o.value(QLatin1String("FrameFloor")).toInt(25);
    s.attemptsRun = o.value(QLatin1String("AttemptsRun")).toInt();
    s.requeued = o.value(QLatin1String("Requeued")).toBool();
    const QJsonObject t = o.value(QLatin1String("Telemetry")).toObject();
    s.doneMarkerDetected = t.value(QLatin1String("DoneMarkerDetected")).toBool();
    s.forcedCopyTriggered = t.value(QLatin1String("ForcedCopyTriggered")).toBool();
    s.executionSuccessDetected = t.value(QLatin1String("ExecutionSuccessDetected")).toBool();
    s.durationSeconds = number(t, QLatin1String("DurationSeconds"));
    const QJsonObject gpu = t.value(QLatin1String("GPU")).toObject();
    s.vramDeltaMB = number(gpu, QLatin1String("VramDeltaMB"));
    s.vramPeakUsedMB = number(gpu, QLatin1String("VramPeakUsedMB"));
    s.fallbackNotes = strings(t.value(QLatin1String("System")).toObject().value(QLatin1String("FallbackNotes")));
    s.missingTelemetryFields = missingFields(t);
    const QJsonObject q = o.value(QLatin1String("QualityMetrics")).toObject();
    s.entityLinkageScore = number(q, QLatin1String("EntityLinkageScore"));
    s.promptTokenCount = number(q, QLatin1String("PromptTokenCount"));
    s.promptAlignmentJudgeMean = number(q.value(QLatin1String("PromptAlignmentJudge")).toObject(), QLatin1String("Mean"));
    s.blankFrameRatio = number(q, QLatin1String("BlankFrameRatio"));
    s.keyframeAlignmentJudgeMin = number(q, QLatin1String("KeyframeAlignmentJudgeMin"));
    s.characterIdentityMean = number(q, QLatin1String("CharacterIdentityMean"));
    s.characterCountMatch = number(q, QLatin1String("CharacterCountMatch"));
    s.framesChecked = q.value(QLatin1String("FramesChecked")).toInt();
    s.blankFrames = q.value(QLatin1String("BlankFrames")).toInt();
    return s;
}

// Run-level QualityMetrics numbers, by their artifact key.
struct RunNumber
{
    const char* key;
    std::optional<double> RunDigest::*member;
};

const RunNumber kRunNumbers[] = {
    {"EntityLinkageScore", &RunDigest::entityLinkageScore},
    {"CoherenceJudgeScore", &RunDigest::coherenceJudgeScore},
    {"HumanCoherenceScore", &RunDigest::humanCoherenceScore},
    {"SceneDiversityEntropy", &RunDigest::sceneDiversityEntropy},
    {"SceneDiversityMaxPossible", &RunDigest::sceneDiversityMaxPossible},
    {"SceneDiversityNormalized", &RunDigest::sceneDiversityNormalized},
    {"SceneDiversityMaxRepetitionRatio", &RunDigest::sceneDiversityMaxRepetitionRatio},
    {"LlmGenerationSeconds", &RunDigest::llmGenerationSeconds},
    {"PromptAlignmentJudgeMean", &RunDigest::promptAlignmentJudgeMean},
    {"SemanticAlignmentMargin", &RunDigest::semanticAlignmentMargin},
    {"SemanticAlignmentRetrievalTop1", &RunDigest::semanticAlignmentRetrievalTop1},
    {"SemanticAlignmentMean", &RunDigest::semanticAlignmentMean},
    {"KeyframeAlignmentJudgeMean", &RunDigest::keyframeAlignmentJudgeMean},
    {"CharacterIdentityMean", &RunDigest::characterIdentityMean},
    {"CharacterCountMatch", &RunDigest::characterCountMatch},
    {"SamenessFlaggedPairs", &RunDigest::samenessFlaggedPairs},
    {"SamenessPairsJudged", &RunDigest::samenessPairsJudged},
};

// Scene keys of the stored digest: short, because a sweep parses ten thousand of them. A value
// equal to its default is left out.
const QLatin1String kId("id"), kNotObject("x"), kFrames("f"), kFloor("ff"), kAttempts("a"), kRequeued("rq"),
    kMarker("dm"), kForced("fc"), kExecSuccess("es"), kDuration("d"), kVramDelta("vd"), kVramPeak("vp"),
    kNotes("fn"), kMissing("mf"), kLinkage("el"), kTokens("pt"), kAlignment("pa"), kBlankRatio("br"),
    kChecked("fk"), kBlank("bf"), kKeyframeAlignmentMin("ka"), kIdentity("ci"), kCountMatch("cc");

void putNumber(QJsonObject& o, QLatin1String key, const std::optional<double>& v)
{
    if (v)
        o.insert(key, *v);
}

QJsonObject sceneJson(const SceneDigest& s)
{
    QJsonObject o;
    if (!s.isObject) {
        o.insert(kNotObject, true);
        return o;
    }
    o.insert(kId, s.sceneId);
    if (s.frameCount != 0)
        o.insert(kFrames, s.frameCount);
    if (s.frameFloor != 25)
        o.insert(kFloor, s.frameFloor);
    if (s.attemptsRun != 0)
        o.insert(kAttempts, s.attemptsRun);
    if (s.requeued)
        o.insert(kRequeued, true);
    if (s.doneMarkerDetected)
        o.insert(kMarker, true);
    if (s.forcedCopyTriggered)
        o.insert(kForced, true);
    if (s.executionSuccessDetected)
        o.insert(kExecSuccess, true);
    putNumber(o, kDuration, s.durationSeconds);
    putNumber(o, kVramDelta, s.vramDeltaMB);
    putNumber(o, kVramPeak, s.vramPeakUsedMB);
    if (!s.fallbackNotes.isEmpty())
        o.insert(kNotes, QJsonArray::fromStringList(s.fallbackNotes));
    if (!s.missingTelemetryFields.isEmpty())
        o.insert(kMissing, QJsonArray::fromStringList(s.missingTelemetryFields));
    putNumber(o, kLinkage, s.entityLinkageScore);
    putNumber(o, kTokens, s.promptTokenCount);
    putNumber(o, kAlignment, s.promptAlignmentJudgeMean);
    putNumber(o, kBlankRatio, s.blankFrameRatio);
    putNumber(o, kKeyframeAlignmentMin, s.keyframeAlignmentJudgeMin);
    putNumber(o, kIdentity, s.characterIdentityMean);
    putNumber(o, kCountMatch, s.characterCountMatch);
    if (s.framesChecked != 0)
        o.insert(kChecked, s.framesChecked);
    if (s.blankFrames != 0)
        o.insert(kBlank, s.blankFrames);
    return o;
}

// Whole numbers were stored from int fields; anything else means the digest is not ours.
bool readInt(const QJsonObject& o, QLatin1String key, int fallback, int& out)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined()) {
        out = fallback;
        return true;
    }
    if (!v.isDouble())
        return false;
    out = v.toInt(fallback);
    return true;
}

std::optional<double> optionalNumber(const QJsonObject& o, QLatin1String key)
{
    const QJsonValue v = o.value(key);
    return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
}

std::optional<SceneDigest> sceneFromJson(const QJsonValue& value)
{
    if (!value.isObject())
        return std::nullopt;
    const QJsonObject o = value.toObject();
    SceneDigest s;
    if (o.value(kNotObject).toBool()) {
        s.isObject = false;
        return s;
    }
    const QJsonValue id = o.value(kId);
    if (!id.isString())
        return std::nullopt;
    s.sceneId = id.toString();
    if (!readInt(o, kFrames, 0, s.frameCount) || !readInt(o, kFloor, 25, s.frameFloor) ||
        !readInt(o, kAttempts, 0, s.attemptsRun) || !readInt(o, kChecked, 0, s.framesChecked) ||
        !readInt(o, kBlank, 0, s.blankFrames))
        return std::nullopt;
    s.requeued = o.value(kRequeued).toBool();
    s.doneMarkerDetected = o.value(kMarker).toBool();
    s.forcedCopyTriggered = o.value(kForced).toBool();
    s.executionSuccessDetected = o.value(kExecSuccess).toBool();
    s.durationSeconds = optionalNumber(o, kDuration);
    s.vramDeltaMB = optionalNumber(o, kVramDelta);
    s.vramPeakUsedMB = optionalNumber(o, kVramPeak);
    if (o.contains(kNotes))
        s.fallbackNotes = strings(o.value(kNotes));
    if (o.contains(kMissing))
        s.missingTelemetryFields = strings(o.value(kMissing));
    s.entityLinkageScore = optionalNumber(o, kLinkage);
    s.promptTokenCount = optionalNumber(o, kTokens);
    s.promptAlignmentJudgeMean = optionalNumber(o, kAlignment);
    s.blankFrameRatio = optionalNumber(o, kBlankRatio);
    s.keyframeAlignmentJudgeMin = optionalNumber(o, kKeyframeAlignmentMin);
    s.characterIdentityMean = optionalNumber(o, kIdentity);
    s.characterCountMatch = optionalNumber(o, kCountMatch);
    return s;
}

} // namespace

const QStringList& RunDigest::contractFields()
{
    static const QStringList fields{
        QStringLiteral("DurationSeconds"), QStringLiteral("QueueStart"), QStringLiteral("QueueEnd"),
        QStringLiteral("MaxWaitSeconds"), QStringLiteral("PollIntervalSeconds"),
        QStringLiteral("HistoryAttempts"), QStringLiteral("HistoryAttemptLimit"),
        QStringLiteral("HistoryExitReason"), QStringLiteral("ExecutionSuccessDetected"),
        QStringLiteral("ExecutionSuccessAt"), QStringLiteral("PostExecutionTimeoutSeconds"),
        QStringLiteral("HistoryPostExecutionTimeoutReached"), QStringLiteral("SceneRetryBudget"),
        QStringLiteral("CompletionSignal"), QStringLiteral("DoneMarkerDetected"),
        QStringLiteral("DoneMarkerWaitSeconds"), QStringLiteral("DoneMarkerPath"),
        QStringLiteral("ForcedCopyTriggered"), QStringLiteral("ForcedCopyDebugPath"),
        QStringLiteral("GPU"), QStringLiteral("System"),
        QStringLiteral("GPU.Name"), QStringLiteral("GPU.Type"), QStringLiteral("GPU.Index"),
        QStringLiteral("GPU.VramTotal"), QStringLiteral("GPU.VramFreeBefore"),
        QStringLiteral("GPU.VramFreeAfter"), QStringLiteral("GPU.VramBeforeMB"),
        QStringLiteral("GPU.VramAfterMB"), QStringLiteral("GPU.VramDeltaMB"),
        QStringLiteral("GPU.VramPeakUsedMB"), QStringLiteral("GPU.Source"),
        QStringLiteral("System.Before"), QStringLiteral("System.After"),
        QStringLiteral("System.FallbackNotes")};
    return fields;
}

SceneDigest RunDigest::sceneOf(const QJsonValue& scene)
{
    return sceneFrom(scene);
}

RunDigest RunDigest::fromArtifact(const QJsonObject& artifact)
{
    RunDigest d;
    d.runId = artifact.value(QLatin1String("RunId"));
    d.timestamp = artifact.value(QLatin1String("Timestamp"));
    const QJsonObject q = artifact.value(QLatin1String("QualityMetrics")).toObject();
    for (const RunNumber& n : kRunNumbers)
        d.*n.member = number(q, QLatin1String(n.key));
    d.promptTruncated = q.value(QLatin1String("PromptTruncated")).toBool();
    const QJsonValue first = q.value(QLatin1String("PlannerFirstTryValid"));
    if (first.isBool())
        d.plannerFirstTryValid = first.toBool();
    d.plannerValidAfterRetry = q.value(QLatin1String("PlannerValidAfterRetry")).toBool();
    d.llmModel = q.value(QLatin1String("LlmModel")).toString();
    d.unmeasured = strings(q.value(QLatin1String("Unmeasured")));
    d.samenessFlagged = strings(q.value(QLatin1String("SamenessFlagged")));
    const QJsonArray scenes = artifact.value(QLatin1String("Scenes")).toArray();
    d.scenes.reserve(scenes.size());
    for (const QJsonValue s : scenes)
        d.scenes.append(sceneFrom(s));
    return d;
}

QJsonObject RunDigest::toJson() const
{
    QJsonObject o{{QStringLiteral("DigestVersion"), kVersion}};
    if (!runId.isUndefined())
        o.insert(QStringLiteral("RunId"), runId);
    if (!timestamp.isUndefined())
        o.insert(QStringLiteral("Timestamp"), timestamp);
    for (const RunNumber& n : kRunNumbers)
        putNumber(o, QLatin1String(n.key), this->*n.member);
    if (promptTruncated)
        o.insert(QStringLiteral("PromptTruncated"), true);
    if (plannerFirstTryValid)
        o.insert(QStringLiteral("PlannerFirstTryValid"), *plannerFirstTryValid);
    if (plannerValidAfterRetry)
        o.insert(QStringLiteral("PlannerValidAfterRetry"), true);
    if (!llmModel.isEmpty())
        o.insert(QStringLiteral("LlmModel"), llmModel);
    if (!unmeasured.isEmpty())
        o.insert(QStringLiteral("Unmeasured"), QJsonArray::fromStringList(unmeasured));
    if (!samenessFlagged.isEmpty())
        o.insert(QStringLiteral("SamenessFlagged"), QJsonArray::fromStringList(samenessFlagged));
    QJsonArray sceneArray;
    for (const SceneDigest& s : scenes)
        sceneArray.append(sceneJson(s));
    o.insert(QStringLiteral("Scenes"), sceneArray);
    return o;
}

std::optional<RunDigest> RunDigest::fromJson(const QJsonObject& json)
{
    if (json.value(QLatin1String("DigestVersion")).toInt(-1) != kVersion)
        return std::nullopt;
    const QJsonValue sceneValue = json.value(QLatin1String("Scenes"));
    if (!sceneValue.isArray())
        return std::nullopt;
    RunDigest d;
    d.runId = json.value(QLatin1String("RunId"));
    d.timestamp = json.value(QLatin1String("Timestamp"));
    for (const RunNumber& n : kRunNumbers)
        d.*n.member = optionalNumber(json, QLatin1String(n.key));
    d.promptTruncated = json.value(QLatin1String("PromptTruncated")).toBool();
    const QJsonValue first = json.value(QLatin1String("PlannerFirstTryValid"));
    if (first.isBool())
        d.plannerFirstTryValid = first.toBool();
    d.plannerValidAfterRetry = json.value(QLatin1String("PlannerValidAfterRetry")).toBool();
    d.llmModel = json.value(QLatin1String("LlmModel")).toString();
    d.unmeasured = strings(json.value(QLatin1String("Unmeasured")));
    d.samenessFlagged = strings(json.value(QLatin1String("SamenessFlagged")));
    const QJsonArray sceneArray = sceneValue.toArray();
    d.scenes.reserve(sceneArray.size());
    for (const QJsonValue v : sceneArray) {
        std::optional<SceneDigest> s = sceneFromJson(v);
        if (!s)
            return std::nullopt;
        d.scenes.append(std::move(*s));
    }
    return d;
}

} // namespace gd::telemetry
