#include "quality/RunFiguresCalculator.h"

#include <QFile>
#include <QJsonDocument>
#include <QTest>

using gd::quality::RunFigures;
using gd::quality::RunFiguresCalculator;

namespace {
gd::telemetry::SceneRecord scene(const QString& id, int frames, std::optional<double> seconds)
{
    gd::telemetry::SceneRecord s;
    s.sceneId = id;
    s.title = id;
    if (!seconds)
        return s; // not run yet: no attempt
    gd::telemetry::AttemptRecord a;
    a.status = QStringLiteral("succeeded");
    a.frameCount = frames;
    a.success = frames > 0;
    a.durationSeconds = *seconds;
    a.telemetry.durationSeconds = *seconds;
    s.attempts << a;
    s.keptAttempt = 0;
    s.status = QStringLiteral("succeeded");
    return s;
}
} // namespace

// The dashboard's per-run figures: scenes that ran, nearest-rank percentiles, KPIs, unreadable runs.
class TestRunFiguresCalculator : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void liveRecordChartsOnlyScenesThatRan()
    {
        gd::telemetry::RunRecord run;
        run.runId = QStringLiteral("20260101-120000");
        run.runDir = QStringLiteral("/tmp/runs/20260101-120000");
        run.story.title = QStringLiteral("Lighthouse");
        run.scenes << scene(QStringLiteral("scene-001"), 25, 40.0) << scene(QStringLiteral("scene-002"), 12, 130.0)
                   << scene(QStringLiteral("scene-003"), 25, 60.0) << scene(QStringLiteral("scene-004"), 0, std::nullopt);
        const RunFigures f = RunFiguresCalculator::fromRecord(run);
        QCOMPARE(f.runId, run.runId);
        QCOMPARE(f.title, QStringLiteral("Lighthouse"));
        QCOMPARE(f.scenesTotal, 4);
        // scene-004 is still queued: no 0 s / 0 frames point for it.
        QCOMPARE(f.scenes.size(), 3);
        QCOMPARE(f.scenes[1].frameCount, std::optional<int>(12));
        QCOMPARE(f.scenes[1].durationSeconds, std::optional<double>(130.0));
        // Nearest rank over 40, 60, 130: P50 = index ceil(1.5) − 1 = 1, P95 = index 2.
        QCOMPARE(f.durationP50Seconds, std::optional<double>(60.0));
        QCOMPARE(f.durationP95Seconds, std::optional<double>(130.0));
        QVERIFY(f.problem.isEmpty());
        bool sawP95 = false;
        for (const gd::quality::KpiResult& k : f.kpis)
            if (k.id == QLatin1String("duration-p95")) {
                sawP95 = true;
                QCOMPARE(k.status, QStringLiteral("FAIL"));
            }
        QVERIFY(sawP95);
    }

    void scenesNotYetRenderedDoNotCountInTheKpis()
    {
        // Two of five scenes done with full frames: mid-run, "frames per scene" must not read the three
        // waiting scenes as 0 frames (which made the live tile FAIL until the run ended).
        gd::telemetry::RunRecord run;
        run.runId = QStringLiteral("20260101-130000");
        run.scenes << scene(QStringLiteral("scene-001"), 25, 40.0) << scene(QStringLiteral("scene-002"), 25, 50.0)
                   << scene(QStringLiteral("scene-003"), 0, std::nullopt) << scene(QStringLiteral("scene-004"), 0, std::nullopt)
                   << scene(QStringLiteral("scene-005"), 0, std::nullopt);
        const RunFigures f = RunFiguresCalculator::fromRecord(run);
        QCOMPARE(f.scenesTotal, 5);
        bool saw = false;
        for (const gd::quality::KpiResult& k : f.kpis)
            if (k.id == QLatin1String("frames-per-scene")) {
                saw = true;
                QVERIFY2(k.status != QLatin1String("FAIL"), qPrintable(k.reason));
                QCOMPARE(k.value, std::optional<double>(25.0));
                QVERIFY(k.failingScenes.isEmpty());
            }
        QVERIFY(saw);
    }

    void recordedArtifactGivesEveryKpi()
    {
        QFile file(QStringLiteral(GD_TEST_DATA_DIR "/store/run-lighthouse/artifact-metadata.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const RunFigures f = RunFiguresCalculator::fromArtifact(QJsonDocument::fromJson(file.readAll()).object());
        QCOMPARE(f.scenes.size(), 5);
        QCOMPARE(f.scenesTotal, 5);
        QStringList ids;
        for (const auto& k : f.kpis)
            ids << k.id;
        for (const char* id : {"entity-linkage", "coherence-judge", "human-coherence", "scene-diversity", "prompt-length",
                               "llm-generation-time", "prompt-alignment-judge", "semantic-alignment", "blank-frames",
                               "frames-per-scene", "done-marker-rate", "forced-copy-rate", "zero-frame-rate",
                               "execution-success-rate", "duration-p50", "duration-p95", "vram-delta", "vram-peak",
                               "telemetry-completeness"})
            QVERIFY2(ids.contains(QLatin1String(id)), id);
    }

    void unreadableRunIsUnmeasuredWithTheReason()
    {
        const RunFigures f = RunFiguresCalculator::unavailable(QStringLiteral("/runs/x"), QStringLiteral("corrupt artifact"));
        QVERIFY(f.scenes.isEmpty());
        QVERIFY(!f.kpis.isEmpty());
        for (const auto& k : f.kpis) {
            QCOMPARE(k.status, QStringLiteral("UNMEASURED"));
            QCOMPARE(k.reason, QStringLiteral("corrupt artifact"));
            QVERIFY(!k.value);
        }
    }
};

QTEST_GUILESS_MAIN(TestRunFiguresCalculator)
#include "tst_runfigurescalculator.moc"
