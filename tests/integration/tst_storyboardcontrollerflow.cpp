#include "RunHarness.h"
#include "sandbox/PngText.h"
#include "sandbox/SandboxLlmHost.h"
#include "story/StoryLoader.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardState.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
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

    // Mean absolute per-channel difference (0–255) of two images scaled to the same small size.
    static double difference(const QString& a, const QString& b)
    {
        const QImage x = QImage(a).scaled(64, 36).convertToFormat(QImage::Format_RGB32);
        const QImage y = QImage(b).scaled(64, 36).convertToFormat(QImage::Format_RGB32);
        if (x.isNull() || y.isNull())
            return -1;
        double sum = 0;
        for (int j = 0; j < x.height(); ++j)
            for (int i = 0; i < x.width(); ++i) {
                const QRgb p = x.pixel(i, j), q = y.pixel(i, j);
                sum += std::abs(qRed(p) - qRed(q)) + std::abs(qGreen(p) - qGreen(q)) + std::abs(qBlue(p) - qBlue(q));
            }
        return sum / (3.0 * x.width() * x.height());
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

    // Each video pass ends with the run's quality step, as `gemdirect run --storyboard` does: the pass's
    // run directory gets the storyboard verdicts of the shots it rendered, and its artifact the
    // storyboard metrics measured from them (the judge the keyframe stage used).
    void videoPassesMeasureTheStoryboard()
    {
        gd::sandbox::SandboxLlmConfig vision;
        vision.visionModel = true;
        gd::sandbox::SandboxLlmHost llm;
        QString error;
        QVERIFY2(llm.start(vision, 0, &error), qPrintable(error));
        QStringList problems;
        const auto s = gd::story::StoryLoader::load(QStringLiteral(GD_TEST_DATA_DIR "/storyboardflow/story.json"), &problems);
        QVERIFY2(s.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        const QString dir = m_h.root.filePath(QStringLiteral("measured"));
        StoryboardControllerOptions o = options();
        o.candidates = 1;
        o.llmUrl = llm.url();
        StoryboardController c(o, nullptr);
        QVERIFY(c.create(dir, *s).isNull());
        for (StoryboardStage stage : {StoryboardStage::References, StoryboardStage::Keyframes}) {
            auto [code, lines] = runStage(c, stage);
            QVERIFY2(code == 0, qPrintable(lines.join(QLatin1Char('\n'))));
        }
        auto [vCode, vLines] = runStage(c, StoryboardStage::Video);
        const QString log = vLines.join(QLatin1Char('\n'));
        QVERIFY2(vCode == 0, qPrintable(log));
        static const QRegularExpression step(QStringLiteral("Video pass 1: quality step for (\\S+) \\.\\.\\."));
        const QString runDir = step.match(log).captured(1);
        QVERIFY2(!runDir.isEmpty(), qPrintable(log));
        QVERIFY2(log.contains(QStringLiteral("Video pass 3: quality step done")), qPrintable(log));
        QVERIFY(QFile::exists(QDir(runDir).filePath(QStringLiteral("storyboard-judgements.json"))));
        QFile f(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject q = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("QualityMetrics")).toObject();
        for (const char* metric : {"CharacterIdentityMean", "CharacterCountMatch", "KeyframeAlignmentJudgeMean"})
            QVERIFY2(q.value(QLatin1String(metric)).isDouble(),
                     qPrintable(QLatin1String(metric) + QLatin1Char(' ') + QString::fromUtf8(QJsonDocument(q).toJson())));
        QCOMPARE(q.value(QStringLiteral("CharacterCountShots")).toInt(), 1);
    }

    // A bookend shot (lastFrame set) with a bookend video profile: the keyframes stage renders its
    // start and end stills, the video stage waits until both are approved, uploads them as start_image
    // and end_image, and the clip ends on the end keyframe.
    void bookendShotEndsOnItsEndKeyframe()
    {
        QStringList problems;
        auto s = gd::story::StoryLoader::load(QStringLiteral(GD_TEST_DATA_DIR "/storyboardflow/story.json"), &problems);
        QVERIFY2(s.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        s->scenes[0].shots.resize(1);
        s->scenes[0].shots[0].lastFrame = QStringLiteral("Mara Voss lets the great lamp go dark at dawn");
        const QString shot = QStringLiteral("scene-001/shot-01");
        const QString dir = m_h.root.filePath(QStringLiteral("bookend"));
        StoryboardControllerOptions o = options();
        o.autoApprove = false; // the operator approves each still
        StoryboardController c(o, nullptr);
        QVERIFY(c.create(dir, *s).isNull());

        auto [refCode, refLines] = runStage(c, StoryboardStage::References);
        QVERIFY2(refCode == 0, qPrintable(refLines.join(QLatin1Char('\n'))));
        const QString sheet = QStringLiteral("character:Mara Voss#default");
        QVERIFY(c.choose(ItemKind::Reference, sheet, 1, 1).isNull());
        QVERIFY(c.approve(ItemKind::Reference, sheet).isNull());

        QSignalSpy waiting(&c, &StoryboardController::awaitingApproval);
        auto [kfCode, kfLines] = runStage(c, StoryboardStage::Keyframes);
        QVERIFY2(kfCode == 0, qPrintable(kfLines.join(QLatin1Char('\n'))));
        const ShotEntry* entry = c.state().findShot(shot);
        QVERIFY(entry);
        QCOMPARE(entry->keyframe.versions.size(), 1);
        QCOMPARE(entry->endKeyframe.versions.size(), 1);
        QCOMPARE(entry->endKeyframe.versions.first().candidates.size(), 2);
        QCOMPARE(entry->endKeyframe.versions.first().inputs.value(QStringLiteral("kind")).toString(),
                 QStringLiteral("endKeyframe"));
        QVERIFY(entry->endKeyframe.versions.first().candidates.first().file.startsWith(
            QStringLiteral("keyframes/scene-001/shot-01/end/")));
        QCOMPARE(waiting.count(), 1);
        QVERIFY(waiting.first().at(1).toStringList().contains(shot + QStringLiteral("#end")));

        // Start keyframe approved, end keyframe not yet: the video stage renders nothing and says why.
        QVERIFY(c.choose(ItemKind::Keyframe, shot, 1, 1).isNull());
        QVERIFY(c.approve(ItemKind::Keyframe, shot).isNull());
        auto [blockedCode, blockedLines] = runStage(c, StoryboardStage::Video);
        const QString blockedLog = blockedLines.join(QLatin1Char('\n'));
        QCOMPARE(blockedCode, 0);
        QVERIFY2(blockedLog.contains(QStringLiteral("end keyframe not approved yet")), qPrintable(blockedLog));
        QVERIFY(c.state().findShot(shot)->clip.versions.isEmpty());

        QVERIFY(c.choose(ItemKind::EndKeyframe, shot, 1, 2).isNull());
        QVERIFY(c.approve(ItemKind::EndKeyframe, shot).isNull());
        gd::telemetry::RunRecord record;
        auto conn = connect(&c, &StoryboardController::runStarted, this, [&record](gd::pipeline::RunController* run) {
            connect(run, &gd::pipeline::RunController::finished, run, [&record, run] { record = run->record(); });
        });
        auto [vCode, vLines] = runStage(c, StoryboardStage::Video);
        disconnect(conn);
        QVERIFY2(vCode == 0, qPrintable(vLines.join(QLatin1Char('\n'))));
        entry = c.state().findShot(shot);
        QCOMPARE(entry->clip.versions.size(), 1);
        const ClipVersion& clip = entry->clip.versions.first();
        QCOMPARE(clip.inputs.value(QStringLiteral("end")).toString(), entry->endKeyframe.selectedCandidate()->sha256);

        // Both roles were uploaded, as different files.
        QCOMPARE(record.scenes.size(), 1);
        const gd::telemetry::AttemptRecord* kept = record.scenes.first().kept();
        QVERIFY(kept);
        const QJsonObject uploaded = kept->telemetry.extra.value(QStringLiteral("UploadedImages")).toObject();
        QVERIFY2(uploaded.contains(QStringLiteral("start_image")) && uploaded.contains(QStringLiteral("end_image")),
                 qPrintable(QString::fromUtf8(QJsonDocument(uploaded).toJson())));
        QVERIFY(uploaded.value(QStringLiteral("start_image")) != uploaded.value(QStringLiteral("end_image")));

        // The clip's last frame is the end keyframe's picture, not the start keyframe's.
        const QString last = QDir(dir).filePath(clip.raw.value(QStringLiteral("lastFrame")).toString());
        const QString endFile = QDir(dir).filePath(entry->endKeyframe.selectedCandidate()->file);
        const QString startFile = QDir(dir).filePath(entry->keyframe.selectedCandidate()->file);
        const double toEnd = difference(last, endFile);
        const double toStart = difference(last, startFile);
        QVERIFY2(toEnd >= 0 && toEnd < 4.0 && toStart > 10.0,
                 qPrintable(QStringLiteral("last frame vs end %1, vs start %2").arg(toEnd).arg(toStart)));

        // Re-choosing the end keyframe makes the clip stale (kept), naming the end keyframe.
        QVERIFY(c.choose(ItemKind::EndKeyframe, shot, 1, 1).isNull());
        const ItemStatus* st = c.staleness().find(ItemKind::Clip, shot);
        QVERIFY(st);
        QCOMPARE(st->freshness, Freshness::Stale);
        QVERIFY2(st->reasons.contains(QStringLiteral("end keyframe re-rendered")), qPrintable(st->reasons.join(QLatin1Char(';'))));
        QCOMPARE(c.state().findShot(shot)->clip.versions.size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestStoryboardControllerFlow)
#include "tst_storyboardcontrollerflow.moc"
