#include "store/Database.h"
#include "store/RunStore.h"
#include "storyboard/GpuTimeEstimator.h"
#include "storyboard/StoryboardKeys.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace gd::storyboard;

class TestGpuTimeEstimator : public QObject
{
    Q_OBJECT

private:
    // The store fixture run (tests/data/store/run-lighthouse) recorded with the given workflow and
    // scene durations.
    static gd::Error recordRun(gd::store::RunStore& store, const QString& root, const QString& runId,
                               const QString& workflow, const QVector<double>& durations)
    {
        QFile f(QStringLiteral(GD_TEST_DATA_DIR "/store/run-lighthouse/artifact-metadata.json"));
        if (!f.open(QIODevice::ReadOnly))
            return gd::Error{QStringLiteral("io"), QStringLiteral("fixture missing"), {}};
        QJsonObject a = QJsonDocument::fromJson(f.readAll()).object();
        const QString dir = QDir(root).filePath(runId);
        QDir().mkpath(dir);
        a.insert(QStringLiteral("RunId"), runId);
        a.insert(QStringLiteral("RunDir"), dir);
        a.insert(QStringLiteral("Workflow"), workflow);
        QJsonArray scenes = a.value(QStringLiteral("Scenes")).toArray();
        for (int i = 0; i < scenes.size(); ++i) {
            QJsonObject s = scenes.at(i).toObject();
            s.insert(QStringLiteral("Workflow"), workflow);
            s.insert(QStringLiteral("DurationSeconds"), durations.value(i, 1.0));
            scenes.replace(i, s);
        }
        a.insert(QStringLiteral("Scenes"), scenes);
        return store.recordRun(a, dir);
    }

private Q_SLOTS:
    void noHistoryIsUnknownNeverANumber()
    {
        GpuTimeEstimator estimator;
        const StageEstimate e = estimator.estimate(QStringLiteral("keyframes"), QStringLiteral("kf-sdxl"), 30);
        QVERIFY(!e.known());
        QVERIFY(!e.secondsPerItem.has_value());
        QCOMPARE(e.samples, 0);
        QCOMPARE(e.text(), QStringLiteral("unknown (no history for profile 'kf-sdxl')"));
    }

    void historyFromTheStoreGivesMedianTimesItems()
    {
        QTemporaryDir tmp;
        gd::store::Database db;
        QVERIFY(db.open(tmp.filePath(QStringLiteral("h.sqlite"))).isNull());
        gd::store::RunStore store(db);
        QVERIFY(recordRun(store, tmp.path(), QStringLiteral("r1"), QStringLiteral("wan-i2v"), {30, 40, 50, 200, 45}).isNull());
        QVERIFY(recordRun(store, tmp.path(), QStringLiteral("r2"), QStringLiteral("ltx"), {5, 5, 5, 5, 5}).isNull());

        GpuTimeEstimator estimator;
        QVERIFY(estimator.addFromStore(store, QStringLiteral("wan-i2v")).isNull());
        QCOMPARE(estimator.sampleCount(QStringLiteral("wan-i2v")), 5);
        const StageEstimate e = estimator.estimate(QStringLiteral("video"), QStringLiteral("wan-i2v"), 12);
        QVERIFY(e.known());
        // The median ignores the one 200 s outlier (a model load): 45 s per clip.
        QCOMPARE(*e.secondsPerItem, 45.0);
        QCOMPARE(*e.totalSeconds, 540.0);
        QCOMPARE(e.text(), QStringLiteral("~9 min 00 s (12 × 45 s, median of 5 renders)"));
        // Another profile's history is not borrowed.
        QVERIFY(!estimator.estimate(QStringLiteral("video"), QStringLiteral("hunyuan"), 12).known());
    }

    void storyboardDurationsEstimateTheRest()
    {
        StoryboardState state;
        for (int shot = 1; shot <= 2; ++shot) {
            ImageVersion v;
            v.profile = QStringLiteral("kf-sdxl");
            for (int k = 1; k <= 3; ++k)
                v.candidates.append(Candidate{QStringLiteral("keyframes/a/v1-c%1.png").arg(k), QStringLiteral("x"), k,
                                              qint64(1000 * (shot * 3 + k)), std::nullopt, {}});
            state.addKeyframeVersion(StoryboardKeys::shot(QStringLiteral("scene-001"),
                                                          QStringLiteral("shot-%1").arg(shot, 2, 10, QLatin1Char('0'))),
                                     v);
        }
        // A candidate without a duration (uploaded, or from an older build) is no evidence.
        ImageVersion unknown;
        unknown.profile = QStringLiteral("sheet-sdxl");
        unknown.candidates = {Candidate{QStringLiteral("refs/a/v1-c1.png"), QStringLiteral("y"), 1, std::nullopt, {}, {}}};
        state.addReferenceVersion(QStringLiteral("style"), unknown);
        ClipVersion clip;
        clip.profile = QStringLiteral("wan-i2v");
        clip.durationMs = 61000;
        state.addClipVersion(QStringLiteral("scene-001/shot-01"), clip);

        GpuTimeEstimator estimator;
        estimator.addFromState(state);
        const StageEstimate kf = estimator.estimate(QStringLiteral("keyframes"), QStringLiteral("kf-sdxl"), 27);
        QCOMPARE(kf.samples, 6); // 4,5,6,7,8,9 s
        QCOMPARE(*kf.secondsPerItem, 6.0); // nearest-rank median
        QCOMPARE(*kf.totalSeconds, 162.0);
        QVERIFY(!estimator.estimate(QStringLiteral("references"), QStringLiteral("sheet-sdxl"), 4).known());
        QCOMPARE(*estimator.estimate(QStringLiteral("video"), QStringLiteral("wan-i2v"), 2).totalSeconds, 122.0);
    }

    void formatSeconds_data()
    {
        QTest::addColumn<double>("seconds");
        QTest::addColumn<QString>("text");
        QTest::newRow("sub-10") << 4.24 << QStringLiteral("4.2 s");
        QTest::newRow("seconds") << 45.0 << QStringLiteral("45 s");
        QTest::newRow("minutes") << 210.0 << QStringLiteral("3 min 30 s");
        QTest::newRow("hours") << 3900.0 << QStringLiteral("1 h 05 min");
    }

    void formatSeconds()
    {
        QFETCH(double, seconds);
        QFETCH(QString, text);
        QCOMPARE(GpuTimeEstimator::formatSeconds(seconds), text);
    }
};

QTEST_GUILESS_MAIN(TestGpuTimeEstimator)
#include "tst_gputimeestimator.moc"
