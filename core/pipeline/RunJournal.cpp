#include "pipeline/RunJournal.h"

#include "common/DurableWriter.h"
#include "common/Log.h"

#include <QDateTime>
#include <QDir>
#include <QJsonDocument>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace gd::pipeline {

RunJournal::~RunJournal()
{
    close();
}

Error RunJournal::open(const QString& runDir)
{
    close();
    m_file.setFileName(QDir(runDir).filePath(fileName()));
    // Unbuffered: each append is one write() straight to the kernel, nothing waits in a Qt buffer
    // when the process dies.
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered)) {
        m_lastError = {
            QStringLiteral("io"),
            QStringLiteral("Cannot open the run journal %1: %2").arg(m_file.fileName(), m_file.errorString()),
            {}};
        return m_lastError;
    }
    m_lastError = {};
    return {};
}

void RunJournal::close()
{
    m_batch.reset(); // its queued sync still runs on its own descriptor and reports to its callers
    if (m_file.isOpen())
        m_file.close();
}

Error RunJournal::writeLine(const QString& type, const QString& sceneId, const QJsonObject& fields)
{
    if (!m_file.isOpen())
        return m_lastError = {QStringLiteral("io"), QStringLiteral("The run journal is not open"), {}};
    QJsonObject o = fields;
    o.insert(QStringLiteral("Type"), type);
    o.insert(QStringLiteral("At"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
    if (!sceneId.isEmpty())
        o.insert(QStringLiteral("Scene"), sceneId);
    const QByteArray line = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    if (m_file.write(line) != line.size()) {
        m_lastError = {QStringLiteral("io"),
                       QStringLiteral("Cannot append to the run journal %1: %2")
                           .arg(m_file.fileName(), m_file.errorString()),
                       {}};
        return m_lastError;
    }
    m_lastError = {};
    return {};
}

Error RunJournal::syncNow()
{
#ifdef Q_OS_UNIX
    if (::fdatasync(m_file.handle()) != 0) {
        m_lastError = {QStringLiteral("io"),
                       QStringLiteral("Cannot sync the run journal %1").arg(m_file.fileName()),
                       {}};
        return m_lastError;
    }
#else
    m_file.flush();
#endif
    return {};
}

void RunJournal::syncLater(std::function<void(const Error&)> then)
{
#ifdef Q_OS_UNIX
    // Group commit: one fdatasync covers every line written before it starts, so a request that
    // finds a sync queued but not yet begun joins it instead of queuing another (a dispatch round
    // of N servers submits 2N prompts, each waiting for its durable "submitted" line). The mutex
    // orders "this line was written, then joined" before "the worker began the sync".
    if (m_batch) {
        std::lock_guard<std::mutex> lock(m_batch->mutex);
        if (!m_batch->started) {
            m_batch->thens.push_back(std::move(then));
            return;
        }
    }
    // A duplicate of the descriptor syncs the same file and stays valid when the journal is closed
    // before the writer gets to it.
    const int fd = ::dup(m_file.handle());
    if (fd >= 0) {
        auto batch = std::make_shared<SyncBatch>();
        batch->thens.push_back(std::move(then));
        m_batch = batch;
        const QString name = m_file.fileName();
        // Urgent: a sync only makes lines already in the file durable, so it may overtake queued
        // file writes (a line naming such a file is written only after that file's write is done).
        m_writer->postUrgent(
            [fd, name, batch]() -> Error {
                {
                    std::lock_guard<std::mutex> lock(batch->mutex);
                    batch->started = true;
                }
                const int rc = ::fdatasync(fd);
                ::close(fd);
                if (rc != 0)
                    return {QStringLiteral("io"), QStringLiteral("Cannot sync the run journal %1").arg(name), {}};
                return {};
            },
            [this, batch](const Error& e) {
                if (m_batch == batch)
                    m_batch.reset();
                if (!e.isNull())
                    m_lastError = e;
                bool reported = false;
                for (const auto& then : batch->thens) {
                    if (then)
                        then(e); // the caller reports it, as it reports a failed append
                    else if (!e.isNull() && !reported) {
                        reported = true;
                        gd::log::get("pipeline")->error("{}", e.message.toStdString());
                        if (m_onSyncFailure)
                            m_onSyncFailure(e);
                    }
                }
            });
        return;
    }
#endif
    const Error e = syncNow();
    if (then)
        then(e);
}

Error RunJournal::append(const QString& type, const QString& sceneId, const QJsonObject& fields, bool sync)
{
    if (const Error e = writeLine(type, sceneId, fields); !e.isNull())
        return e;
    if (!sync)
        return {};
    if (m_writer && m_writer->mode() == DurableWriter::Mode::Background) {
        syncLater({});
        return {};
    }
    return syncNow();
}

void RunJournal::appendDurable(const QString& type, const QString& sceneId, const QJsonObject& fields,
                               std::function<void(const Error&)> then)
{
    if (const Error e = writeLine(type, sceneId, fields); !e.isNull()) {
        then(e);
        return;
    }
    if (m_writer && m_writer->mode() == DurableWriter::Mode::Background) {
        syncLater(std::move(then));
        return;
    }
    then(syncNow());
}

RunJournal::ReadResult RunJournal::read(const QString& runDir)
{
    ReadResult r;
    QFile f(QDir(runDir).filePath(fileName()));
    if (!f.exists()) {
        r.error = {QStringLiteral("missing"), QStringLiteral("%1 has no %2").arg(runDir, fileName()), {}};
        return r;
    }
    if (!f.open(QIODevice::ReadOnly)) {
        r.error = {QStringLiteral("io"),
                   QStringLiteral("Cannot read %1: %2").arg(f.fileName(), f.errorString()),
                   {}};
        return r;
    }
    int lineNo = 0;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        ++lineNo;
        if (line.isEmpty())
            continue;
        QJsonParseError pe{};
        const QJsonDocument doc = QJsonDocument::fromJson(line, &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject() ||
            !doc.object().value(QStringLiteral("Type")).isString()) {
            r.problems << QStringLiteral("%1 line %2 is not a journal entry (%3); skipped")
                              .arg(fileName())
                              .arg(lineNo)
                              .arg(pe.error != QJsonParseError::NoError ? pe.errorString()
                                                                        : QStringLiteral("no Type"));
            continue;
        }
        r.entries.push_back(doc.object());
    }
    return r;
}

} // namespace gd::pipeline
