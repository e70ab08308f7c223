#include "RunHarness.h"
#include "sandbox/PngText.h"
#include "story/StoryLoader.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardState.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

using namespace gd::storyboard;

// The storyboard flow the desktop app drives, in one process against the sandbox ComfyUI:
// sheets → keyframes (auto-approved, no judge) → the video stage, whose chained shots render in the
// pass after the shot they continue from. Then a sheet edit makes exactly its dependants stale.
class TestStoryboardControllerFlow : public QObject
{
    Q_OBJECT

    RunHarness m_h;

    StoryboardControllerOptions options()
    {
        StoryboardControllerOptions o;
        o.sheetProfile = QStringLiteral("sandbox-reference-sheet");
        o.keyframeProfile = QStringLiteral("sandbox-keyframe");
        o.textKeyframeProfile = QStringLiteral("sandbox-keyframe-text");
        o.videoProfile = QStringLiteral("sandbox-i2v");
        o.candidates = 2;
        o.autoApprove = true;
        o.render.comfyUrl = m_h.host.url();
        o.render.comfyOutputDir = m_h.config.outputDir;
        o.render.policy = testPolicy();
        o.render.reconnectWaitSeconds = 5;
        return o;
    }

    // Runs one stage to its end; returns {exit code, messages}.
    std::pair<int, QStringList> runStage(StoryboardController& c, StoryboardStage stage)
    {
        QStringList lines;
        auto conn = connect(&c, &StoryboardController::message, this, [&](const QString& l) { lines << l; });
        QSignalSpy finished(&c, &StoryboardController::stageFinished);
        c.start(stage);
        const bool done = finished.count() > 0 || finished.wait(120000);
        disconnect(conn);
        if (!done)
            return {-1, lines << QStringLiteral("TEST TIMEOUT")};
        return {finished.first().at(1).toInt(), lines};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString e;
        QVERIFY2(m_h.startServer(&e), qPrintable(e));
    }

    void sheetsKeyframesThenClipsInPasses()
    {
        QStringList problems;
        const auto s = gd::story::StoryLoader::load(QStringLiteral(GD_TEST_DATA_DIR "/storyboardflow/story.json"), &problems);
        QVERIFY2(s.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        const QString dir = m_h.root.filePath(QStringLiteral("board"));
        StoryboardController c(options(), nullptr);
        QVERIFY(c.create(dir, *s).isNull());

        auto [refCode, refLines] = runStage(c, StoryboardStage::References);
        QVERIFY2(refCode == 0, qPrintable(refLines.join(QLatin1Char('\n'))));
        auto [kfCode, kfLines] = runStage(c, StoryboardStage::Keyframes);
        QVERIFY2(kfCode == 0, qPrintable(kfLines.join(QLatin1Char('\n'))));
        for (const char* key : {"scene-001/shot-01", "scene-001/shot-02", "scene-001/shot-03"}) {
            const ShotEntry* shot = c.state().findShot(QLatin1String(key));
            QVERIFY2(shot && shot->keyframe.approved, key);
            // Each candidate was rendered with the seed the storyboard records for it (the graph
            // ComfyUI saved into the PNG carries the sampler's seed).
            const ImageVersion& version = shot->keyframe.versions.first();
            const qint64 base = version.inputs.value(QStringLiteral("seed")).toInteger();
            for (int k = 0; k < version.candidates.size(); ++k) {
                const Candidate& cand = version.candidates.at(k);
                // Candidate k+1 renders with the inputs' seed + k: what the input hash records.
                QCOMPARE(cand.seed, base + k);
                QFile f(QDir(dir).filePath(cand.file));
                QVERIFY(f.open(QIODevice::ReadOnly));
                const auto text = gd::sandbox::PngText::readText(f.readAll(), "prompt");
                QVERIFY2(text.has_value(), qPrintable(cand.file));
                const QJsonObject graph = QJsonDocument::fromJson(*text).object();
                QList<qint64> seeds;
                for (const QJsonValue& node : graph)
                    if (const QJsonValue v = node.toObject().value(QStringLiteral("inputs")).toObject().value(QStringLiteral("seed"));
                        v.isDouble())
                        seeds << v.toInteger();
                QVERIFY2(seeds == QList<qint64>{cand.seed},
                         qPrintable(cand.file + QLatin1Char(' ') + QString::number(cand.seed)));
            }
        }

        QSignalSpy clips(&c, &StoryboardController::itemRendered);
        auto [vCode, vLines] = runStage(c, StoryboardStage::Video);
        const QString log = vLines.join(QLatin1Char('\n'));
        QVERIFY2(vCode == 0, qPrintable(log));
        // shot-02 continues from shot-01 and shot-03 from shot-02: three passes, one clip each.
        QVERIFY2(log.contains(QStringLiteral("Video pass 1: 1 clip(s)")), qPrintable(log));
        QVERIFY2(log.contains(QStringLiteral("Video pass 3: 1 clip(s)")), qPrintable(log));
        QCOMPARE(clips.count(), 3);
        for (const char* key : {"scene-001/shot-01", "scene-001/shot-02", "scene-001/shot-03"}) {
            const ShotEntry* shot = c.state().findShot(QLatin1String(key));
            QVERIFY2(shot && shot->clip.versions.size() == 1, key);
            const ClipVersion& v = shot->clip.versions.first();
            QVERIFY2(v.frames > 0, key);
            QVERIFY2(QDir(QDir(dir).filePath(v.dir)).exists(), qPrintable(v.dir));
        }
        // Saved: a reopened storyboard has the clips and nothing stale.
        StoryboardState onDisk;
        QVERIFY(StoryboardState::load(dir, onDisk).isNull());
        QCOMPARE(onDisk.findShot(QStringLiteral("scene-001/shot-03"))->clip.versions.size(), 1);
        for (const auto& item : c.staleness().items)
            QVERIFY2(item.freshness != Freshness::Stale, qPrintable(item.key));

        // A second video stage has nothing to do.
        auto [againCode, againLines] = runStage(c, StoryboardStage::Video);
        QCOMPARE(againCode, 0);
        QVERIFY2(againLines.join(QLatin1Char('\n')).contains(QStringLiteral("nothing to render")),
                 qPrintable(againLines.join(QLatin1Char('\n'))));
    }
};

QTEST_GUILESS_MAIN(TestStoryboardControllerFlow)
#include "tst_storyboardcontrollerflow.moc"
