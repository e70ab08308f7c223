#include "store/Database.h"

#include "common/Log.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFileInfo>
#include <QSqlError>
#include <QStandardPaths>
#include <QStringList>
#include <QThread>
#include <QVariant>

namespace gd::store {

namespace {

QAtomicInteger<quint64> s_connectionCounter = 0;

// Schema v1. Times are stored twice where the dashboard filters on them: ISO text for people and
// milliseconds since the epoch (UTC) so range queries use an index. JSON columns keep whatever the
// artifact carried beyond the queried columns, so nothing of the source is lost.
const char* const kSchemaV1[] = {
    R"(CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        run_dir TEXT NOT NULL,
        format TEXT NOT NULL,
        started_at_ms INTEGER,
        started_at TEXT,
        app_version TEXT,
        story_id TEXT,
        story_title TEXT,
        genre TEXT,
        template_id TEXT,
        template_version TEXT,
        model TEXT,
        workflow TEXT,
        scenes_total INTEGER,
        scenes_succeeded INTEGER,
        total_frames INTEGER,
        requeues INTEGER,
        forced_copies INTEGER,
        done_markers_detected INTEGER,
        duration_p50_seconds REAL,
        duration_p95_seconds REAL,
        queue_config_json TEXT,
        llm_health_json TEXT,
        story_json TEXT,
        summary_json TEXT,
        warnings_json TEXT,
        extra_json TEXT,
        recorded_at_ms INTEGER NOT NULL,
        UNIQUE (run_id, run_dir)
    ))",
    "CREATE INDEX idx_runs_started ON runs(started_at_ms)",
    "CREATE INDEX idx_runs_genre ON runs(genre, template_version, model, workflow)",
    "CREATE INDEX idx_runs_template ON runs(template_version)",
    "CREATE INDEX idx_runs_model ON runs(model)",
    "CREATE INDEX idx_runs_workflow ON runs(workflow)",
    R"(CREATE TABLE scenes (
        id INTEGER PRIMARY KEY,
        run_key INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        scene_id TEXT NOT NULL,
        title TEXT,
        prompt TEXT,
        negative_prompt TEXT,
        workflow TEXT,
        status TEXT,
        success INTEGER,
        meets_frame_floor INTEGER,
        frame_floor INTEGER,
        frame_count INTEGER,
        duration_seconds REAL,
        attempts_run INTEGER,
        requeued INTEGER,
        backend TEXT,
        prompt_id TEXT,
        warnings_json TEXT,
        errors_json TEXT,
        extra_json TEXT,
        UNIQUE (run_key, scene_id)
    ))",
    "CREATE INDEX idx_scenes_run ON scenes(run_key, position)",
    R"(CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        scene_key INTEGER NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        kept INTEGER NOT NULL,
        status TEXT,
        timestamp TEXT,
        frame_count INTEGER,
        duration_seconds REAL,
        success INTEGER,
        meets_frame_floor INTEGER,
        history_retrieved INTEGER,
        prompt_id TEXT,
        backend TEXT,
        queue_start_ms INTEGER,
        queue_end_ms INTEGER,
        history_attempts INTEGER,
        history_exit_reason TEXT,
        execution_success_detected INTEGER,
        completion_signal TEXT,
        done_marker_detected INTEGER,
        done_marker_wait_seconds REAL,
        forced_copy_triggered INTEGER,
        vram_before_mb REAL,
        vram_after_mb REAL,
        vram_delta_mb REAL,
        vram_peak_used_mb REAL,
        gpu_name TEXT,
        gpu_source TEXT,
        summary_json TEXT,
        telemetry_json TEXT,
        UNIQUE (scene_key, attempt)
    ))",
    "CREATE INDEX idx_attempts_kept ON attempts(kept, scene_key)",
    R"(CREATE TABLE quality_metrics (
        id INTEGER PRIMARY KEY,
        run_key INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        scene_key INTEGER REFERENCES scenes(id) ON DELETE CASCADE,
        coherence_judge_score REAL,
        entity_linkage_score REAL,
        human_coherence_score REAL,
        scene_diversity_entropy REAL,
        prompt_alignment_judge_mean REAL,
        semantic_alignment_score REAL,
        blank_frame_ratio REAL,
        metrics_json TEXT NOT NULL
    ))",
    "CREATE INDEX idx_quality_run ON quality_metrics(run_key, scene_key)",
    R"(CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        run_key INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        scene_id TEXT NOT NULL,
        stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
        coherence INTEGER CHECK (coherence IS NULL OR coherence BETWEEN 1 AND 5),
        comment TEXT,
        operator TEXT,
        rated_at_ms INTEGER,
        rated_at TEXT
    ))",
    "CREATE INDEX idx_feedback_run ON feedback(run_key, scene_id)",
    R"(CREATE TABLE gpu_samples (
        id INTEGER PRIMARY KEY,
        run_key INTEGER REFERENCES runs(id) ON DELETE CASCADE,
        taken_at_ms INTEGER NOT NULL,
        gpu_index INTEGER,
        name TEXT,
        source TEXT,
        vram_total_bytes INTEGER,
        vram_free_bytes INTEGER,
        vram_used_bytes INTEGER,
        utilization_percent INTEGER,
        temperature_c INTEGER
    ))",
    "CREATE INDEX idx_gpu_samples_time ON gpu_samples(taken_at_ms)",
    "CREATE INDEX idx_gpu_samples_run ON gpu_samples(run_key)",
    R"(CREATE TABLE kpi_results (
        id INTEGER PRIMARY KEY,
        run_key INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kpi TEXT NOT NULL,
        value REAL,
        threshold TEXT,
        status TEXT NOT NULL,
        detail_json TEXT,
        UNIQUE (run_key, kpi)
    ))",
    "CREATE INDEX idx_kpi_status ON kpi_results(kpi, status)",
};

// Schema v2: each run carries the digest the sweep report and the KPI pass read (telemetry::RunDigest
// as compact JSON, with its format version), written when the run is recorded. Rows migrated from
// v1 have none; RunStore rebuilds it from the run directory the first time a sweep needs it.
const char* const kSchemaV2[] = {
    "ALTER TABLE runs ADD COLUMN digest_version INTEGER",
    "ALTER TABLE runs ADD COLUMN digest_json TEXT",
};

bool isBusy(const QSqlError& error)
{
    // The Qt SQLite driver reports sqlite3_step's result code as the native code: 5 SQLITE_BUSY,
    // 6 SQLITE_LOCKED. Older drivers left it empty, so the text is checked as well.
    const QString code = error.nativeErrorCode();
    return code == QLatin1String("5") || code == QLatin1String("6") ||
           error.text().contains(QLatin1String("database is locked"), Qt::CaseInsensitive) ||
           error.text().contains(QLatin1String("database table is locked"), Qt::CaseInsensitive);
}

} // namespace

QString Database::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/gemdirect.sqlite");
}

Database::Database(DatabaseOptions options)
    : m_options(options), m_connectionName(QStringLiteral("gd_store_%1").arg(++s_connectionCounter))
{
}

Database::~Database()
{
    close();
}

void Database::close()
{
    if (QSqlDatabase::contains(m_connectionName)) {
        {
            QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(m_connectionName);
    }
    m_schemaVersion = 0;
}

bool Database::isOpen() const
{
    return QSqlDatabase::contains(m_connectionName) &&
           QSqlDatabase::database(m_connectionName, false).isOpen();
}

QSqlDatabase Database::handle() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

QSqlQuery Database::query() const
{
    return QSqlQuery(handle());
}

Error Database::sqlError(const QSqlError& error, const QString& what) const
{
    QJsonObject detail{{QStringLiteral("path"), m_path},
                       {QStringLiteral("sqlError"), error.text()},
                       {QStringLiteral("nativeCode"), error.nativeErrorCode()}};
    if (isBusy(error)) {
        return Error{
            QStringLiteral("locked"),
            QStringLiteral("database %1 is locked by another connection or process; gave up %2 after %3 "
                           "tries (busy timeout %4 ms each)")
                .arg(m_path, what)
                .arg(m_options.lockRetries + 1)
                .arg(m_options.busyTimeoutMs),
            detail};
    }
    return Error{QStringLiteral("sql"),
                 QStringLiteral("database %1: %2 failed: %3").arg(m_path, what, error.text()), detail};
}

Error Database::execWithRetry(const std::function<bool()>& attempt,
                              const std::function<QSqlError()>& lastError, const QString& what) const
{
    for (int tryNo = 0;; ++tryNo) {
        if (attempt())
            return {};
        const QSqlError error = lastError();
        if (!isBusy(error) || tryNo >= m_options.lockRetries)
            return sqlError(error, what);
        gd::log::get("store")->warn("database {} locked during {}; retry {}/{}", m_path.toStdString(),
                                    what.toStdString(), tryNo + 1, m_options.lockRetries);
        QThread::msleep(static_cast<unsigned long>(qMax(0, m_options.retryPauseMs)));
    }
}

Error Database::exec(QSqlQuery& query) const
{
    return execWithRetry([&] { return query.exec(); }, [&] { return query.lastError(); },
                         query.lastQuery().section(QLatin1Char('('), 0, 0).simplified().left(60));
}

Error Database::exec(const QString& sql) const
{
    QSqlQuery q = query();
    return execWithRetry([&] { return q.exec(sql); }, [&] { return q.lastError(); },
                         sql.simplified().left(60));
}

Error Database::writeTransaction(const std::function<Error()>& body) const
{
    if (Error e = exec(QStringLiteral("BEGIN IMMEDIATE")); !e.isNull())
        return e;
    Error result = body();
    if (result.isNull()) {
        result = exec(QStringLiteral("COMMIT"));
        if (result.isNull())
            return {};
    }
    QSqlQuery rollback = query();
    rollback.exec(QStringLiteral("ROLLBACK")); // best effort: the body's error is what matters
    return result;
}

Error Database::readUserVersion(int& version) const
{
    QSqlQuery q = query();
    const Error e =
        execWithRetry([&] { return q.exec(QStringLiteral("PRAGMA user_version")); },
                      [&] { return q.lastError(); }, QStringLiteral("reading the schema version"));
    if (!e.isNull())
        return e;
    if (!q.next())
        return sqlError(q.lastError(), QStringLiteral("reading the schema version"));
    version = q.value(0).toInt();
    return {};
}

Error Database::open(const QString& path)
{
    close();
    m_path = QFileInfo(path).absoluteFilePath();
    const QFileInfo info(m_path);
    if (info.exists() && !info.isFile())
        return Error{QStringLiteral("io"), QStringLiteral("database %1 is not a file").arg(m_path), {}};
    if (!QDir().mkpath(info.absolutePath()))
        return Error{QStringLiteral("io"),
                     QStringLiteral("cannot create the directory of database %1").arg(m_path),
                     {}};

    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
        db.setDatabaseName(m_path);
        // The driver's own busy wait, so that even the first PRAGMA waits for a writer.
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(m_options.busyTimeoutMs));
        if (!db.open()) {
            const Error e{QStringLiteral("io"),
                          QStringLiteral("cannot open database %1: %2").arg(m_path, db.lastError().text()),
                          {}};
            db = QSqlDatabase();
            close();
            return e;
        }
    }

    // Read the version before anything that writes (journal_mode=WAL rewrites the header), so a
    // newer database is refused without a single byte changed.
    int version = 0;
    if (Error e = readUserVersion(version); !e.isNull()) {
        close();
        if (e.kind == QLatin1String("sql") &&
            e.detail.value(QStringLiteral("sqlError")).toString().contains(QLatin1String("not a database"))) {
            return Error{
                QStringLiteral("notADatabase"),
                QStringLiteral("%1 is not an SQLite database; point at another database").arg(m_path),
                e.detail};
        }
        return e;
    }
    if (version > kSchemaVersion) {
        close();
        return Error{
            QStringLiteral("newerSchema"),
            QStringLiteral(
                "database %1 was written by a newer gemDirect (schema v%2, this build knows v%3); use "
                "a newer build or point at another database")
                .arg(m_path)
                .arg(version)
                .arg(kSchemaVersion),
            QJsonObject{{QStringLiteral("path"), m_path},
                        {QStringLiteral("schemaVersion"), version},
                        {QStringLiteral("knownVersion"), kSchemaVersion}}};
    }

    const QStringList pragmas{
        QStringLiteral("PRAGMA busy_timeout = %1").arg(m_options.busyTimeoutMs),
        QStringLiteral("PRAGMA foreign_keys = ON"),
        QStringLiteral("PRAGMA journal_mode = WAL"),
        // WAL + NORMAL stays consistent after a crash; only the last commits may be lost, and the
        // run directories can rebuild them. Saves an fsync per recorded run.
        QStringLiteral("PRAGMA synchronous = NORMAL"),
    };
    for (const QString& pragma : pragmas) {
        if (Error e = exec(pragma); !e.isNull()) {
            close();
            return e;
        }
    }
    m_schemaVersion = version;
    if (Error e = migrate(); !e.isNull()) {
        close();
        return e;
    }
    return {};
}

Error Database::migrate()
{
    // One entry per schema version; index i migrates from version i to i + 1.
    const QVector<QStringList> migrations = [] {
        QStringList v1;
        for (const char* sql : kSchemaV1)
            v1 << QString::fromLatin1(sql);
        QStringList v2;
        for (const char* sql : kSchemaV2)
            v2 << QString::fromLatin1(sql);
        return QVector<QStringList>{v1, v2};
    }();
    static_assert(kSchemaVersion == 2, "add the migration of the new schema version to Database::migrate");

    while (m_schemaVersion < kSchemaVersion) {
        const int from = m_schemaVersion;
        const Error e = writeTransaction([&]() -> Error {
            // Another connection may have migrated while we waited for the write lock.
            int current = 0;
            if (Error readError = readUserVersion(current); !readError.isNull())
                return readError;
            if (current != from)
                return {};
            for (const QString& sql : migrations.at(from)) {
                if (Error stepError = exec(sql); !stepError.isNull())
                    return stepError;
            }
            return exec(QStringLiteral("PRAGMA user_version = %1").arg(from + 1));
        });
        if (!e.isNull())
            return e;
        int now = 0;
        if (Error readError = readUserVersion(now); !readError.isNull())
            return readError;
        if (now <= from)
            return Error{QStringLiteral("sql"),
                         QStringLiteral("database %1: migration to schema v%2 did not take effect")
                             .arg(m_path)
                             .arg(from + 1),
                         {}};
        m_schemaVersion = now;
    }
    return {};
}

} // namespace gd::store
