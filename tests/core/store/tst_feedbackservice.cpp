#include "StoreTestRuns.h"
#include "store/Database.h"
#include "store/FeedbackService.h"
#include "store/RunStore.h"
#include "telemetry/RunValidator.h"

#include <QTemporaryDir>
#include <QTest>

using namespace gd::store;

Q_DECLARE_METATYPE(std::optional<int>)

class TestFeedbackService : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    int m_counter = 0;

    QString newDbPath() { return m_tmp.filePath(QStringLiteral("feedback-%1.sqlite").arg(++m_counter)); }

    static QJsonObject artifactOf(const QString& runDir)
    {
        return storetest::readJson(runDir + QStringLiteral("/artifact-metadata.json"));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        qputenv("USER", "operator-jo");
    }

    void ratingIsWrittenToArtifactAndDatabase()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        QTemporaryDir runs;
        const QString dir = storetest::makeRun(runs.path(), QStringLiteral("20261130-063758"),
                                               QDateTime::currentDateTimeUtc());
        QVERIFY2(gd::telemetry::RunValidator::validate(dir).passed(),
                 qPrintable(gd::telemetry::RunValidator::validate(dir).errors.join(QLatin1Char('\n'))));
        QCOMPARE(RunStore(db).importRunDir(dir).imported, 1);
        const QJsonObject before = artifactOf(dir);

        FeedbackService service(db);
        Rating rating;
        const QDateTime t0 = QDateTime::currentDateTimeUtc().addMSecs(-1);
        gd::Error e =
            service.rate(dir, QStringLiteral("scene-002"), 4, 5, QStringLiteral("lovely fog"), &rating);
        QVERIFY2(e.isNull(), qPrintable(e.toString()));
        QCOMPARE(rating.operatorName, QStringLiteral("operator-jo"));
        QVERIFY(rating.ratedAt >= t0 && rating.ratedAt <= QDateTime::currentDateTimeUtc());
        QCOMPARE(rating.ratedAt.timeSpec(), Qt::UTC);
        e = service.rate(dir, QStringLiteral("scene-005"), 2);
        QVERIFY2(e.isNull(), qPrintable(e.toString()));

        const QJsonObject after = artifactOf(dir);
        const QJsonArray feedback = after.value(QStringLiteral("Feedback")).toArray();
        QCOMPARE(feedback.size(), 2);
        const QJsonObject first = feedback.at(0).toObject();
        QCOMPARE(first.value(QStringLiteral("SceneId")).toString(), QStringLiteral("scene-002"));
        QCOMPARE(first.value(QStringLiteral("Stars")).toInt(), 4);
        QCOMPARE(first.value(QStringLiteral("Coherence")).toInt(), 5);
        QCOMPARE(first.value(QStringLiteral("Comment")).toString(), QStringLiteral("lovely fog"));
        QCOMPARE(first.value(QStringLiteral("Operator")).toString(), QStringLiteral("operator-jo"));
        QCOMPARE(
            QDateTime::fromString(first.value(QStringLiteral("Timestamp")).toString(), Qt::ISODateWithMs),
            rating.ratedAt);
        QVERIFY(first.value(QStringLiteral("Timestamp")).toString().endsWith(QLatin1Char('Z')));
        QVERIFY(feedback.at(1).toObject().value(QStringLiteral("Coherence")).isNull());

        // Every other field is exactly as before.
        QJsonObject beforeRest = before;
        QJsonObject afterRest = after;
        beforeRest.remove(QStringLiteral("Feedback"));
        afterRest.remove(QStringLiteral("Feedback"));
        QCOMPARE(afterRest, beforeRest);
        const gd::telemetry::ValidationResult validation = gd::telemetry::RunValidator::validate(dir);
        QVERIFY2(validation.passed(), qPrintable(validation.errors.join(QLatin1Char('\n'))));
        QVERIFY(!QFile::exists(dir + QStringLiteral("/artifact-metadata.json.tmp")));

        QVector<Rating> stored;
        QVERIFY(service.ratingsOf(dir, stored).isNull());
        QCOMPARE(stored.size(), 2);
        QCOMPARE(stored.at(0).sceneId, QStringLiteral("scene-002"));
        QCOMPARE(stored.at(0).coherence, std::optional<int>(5));
        QCOMPARE(stored.at(1).coherence, std::nullopt);
    }

    void ratingsSurviveReopeningAndRebuilding()
    {
        const QString path = newDbPath();
        QTemporaryDir runs;
        const QString dir =
            storetest::makeRun(runs.path(), QStringLiteral("survivor"), QDateTime::currentDateTimeUtc());
        {
            Database db;
            QVERIFY(db.open(path).isNull());
            // Not imported yet: rating records the run too.
            QVERIFY(FeedbackService(db)
                        .rate(dir, QStringLiteral("scene-001"), 5, 3, QStringLiteral("first"))
                        .isNull());
        }
        {
            Database db;
            QVERIFY(db.open(path).isNull());
            QVector<Rating> stored;
            QVERIFY(FeedbackService(db).ratingsOf(dir, stored).isNull());
            QCOMPARE(stored.size(), 1);
            QCOMPARE(stored.first().stars, 5);
            QCOMPARE(stored.first().comment, QStringLiteral("first"));

            // The run directory alone brings the rating back.
            QCOMPARE(RunStore(db).rebuildFrom(runs.path()).imported, 1);
            QVERIFY(FeedbackService(db).ratingsOf(dir, stored).isNull());
            QCOMPARE(stored.size(), 1);
            QCOMPARE(stored.first().coherence, std::optional<int>(3));
        }
    }

    void invalidRatingsAreRefused_data()
    {
        QTest::addColumn<QString>("sceneId");
        QTest::addColumn<int>("stars");
        QTest::addColumn<std::optional<int>>("coherence");
        QTest::addColumn<bool>("unknownRunDir");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("messagePart");
        const QString s1 = QStringLiteral("scene-001");
        QTest::newRow("0 stars") << s1 << 0 << std::optional<int>() << false << "invalidRating"
                                 << "stars must be 1 to 5 (got 0)";
        QTest::newRow("6 stars") << s1 << 6 << std::optional<int>() << false << "invalidRating"
                                 << "stars must be 1 to 5 (got 6)";
        QTest::newRow("-1 stars") << s1 << -1 << std::optional<int>(3) << false << "invalidRating"
                                  << "(got -1)";
        QTest::newRow("coherence 0") << s1 << 3 << std::optional<int>(0) << false << "invalidRating"
                                     << "coherence must be 1 to 5 (got 0)";
        QTest::newRow("coherence 6") << s1 << 3 << std::optional<int>(6) << false << "invalidRating"
                                     << "coherence must be 1 to 5 (got 6)";
        QTest::newRow("unknown scene")
            << QStringLiteral("scene-042") << 3 << std::optional<int>() << false << "unknownScene"
            << "has no scene scene-042";
        QTest::newRow("unknown run dir") << s1 << 3 << std::optional<int>() << true << "unknownRun"
                                         << "no run directory";
    }

    void invalidRatingsAreRefused()
    {
        QFETCH(QString, sceneId);
        QFETCH(int, stars);
        QFETCH(std::optional<int>, coherence);
        QFETCH(bool, unknownRunDir);
        QFETCH(QString, kind);
        QFETCH(QString, messagePart);
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        QTemporaryDir runs;
        const QString dir =
            storetest::makeRun(runs.path(), QStringLiteral("r1"), QDateTime::currentDateTimeUtc());
        QCOMPARE(RunStore(db).importRunDir(dir).imported, 1);
        const QByteArray before = storetest::readFile(dir + QStringLiteral("/artifact-metadata.json"));

        FeedbackService service(db);
        const QString target = unknownRunDir ? runs.filePath(QStringLiteral("no-such-run")) : dir;
        const gd::Error e = service.rate(target, sceneId, stars, coherence);
        QCOMPARE(e.kind, kind);
        QVERIFY2(e.message.contains(messagePart), qPrintable(e.message));
        QCOMPARE(storetest::readFile(dir + QStringLiteral("/artifact-metadata.json")), before);
        QVector<Rating> stored;
        QVERIFY(service.ratingsOf(dir, stored).isNull());
        QVERIFY(stored.isEmpty());
    }

    void directoryWithoutArtifactIsAnUnknownRun()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        QTemporaryDir notARun;
        const gd::Error e = FeedbackService(db).rate(notARun.path(), QStringLiteral("scene-001"), 3);
        QCOMPARE(e.kind, QStringLiteral("unknownRun"));
        QVERIFY(e.message.contains(notARun.path()));
    }

    void failedArtifactRewriteLeavesTheDatabaseUnchanged()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        QTemporaryDir runs;
        const QString dir =
            storetest::makeRun(runs.path(), QStringLiteral("readonly"), QDateTime::currentDateTimeUtc());
        QCOMPARE(RunStore(db).importRunDir(dir).imported, 1);
        QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::ExeOwner);
        if (QFileInfo(dir).isWritable() || storetest::writeFile(dir + QStringLiteral("/probe"), "x")) {
            QFile::setPermissions(dir,
                                  QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
            QSKIP("running as a user that ignores directory permissions (root)");
        }
        const gd::Error e = FeedbackService(db).rate(dir, QStringLiteral("scene-001"), 4);
        QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        QCOMPARE(e.kind, QStringLiteral("io"));
        QVector<Rating> stored;
        QVERIFY(FeedbackService(db).ratingsOf(dir, stored).isNull());
        QVERIFY(stored.isEmpty());
    }

    void aggregatesGroupRatingsWithCounts()
    {
        Database db;
        QVERIFY(db.open(newDbPath()).isNull());
        QTemporaryDir runs;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QString drama1 =
            storetest::makeRun(runs.path(), QStringLiteral("d1"), now,
                               storetest::withStory(QStringLiteral("drama"), QStringLiteral("1.0"),
                                                    QStringLiteral("mistral-7b"), QStringLiteral("wan")));
        const QString drama2 =
            storetest::makeRun(runs.path(), QStringLiteral("d2"), now,
                               storetest::withStory(QStringLiteral("drama"), QStringLiteral("1.0"),
                                                    QStringLiteral("mistral-7b"), QStringLiteral("sdxl")));
        const QString horror =
            storetest::makeRun(runs.path(), QStringLiteral("h1"), now,
                               storetest::withStory(QStringLiteral("horror"), QStringLiteral("2.1"),
                                                    QStringLiteral("qwen-14b"), QStringLiteral("wan")));
        FeedbackService service(db);
        QVERIFY(service.rate(drama1, QStringLiteral("scene-001"), 5, 4).isNull());
        QVERIFY(service.rate(drama1, QStringLiteral("scene-002"), 4).isNull());
        QVERIFY(service.rate(drama2, QStringLiteral("scene-001"), 3, 2).isNull());
        QVERIFY(service.rate(horror, QStringLiteral("scene-003"), 2, 5).isNull());

        QVector<FeedbackAggregate> rows;
        QVERIFY(service
                    .aggregates(FeedbackGroup::Genre | FeedbackGroup::TemplateVersion | FeedbackGroup::Model,
                                rows)
                    .isNull());
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows.at(0).genre, QStringLiteral("drama"));
        QCOMPARE(rows.at(0).count, 3);
        QCOMPARE(rows.at(0).meanStars, 4.0);
        QCOMPARE(rows.at(0).meanCoherence, std::optional<double>(3.0));
        QCOMPARE(rows.at(0).coherenceCount, 2);
        QCOMPARE(FeedbackService::format(rows.at(0)),
                 QStringLiteral("drama@1.0 on mistral-7b: 4.0") + QChar(0x2605) + QStringLiteral(" (n=3)"));
        QCOMPARE(rows.at(1).key, QStringLiteral("horror|2.1|qwen-14b"));
        QCOMPARE(rows.at(1).count, 1);

        QVERIFY(service.aggregates(FeedbackGroup::Workflow, rows).isNull());
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows.at(0).workflow, QStringLiteral("wan"));
        QCOMPARE(rows.at(0).count, 3);
        QCOMPARE(rows.at(0).meanStars, 11.0 / 3.0);
        QCOMPARE(FeedbackService::format(rows.at(0)),
                 QStringLiteral("wan: 3.7") + QChar(0x2605) + QStringLiteral(" (n=3)"));
        QCOMPARE(rows.at(1).workflow, QStringLiteral("sdxl"));
        QCOMPARE(rows.at(1).meanCoherence, std::optional<double>(2.0));

        // A run whose story came from a file has no model: grouped as "unknown".
        const QString fromFile = storetest::makeRun(runs.path(), QStringLiteral("f1"), now);
        QVERIFY(service.rate(fromFile, QStringLiteral("scene-001"), 1).isNull());
        QVERIFY(service.aggregates(FeedbackGroup::Model, rows).isNull());
        QCOMPARE(rows.size(), 3);
        const auto unknown = std::find_if(rows.cbegin(), rows.cend(),
                                          [](const FeedbackAggregate& a) { return a.model.isEmpty(); });
        QVERIFY(unknown != rows.cend());
        QCOMPARE(FeedbackService::format(*unknown),
                 QStringLiteral("unknown: 1.0") + QChar(0x2605) + QStringLiteral(" (n=1)"));
        QCOMPARE(unknown->meanCoherence, std::nullopt);
    }
};

QTEST_GUILESS_MAIN(TestFeedbackService)
#include "tst_feedbackservice.moc"
