#include "telemetry/SweepCalculator.h"

#include <QJsonArray>
#include <QTest>

using gd::telemetry::SweepCalculator;

// Contract §6 aggregates, checked against figures worked out by hand for two small runs.
class TestSweepCalculator : public QObject
{
    Q_OBJECT

    static QJsonObject scene(int frames, double duration, bool marker, bool forced, bool requeued, bool success,
                             QJsonValue delta, const QStringList& notes = {})
    {
        return QJsonObject{
            {QStringLiteral("FrameCount"), frames},
            {QStringLiteral("Requeued"), requeued},
            {QStringLiteral("AttemptsRun"), 1},
            {QStringLiteral("Telemetry"),
             QJsonObject{{QStringLiteral("DurationSeconds"), duration},
                         {QStringLiteral("DoneMarkerDetected"), marker},
                         {QStringLiteral("ForcedCopyTriggered"), forced},
                         {QStringLiteral("ExecutionSuccessDetected"), success},
                         {QStringLiteral("GPU"), QJsonObject{{QStringLiteral("VramDeltaMB"), delta}}},
                         {QStringLiteral("System"), QJsonObject{{QStringLiteral("FallbackNotes"), QJsonArray::fromStringList(notes)}}}}}};
    }

private Q_SLOTS:
    void aggregatesMatchHandWork()
    {
        const QString note = QStringLiteral("Done marker not found after 60 seconds (waited 60.0 seconds)");
        QJsonObject run1{{QStringLiteral("RunId"), QStringLiteral("r1")},
                         {QStringLiteral("Timestamp"), QStringLiteral("2026-11-01T10:00:00.000Z")},
                         {QStringLiteral("Scenes"), QJsonArray{scene(25, 10, true, false, false, true, -512.0),
                                                               scene(25, 20, true, false, true, true, -256.0),
                                                               scene(0, 30, false, false, true, false, QJsonValue(), {note})}}};
        QJsonObject run2{{QStringLiteral("RunId"), QStringLiteral("r2")},
                         {QStringLiteral("Timestamp"), QStringLiteral("2026-11-02T10:00:00.000Z")},
                         {QStringLiteral("Scenes"), QJsonArray{scene(81, 40, false, true, false, true, 100.0, {note})}}};
        const QJsonObject s = SweepCalculator::compute({run1, run2});
        QCOMPARE(s.value(QStringLiteral("Runs")).toInt(), 2);
        QCOMPARE(s.value(QStringLiteral("Scenes")).toInt(), 4);
        // durations 10,20,30,40: nearest rank P50 = index ceil(2)-1 = 1 -> 20; P95 = ceil(3.8)-1 = 3 -> 40
        const QJsonObject d = s.value(QStringLiteral("DurationSeconds")).toObject();
        QCOMPARE(d.value(QStringLiteral("P50")).toDouble(), 20.0);
        QCOMPARE(d.value(QStringLiteral("P95")).toDouble(), 40.0);
        QCOMPARE(d.value(QStringLiteral("P99")).toDouble(), 40.0);
        const QJsonObject f = s.value(QStringLiteral("FramesPerScene")).toObject();
        QCOMPARE(f.value(QStringLiteral("Mean")).toDouble(), 32.8); // (25+25+0+81)/4 = 32.75 -> 1 dp
        QCOMPARE(f.value(QStringLiteral("Min")).toDouble(), 0.0);
        QCOMPARE(s.value(QStringLiteral("DoneMarkerDetectionRate")).toDouble(), 0.5);
        QCOMPARE(s.value(QStringLiteral("ForcedCopyRate")).toDouble(), 0.25);
        QCOMPARE(s.value(QStringLiteral("ZeroFrameRate")).toDouble(), 0.25);
        QCOMPARE(s.value(QStringLiteral("RequeueRate")).toDouble(), 0.5);
        QCOMPARE(s.value(QStringLiteral("ExecutionSuccessRate")).toDouble(), 0.75);
        const QJsonObject v = s.value(QStringLiteral("VramDeltaMBAbs")).toObject();
        QCOMPARE(v.value(QStringLiteral("Max")).toDouble(), 512.0); // null deltas are not zeros
        QCOMPARE(v.value(QStringLiteral("P95")).toDouble(), 512.0);
        QCOMPARE(s.value(QStringLiteral("FallbackNoteCounts")).toObject().value(note).toInt(), 2);
        const QJsonArray hist = f.value(QStringLiteral("Histogram")).toArray();
        QCOMPARE(hist.at(0).toObject().value(QStringLiteral("scenes")).toInt(), 1); // 0 frames
        QCOMPARE(hist.at(3).toObject().value(QStringLiteral("scenes")).toInt(), 2); // 25-49
        QCOMPARE(hist.at(4).toObject().value(QStringLiteral("scenes")).toInt(), 1); // 81 frames: 50-99
        QCOMPARE(hist.at(5).toObject().value(QStringLiteral("scenes")).toInt(), 0); // 100+
    }

    void emptySweepHasNullsNotZeros()
    {
        const QJsonObject s = SweepCalculator::compute({});
        QVERIFY(s.value(QStringLiteral("DoneMarkerDetectionRate")).isNull());
        QVERIFY(s.value(QStringLiteral("DurationSeconds")).toObject().value(QStringLiteral("P50")).isNull());
        QVERIFY(SweepCalculator::markdown(s).contains(QStringLiteral("n/a")));
    }
};

QTEST_GUILESS_MAIN(TestSweepCalculator)
#include "tst_sweepcalculator.moc"
