#include "store/RunStore.h"

#include "common/Log.h"
#include "store/LegacyArtifactMapper.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QVariant>
#include <initializer_list>

namespace gd::store {

namespace {

const QString kArtifactName = QStringLiteral("artifact-metadata.json");
// Artifacts are a few hundred KB at most; anything far larger is not one of ours.
constexpr qint64 kMaxArtifactBytes = 256LL * 1024 * 1024;

// ---- JSON → SQL values: a missing or mistyped field is NULL, never a made-up 0 ----
QVariant jInt(const QJsonValue& v)
{
    return v.isDouble() ? QVariant(static_cast<qint64>(v.toDouble())) : QVariant();
}
QVariant jReal(const QJsonValue& v)
{
    return v.isDouble() ? QVariant(v.toDouble()) : QVariant();
}
QVariant jBool(const QJsonValue& v)
{
    return v.isBool() ? QVariant(v.toBool() ? 1 : 0) : QVariant();
}
QVariant jStr(const QJsonValue& v)
{
    return v.isString() ? QVariant(v.toString()) : QVariant();
}
QVariant jJson(const QJsonValue& v)
{
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    return {};
}
QDateTime parseTime(const QJsonValue& v)
{
    if (!v.isString())
        return {};
    QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
    return t.isValid() ? t.toUTC() : QDateTime();
}
QVariant jTimeMs(const QJsonValue& v)
{
    const QDateTime t = parseTime(v);
    return t.isValid() ? QVariant(t.toMSecsSinceEpoch()) : QVariant();
}
QJsonObject without(QJsonObject o, std::initializer_list<const char*> keys)
{
    for (const char* k : keys)
        o.remove(QLatin1String(k));
    return o;
}

void bindAll(QSqlQuery& q, std::initializer_list<QVariant> values)
{
    for (const QVariant& v : values)
        q.addBindValue(v);
}

// ---- SQL → row values ----
std::optional<int> optInt(const QVariant& v)
{
    return v.isNull() ? std::nullopt : std::optional<int>(v.toInt());
}
std::optional<double> optReal(const QVariant& v)
{
    return v.isNull() ? std::nullopt : std::optional<double>(v.toDouble());
}
std::optional<bool> optBool(const QVariant& v)
{
    return v.isNull() ? std::nullopt : std::optional<bool>(v.toInt() != 0);
}
QStringList stringList(const QVariant& v)
{
    QStringList out;
    const QJsonArray a = QJsonDocument::fromJson(v.toString().toUtf8()).array();
    for (const QJsonValue& e : a)
        out << (e.isString()
                    ? e.toString()
                    : QString::fromUtf8(QJsonDocument(QJsonArray{e}).toJson(QJsonDocument::Compact)));
    return out;
}

const QString kRunColumns = QStringLiteral(
    "id, run_id, run_dir, format, started_at_ms, app_version, story_id, story_title, genre, template_id, "
    "template_version, model, workflow, scenes_total, scenes_succeeded, total_frames, requeues, "
    "forced_copies, "
    "done_markers_detected, duration_p50_seconds, duration_p95_seconds");

RunRow runRowFrom(const QSqlQuery& q)
{
    RunRow r;
    r.key = q.value(0).toLongLong();
    r.runId = q.value(1).toString();
    r.runDir = q.value(2).toString();
    r.format = q.value(3).toString();
    if (!q.value(4).isNull())
        r.startedAt = QDateTime::fromMSecsSinceEpoch(q.value(4).toLongLong(), Qt::UTC);
    r.appVersion = q.value(5).toString();
    r.storyId = q.value(6).toString();
    r.storyTitle = q.value(7).toString();
    r.genre = q.value(8).toString();
    r.templateId = q.value(9).toString();
    r.templateVersion = q.value(10).toString();
    r.model = q.value(11).toString();
    r.workflow = q.value(12).toString();
    r.scenesTotal = optInt(q.value(13));
    r.scenesSucceeded = optInt(q.value(14));
    r.totalFrames = optInt(q.value(15));
    r.requeues = optInt(q.value(16));
    r.forcedCopies = optInt(q.value(17));
    r.doneMarkersDetected = optInt(q.value(18));
    r.durationP50Seconds = optReal(q.value(19));
    r.durationP95Seconds = optReal(q.value(20));
    return r;
}

// The attempt whose frames the scene kept: the summary that names the scene's frames directory
// (or prompt id); otherwise the one with the most frames, ties to the earlier (TELEMETRY_CONTRACT
// "Kept attempt").
int keptSummaryIndex(const QJsonObject& scene, const QJsonArray& summaries)
{
    const QString framesDir = scene.value(QLatin1String("GeneratedFramesDir")).toString();
    const QString promptId = scene.value(QLatin1String("PromptId")).toString();
    for (int i = 0; i < summaries.size(); ++i) {
        const QJsonObject a = summaries.at(i).toObject();
        if (!framesDir.isEmpty() && a.value(QLatin1String("FramesDir")).toString() == framesDir)
            return i;
    }
    for (int i = 0; i < summaries.size(); ++i) {
        if (!promptId.isEmpty() &&
            summaries.at(i).toObject().value(QLatin1String("PromptId")).toString() == promptId)
            return i;
    }
    int best = -1;
    int bestFrames = -1;
    for (int i = 0; i < summaries.size(); ++i) {
        const int frames = summaries.at(i).toObject().value(QLatin1String("FrameCount")).toInt(0);
        if (frames > bestFrames) {
            best = i;
            bestFrames = frames;
        }
    }
    return best;
}

std::optional<double> number(const QJsonObject& o, const char* key)
{
    const QJsonValue v = o.value(QLatin1String(key));
    return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
}

QVariant toVariant(std::optional<double> v)
{
    return v ? QVariant(*v) : QVariant();
}

QString digestText(const telemetry::RunDigest& digest)
{
    return QString::fromUtf8(QJsonDocument(digest.toJson()).toJson(QJsonDocument::Compact));
}

// A stored digest, or std::nullopt when it is missing, of another version or damaged (then the
// run directory rebuilds it).
std::optional<telemetry::RunDigest> storedDigest(const QVariant& version, const QVariant& text)
{
    if (version.isNull() || version.toInt() != telemetry::RunDigest::kVersion || text.isNull())
        return std::nullopt;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toString().toUtf8(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return telemetry::RunDigest::fromJson(doc.object());
}

} // namespace

RunStore::RunStore(Database& db) : m_db(db) {}

QString RunStore::normalizeRunDir(const QString& runDir)
{
    const QFileInfo info(runDir);
    const QString canonical = info.canonicalFilePath();
    return canonical.isEmpty() ? QDir::cleanPath(info.absoluteFilePath()) : canonical;
}

Error RunStore::readArtifact(const QString& runDir, QJsonObject& artifact)
{
    const QString path = QDir(runDir).filePath(kArtifactName);
    QFile file(path);
    if (!file.exists())
        return Error{QStringLiteral("missingArtifact"),
                     QStringLiteral("%1 has no %2").arg(runDir, kArtifactName),
                     QJsonObject{{QStringLiteral("path"), path}}};
    if (!file.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("unreadableArtifact"),
                     QStringLiteral("cannot read %1: %2").arg(path, file.errorString()),
                     QJsonObject{{QStringLiteral("path"), path}}};
    if (file.size() > kMaxArtifactBytes)
        return Error{QStringLiteral("corruptArtifact"),
                     QStringLiteral("%1 is %2 bytes, larger than any artifact (limit %3)")
                         .arg(path)
                         .arg(file.size())
                         .arg(kMaxArtifactBytes),
                     QJsonObject{{QStringLiteral("path"), path}}};
    const QByteArray bytes = file.readAll();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return Error{
            QStringLiteral("corruptArtifact"),
            QStringLiteral("%1 is not valid JSON (%2 at offset %3 of %4 bytes; half-written or damaged)")
                .arg(path, parseError.errorString())
                .arg(parseError.offset)
                .arg(bytes.size()),
            QJsonObject{{QStringLiteral("path"), path}}};
    if (!doc.isObject())
        return Error{QStringLiteral("corruptArtifact"),
                     QStringLiteral("%1 is JSON but not an object").arg(path),
                     QJsonObject{{QStringLiteral("path"), path}}};
    artifact = doc.object();
    const QJsonValue runId = artifact.value(QLatin1String("RunId"));
    if (!runId.isString() || runId.toString().isEmpty())
        return Error{QStringLiteral("invalidArtifact"), QStringLiteral("%1 has no RunId").arg(path),
                     QJsonObject{{QStringLiteral("path"), path}}};
    if (artifact.contains(QLatin1String("Scenes")) && !artifact.value(QLatin1String("Scenes")).isArray())
        return Error{QStringLiteral("invalidArtifact"),
                     QStringLiteral("%1: Scenes is not an array").arg(path),
                     QJsonObject{{QStringLiteral("path"), path}}};
    return {};
}

Error RunStore::runKeyOf(const QString& runId, const QString& runDir, qint64& key, bool& found) const
{
    QSqlQuery q = m_db.query();
    q.prepare(QStringLiteral("SELECT id FROM runs WHERE run_id = ? AND run_dir = ?"));
    bindAll(q, {runId, runDir});
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    found = q.next();
    key = found ? q.value(0).toLongLong() : 0;
    return {};
}

Error RunStore::recordRun(const QJsonObject& artifact, const QString& runDir)
{
    return m_db.writeTransaction([&] { return recordRunInTransaction(artifact, runDir); });
}

Error RunStore::recordRunInTransaction(const QJsonObject& source, const QString& runDir, qint64* runKeyOut)
{
    const QString runId = source.value(QLatin1String("RunId")).toString();
    if (runId.isEmpty())
        return Error{
            QStringLiteral("invalidArtifact"), QStringLiteral("artifact of %1 has no RunId").arg(runDir), {}};
    const bool legacy = LegacyArtifactMapper::isLegacy(source);
    const QJsonObject a = legacy ? LegacyArtifactMapper::toCurrent(source) : source;
    const QString dir = normalizeRunDir(runDir);

    QSqlQuery del = m_db.query();
    del.prepare(QStringLiteral("DELETE FROM runs WHERE run_id = ? AND run_dir = ?"));
    bindAll(del, {runId, dir});
    if (Error e = m_db.exec(del); !e.isNull())
        return e;

    const QJsonObject story = a.value(QLatin1String("Story")).toObject();
    const QJsonObject llm = story.value(QLatin1String("LLM")).toObject();
    const QJsonObject summary = a.value(QLatin1String("Summary")).toObject();
    const QJsonValue ts = a.value(QLatin1String("Timestamp"));
    const QJsonObject rest =
        without(a, {"RunId", "RunDir", "Timestamp", "AppVersion", "Story", "Scenes", "QualityMetrics",
                    "Feedback", "Summary", "QueueConfig", "LLMHealthInfo", "Workflow", "Warnings"});
    QSqlQuery run = m_db.query();
    run.prepare(QStringLiteral(
        "INSERT INTO runs (run_id, run_dir, format, started_at_ms, started_at, app_version, story_id, "
        "story_title, genre, "
        "template_id, template_version, model, workflow, scenes_total, scenes_succeeded, total_frames, "
        "requeues, "
        "forced_copies, done_markers_detected, duration_p50_seconds, duration_p95_seconds, "
        "queue_config_json, "
        "llm_health_json, story_json, summary_json, warnings_json, extra_json, recorded_at_ms, digest_version, "
        "digest_json) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    bindAll(run, {runId,
                  dir,
                  legacy ? QStringLiteral("legacy") : QStringLiteral("gemdirect"),
                  jTimeMs(ts),
                  jStr(ts),
                  jStr(a.value(QLatin1String("AppVersion"))),
                  jStr(story.value(QLatin1String("Id"))),
                  jStr(story.value(QLatin1String("Title"))),
                  jStr(story.value(QLatin1String("Genre"))),
                  jStr(story.value(QLatin1String("TemplateId"))),
                  jStr(story.value(QLatin1String("TemplateVersion"))),
                  jStr(llm.value(QLatin1String("Model"))),
                  jStr(a.value(QLatin1String("Workflow"))),
                  jInt(summary.value(QLatin1String("ScenesTotal"))),
                  jInt(summary.value(QLatin1String("ScenesSucceeded"))),
                  jInt(summary.value(QLatin1String("TotalFrames"))),
                  jInt(summary.value(QLatin1String("Requeues"))),
                  jInt(summary.value(QLatin1String("ForcedCopies"))),
                  jInt(summary.value(QLatin1String("DoneMarkersDetected"))),
                  jReal(summary.value(QLatin1String("DurationP50Seconds"))),
                  jReal(summary.value(QLatin1String("DurationP95Seconds"))),
                  jJson(a.value(QLatin1String("QueueConfig"))),
                  jJson(a.value(QLatin1String("LLMHealthInfo"))),
                  jJson(story),
                  jJson(summary),
                  jJson(a.value(QLatin1String("Warnings"))),
                  jJson(rest),
                  QDateTime::currentDateTimeUtc().toMSecsSinceEpoch(),
                  telemetry::RunDigest::kVersion,
                  digestText(telemetry::RunDigest::fromArtifact(a))});
    if (Error e = m_db.exec(run); !e.isNull())
        return e;
    const qint64 runKey = run.lastInsertId().toLongLong();

    QSqlQuery scene = m_db.query();
    scene.prepare(QStringLiteral(
        "INSERT INTO scenes (run_key, position, scene_id, title, prompt, negative_prompt, workflow, status, "
        "success, "
        "meets_frame_floor, frame_floor, frame_count, duration_seconds, attempts_run, requeued, backend, "
        "prompt_id, "
        "warnings_json, errors_json, extra_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    QSqlQuery attempt = m_db.query();
    attempt.prepare(QStringLiteral(
        "INSERT INTO attempts (scene_key, attempt, kept, status, timestamp, frame_count, duration_seconds, "
        "success, "
        "meets_frame_floor, history_retrieved, prompt_id, backend, queue_start_ms, queue_end_ms, "
        "history_attempts, "
        "history_exit_reason, execution_success_detected, completion_signal, done_marker_detected, "
        "done_marker_wait_seconds, forced_copy_triggered, vram_before_mb, vram_after_mb, vram_delta_mb, "
        "vram_peak_used_mb, gpu_name, gpu_source, summary_json, telemetry_json) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    QSqlQuery metrics = m_db.query();
    metrics.prepare(QStringLiteral(
        "INSERT INTO quality_metrics (run_key, scene_key, coherence_judge_score, entity_linkage_score, "
        "human_coherence_score, scene_diversity_entropy, prompt_alignment_judge_mean, "
        "semantic_alignment_score, "
        "blank_frame_ratio, metrics_json) VALUES (?,?,?,?,?,?,?,?,?,?)"));

    const auto insertMetrics = [&](const QJsonObject& m, const QVariant& sceneKey) -> Error {
        if (m.isEmpty())
            return {};
        const QJsonObject judge = m.value(QLatin1String("PromptAlignmentJudge")).toObject();
        std::optional<double> alignment = number(m, "PromptAlignmentJudgeMean");
        if (!alignment)
            alignment = number(judge, "Mean");
        std::optional<double> semantic = number(m, "SemanticAlignmentMean");
        if (!semantic)
            semantic = number(m, "SemanticAlignmentScore");
        bindAll(metrics,
                {runKey, sceneKey, toVariant(number(m, "CoherenceJudgeScore")),
                 toVariant(number(m, "EntityLinkageScore")), toVariant(number(m, "HumanCoherenceScore")),
                 toVariant(number(m, "SceneDiversityEntropy")), toVariant(alignment), toVariant(semantic),
                 toVariant(number(m, "BlankFrameRatio")), jJson(m)});
        return m_db.exec(metrics);
    };
    if (Error e = insertMetrics(a.value(QLatin1String("QualityMetrics")).toObject(), QVariant()); !e.isNull())
        return e;

    const QJsonArray scenes = a.value(QLatin1String("Scenes")).toArray();
    for (int i = 0; i < scenes.size(); ++i) {
        const QJsonObject s = scenes.at(i).toObject();
        const QString sceneId = s.value(QLatin1String("SceneId")).toString();
        if (sceneId.isEmpty())
            return Error{QStringLiteral("invalidArtifact"),
                         QStringLiteral("artifact of %1: scene #%2 has no SceneId").arg(dir).arg(i + 1),
                         {}};
        const QJsonObject t = s.value(QLatin1String("Telemetry")).toObject();
        bindAll(scene, {runKey,
                        i,
                        sceneId,
                        jStr(s.value(QLatin1String("Title"))),
                        jStr(s.value(QLatin1String("Prompt"))),
                        jStr(s.value(QLatin1String("NegativePrompt"))),
                        jStr(s.value(QLatin1String("Workflow"))),
                        jStr(s.value(QLatin1String("Status"))),
                        jBool(s.value(QLatin1String("Success"))),
                        jBool(s.value(QLatin1String("MeetsFrameFloor"))),
                        jInt(s.value(QLatin1String("FrameFloor"))),
                        jInt(s.value(QLatin1String("FrameCount"))),
                        jReal(s.value(QLatin1String("DurationSeconds"))),
                        jInt(s.value(QLatin1String("AttemptsRun"))),
                        jBool(s.value(QLatin1String("Requeued"))),
                        jStr(s.value(QLatin1String("Backend"))),
                        jStr(s.value(QLatin1String("PromptId"))),
                        jJson(s.value(QLatin1String("Warnings"))),
                        jJson(s.value(QLatin1String("Errors"))),
                        jJson(without(s, {"AttemptSummaries", "Telemetry", "QualityMetrics"}))});
        if (Error e = m_db.exec(scene); !e.isNull()) {
            if (e.kind == QLatin1String("sql") &&
                e.detail.value(QStringLiteral("sqlError")).toString().contains(QLatin1String("UNIQUE")))
                return Error{QStringLiteral("invalidArtifact"),
                             QStringLiteral("artifact of %1 lists scene %2 twice").arg(dir, sceneId),
                             e.detail};
            return e;
        }
        const qint64 sceneKey = scene.lastInsertId().toLongLong();

        if (Error e = insertMetrics(s.value(QLatin1String("QualityMetrics")).toObject(), sceneKey);
            !e.isNull())
            return e;

        // AttemptSummaries carry each attempt; only the kept one has §3.3 telemetry (the scene's).
        QJsonArray summaries = s.value(QLatin1String("AttemptSummaries")).toArray();
        if (summaries.isEmpty() && (!t.isEmpty() || s.contains(QLatin1String("FrameCount")))) {
            // The earlier pipeline left AttemptSummaries empty: the scene itself is its one attempt.
            summaries.append(
                QJsonObject{{QStringLiteral("Attempt"), s.value(QLatin1String("AttemptsRun")).toInt(1)},
                            {QStringLiteral("FrameCount"), s.value(QLatin1String("FrameCount"))},
                            {QStringLiteral("DurationSeconds"), s.value(QLatin1String("DurationSeconds"))},
                            {QStringLiteral("Success"), s.value(QLatin1String("Success"))},
                            {QStringLiteral("MeetsFrameFloor"), s.value(QLatin1String("MeetsFrameFloor"))},
                            {QStringLiteral("HistoryRetrieved"), s.value(QLatin1String("HistoryRetrieved"))},
                            {QStringLiteral("PromptId"), s.value(QLatin1String("PromptId"))},
                            {QStringLiteral("Backend"), s.value(QLatin1String("Backend"))},
                            {QStringLiteral("FramesDir"), s.value(QLatin1String("GeneratedFramesDir"))}});
        }
        const int keptIndex = keptSummaryIndex(s, summaries);
        for (int k = 0; k < summaries.size(); ++k) {
            const QJsonObject as = summaries.at(k).toObject();
            const bool kept = k == keptIndex;
            const QJsonObject tel = kept ? t : QJsonObject();
            const QJsonObject gpu = tel.value(QLatin1String("GPU")).toObject();
            bindAll(attempt, {sceneKey,
                              as.value(QLatin1String("Attempt")).toInt(k + 1),
                              kept ? 1 : 0,
                              jStr(as.value(QLatin1String("Status"))),
                              jStr(as.value(QLatin1String("Timestamp"))),
                              jInt(as.value(QLatin1String("FrameCount"))),
                              jReal(as.value(QLatin1String("DurationSeconds"))),
                              jBool(as.value(QLatin1String("Success"))),
                              jBool(as.value(QLatin1String("MeetsFrameFloor"))),
                              jBool(as.value(QLatin1String("HistoryRetrieved"))),
                              jStr(as.value(QLatin1String("PromptId"))),
                              jStr(as.value(QLatin1String("Backend"))),
                              jTimeMs(tel.value(QLatin1String("QueueStart"))),
                              jTimeMs(tel.value(QLatin1String("QueueEnd"))),
                              jInt(tel.value(QLatin1String("HistoryAttempts"))),
                              jStr(tel.value(QLatin1String("HistoryExitReason"))),
                              jBool(tel.value(QLatin1String("ExecutionSuccessDetected"))),
                              jStr(tel.value(QLatin1String("CompletionSignal"))),
                              jBool(tel.value(QLatin1String("DoneMarkerDetected"))),
                              jReal(tel.value(QLatin1String("DoneMarkerWaitSeconds"))),
                              jBool(tel.value(QLatin1String("ForcedCopyTriggered"))),
                              jReal(gpu.value(QLatin1String("VramBeforeMB"))),
                              jReal(gpu.value(QLatin1String("VramAfterMB"))),
                              jReal(gpu.value(QLatin1String("VramDeltaMB"))),
                              jReal(gpu.value(QLatin1String("VramPeakUsedMB"))),
                              jStr(gpu.value(QLatin1String("Name"))),
                              jStr(gpu.value(QLatin1String("Source"))),
                              jJson(as),
                              kept && !t.isEmpty() ? jJson(t) : QVariant()});
            if (Error e = m_db.exec(attempt); !e.isNull()) {
                if (e.kind == QLatin1String("sql") &&
                    e.detail.value(QStringLiteral("sqlError")).toString().contains(QLatin1String("UNIQUE")))
                    return Error{QStringLiteral("invalidArtifact"),
                                 QStringLiteral("artifact of %1: scene %2 lists an attempt number twice")
                                     .arg(dir, sceneId),
                                 e.detail};
                return e;
            }
        }
    }

    QSqlQuery fb = m_db.query();
    fb.prepare(QStringLiteral(
        "INSERT INTO feedback (run_key, scene_id, stars, coherence, comment, operator, rated_at_ms, "
        "rated_at) VALUES (?,?,?,?,?,?,?,?)"));
    for (const QJsonValue& v : a.value(QLatin1String("Feedback")).toArray()) {
        const QJsonObject f = v.toObject();
        const int stars = f.value(QLatin1String("Stars")).toInt(0);
        const QJsonValue coherence = f.value(QLatin1String("Coherence"));
        const bool coherenceOk = coherence.isNull() || coherence.isUndefined() ||
                                 (coherence.toInt(0) >= 1 && coherence.toInt(0) <= 5);
        if (f.value(QLatin1String("SceneId")).toString().isEmpty() || stars < 1 || stars > 5 ||
            !coherenceOk) {
            // A hand-edited rating must not keep the whole run out of the database.
            gd::log::get("store")->warn("{}: skipping an invalid Feedback entry", dir.toStdString());
            continue;
        }
        bindAll(fb,
                {runKey, f.value(QLatin1String("SceneId")).toString(), stars, jInt(coherence),
                 jStr(f.value(QLatin1String("Comment"))), jStr(f.value(QLatin1String("Operator"))),
                 jTimeMs(f.value(QLatin1String("Timestamp"))), jStr(f.value(QLatin1String("Timestamp")))});
        if (Error e = m_db.exec(fb); !e.isNull())
            return e;
    }

    if (runKeyOut)
        *runKeyOut = runKey;
    return {};
}

ImportReport RunStore::importRunDir(const QString& path)
{
    ImportReport report;
    QJsonObject artifact;
    if (Error e = readArtifact(path, artifact); !e.isNull()) {
        report.failed.append({path, e.message});
        return report;
    }
    const QString runId = artifact.value(QLatin1String("RunId")).toString();
    const QString dir = normalizeRunDir(path);
    bool duplicate = false;
    const Error e = m_db.writeTransaction([&]() -> Error {
        // Checked inside the write transaction so two importers never record the same run twice.
        qint64 key = 0;
        if (Error lookup = runKeyOf(runId, dir, key, duplicate); !lookup.isNull() || duplicate)
            return lookup;
        return recordRunInTransaction(artifact, dir);
    });
    if (!e.isNull())
        report.failed.append({path, e.message});
    else if (duplicate)
        ++report.skippedDuplicates;
    else
        ++report.imported;
    return report;
}

ImportReport RunStore::importDirs(const QStringList& paths, const Progress& progress)
{
    ImportReport report;
    for (int i = 0; i < paths.size(); ++i) {
        report.merge(importRunDir(paths.at(i)));
        if (progress)
            progress(i + 1, static_cast<int>(paths.size()), paths.at(i));
    }
    return report;
}

QStringList RunStore::runDirsBelow(const QString& runsRoot)
{
    QStringList dirs;
    const QDir root(runsRoot);
    // Hidden entries are skipped on purpose: the sandbox keeps its scratch output in .sandbox-*.
    const QFileInfoList entries = root.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    for (const QFileInfo& info : entries) {
        const QDir d(info.absoluteFilePath());
        if (d.exists(kArtifactName) || d.exists(QStringLiteral("run-summary.txt")))
            dirs << info.absoluteFilePath();
    }
    return dirs;
}

ImportReport RunStore::rebuildFrom(const QString& runsRoot, const Progress& progress)
{
    ImportReport report;
    if (!QFileInfo(runsRoot).isDir()) {
        report.failed.append({runsRoot, QStringLiteral("runs root %1 is not a directory").arg(runsRoot)});
        return report;
    }
    const Error cleared = m_db.writeTransaction([&]() -> Error {
        // Cascades to scenes, attempts, metrics, feedback, KPI results and run-bound GPU samples.
        if (Error e = m_db.exec(QStringLiteral("DELETE FROM runs")); !e.isNull())
            return e;
        return m_db.exec(QStringLiteral("DELETE FROM gpu_samples"));
    });
    if (!cleared.isNull()) {
        report.failed.append({m_db.path(), cleared.message});
        return report;
    }
    return importDirs(runDirsBelow(runsRoot), progress);
}

Error RunStore::recordGpuSamples(const QString& runId, const QString& runDir,
                                 const QVector<gpu::GpuSnapshot>& samples)
{
    return m_db.writeTransaction([&]() -> Error {
        QVariant runKey;
        if (!runDir.isEmpty()) {
            qint64 key = 0;
            bool found = false;
            if (Error e = runKeyOf(runId, normalizeRunDir(runDir), key, found); !e.isNull())
                return e;
            if (!found)
                return Error{QStringLiteral("unknownRun"),
                             QStringLiteral("run %1 in %2 is not recorded").arg(runId, runDir),
                             {}};
            runKey = key;
        }
        QSqlQuery q = m_db.query();
        q.prepare(QStringLiteral(
            "INSERT INTO gpu_samples (run_key, taken_at_ms, gpu_index, name, source, vram_total_bytes, "
            "vram_free_bytes, vram_used_bytes, utilization_percent, temperature_c) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)"));
        const auto opt = [](const auto& v) { return v ? QVariant::fromValue(*v) : QVariant(); };
        for (const gpu::GpuSnapshot& s : samples) {
            const QDateTime at = s.takenAt.isValid() ? s.takenAt : QDateTime::currentDateTimeUtc();
            bindAll(q, {runKey, at.toMSecsSinceEpoch(), opt(s.index), s.name, s.source, opt(s.vramTotalBytes),
                        opt(s.vramFreeBytes), opt(s.vramUsedBytes), opt(s.utilizationPercent),
                        opt(s.temperatureC)});
            if (Error e = m_db.exec(q); !e.isNull())
                return e;
        }
        return {};
    });
}

Error RunStore::recordKpiResults(const QString& runId, const QString& runDir,
                                 const QVector<KpiResult>& results)
{
    return m_db.writeTransaction([&]() -> Error {
        qint64 key = 0;
        bool found = false;
        if (Error e = runKeyOf(runId, normalizeRunDir(runDir), key, found); !e.isNull())
            return e;
        if (!found)
            return Error{QStringLiteral("unknownRun"),
                         QStringLiteral("run %1 in %2 is not recorded").arg(runId, runDir),
                         {}};
        QSqlQuery q = m_db.query();
        q.prepare(QStringLiteral(
            "INSERT OR REPLACE INTO kpi_results (run_key, kpi, value, threshold, status, detail_json) "
            "VALUES (?,?,?,?,?,?)"));
        for (const KpiResult& r : results) {
            bindAll(q, {key, r.kpi, toVariant(r.value), r.threshold, r.status, jJson(r.detail)});
            if (Error e = m_db.exec(q); !e.isNull())
                return e;
        }
        return {};
    });
}

Error RunStore::runsSince(const QDateTime& since, QVector<RunRow>& out) const
{
    out.clear();
    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT %1 FROM runs WHERE started_at_ms >= ? ORDER BY started_at_ms DESC")
                  .arg(kRunColumns));
    q.addBindValue(since.toMSecsSinceEpoch());
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    while (q.next())
        out.append(runRowFrom(q));
    return {};
}

Error RunStore::lastRuns(int n, QVector<RunRow>& out) const
{
    out.clear();
    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    // Runs without a timestamp (damaged legacy artifacts) sort last, by recording order.
    q.prepare(QStringLiteral(
                  "SELECT %1 FROM runs ORDER BY started_at_ms IS NULL, started_at_ms DESC, id DESC LIMIT ?")
                  .arg(kRunColumns));
    q.addBindValue(qMax(0, n));
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    while (q.next())
        out.append(runRowFrom(q));
    return {};
}

Error RunStore::runsMatching(const RunFilter& filter, QVector<RunRow>& out) const
{
    out.clear();
    QStringList where;
    QVariantList binds;
    if (filter.from.isValid()) {
        where << QStringLiteral("started_at_ms >= ?");
        binds << filter.from.toMSecsSinceEpoch();
    }
    if (filter.to.isValid()) {
        where << QStringLiteral("started_at_ms < ?");
        binds << filter.to.toMSecsSinceEpoch();
    }
    if (!filter.genre.isEmpty()) {
        where << QStringLiteral("genre = ?");
        binds << filter.genre;
    }
    if (!filter.model.isEmpty()) {
        where << QStringLiteral("model = ?");
        binds << filter.model;
    }
    // A failed scene counts even when the summary counts are missing (legacy artifacts).
    const QString failed = QStringLiteral(
        "(COALESCE(scenes_succeeded, 0) < COALESCE(scenes_total, 0) OR EXISTS (SELECT 1 FROM scenes s "
        "WHERE s.run_key = runs.id AND (s.success = 0 OR s.status IN ('failed', 'cancelled'))))");
    if (filter.outcome == RunFilter::Outcome::HasFailures)
        where << failed;
    else if (filter.outcome == RunFilter::Outcome::NoFailures)
        where << QStringLiteral("NOT ") + failed;
    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT %1 FROM runs %2 ORDER BY started_at_ms IS NULL, started_at_ms DESC, id DESC "
                             "LIMIT ?")
                  .arg(kRunColumns,
                       where.isEmpty() ? QString() : QStringLiteral("WHERE ") + where.join(QStringLiteral(" AND "))));
    for (const QVariant& v : std::as_const(binds))
        q.addBindValue(v);
    q.addBindValue(qMax(0, filter.limit));
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    while (q.next())
        out.append(runRowFrom(q));
    return {};
}

Error RunStore::filterChoices(QStringList& genres, QStringList& models) const
{
    genres.clear();
    models.clear();
    const auto distinct = [this](const QString& column, QStringList& into) -> Error {
        QSqlQuery q = m_db.query();
        q.setForwardOnly(true);
        q.prepare(QStringLiteral("SELECT DISTINCT %1 FROM runs WHERE %1 IS NOT NULL AND %1 <> '' ORDER BY %1")
                      .arg(column));
        if (Error e = m_db.exec(q); !e.isNull())
            return e;
        while (q.next())
            into << q.value(0).toString();
        return {};
    };
    if (Error e = distinct(QStringLiteral("genre"), genres); !e.isNull())
        return e;
    return distinct(QStringLiteral("model"), models);
}

Error RunStore::findRun(const QString& runDir, RunRow& out, bool& found) const
{
    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    q.prepare(
        QStringLiteral("SELECT %1 FROM runs WHERE run_dir = ? ORDER BY id DESC LIMIT 1").arg(kRunColumns));
    q.addBindValue(normalizeRunDir(runDir));
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    found = q.next();
    if (found)
        out = runRowFrom(q);
    return {};
}

Error RunStore::scenesOfRun(const QString& runId, QVector<SceneRow>& out) const
{
    out.clear();
    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    q.prepare(QStringLiteral(
        "SELECT r.run_id, r.run_dir, s.scene_id, s.title, s.status, s.workflow, s.backend, s.success, "
        "s.meets_frame_floor, "
        "s.frame_floor, s.frame_count, s.duration_seconds, s.attempts_run, s.requeued, s.warnings_json, "
        "s.errors_json "
        "FROM runs r JOIN scenes s ON s.run_key = r.id WHERE r.run_id = ? ORDER BY r.id, s.position"));
    q.addBindValue(runId);
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    while (q.next()) {
        SceneRow s;
        s.runId = q.value(0).toString();
        s.runDir = q.value(1).toString();
        s.sceneId = q.value(2).toString();
        s.title = q.value(3).toString();
        s.status = q.value(4).toString();
        s.workflow = q.value(5).toString();
        s.backend = q.value(6).toString();
        s.success = optBool(q.value(7));
        s.meetsFrameFloor = optBool(q.value(8));
        s.frameFloor = optInt(q.value(9));
        s.frameCount = optInt(q.value(10));
        s.durationSeconds = optReal(q.value(11));
        s.attemptsRun = optInt(q.value(12));
        s.requeued = optBool(q.value(13));
        s.warnings = stringList(q.value(14));
        s.errors = stringList(q.value(15));
        out.append(s);
    }
    return {};
}

Error RunStore::keptTelemetrySince(const QDateTime& since, QVector<SweepRow>& out) const
{
    out.clear();
    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT r.run_id, r.run_dir, r.started_at_ms, s.scene_id, s.frame_count, "
                             "s.frame_floor, s.success, s.requeued, "
                             "s.attempts_run, a.telemetry_json FROM runs r JOIN scenes s ON s.run_key = r.id "
                             "JOIN attempts a ON a.scene_key = s.id AND a.kept = 1 "
                             "WHERE r.started_at_ms >= ? ORDER BY r.started_at_ms, r.id, s.position"));
    q.addBindValue(since.toMSecsSinceEpoch());
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    while (q.next()) {
        SweepRow row;
        row.runId = q.value(0).toString();
        row.runDir = q.value(1).toString();
        row.runStartedAt = QDateTime::fromMSecsSinceEpoch(q.value(2).toLongLong(), Qt::UTC);
        row.sceneId = q.value(3).toString();
        row.frameCount = optInt(q.value(4));
        row.frameFloor = optInt(q.value(5));
        row.success = optBool(q.value(6));
        row.requeued = optBool(q.value(7));
        row.attemptsRun = optInt(q.value(8));
        row.telemetry = QJsonDocument::fromJson(q.value(9).toString().toUtf8()).object();
        out.append(row);
    }
    return {};
}

Error RunStore::digestsOf(const QString& whereOrderLimit, const QVariantList& binds,
                          QVector<telemetry::RunDigest>& out, QStringList* problems)
{
    out.clear();
    struct Stale
    {
        qsizetype index;
        qint64 key;
        QString runDir;
    };
    QVector<Stale> stale;
    QVector<bool> present;
    {
        QSqlQuery q = m_db.query();
        q.setForwardOnly(true);
        q.prepare(QStringLiteral("SELECT id, run_dir, digest_version, digest_json FROM runs ") + whereOrderLimit);
        for (const QVariant& b : binds)
            q.addBindValue(b);
        if (Error e = m_db.exec(q); !e.isNull())
            return e;
        while (q.next()) {
            std::optional<telemetry::RunDigest> d = storedDigest(q.value(2), q.value(3));
            if (!d)
                stale.append({out.size(), q.value(0).toLongLong(), q.value(1).toString()});
            out.append(d ? std::move(*d) : telemetry::RunDigest());
            present.append(d.has_value());
        }
    }
    if (stale.isEmpty())
        return {};

    // Runs recorded before schema v2 (or by a build with another digest version): rebuilt from
    // their run directories, the source of truth, and stored for the next sweep.
    QVector<std::pair<qint64, QString>> rebuilt;
    for (const Stale& s : stale) {
        QJsonObject artifact;
        if (Error e = readArtifact(s.runDir, artifact); !e.isNull()) {
            if (problems)
                problems->append(e.message);
            continue;
        }
        if (LegacyArtifactMapper::isLegacy(artifact))
            artifact = LegacyArtifactMapper::toCurrent(artifact);
        out[s.index] = telemetry::RunDigest::fromArtifact(artifact);
        present[s.index] = true;
        rebuilt.append({s.key, digestText(out.at(s.index))});
    }
    if (!rebuilt.isEmpty()) {
        const Error stored = m_db.writeTransaction([&]() -> Error {
            QSqlQuery u = m_db.query();
            u.prepare(QStringLiteral("UPDATE runs SET digest_version = ?, digest_json = ? WHERE id = ?"));
            for (const auto& [key, text] : rebuilt) {
                bindAll(u, {telemetry::RunDigest::kVersion, text, key});
                if (Error e = m_db.exec(u); !e.isNull())
                    return e;
            }
            return {};
        });
        // The digests are in hand; failing to keep them (read-only database, say) only costs the
        // next sweep the same rebuild.
        if (!stored.isNull())
            gd::log::get("store")->warn("could not store rebuilt run digests: {}", stored.message.toStdString());
    }
    // Runs whose directory is gone drop out, as an unreadable artifact always did.
    QVector<telemetry::RunDigest> kept;
    kept.reserve(out.size());
    for (qsizetype i = 0; i < out.size(); ++i)
        if (present.at(i))
            kept.append(std::move(out[i]));
    out = std::move(kept);
    return {};
}

Error RunStore::digestsSince(const QDateTime& since, QVector<telemetry::RunDigest>& out, QStringList* problems)
{
    // The selection and order of runsSince(): newest first.
    return digestsOf(QStringLiteral("WHERE started_at_ms >= ? ORDER BY started_at_ms DESC"),
                     {since.toMSecsSinceEpoch()}, out, problems);
}

Error RunStore::lastDigests(int n, QVector<telemetry::RunDigest>& out, QStringList* problems)
{
    // The selection and order of lastRuns().
    return digestsOf(QStringLiteral("ORDER BY started_at_ms IS NULL, started_at_ms DESC, id DESC LIMIT ?"),
                     {qMax(0, n)}, out, problems);
}

Error RunStore::kpiResultsOfRun(const QString& runDir, QVector<KpiResult>& out) const
{
    out.clear();
    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT k.kpi, k.value, k.threshold, k.status, k.detail_json FROM kpi_results k "
                             "JOIN runs r ON r.id = k.run_key WHERE r.run_dir = ? ORDER BY k.kpi"));
    q.addBindValue(normalizeRunDir(runDir));
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    while (q.next()) {
        KpiResult k;
        k.kpi = q.value(0).toString();
        k.value = optReal(q.value(1));
        k.threshold = q.value(2).toString();
        k.status = q.value(3).toString();
        k.detail = QJsonDocument::fromJson(q.value(4).toString().toUtf8()).object();
        out.append(k);
    }
    return {};
}

Error RunStore::sceneDurationsOfWorkflow(const QString& workflow, int limit, QVector<double>& out) const
{
    out.clear();
    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT s.duration_seconds FROM runs r JOIN scenes s ON s.run_key = r.id "
                             "WHERE COALESCE(NULLIF(s.workflow, ''), r.workflow) = ? AND s.success = 1 "
                             "AND s.duration_seconds IS NOT NULL "
                             "ORDER BY r.started_at_ms IS NULL, r.started_at_ms DESC, r.id DESC, s.position LIMIT ?"));
    q.addBindValue(workflow);
    q.addBindValue(qMax(0, limit));
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    while (q.next())
        out.append(q.value(0).toDouble());
    return {};
}

Error RunStore::runCount(int& count) const
{
    QSqlQuery q = m_db.query();
    q.prepare(QStringLiteral("SELECT COUNT(*) FROM runs"));
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    count = q.next() ? q.value(0).toInt() : 0;
    return {};
}

} // namespace gd::store
