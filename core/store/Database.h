#pragma once

#include "common/Error.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <functional>

namespace gd::store {

// How long a writer waits for another connection's lock before giving up with an error.
struct DatabaseOptions
{
    int busyTimeoutMs = 2000; // SQLite's own wait inside one statement (PRAGMA busy_timeout)
    int lockRetries = 3;      // further tries after a statement still found the database locked
    int retryPauseMs = 200;   // pause between those tries
};

// One SQLite connection to the run history database: opens it with WAL, foreign keys and a busy
// timeout, migrates the schema (PRAGMA user_version), and runs statements with bounded lock
// retries. Threading: a connection belongs to the thread that opened it; every instance gets its
// own connection name, so use one Database per thread.
class Database
{
public:
    // The schema version this build writes and understands.
    // v1: runs, scenes, attempts, metrics, feedback, GPU samples, KPI results; v2: per-run sweep digest.
    static constexpr int kSchemaVersion = 2;
    // <app data dir>/gemdirect.sqlite (QStandardPaths::AppDataLocation).
    static QString defaultPath();

    explicit Database(DatabaseOptions options = {});
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Opens (creating when absent) and migrates. Errors (kind): "newerSchema" for a database
    // written by a newer build (left byte-for-byte untouched), "notADatabase", "locked", "sql",
    // "io". On error the instance stays closed.
    Error open(const QString& path);
    void close();
    bool isOpen() const;
    QString path() const { return m_path; }
    QString connectionName() const { return m_connectionName; }
    QSqlDatabase handle() const;
    // The schema version after open (kSchemaVersion once migrated).
    int schemaVersion() const { return m_schemaVersion; }

    // A prepared query on this connection.
    QSqlQuery query() const;
    // Executes a prepared query; a locked database is retried (DatabaseOptions) before an error
    // of kind "locked" naming the path is returned.
    Error exec(QSqlQuery& query) const;
    Error exec(const QString& sql) const;
    // BEGIN IMMEDIATE (takes the write lock up front, with the same bounded retries), body, COMMIT;
    // ROLLBACK when the body returns an error, which is then returned unchanged.
    Error writeTransaction(const std::function<Error()>& body) const;

    // A clear error for a failed statement of this connection (kind "locked" when SQLite reported
    // a busy/locked database).
    Error sqlError(const QSqlError& error, const QString& what) const;

private:
    Error migrate();
    Error readUserVersion(int& version) const;
    Error execWithRetry(const std::function<bool()>& attempt, const std::function<QSqlError()>& lastError,
                        const QString& what) const;

    DatabaseOptions m_options;
    QString m_connectionName;
    QString m_path;
    int m_schemaVersion = 0;
};

} // namespace gd::store
