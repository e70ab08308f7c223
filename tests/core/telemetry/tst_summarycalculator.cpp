#include "telemetry/SummaryCalculator.h"

#include <QTest>

using namespace gd::telemetry;

namespace {

AttemptRecord attempt(int n, int frames, double duration, bool forced = false, bool marker = false)
{
    AttemptRecord a;
    a.attempt = n;
    a.frameCount = frames;
    a.success = frames > 0;
    a.durationSeconds = duration;
    a.telemetry.durationSeconds = duration;
    a.telemetry.forcedCopyTriggered = forced;
    a.telemetry.doneMarkerDetected = marker;
    return a;
}

} // namespace

// The Summary block of the artifact: what the dashboard's run tiles show.
class TestSummaryCalculator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void emptyRun();
    void countsOverKeptAttempts();
};

void TestSummaryCalculator::emptyRun()
{
    const RunSummaryStats s = SummaryCalculator::compute(RunRecord{});
    QCOMPARE(s.scenesTotal, 0);
    QCOMPARE(s.scenesSucceeded, 0);
    QCOMPARE(s.totalFrames, 0);
    QVERIFY(!s.durationP50Seconds.has_value());
    QVERIFY(!s.durationP95Seconds.has_value());
}

void TestSummaryCalculator::countsOverKeptAttempts()
{
    RunRecord run;
    SceneRecord s1; // requeued: attempt 1 had 10 frames (below floor), attempt 2 kept with 30
    s1.sceneId = QStringLiteral("scene-001");
    s1.attempts = {attempt(1, 10, 50, true, false), attempt(2, 30, 40, false, true)};
    s1.keptAttempt = 1;
    SceneRecord s2; // one attempt, 25 frames, forced copy
    s2.sceneId = QStringLiteral("scene-002");
    s2.attempts = {attempt(1, 25, 20, true, false)};
    s2.keptAttempt = 0;
    SceneRecord s3; // failed twice, kept attempt has 0 frames
    s3.sceneId = QStringLiteral("scene-003");
    s3.attempts = {attempt(1, 0, 10), attempt(2, 0, 12)};
    s3.keptAttempt = 0;
    SceneRecord s4; // never ran
    s4.sceneId = QStringLiteral("scene-004");
    run.scenes = {s1, s2, s3, s4};

    const RunSummaryStats s = SummaryCalculator::compute(run);
    QCOMPARE(s.scenesTotal, 4);
    QCOMPARE(s.scenesSucceeded, 2);
    QCOMPARE(s.totalFrames, 55);
    QCOMPARE(s.requeues, 2);
    QCOMPARE(s.forcedCopies, 1); // attempt 1 of scene-001 is not kept
    QCOMPARE(s.doneMarkersDetected, 1);
    // Kept durations {40, 20, 10}: P50 = sorted[ceil(1.5)−1] = 20, P95 = sorted[2] = 40.
    QCOMPARE(s.durationP50Seconds.value(), 20.0);
    QCOMPARE(s.durationP95Seconds.value(), 40.0);
}

QTEST_GUILESS_MAIN(TestSummaryCalculator)
#include "tst_summarycalculator.moc"
