#pragma once

#include "common/Error.h"

#include <QFile>
#include <QJsonObject>
#include <QString>
#include <QVector>

namespace gd::pipeline {

// The run's state journal: <runDir>/run-journal.jsonl, one JSON object per line, appended with a
// single write() per scene state transition *before* the transition is acted on, so a run killed at
// any point can be resumed from its directory alone (ResumePlanner reads it back).
// Durability: every entry reaches the kernel at once (unbuffered append), which survives a crash or
// SIGKILL of the app; entries that precede an effect outside this process (the run header, a
// submission to ComfyUI) and a scene's final outcome are also fdatasync'ed, so a power loss cannot
// make a resumed run submit a prompt twice or render a finished scene again. Not thread-safe: the
// run controller's thread writes.
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

    struct ReadResult
    {
        QVector<QJsonObject> entries;
        QStringList problems; // unreadable lines (a torn last line after a crash is expected)
        Error error;          // no journal file / cannot read it
    };
    static ReadResult read(const QString& runDir);

private:
    QFile m_file;
    Error m_lastError;
};

} // namespace gd::pipeline
