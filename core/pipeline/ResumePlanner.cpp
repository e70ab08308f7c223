#include "pipeline/ResumePlanner.h"

#include "pipeline/RunController.h"
#include "pipeline/RunJournal.h"
#include "story/StoryLoader.h"
#include "telemetry/RecordCodec.h"
#include "telemetry/RunSummaryLog.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QSet>
#include <algorithm>

namespace gd::pipeline {

namespace {

// Per-scene line counts of run-summary.txt, for the lines a crash may have cut off.
struct SummaryIndex
{
    QHash<QString, int> telemetryLines; // scene id → number of "Telemetry:" lines
    QSet<QString> attemptLines;         // "<scene>#<n>"
    bool hasQueuePolicy = false;
    bool hasArtifactIndex = false;
};

SummaryIndex indexSummary(const QString& runDir)
{
    SummaryIndex idx;
    QFile f(QDir(runDir).filePath(telemetry::RunSummaryLog::fileName()));
    if (!f.open(QIODevice::ReadOnly))
        return idx;
    const QByteArray telemetryTag = "] Telemetry: ";
    while (!f.atEnd()) {
        const QByteArray line = f.readLine();
        if (line.startsWith("## Artifact Index")) {
            idx.hasArtifactIndex = true;
            continue;
        }
        // "[HH:mm:ss] <message>"
        const int start = line.indexOf("] ");
        if (start < 0)
            continue;
        const QByteArray msg = line.mid(start + 2);
        if (msg.startsWith("Queue policy:")) {
            idx.hasQueuePolicy = true;
            continue;
        }
        if (!msg.startsWith("[Scene "))
            continue;
        const int close = msg.indexOf(']');
        if (close < 0)
            continue;
        const QString sceneId = QString::fromUtf8(msg.mid(7, close - 7));
        if (msg.mid(close).startsWith(telemetryTag)) {
            ++idx.telemetryLines[sceneId];
        } else if (msg.mid(close + 1).startsWith("[Attempt ")) {
            const int end = msg.indexOf(']', close + 1);
            if (end > 0)
                idx.attemptLines.insert(sceneId + QLatin1Char('#') +
                                        QString::fromUtf8(msg.mid(close + 10, end - close - 10)));
        }
    }
    return idx;
}

QStringList stringsOf(const QJsonValue& v)
{
    QStringList out;
    for (const QJsonValue s : v.toArray())
        out << s.toString();
    return out;
}

} // namespace

int ResumePlan::count(ResumeScene::Phase phase) const
{
    return int(std::count_if(scenes.begin(), scenes.end(),
                             [phase](const ResumeScene& s) { return s.phase == phase; }));
}

QString ResumePlan::describe() const
{
    using P = ResumeScene::Phase;
    return QStringLiteral("%1 done, %2 to re-attach, %3 to decide, %4 to render")
        .arg(count(P::Done))
        .arg(count(P::Reattach))
        .arg(count(P::Decide))
        .arg(count(P::Pending));
}

std::optional<ResumePlan> ResumePlanner::plan(const QString& runDir, QString* error, bool* alreadyFinished)
{
    if (alreadyFinished)
        *alreadyFinished = false;
    const QString dir = QFileInfo(runDir).absoluteFilePath();
    if (!QFileInfo(QDir(dir).filePath(telemetry::RunSummaryLog::fileName())).isFile()) {
        *error = QStringLiteral("%1 is not a run directory (no %2)")
                     .arg(dir, telemetry::RunSummaryLog::fileName());
        return std::nullopt;
    }
    const SummaryIndex summary = indexSummary(dir);
    if (summary.hasArtifactIndex) {
        if (alreadyFinished)
            *alreadyFinished = true;
        *error = QStringLiteral("The run in %1 already finished: nothing to resume").arg(dir);
        return std::nullopt;
    }
    const RunJournal::ReadResult journal = RunJournal::read(dir);
    if (!journal.error.isNull()) {
        *error =
            journal.error.kind == QLatin1String("missing")
                ? QStringLiteral("The run in %1 stopped before its first scene was queued (it has no %2): "
                                 "nothing was rendered, start it again")
                      .arg(dir, RunJournal::fileName())
                : journal.error.message;
        return std::nullopt;
    }

    ResumePlan plan;
    plan.runDir = dir;
    plan.problems = journal.problems;
    QHash<QString, int> indexOf;
    QHash<QString, int> finalEntries;
    for (const QJsonObject& e : journal.entries) {
        const QString type = e.value(QStringLiteral("Type")).toString();
        if (type == RunJournal::run()) {
            if (!plan.options.isEmpty())
                continue; // one header per run; a resumed run writes `resumed` instead
            plan.options = e;
            plan.header =
                telemetry::RecordCodec::runHeaderFromJson(e.value(QStringLiteral("Run")).toObject());
            plan.header.runDir = dir;
            for (const QJsonValue id : e.value(QStringLiteral("Scenes")).toArray()) {
                ResumeScene s;
                s.sceneId = id.toString();
                indexOf.insert(s.sceneId, int(plan.scenes.size()));
                plan.scenes.push_back(s);
            }
            continue;
        }
        if (type == RunJournal::finished()) {
            plan.runFinished = true;
            continue;
        }
        const QString sceneId = e.value(QStringLiteral("Scene")).toString();
        if (sceneId.isEmpty())
            continue;
        const int index = indexOf.value(sceneId, -1);
        if (index < 0) {
            plan.problems
                << QStringLiteral("journal entry %1 names unknown scene %2; ignored").arg(type, sceneId);
            continue;
        }
        ResumeScene& s = plan.scenes[index];
        const int attempt = e.value(QStringLiteral("Attempt")).toInt();
        if (type == RunJournal::submitted()) {
            s.phase = ResumeScene::Phase::Reattach;
            s.attach.attempt = attempt;
            s.attach.promptId = e.value(QStringLiteral("PromptId")).toString();
            s.attach.clientId = e.value(QStringLiteral("ClientId")).toString();
            s.attach.backend = e.value(QStringLiteral("Backend")).toString();
            s.attach.seed = static_cast<qint64>(e.value(QStringLiteral("Seed")).toDouble());
            s.attach.framePrefix = e.value(QStringLiteral("FramePrefix")).toString();
            s.attach.submittedAt =
                QDateTime::fromString(e.value(QStringLiteral("At")).toString(), Qt::ISODateWithMs);
            s.attach.lastState = type;
        } else if (type == RunJournal::running() || type == RunJournal::executed() ||
                   type == RunJournal::collecting()) {
            if (s.phase == ResumeScene::Phase::Reattach && attempt == s.attach.attempt)
                s.attach.lastState = type;
        } else if (type == RunJournal::collected()) {
            const telemetry::AttemptRecord rec =
                telemetry::RecordCodec::attemptFromJson(e.value(QStringLiteral("Record")).toObject());
            auto it =
                std::find_if(s.attempts.begin(), s.attempts.end(),
                             [&rec](const telemetry::AttemptRecord& a) { return a.attempt == rec.attempt; });
            if (it != s.attempts.end())
                *it = rec;
            else
                s.attempts.push_back(rec);
            std::sort(s.attempts.begin(), s.attempts.end(),
                      [](const auto& a, const auto& b) { return a.attempt < b.attempt; });
            s.phase = ResumeScene::Phase::Decide;
            s.infraMove = e.value(QStringLiteral("InfraMove")).toBool();
            s.infraAttempts = e.value(QStringLiteral("InfraAttempts")).toInt(s.infraAttempts);
            s.validationFailure = e.value(QStringLiteral("ValidationFailure")).toBool();
            s.executionFailed = e.value(QStringLiteral("ExecutionFailed")).toBool();
            s.cancelled = e.value(QStringLiteral("Cancelled")).toBool();
            s.operatorCancelled = e.value(QStringLiteral("OperatorCancelled")).toBool();
            s.attemptLineMissing =
                !summary.attemptLines.contains(sceneId + QLatin1Char('#') + QString::number(rec.attempt));
        } else if (type == RunJournal::requeued()) {
            s.phase = ResumeScene::Phase::Pending;
            s.requeued = true;
            s.status = QStringLiteral("requeued");
            if (e.contains(QStringLiteral("AttemptBase")))
                s.attemptBase = e.value(QStringLiteral("AttemptBase")).toInt();
            s.infraAttempts = e.value(QStringLiteral("InfraAttempts")).toInt(s.infraAttempts);
            if (e.value(QStringLiteral("Operator")).toBool()) {
                s.operatorRequeuePending = true;
                s.warnings.clear();
                s.errors.clear();
            }
        } else if (type == RunJournal::finalState()) {
            s.phase = ResumeScene::Phase::Done;
            s.status = e.value(QStringLiteral("Status")).toString();
            s.keptAttempt = e.value(QStringLiteral("KeptAttempt")).toInt(-1);
            s.warnings = stringsOf(e.value(QStringLiteral("Warnings")));
            s.errors = stringsOf(e.value(QStringLiteral("Errors")));
            s.historyPath = e.value(QStringLiteral("HistoryPath")).toString();
            s.operatorRequeuePending = false;
            ++finalEntries[sceneId];
        }
    }
    if (plan.options.isEmpty()) {
        *error =
            QStringLiteral("The journal of %1 has no run entry: the run stopped before its first scene was "
                           "queued; start it again")
                .arg(dir);
        return std::nullopt;
    }
    for (ResumeScene& s : plan.scenes)
        if (s.phase == ResumeScene::Phase::Done)
            s.finalLinesMissing = finalEntries.value(s.sceneId) > summary.telemetryLines.value(s.sceneId);
    plan.headerLinesMissing = !summary.hasQueuePolicy;
    return plan;
}

bool ResumePlanner::applyTo(const ResumePlan& plan, RunOptions* o, QString* error)
{
    const QString storyFile =
        QDir(plan.runDir)
            .filePath(plan.header.story.file.isEmpty() ? QStringLiteral("story/story.json")
                                                       : plan.header.story.file);
    QStringList problems;
    const auto story = story::StoryLoader::load(storyFile, &problems);
    if (!story) {
        *error = QStringLiteral("Cannot read the run's story %1: %2")
                     .arg(storyFile, problems.join(QStringLiteral("; ")));
        return false;
    }
    QStringList storyIds;
    for (const auto& sc : story->scenes)
        storyIds << sc.id;
    QStringList planIds;
    for (const auto& sc : plan.scenes)
        planIds << sc.sceneId;
    if (storyIds != planIds) {
        *error = QStringLiteral("The run's story %1 no longer matches its journal (scenes %2, journal %3)")
                     .arg(storyFile, storyIds.join(QLatin1Char(',')), planIds.join(QLatin1Char(',')));
        return false;
    }
    const QJsonObject& opt = plan.options;
    o->story = *story;
    o->storyDir = opt.value(QStringLiteral("StoryDir")).toString();
    o->runsRoot = QFileInfo(plan.runDir).absolutePath();
    o->existingRunDir = plan.runDir;
    o->comfyUrl = QUrl(opt.value(QStringLiteral("ComfyUrl")).toString());
    o->comfyOutputDir = opt.value(QStringLiteral("ComfyOutputDir")).toString();
    o->workflow = opt.value(QStringLiteral("Workflow")).toString(o->workflow);
    o->policy = QueuePolicy::fromJson(opt.value(QStringLiteral("Policy")).toObject());
    o->llmHealth = plan.header.llmHealth;
    o->storyGenerator = plan.header.story.generator;
    o->storyLlm = plan.header.story.llm;
    o->storyPrompts = plan.header.story.prompts;
    o->useWebSocket = opt.value(QStringLiteral("UseWebSocket")).toBool(true);
    o->useDoneMarkers = opt.value(QStringLiteral("UseDoneMarkers")).toBool(true);
    o->sentinelMarkers = opt.value(QStringLiteral("SentinelMarkers")).toBool(false);
    o->reconnectWaitSeconds =
        opt.value(QStringLiteral("ReconnectWaitSeconds")).toDouble(o->reconnectWaitSeconds);
    // A pool run re-creates its servers (tokens are never journaled: the caller supplies them).
    const QJsonArray clients = opt.value(QStringLiteral("Clients")).toArray();
    if (clients.size() > 1) {
        o->backends.clear();
        for (const QJsonValue v : clients) {
            const QJsonObject c = v.toObject();
            o->backends << BackendSpec{QUrl(c.value(QStringLiteral("Url")).toString()),
                                       c.value(QStringLiteral("Label")).toString(),
                                       c.value(QStringLiteral("OutputDir")).toString(), QString()};
        }
    }
    o->resume = std::make_shared<const ResumePlan>(plan);
    return true;
}

} // namespace gd::pipeline
