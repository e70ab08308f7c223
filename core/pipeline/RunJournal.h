#pragma once

#include "common/Error.h"

#include <QFile>
#include <QJsonObject>
#include <QString>
#include <QVector>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace gd {
class DurableWriter;
}

namespace gd::pipeline {

// The run's state journal: <runDir>/run-journal.jsonl, one JSON object per line, appended with a
// single write() per scene state transition *before* the transition is acted on, so a run killed at
// any point can be resumed from its directory alone (ResumePlanner reads it back).
// Durability: every entry reaches the kernel at once (unbuffered append), which survives a crash or
// SIGKILL of the app; entries that precede an effect outside this process (the run header, a
// submission to ComfyUI) and a scene's final outcome are also fdatasync'ed, so a power loss cannot
// make a resumed run submit a prompt twice or render a finished scene again. Not thread-safe: the
// run controller's thread writes. With a writer set, the line still reaches the kernel at once (so
// a SIGKILL never loses it and the journal's order is the order of the calls), only the fdatasync
// runs on the writer's thread; an effect that must wait for it continues in appendDurable's `then`.
// Syncs asked for while one is queued but not begun share it (group commit): one fdatasync makes
// every line written before it durable, so N servers' submissions of one dispatch round wait for one
// or two syncs, not N.
class RunJournal
{
public:
    static QString fileName() { return QStringLiteral("run-journal.jsonl"); }

    // Entry types (the "Type" field). A scene moves queued (implied by the run header) → submitted
    // → running → executed → collecting → collected → requeued | succeeded | failed | cancelled.
    static QString run() { return QStringLiteral("run"); }
    static QString resumed() { return QStringLiteral("resumed"); }
    static QString submitted() { return QStringLiteral("submitted"); }
    static QString running() { return QStringLiteral("running"); }
    static QString executed() { return QStringLiteral("executed"); }
    static QString collecting() { return QStringLiteral("collecting"); }
    static QString collected() { return QStringLiteral("collected"); }
    static QString requeued() { return QStringLiteral("requeued"); }
    static QString finalState() { return QStringLiteral("final"); }
    static QString finished() { return QStringLiteral("finished"); }

    RunJournal() = default;
    ~RunJournal();
    RunJournal(const RunJournal&) = delete;
    RunJournal& operator=(const RunJournal&) = delete;

    // Opens (creating or appending to) <runDir>/run-journal.jsonl.
    Error open(const QString& runDir);
    bool isOpen() const { return m_file.isOpen(); }
    void close();

    // Appends {"Type": type, "At": <UTC ms>, "Scene"?: sceneId, ...fields} as one line; `sync` also
    // fdatasyncs. A failed write is returned (and kept in lastError()): the caller decides whether
    // to go on without a journal.
    Error append(const QString& type, const QString& sceneId, const QJsonObject& fields, bool sync);
    Error lastError() const { return m_lastError; }
    // Where syncs run (not owned; null = in append(), blocking the caller). Syncs queued on the
    // writer report a failure to the log, as a failed synchronous append does.
    void setWriter(DurableWriter* writer) { m_writer = writer; }
    // Also told about a failed sync that ran on the writer for append() (the owner's one place for
    // failed writes); null = logged only.
    void setSyncFailureHandler(std::function<void(const Error&)> handler) { m_onSyncFailure = std::move(handler); }
    // append(type, sceneId, fields, true), then `then` once the line is durable (after its
    // fdatasync) with the first error of the write or the sync: before this returns without a
    // background writer, later on the writer's owner thread with one.
    void appendDurable(const QString& type, const QString& sceneId, const QJsonObject& fields,
                       std::function<void(const Error&)> then);

    struct ReadResult
    {
        QVector<QJsonObject> entries;
        QStringList problems; // unreadable lines (a torn last line after a crash is expected)
        Error error;          // no journal file / cannot read it
    };
    static ReadResult read(const QString& runDir);

private:
    Error writeLine(const QString& type, const QString& sceneId, const QJsonObject& fields);
    Error syncNow();
    void syncLater(std::function<void(const Error&)> then);

    // Syncs queued on the writer that have not begun yet: later requests join the same fdatasync.
    struct SyncBatch
    {
        std::mutex mutex;
        bool started = false; // set by the writer's thread under the mutex, before it syncs
        std::vector<std::function<void(const Error&)>> thens; // owner thread only
    };

    QFile m_file;
    DurableWriter* m_writer = nullptr;
    std::shared_ptr<SyncBatch> m_batch; // the open batch, owner thread only
    std::function<void(const Error&)> m_onSyncFailure;
    Error m_lastError;
};

} // namespace gd::pipeline
