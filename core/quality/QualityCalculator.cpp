#include "quality/QualityCalculator.h"

#include "common/SafePath.h"
#include "quality/BlankFrameDetector.h"
#include "quality/EntityLinkage.h"
#include "quality/PipelineStats.h"
#include "quality/SceneDiversity.h"
#include "story/StoryLoader.h"
#include "telemetry/ArtifactWriter.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>

namespace gd::quality {

namespace {

QString str(const char* s)
{
    return QString::fromLatin1(s);
}

QJsonValue num(const std::optional<double>& v)
{
    return v && std::isfinite(*v) ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

QString ratioReasonScene(const QString& sceneId, const QString& reason)
{
    return QStringLiteral("BlankFrameRatio: ") + sceneId + QStringLiteral(": ") + reason;
}

bool isFrameFile(const QString& name)
{
    static const QStringList ext{QStringLiteral("png"), QStringLiteral("jpg"), QStringLiteral("jpeg"),
                                 QStringLiteral("webp"), QStringLiteral("bmp")};
    return ext.contains(QFileInfo(name).suffix().toLower());
}

// A path written into the artifact is relative to the run directory (contract §1). The artifact is
// a file anyone can edit, so a path that climbs out or is absolute is refused, never followed.
QString confined(const QString& runDir, const QString& relative)
{
    const QString p = QDir::fromNativeSeparators(relative);
    if (p.isEmpty() || !SafePath::isSafeSubfolder(p))
        return {};
    return QDir(runDir).filePath(p);
}

// Character names that the bible does not know: every scene's `characters` entry whose words are
// neither a bible full name nor a bible first name.
QStringList nonBibleNames(const QStringList& bibleNames, const QVector<story::StoryScene>& scenes)
{
    QSet<QString> known;
    for (const QString& n : bibleNames) {
        const QStringList w = EntityLinkage::words(n);
        if (w.isEmpty())
            continue;
        known.insert(w.join(QLatin1Char(' ')));
        known.insert(w.first());
    }
    QStringList out;
    for (const story::StoryScene& s : scenes) {
        for (const QString& n : s.characters) {
            const QString key = EntityLinkage::words(n).join(QLatin1Char(' '));
            if (key.isEmpty() || known.contains(key))
                continue;
            known.insert(key);
            out.append(n);
        }
    }
    return out;
}

// Feedback entries come from the feedback panel; the coherence rating is optional there. Accepts
// "Coherence" (and "CoherenceRating") as a number 1..5; anything else is not a rating.
std::optional<double> coherenceRating(const QJsonValue& entry)
{
    const QJsonObject o = entry.toObject();
    for (const char* key : {"Coherence", "CoherenceRating"}) {
        const QJsonValue v = o.value(str(key));
        if (v.isDouble() && v.toDouble() >= 1.0 && v.toDouble() <= 5.0)
            return v.toDouble();
    }
    return std::nullopt;
}

void storyMetrics(const QString& runDir, const QJsonObject& artifact, const QVector<QJsonObject>& scenes,
                  QJsonObject& q, QHash<QString, QJsonObject>& perScene, QStringList& unmeasured)
{
    const QJsonObject storyInfo = artifact.value(QStringLiteral("Story")).toObject();
    QString storyFile = storyInfo.value(QStringLiteral("File")).toString();
    if (storyFile.isEmpty())
        storyFile = QStringLiteral("story/story.json");
    const QString storyPath = confined(runDir, storyFile);
    QStringList problems;
    std::optional<story::Story> story;
    QString storyProblem;
    if (storyPath.isEmpty()) {
        storyProblem = QStringLiteral("Story.File \"%1\" is not a path inside the run directory").arg(storyFile);
    } else {
        story = story::StoryLoader::load(storyPath, &problems);
        if (!story)
            storyProblem = storyFile + QStringLiteral(" unreadable: ") +
                           (problems.isEmpty() ? QStringLiteral("unknown reason") : problems.join(QStringLiteral("; ")));
    }

    // Entity linkage over each scene's summary + prompt, in story order.
    q.insert(QStringLiteral("EntityLinkageText"), QStringLiteral("summary+prompt"));
    if (!story) {
        q.insert(QStringLiteral("EntityLinkageScore"), QJsonValue::Null);
        unmeasured.append(QStringLiteral("EntityLinkageScore: ") + storyProblem);
    } else {
        QStringList bibleNames;
        const QJsonArray characters = story->bible.value(QStringLiteral("characters")).toArray();
        for (const QJsonValue& c : characters) {
            const QString name = c.toObject().value(QStringLiteral("name")).toString().trimmed();
            if (!name.isEmpty())
                bibleNames.append(name);
        }
        QStringList texts;
        for (const story::StoryScene& s : story->scenes)
            texts.append(s.summary + QLatin1Char('\n') + s.prompt);
        QVector<EntityLinkageCounts> counts;
        const EntityLinkageCounts total =
            EntityLinkage::compute(bibleNames, nonBibleNames(bibleNames, story->scenes), texts, &counts);
        q.insert(QStringLiteral("EntityLinkageScore"), num(total.score()));
        q.insert(QStringLiteral("EntityLinkageMentions"), total.denominator());
        q.insert(QStringLiteral("EntityLinkageLinked"), total.numerator());
        q.insert(QStringLiteral("EntityLinkageScenesCounted"), total.scenesCounted);
        if (!total.score())
            unmeasured.append(bibleNames.isEmpty()
                                  ? QStringLiteral("EntityLinkageScore: the story bible has no characters and no scene mentions a character or pronoun")
                                  : QStringLiteral("EntityLinkageScore: no scene's summary or prompt mentions a character or a pronoun"));
        for (qsizetype i = 0; i < story->scenes.size(); ++i) {
            QJsonObject& sm = perScene[story->scenes.at(i).id];
            sm.insert(QStringLiteral("EntityLinkageScore"), num(counts.at(i).score()));
            sm.insert(QStringLiteral("EntityMentions"), counts.at(i).denominator());
            sm.insert(QStringLiteral("EntityLinked"), counts.at(i).numerator());
        }
    }

    // Scene diversity over the themes of story.json's scenes.
    if (!story) {
        for (const char* k : {"SceneDiversityEntropy", "SceneDiversityNormalized", "SceneDiversityMaxPossible",
                              "SceneDiversityMaxRepetitionRatio"})
            q.insert(str(k), QJsonValue::Null);
        unmeasured.append(QStringLiteral("SceneDiversityEntropy: ") + storyProblem);
    } else {
        QVector<QStringList> tags;
        for (const story::StoryScene& s : story->scenes)
            tags.append(s.themes);
        const SceneDiversityResult d = SceneDiversity::compute(tags);
        q.insert(QStringLiteral("SceneDiversityEntropy"), num(d.entropyBits));
        q.insert(QStringLiteral("SceneDiversityNormalized"), num(d.normalized));
        q.insert(QStringLiteral("SceneDiversityMaxPossible"), num(d.maxPossibleBits));
        q.insert(QStringLiteral("SceneDiversityMaxRepetitionRatio"), num(d.maxRepetitionRatio));
        q.insert(QStringLiteral("SceneDiversityTagCount"), d.tagCount);
        if (!d.ignoredTags.isEmpty())
            q.insert(QStringLiteral("SceneDiversityIgnoredTags"), QJsonArray::fromStringList(d.ignoredTags));
        if (d.tagCount == 0)
            unmeasured.append(QStringLiteral("SceneDiversityEntropy: no scene carries a theme tag of the vocabulary"));
        else if (!d.normalized)
            unmeasured.append(QStringLiteral("SceneDiversityNormalized: the story has a single theme tag (MaxPossible is 0)"));
    }

    // Prompt lengths: Story.Prompts[*] when the LLM stage recorded them, else the §Tokens estimate.
    QHash<QString, QJsonObject> recorded;
    for (const QJsonValue& p : storyInfo.value(QStringLiteral("Prompts")).toArray()) {
        const QJsonObject o = p.toObject();
        if (o.value(QStringLiteral("TokenCount")).isDouble())
            recorded.insert(o.value(QStringLiteral("SceneId")).toString(), o);
    }
    QVector<double> tokens;
    for (const QJsonObject& scene : scenes) {
        const QString id = scene.value(QStringLiteral("SceneId")).toString();
        QJsonObject& sm = perScene[id];
        int count = 0;
        QString source;
        if (recorded.contains(id)) {
            count = recorded.value(id).value(QStringLiteral("TokenCount")).toInt();
            source = recorded.value(id).value(QStringLiteral("TokenCountSource")).toString(QStringLiteral("usage"));
        } else {
            count = static_cast<int>((scene.value(QStringLiteral("Prompt")).toString().size() + 3) / 4);
            source = QStringLiteral("estimate");
        }
        sm.insert(QStringLiteral("PromptTokenCount"), count);
        sm.insert(QStringLiteral("PromptTokenCountSource"), source);
        tokens.append(count);
    }
    if (tokens.isEmpty()) {
        q.insert(QStringLiteral("PromptTokenCountMean"), QJsonValue::Null);
        unmeasured.append(QStringLiteral("PromptTokenCount: the run has no scenes"));
    } else {
        double sum = 0;
        for (double t : tokens)
            sum += t;
        q.insert(QStringLiteral("PromptTokenCountMean"), sum / tokens.size());
        q.insert(QStringLiteral("PromptTokenCountMin"), *std::min_element(tokens.begin(), tokens.end()));
        q.insert(QStringLiteral("PromptTokenCountMax"), *std::max_element(tokens.begin(), tokens.end()));
    }

    // LLM generation time and planner reliability inputs (Story.LLM); a story from a file has none.
    const QJsonValue llmValue = storyInfo.value(QStringLiteral("LLM"));
    const QJsonObject llm = llmValue.toObject();
    if (llm.isEmpty()) {
        const QString why = QStringLiteral("the story was not generated by an LLM in this run (Story.Generator=%1)")
                                .arg(storyInfo.value(QStringLiteral("Generator")).toString(QStringLiteral("unknown")));
        q.insert(QStringLiteral("LlmGenerationSeconds"), QJsonValue::Null);
        q.insert(QStringLiteral("PromptTruncated"), QJsonValue::Null);
        q.insert(QStringLiteral("PlannerFirstTryValid"), QJsonValue::Null);
        unmeasured.append(QStringLiteral("LlmGenerationSeconds: ") + why);
        unmeasured.append(QStringLiteral("PlannerReliability: ") + why);
    } else {
        const QJsonValue ms = llm.value(QStringLiteral("DurationMs"));
        q.insert(QStringLiteral("LlmGenerationSeconds"), ms.isDouble() ? QJsonValue(ms.toDouble() / 1000.0)
                                                                       : QJsonValue(QJsonValue::Null));
        if (!ms.isDouble())
            unmeasured.append(QStringLiteral("LlmGenerationSeconds: Story.LLM.DurationMs is missing"));
        q.insert(QStringLiteral("LlmModel"), llm.value(QStringLiteral("Model")).toString());
        q.insert(QStringLiteral("PromptTruncated"), llm.value(QStringLiteral("Truncated")).isBool()
                                                        ? llm.value(QStringLiteral("Truncated"))
                                                        : QJsonValue(QJsonValue::Null));
        const QJsonValue first = llm.value(QStringLiteral("FirstTryValid"));
        const QJsonValue retries = llm.value(QStringLiteral("Retries"));
        q.insert(QStringLiteral("PlannerFirstTryValid"), first.isBool() ? first : QJsonValue(QJsonValue::Null));
        q.insert(QStringLiteral("PlannerRetries"), retries.isDouble() ? retries : QJsonValue(QJsonValue::Null));
        q.insert(QStringLiteral("PlannerValidAfterRetry"),
                 llm.value(QStringLiteral("Status")).toString() == QStringLiteral("success") && retries.isDouble() &&
                     retries.toInt() <= 1);
        if (!first.isBool())
            unmeasured.append(QStringLiteral("PlannerReliability: Story.LLM.FirstTryValid is missing"));
    }
}

void frameMetrics(const QString& runDir, const QVector<QJsonObject>& scenes, QJsonObject& q,
                  QHash<QString, QJsonObject>& perScene, QStringList& unmeasured)
{
    // Gather the kept attempts' frames of every scene, then decode them in one parallel batch.
    QStringList files;
    QVector<QPair<qsizetype, qsizetype>> ranges(scenes.size(), {0, 0});
    QVector<bool> measurable(scenes.size(), false);
    for (qsizetype i = 0; i < scenes.size(); ++i) {
        const QJsonObject& scene = scenes.at(i);
        const QString id = scene.value(QStringLiteral("SceneId")).toString();
        QJsonObject& sm = perScene[id];
        const QString video = scene.value(QStringLiteral("VideoFile")).toString();
        const QString dir = scene.value(QStringLiteral("GeneratedFramesDir")).toString();
        QString reason;
        if (!video.isEmpty()) {
            reason = QStringLiteral("video output (%1); its frames are not decoded").arg(video);
        } else if (scene.value(QStringLiteral("FrameCount")).toInt() <= 0 || dir.isEmpty()) {
            reason = QStringLiteral("no frames");
        } else {
            const QString path = confined(runDir, dir);
            if (path.isEmpty()) {
                reason = QStringLiteral("GeneratedFramesDir \"%1\" is not a path inside the run directory").arg(dir);
            } else {
                QStringList names = QDir(path).entryList(QDir::Files, QDir::Name);
                names.erase(std::remove_if(names.begin(), names.end(), [](const QString& n) { return !isFrameFile(n); }),
                            names.end());
                if (names.isEmpty())
                    reason = QStringLiteral("no frame files in %1").arg(dir);
                ranges[i].first = files.size();
                for (const QString& n : names)
                    files.append(QDir(path).filePath(n));
                ranges[i].second = files.size();
            }
        }
        if (!reason.isEmpty()) {
            sm.insert(QStringLiteral("BlankFrameRatio"), QJsonValue::Null);
            sm.insert(QStringLiteral("Unmeasured"), QJsonArray{QString(QStringLiteral("BlankFrameRatio: ") + reason)});
            unmeasured.append(ratioReasonScene(id, reason));
        } else {
            measurable[i] = true;
        }
    }

    const QVector<std::optional<bool>> verdicts = BlankFrameDetector::classify(files);
    int totalChecked = 0;
    int totalBlank = 0;
    for (qsizetype i = 0; i < scenes.size(); ++i) {
        if (!measurable.at(i))
            continue;
        const QString id = scenes.at(i).value(QStringLiteral("SceneId")).toString();
        QJsonObject& sm = perScene[id];
        BlankFrameCounts c;
        for (qsizetype f = ranges.at(i).first; f < ranges.at(i).second; ++f) {
            if (!verdicts.at(f)) {
                c.unreadable.append(QFileInfo(files.at(f)).fileName());
                continue;
            }
            ++c.checked;
            if (*verdicts.at(f))
                ++c.blank;
        }
        sm.insert(QStringLiteral("BlankFrameRatio"), num(c.ratio()));
        sm.insert(QStringLiteral("BlankFrames"), c.blank);
        sm.insert(QStringLiteral("FramesChecked"), c.checked);
        if (!c.unreadable.isEmpty())
            sm.insert(QStringLiteral("UnreadableFrames"), QJsonArray::fromStringList(c.unreadable));
        if (!c.ratio()) {
            const QString reason = QStringLiteral("none of its %1 frame files decoded").arg(c.unreadable.size());
            sm.insert(QStringLiteral("Unmeasured"), QJsonArray{QString(QStringLiteral("BlankFrameRatio: ") + reason)});
            unmeasured.append(ratioReasonScene(id, reason));
        }
        totalChecked += c.checked;
        totalBlank += c.blank;
    }
    q.insert(QStringLiteral("BlankFrames"), totalBlank);
    q.insert(QStringLiteral("FramesChecked"), totalChecked);
    q.insert(QStringLiteral("BlankFrameRatio"),
             totalChecked > 0 ? QJsonValue(static_cast<double>(totalBlank) / totalChecked) : QJsonValue(QJsonValue::Null));
}

void pipelineMetrics(const QVector<QJsonObject>& scenes, QJsonObject& q, QStringList& unmeasured)
{
    const PipelineFigures f = PipelineStats::compute(scenes);
    q.insert(QStringLiteral("ScenesRun"), f.scenesRun);
    q.insert(QStringLiteral("DoneMarkerDetectionRate"), num(f.doneMarkerRate));
    q.insert(QStringLiteral("ForcedCopyRate"), num(f.forcedCopyRate));
    q.insert(QStringLiteral("ZeroFrameRate"), num(f.zeroFrameRate));
    q.insert(QStringLiteral("ExecutionSuccessRate"), num(f.executionSuccessRate));
    q.insert(QStringLiteral("DurationP50Seconds"), num(f.durationP50Seconds));
    q.insert(QStringLiteral("DurationP95Seconds"), num(f.durationP95Seconds));
    q.insert(QStringLiteral("VramDeltaAbsMaxMB"), num(f.vramDeltaAbsMaxMB));
    q.insert(QStringLiteral("VramDeltaAbsP95MB"), num(f.vramDeltaAbsP95MB));
    q.insert(QStringLiteral("VramPeakUsedMaxMB"), num(f.vramPeakUsedMaxMB));
    q.insert(QStringLiteral("TelemetryCompleteness"), num(f.telemetryCompleteness));
    if (!f.missingTelemetryFields.isEmpty())
        q.insert(QStringLiteral("TelemetryMissingFields"), QJsonArray::fromStringList(f.missingTelemetryFields));
    if (f.scenesRun == 0)
        unmeasured.append(QStringLiteral("PipelineRates: no scene of the run was rendered"));
    if (f.scenesRun > 0 && !f.vramDeltaAbsMaxMB)
        unmeasured.append(QStringLiteral("VramDeltaMB: no GPU memory reading in any scene's telemetry"));
    if (f.scenesRun > 0 && !f.vramPeakUsedMaxMB)
        unmeasured.append(QStringLiteral("VramPeakUsedMB: no peak GPU memory sample in any scene's telemetry"));
    if (f.scenes == 0)
        unmeasured.append(QStringLiteral("TelemetryCompleteness: the run has no scenes"));
}

void humanCoherence(const QJsonObject& artifact, QJsonObject& q, QStringList& unmeasured)
{
    double sum = 0;
    int n = 0;
    for (const QJsonValue& entry : artifact.value(QStringLiteral("Feedback")).toArray()) {
        if (const auto r = coherenceRating(entry)) {
            sum += *r;
            ++n;
        }
    }
    q.insert(QStringLiteral("HumanCoherenceRatings"), n);
    q.insert(QStringLiteral("HumanCoherenceScore"), n > 0 ? QJsonValue(sum / n) : QJsonValue(QJsonValue::Null));
    if (n == 0)
        unmeasured.append(QStringLiteral("HumanCoherenceScore: no ratings yet"));
}

// The judges' metrics: merged as given; a metric they did not report stays null with a reason.
void mergeJudged(const JudgeResults& judged, QJsonObject& q, QHash<QString, QJsonObject>& perScene,
                 QStringList& unmeasured)
{
    for (auto it = judged.run.begin(); it != judged.run.end(); ++it)
        q.insert(it.key(), it.value());
    for (auto it = judged.scenes.cbegin(); it != judged.scenes.cend(); ++it) {
        QJsonObject& sm = perScene[it.key()];
        for (auto k = it.value().begin(); k != it.value().end(); ++k)
            sm.insert(k.key(), k.value());
    }
    for (const QString& u : judged.unmeasured)
        unmeasured.append(u);
    // Key, and the family prefix a judge's reason may use instead ("SemanticAlignment: no vision model").
    const QVector<QPair<const char*, const char*>> judgedKeys{
        {"CoherenceJudgeScore", "CoherenceJudge"},
        {"PromptAlignmentJudgeMean", "PromptAlignment"},
        {"SemanticAlignmentMean", "SemanticAlignment"},
        {"SemanticAlignmentMargin", "SemanticAlignment"},
        {"SemanticAlignmentRetrievalTop1", "SemanticAlignment"}};
    for (const auto& [key, family] : judgedKeys) {
        const QString k = str(key);
        if (q.contains(k) && !q.value(k).isNull())
            continue;
        q.insert(k, QJsonValue::Null);
        const QString prefix = str(family);
        const bool explained = std::any_of(judged.unmeasured.begin(), judged.unmeasured.end(),
                                           [&prefix](const QString& u) { return u.startsWith(prefix); });
        if (!explained)
            unmeasured.append(k + QStringLiteral(": the model judges did not run for this computation"));
    }
}

} // namespace

Error QualityCalculator::readArtifact(const QString& runDir, QJsonObject* artifact)
{
    const QString path = QDir(runDir).filePath(telemetry::ArtifactWriter::fileName());
    QFile file(path);
    if (!QFileInfo(runDir).isDir())
        return {QStringLiteral("notFound"), QStringLiteral("No such run directory: %1").arg(runDir), {}};
    if (!file.open(QIODevice::ReadOnly))
        return {QStringLiteral("io"), QStringLiteral("Cannot read %1: %2").arg(path, file.errorString()), {}};
    if (file.size() > kMaxArtifactBytes)
        return {QStringLiteral("tooLarge"),
                QStringLiteral("%1 is %2 bytes, above the %3-byte limit").arg(path).arg(file.size()).arg(kMaxArtifactBytes),
                {}};
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return {QStringLiteral("parse"),
                QStringLiteral("%1 is not a JSON object: %2 at offset %3")
                    .arg(path, parseError.errorString())
                    .arg(parseError.offset),
                {}};
    *artifact = doc.object();
    return {};
}

QualityComputation QualityCalculator::compute(const QString& runDir, const JudgeResults& judged)
{
    QJsonObject artifact;
    if (Error e = readArtifact(runDir, &artifact); !e.isNull()) {
        QualityComputation failed;
        failed.error = e;
        return failed;
    }
    return compute(runDir, artifact, judged);
}

QualityComputation QualityCalculator::compute(const QString& runDir, const QJsonObject& artifact,
                                              const JudgeResults& judged)
{
    QualityComputation result;
    QVector<QJsonObject> scenes;
    for (const QJsonValue& s : artifact.value(QStringLiteral("Scenes")).toArray())
        if (s.isObject())
            scenes.append(s.toObject());

    QJsonObject& q = result.qualityMetrics;
    QStringList unmeasured;
    for (const QJsonObject& s : scenes)
        result.sceneMetrics.insert(s.value(QStringLiteral("SceneId")).toString(), QJsonObject{});

    storyMetrics(runDir, artifact, scenes, q, result.sceneMetrics, unmeasured);
    humanCoherence(artifact, q, unmeasured);
    frameMetrics(runDir, scenes, q, result.sceneMetrics, unmeasured);
    pipelineMetrics(scenes, q, unmeasured);
    mergeJudged(judged, q, result.sceneMetrics, unmeasured);

    unmeasured.removeDuplicates();
    q.insert(QStringLiteral("Unmeasured"), QJsonArray::fromStringList(unmeasured));
    return result;
}

} // namespace gd::quality
