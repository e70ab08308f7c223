#include "pipeline/QueuePolicy.h"

#include <QTest>

using gd::pipeline::QueuePolicy;

// The knobs of telemetry-contract §2.1: presets, environment layering and validation messages.
class TestQueuePolicy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void presetsMatchTheContract()
    {
        const QueuePolicy s = QueuePolicy::standard();
        QCOMPARE(s.maxWaitSeconds, 600.0);
        QCOMPARE(s.historyMaxAttempts, 0);
        QCOMPARE(s.pollIntervalSeconds, 2.0);
        QCOMPARE(s.postExecutionTimeoutSeconds, 30.0);
        QCOMPARE(s.sceneRetryBudget, 1);
        QCOMPARE(s.doneMarkerTimeoutSeconds, 60.0);
        QCOMPARE(s.stabilityWindowSeconds, 2.0);
        QCOMPARE(s.stabilityRetries, 3);
        const QueuePolicy f = QueuePolicy::fastIteration();
        QCOMPARE(f.maxWaitSeconds, 30.0);
        QCOMPARE(f.pollIntervalSeconds, 1.0);
        QCOMPARE(f.postExecutionTimeoutSeconds, 15.0);
        QCOMPARE(f.doneMarkerTimeoutSeconds, 15.0);
        QCOMPARE(f.stabilityWindowSeconds, 1.0);
        QCOMPARE(f.stabilityRetries, 2);
    }

    void environmentOverridesDefaults()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("SCENE_MAX_WAIT_SECONDS"), QStringLiteral("90"));
        env.insert(QStringLiteral("SCENE_HISTORY_MAX_ATTEMPTS"), QStringLiteral("12"));
        env.insert(QStringLiteral("SCENE_HISTORY_POLL_INTERVAL_SECONDS"), QStringLiteral("0.5"));
        env.insert(QStringLiteral("SCENE_RETRY_BUDGET"), QStringLiteral("3"));
        env.insert(QStringLiteral("SCENE_FRAME_FLOOR"), QStringLiteral("49"));
        QueuePolicy p;
        QStringList errors;
        p.applyEnvironment(env, &errors);
        QVERIFY(errors.isEmpty());
        QCOMPARE(p.maxWaitSeconds, 90.0);
        QCOMPARE(p.historyMaxAttempts, 12);
        QCOMPARE(p.pollIntervalSeconds, 0.5);
        QCOMPARE(p.sceneRetryBudget, 3);
        QCOMPARE(p.frameFloorFor(25), 49);
        const auto qc = p.queueConfig();
        QCOMPARE(qc.historyMaxWaitSeconds, 90.0);
        QCOMPARE(qc.historyMaxAttempts, 12);
    }

    void malformedEnvironmentIsNamed()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("SCENE_RETRY_BUDGET"), QStringLiteral("two"));
        QueuePolicy p;
        QStringList errors;
        p.applyEnvironment(env, &errors);
        QCOMPARE(errors.size(), 1);
        QVERIFY(errors.first().contains(QStringLiteral("SCENE_RETRY_BUDGET")));
        QCOMPARE(p.sceneRetryBudget, 1);
    }

    void invalidKnobsAreRejected_data()
    {
        QTest::addColumn<QString>("knob");
        QTest::addColumn<double>("value");
        QTest::newRow("max wait 0") << QStringLiteral("scene-max-wait") << 0.0;
        QTest::newRow("negative attempts") << QStringLiteral("scene-history-max-attempts") << -1.0;
        QTest::newRow("poll too small") << QStringLiteral("scene-history-poll-interval") << 0.05;
        QTest::newRow("negative budget") << QStringLiteral("scene-retry-budget") << -1.0;
    }
    void invalidKnobsAreRejected()
    {
        QFETCH(QString, knob);
        QFETCH(double, value);
        QueuePolicy p;
        if (knob == QLatin1String("scene-max-wait"))
            p.maxWaitSeconds = value;
        else if (knob == QLatin1String("scene-history-max-attempts"))
            p.historyMaxAttempts = int(value);
        else if (knob == QLatin1String("scene-history-poll-interval"))
            p.pollIntervalSeconds = value;
        else
            p.sceneRetryBudget = int(value);
        const QStringList e = p.validate();
        QCOMPARE(e.size(), 1);
        QVERIFY2(e.first().contains(QStringLiteral("--") + knob), qPrintable(e.first()));
    }

    void frameFloorDefaults()
    {
        QueuePolicy p;
        QCOMPARE(p.frameFloorFor(0), 25);
        QCOMPARE(p.frameFloorFor(81), 81);
        p.frameFloor = 10;
        QCOMPARE(p.frameFloorFor(81), 10);
    }
};

QTEST_GUILESS_MAIN(TestQueuePolicy)
#include "tst_queuepolicy.moc"
