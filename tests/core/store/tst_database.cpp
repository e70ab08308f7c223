#include "StoreTestRuns.h"
#include "store/Database.h"
#include "store/RunStore.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <future>
#include <thread>

using namespace gd::store;

class TestDatabase : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;

    QString dbPath(const char* name) const { return m_tmp.filePath(QString::fromLatin1(name)); }

    // A plain second connection, the way another process would touch the file.
    static QSqlDatabase rawConnection(const QString& name, const QString& path)
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=0"));
        db.open();
        return db;
    }

    static QVariant scalar(const QSqlDatabase& db, const QString& sql)
    {
        QSqlQuery q(db);
        return q.exec(sql) && q.next() ? q.value(0) : QVariant();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void migratesAnEmptyDatabaseToTheCurrentSchema()
    {
        const QString path = dbPath("fresh.sqlite");
        Database db;
        const gd::Error e = db.open(path);
        QVERIFY2(e.isNull(), qPrintable(e.toString()));
        QCOMPARE(db.schemaVersion(), Database::kSchemaVersion);
        QCOMPARE(scalar(db.handle(), QStringLiteral("PRAGMA user_version")).toInt(),
                 Database::kSchemaVersion);
        QCOMPARE(scalar(db.handle(), QStringLiteral("PRAGMA journal_mode")).toString(),
                 QStringLiteral("wal"));
        QCOMPARE(scalar(db.handle(), QStringLiteral("PRAGMA foreign_keys")).toInt(), 1);
        for (const char* table :
             {"runs", "scenes", "attempts", "quality_metrics", "feedback", "gpu_samples", "kpi_results"}) {
            QSqlQuery q(db.handle());
            q.prepare(QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"));
            q.addBindValue(QString::fromLatin1(table));
            QVERIFY(q.exec() && q.next());
            QVERIFY2(q.value(0).toInt() == 1, table);
        }
        QCOMPARE(scalar(db.handle(),
                        QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE name = 'idx_runs_started'"))
                     .toInt(),
                 1);
    }

    void reopeningKeepsDataAndSchema()
    {
        const QString path = dbPath("reopen.sqlite");
        QTemporaryDir runs;
        const QString run = storetest::makeRun(runs.path(), QStringLiteral("20260101-000000"),
                                               QDateTime::currentDateTimeUtc());
        {
            Database db;
            QVERIFY(db.open(path).isNull());
            RunStore store(db);
            QCOMPARE(store.importRunDir(run).imported, 1);
        }
        Database db;
        const gd::Error e = db.open(path);
        QVERIFY2(e.isNull(), qPrintable(e.toString()));
        QCOMPARE(db.schemaVersion(), Database::kSchemaVersion);
        int count = 0;
        QVERIFY(RunStore(db).runCount(count).isNull());
        QCOMPARE(count, 1);
    }

    void eachInstanceHasItsOwnConnection()
    {
        Database a;
        Database b;
        QVERIFY(a.connectionName() != b.connectionName());
        QVERIFY(a.open(dbPath("shared.sqlite")).isNull());
        QVERIFY(b.open(dbPath("shared.sqlite")).isNull());
        a.close();
        QVERIFY(b.isOpen());
        QVERIFY(b.exec(QStringLiteral("SELECT COUNT(*) FROM runs")).isNull());
    }

    void refusesADatabaseFromANewerBuildWithoutTouchingIt()
    {
        const QString path = dbPath("newer.sqlite");
        {
            QSqlDatabase raw = rawConnection(QStringLiteral("newer-writer"), path);
            QSqlQuery q(raw);
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE future_things (id INTEGER PRIMARY KEY, what TEXT)")));
            QVERIFY(q.exec(QStringLiteral("INSERT INTO future_things (what) VALUES ('keep me')")));
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version = 7")));
            raw.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("newer-writer"));
        const QByteArray before = storetest::readFile(path);
        QVERIFY(!before.isEmpty());

        Database db;
        const gd::Error e = db.open(path);
        QCOMPARE(e.kind, QStringLiteral("newerSchema"));
        QCOMPARE(e.message,
                 QStringLiteral("database %1 was written by a newer gemDirect (schema v7, this build knows "
                                "v%2); use a newer build or point at another database")
                     .arg(QFileInfo(path).absoluteFilePath())
                     .arg(Database::kSchemaVersion));
        QVERIFY(!db.isOpen());
        QCOMPARE(storetest::readFile(path), before);
        QVERIFY(!QFile::exists(path + QStringLiteral("-wal")));
    }

    void refusesAFileThatIsNotADatabase()
    {
        const QString path = dbPath("notes.sqlite");
        const QByteArray bytes = QByteArray("these are my notes, not a database\n").repeated(200);
        QVERIFY(storetest::writeFile(path, bytes));
        Database db;
        const gd::Error e = db.open(path);
        QCOMPARE(e.kind, QStringLiteral("notADatabase"));
        QVERIFY(e.message.contains(path));
        QCOMPARE(storetest::readFile(path), bytes);
    }

    void lockedDatabaseRetriesThenFailsNamingThePath()
    {
        const QString path = dbPath("locked.sqlite");
        DatabaseOptions options;
        options.busyTimeoutMs = 20;
        options.lockRetries = 2;
        options.retryPauseMs = 5;
        Database db(options);
        QVERIFY(db.open(path).isNull());

        QSqlDatabase locker = rawConnection(QStringLiteral("locker"), path);
        {
            QSqlQuery hold(locker);
            QVERIFY2(hold.exec(QStringLiteral("BEGIN IMMEDIATE")), qPrintable(hold.lastError().text()));
            QVERIFY(hold.exec(QStringLiteral("DELETE FROM runs")));

            QTemporaryDir runs;
            const QString run = storetest::makeRun(runs.path(), QStringLiteral("20260101-000001"),
                                                   QDateTime::currentDateTimeUtc());
            RunStore store(db);
            QJsonObject artifact;
            QVERIFY(RunStore::readArtifact(run, artifact).isNull());
            const gd::Error e = store.recordRun(artifact, run);
            QCOMPARE(e.kind, QStringLiteral("locked"));
            QVERIFY2(e.message.contains(db.path()), qPrintable(e.message));
            QVERIFY2(e.message.contains(QStringLiteral("3 tries")), qPrintable(e.message));

            const ImportReport report = store.importRunDir(run);
            QCOMPARE(report.imported, 0);
            QCOMPARE(report.failed.size(), 1);
            QVERIFY(report.failed.first().reason.contains(QStringLiteral("locked")));

            QVERIFY(hold.exec(QStringLiteral("COMMIT")));
            QCOMPARE(store.importRunDir(run).imported, 1);
        }
        locker.close();
        locker = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("locker"));
    }

    void briefLockIsWaitedOut()
    {
        const QString path = dbPath("brief-lock.sqlite");
        DatabaseOptions options;
        options.busyTimeoutMs = 20;
        options.lockRetries = 50;
        options.retryPauseMs = 10;
        Database db(options);
        QVERIFY(db.open(path).isNull());

        std::promise<bool> locked;
        std::promise<void> release;
        std::thread other([&] {
            // Its own connection on its own thread, as Qt SQL requires.
            {
                QSqlDatabase raw = rawConnection(QStringLiteral("brief-locker"), path);
                QSqlQuery q(raw);
                locked.set_value(q.exec(QStringLiteral("BEGIN IMMEDIATE")));
                release.get_future().wait();
                q.exec(QStringLiteral("COMMIT"));
                raw.close();
            }
            QSqlDatabase::removeDatabase(QStringLiteral("brief-locker"));
        });
        QVERIFY(locked.get_future().get());
        std::thread releaser([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            release.set_value();
        });
        const gd::Error e = db.exec(QStringLiteral("INSERT INTO gpu_samples (taken_at_ms) VALUES (1)"));
        releaser.join();
        other.join();
        QVERIFY2(e.isNull(), qPrintable(e.toString()));
    }
};

QTEST_GUILESS_MAIN(TestDatabase)
#include "tst_database.moc"
