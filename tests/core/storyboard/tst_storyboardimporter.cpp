// StoryboardImporter (a finished run's outputs linked and hashed off the owner thread) and the
// controller around it: a stage cancelled while outputs are being stored still records them (finished
// GPU work is kept) and ends with 130; a controller destroyed meanwhile leaves a valid storyboard.json.
#include "pipeline/QueuePolicy.h"
#include "pipeline/RunQualityJob.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxStandIns.h"
#include "story/StoryLoader.h"
#include "storyboard/InputHasher.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardImporter.h"
#include "storyboard/StoryboardKeys.h"
#include "storyboard/StoryboardState.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace gd::storyboard;

namespace {

QByteArray writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    if (f.open(QIODevice::WriteOnly))
        f.write(bytes);
    return bytes;
}

} // namespace

class TestStoryboardImporter : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    gd::sandbox::SandboxStandIns m_standIns;
    int m_n = 0;

    StoryboardControllerOptions options()
    {
        StoryboardControllerOptions o;
        o.render.comfyUrl = m_standIns.comfyUrl();
        o.render.comfyOutputDir = m_standIns.comfyOutputDir();
        o.render.policy = gd::pipeline::QueuePolicy::fastIteration();
        o.render.policy.maxWaitSeconds = 20;
        o.render.policy.pollIntervalSeconds = 0.2;
        o.render.policy.postExecutionTimeoutSeconds = 3;
        o.render.policy.doneMarkerTimeoutSeconds = 1;
        o.render.policy.stabilityWindowSeconds = 0.3;
        o.render.policy.stabilityRetries = 2;
        o.sheetProfile = QStringLiteral("sandbox-reference-sheet");
        o.keyframeProfile = QStringLiteral("sandbox-keyframe");
        o.textKeyframeProfile = QStringLiteral("sandbox-keyframe-text");
        o.videoProfile = QStringLiteral("sandbox-i2v");
        o.candidates = 1;
        return o;
    }

    // A fresh storyboard of the panel's two-character story.
    QString create(StoryboardController& c)
    {
        QStringList problems;
        auto story = gd::story::StoryLoader::load(
            QStringLiteral(GD_TEST_DATA_DIR "/storyboardpanel/story.json"), &problems);
        const QString dir = m_tmp.filePath(QStringLiteral("board-%1").arg(++m_n));
        if (!story || !c.create(dir, *story).isNull())
            return {};
        return dir;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        QString error;
        QVERIFY2(m_standIns.start(m_tmp.path(), gd::sandbox::SandboxConfig{}, gd::sandbox::SandboxLlmConfig{},
                                  &error),
                 qPrintable(error));
    }

    void runStoresAndHashesEachJob()
    {
        const QByteArray a = writeFile(m_tmp.filePath(QStringLiteral("a.png")), "first candidate bytes");
        const QByteArray b = writeFile(m_tmp.filePath(QStringLiteral("b.png")), "second candidate bytes");
        const QString target = m_tmp.filePath(QStringLiteral("store/keyframes/scene-001/shot-01"));
        const QVector<ImportJob> jobs{
            {m_tmp.filePath(QStringLiteral("a.png")), target + QStringLiteral("/v1-c1.png")},
            {m_tmp.filePath(QStringLiteral("missing.png")), target + QStringLiteral("/v1-c2.png")},
            {m_tmp.filePath(QStringLiteral("b.png")), target + QStringLiteral("/v1-c3.png")}};
        const QVector<ImportResult> r = StoryboardImporter::run(jobs);
        QCOMPARE(r.size(), 3);
        QVERIFY(r.at(0).ok());
        QCOMPARE(r.at(0).sha256, InputHasher::sha256Hex(a));
        QCOMPARE(r.at(0).target, jobs.at(0).target);
        QVERIFY(!r.at(1).ok());
        QVERIFY(r.at(1).sha256.isEmpty());
        QVERIFY(!QFile::exists(jobs.at(1).target));
        QCOMPARE(r.at(2).sha256, InputHasher::sha256Hex(b));
        QFile stored(jobs.at(2).target);
        QVERIFY(stored.open(QIODevice::ReadOnly));
        QCOMPARE(stored.readAll(), b);

        // The same on the thread pool.
        auto future = StoryboardImporter::start(jobs);
        future.waitForFinished();
        QCOMPARE(future.result().at(2).sha256, r.at(2).sha256);
    }

    // The render of the stage has finished and its outputs are being stored when the operator cancels
    // (the close guard does this): the outputs are stored and recorded all the same, storyboard.json is
    // saved, and the stage ends "cancelled" (130).
    void cancelWhileOutputsAreStoredKeepsThem()
    {
        StoryboardController c(options(), nullptr);
        const QString dir = create(c);
        QVERIFY(!dir.isEmpty());
        QSignalSpy finished(&c, &StoryboardController::stageFinished);
        // Connected after the controller's own slot: runs once the import has been handed to the pool.
        connect(&c, &StoryboardController::runStarted, this, [&c](gd::pipeline::RunController* run) {
            connect(run, &gd::pipeline::RunController::finished, &c, [&c] { c.cancel(); });
        });
        c.start(StoryboardStage::References);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(finished.first().at(1).toInt(), 130);
        QVERIFY(!c.isBusy());
        StoryboardState state;
        const gd::Error e = StoryboardState::load(dir, state);
        QVERIFY2(e.isNull(), qPrintable(e.message));
        QVERIFY(!state.references().isEmpty());
        QCOMPARE(state.references().size(), c.state().references().size());
        for (const ReferenceEntry& r : state.references()) {
            QCOMPARE(r.track.versions.size(), 1);
            const Candidate& cand = r.track.versions.first().candidates.first();
            QString onDisk;
            QVERIFY(StoryboardState::sha256OfFile(QDir(dir).filePath(cand.file), onDisk).isNull());
            QCOMPARE(cand.sha256, onDisk);
        }
    }

    // Cancelled while the render runs, after some of its scenes finished: what finished is stored and
    // recorded (with its hash), what never rendered is not a failure, and the stage ends "cancelled".
    void cancelDuringTheRenderKeepsWhatFinished()
    {
        StoryboardControllerOptions o = options();
        o.candidates = 3;
        StoryboardController c(o, nullptr);
        const QString dir = create(c);
        QVERIFY(!dir.isEmpty());
        QSignalSpy finished(&c, &StoryboardController::stageFinished);
        QStringList lines;
        connect(&c, &StoryboardController::message, this, [&lines](const QString& l) { lines << l; });
        connect(&c, &StoryboardController::runStarted, this, [&c](gd::pipeline::RunController* run) {
            connect(run, &gd::pipeline::RunController::sceneFinished, &c, [&c] { c.cancel(); });
        });
        c.start(StoryboardStage::References);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(finished.first().at(1).toInt(), 130);
        StoryboardState state;
        const gd::Error e = StoryboardState::load(dir, state);
        QVERIFY2(e.isNull(), qPrintable(e.message));
        int stored = 0;
        for (const ReferenceEntry& r : state.references())
            for (const ImageVersion& v : r.track.versions)
                for (const Candidate& cand : v.candidates) {
                    QString onDisk;
                    QVERIFY(StoryboardState::sha256OfFile(QDir(dir).filePath(cand.file), onDisk).isNull());
                    QCOMPARE(cand.sha256, onDisk);
                    ++stored;
                }
        QVERIFY2(stored >= 1, qPrintable(lines.join(QLatin1Char('\n'))));
        QVERIFY(lines.contains(QStringLiteral("cancelled: storing what finished rendering before the cancel")));
        for (const QString& l : std::as_const(lines))
            QVERIFY2(!l.contains(QLatin1String("no candidate rendered")), qPrintable(l));
    }

    // Cancelled while the keyframe candidates wait for the judge's verdicts: they are stored as
    // versions without verdicts, nothing chosen or approved, and the operator is told to choose.
    void cancelDuringJudgingKeepsTheCandidates()
    {
        gd::sandbox::SandboxLlmConfig vision;
        vision.visionModel = true;
        gd::sandbox::SandboxLlmHost llm;
        QString error;
        QVERIFY2(llm.start(vision, 0, &error), qPrintable(error));
        StoryboardControllerOptions o = options();
        o.candidates = 2;
        o.llmUrl = llm.url();
        o.allowTextOnly = true; // keyframes from text alone: no sheets needed
        StoryboardController c(o, nullptr);
        const QString dir = create(c);
        QVERIFY(!dir.isEmpty());
        QStringList lines;
        connect(&c, &StoryboardController::message, this, [&lines](const QString& l) { lines << l; });
        // The judge is ready and the candidates await its verdicts: the operator cancels.
        bool cancelled = false;
        connect(&c, &StoryboardController::message, this, [&c, &cancelled](const QString& l) {
            if (!cancelled && l.startsWith(QStringLiteral("keyframe judge: "))) {
                cancelled = true;
                c.cancel();
            }
        });
        QSignalSpy finished(&c, &StoryboardController::stageFinished);
        c.start(StoryboardStage::Keyframes);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        const QString log = lines.join(QLatin1Char('\n'));
        QVERIFY2(cancelled, qPrintable(log));
        QCOMPARE(finished.first().at(1).toInt(), 130);
        StoryboardState state;
        QVERIFY(StoryboardState::load(dir, state).isNull());
        int versions = 0;
        for (const ShotEntry& shot : state.shots()) {
            if (shot.keyframe.versions.isEmpty())
                continue;
            ++versions;
            const ImageVersion& v = shot.keyframe.versions.first();
            QCOMPARE(v.candidates.size(), 2);
            QVERIFY2(!v.chosen, qPrintable(shot.key));
            QVERIFY(!shot.keyframe.approved);
            for (const Candidate& cand : v.candidates) {
                QVERIFY(!cand.judge);
                QVERIFY(QFile::exists(QDir(dir).filePath(cand.file)));
            }
        }
        QVERIFY2(versions > 0, qPrintable(log));
        QVERIFY2(log.contains(QStringLiteral("nothing chosen, choose a candidate yourself")), qPrintable(log));
    }

    // The video stage stores its clips the same way: off the owner thread, the last frame hashed for
    // continuity; cancelled while they are stored, the clip is recorded all the same (no quality step).
    void videoStageStoresClipsAndCancelKeepsThem()
    {
        StoryboardController c(options(), nullptr);
        const QString dir = create(c);
        QVERIFY(!dir.isEmpty());
        // Approved keyframes without rendering them: the operator's own images.
        QImage frame(64, 36, QImage::Format_RGB32);
        frame.fill(Qt::darkBlue);
        const QString png = m_tmp.filePath(QStringLiteral("frame.png"));
        QVERIFY(frame.save(png));
        QStringList shots;
        for (const gd::story::StoryScene& scene : c.story().scenes)
            shots << StoryboardKeys::shot(scene.id, scene.shots.isEmpty() ? QStringLiteral("shot-01")
                                                                          : scene.shots.first().id);
        for (const QString& shot : shots)
            QVERIFY(c.upload(ItemKind::Keyframe, shot, png).isNull());

        QSignalSpy finished(&c, &StoryboardController::stageFinished);
        connect(&c, &StoryboardController::runStarted, this, [&c](gd::pipeline::RunController* run) {
            connect(run, &gd::pipeline::RunController::finished, &c, [&c] { c.cancel(); });
        });
        c.start(StoryboardStage::Video, {shots.first()});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(finished.first().at(1).toInt(), 130);
        StoryboardState state;
        QVERIFY(StoryboardState::load(dir, state).isNull());
        QCOMPARE(state.findShot(shots.first())->clip.versions.size(), 1);
        QVERIFY(state.findShot(shots.first())->clip.versions.first().frames > 0);

        // Not cancelled: another shot's clip is stored the same way, and the stage ends 0.
        disconnect(&c, &StoryboardController::runStarted, this, nullptr);
        finished.clear();
        c.start(StoryboardStage::Video, {shots.at(1)});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(finished.first().at(1).toInt(), 0);
        // Both clips, the cancelled stage's too, with their last frame's hash for continuity.
        for (const QString& shot : {shots.at(0), shots.at(1)}) {
            const ClipVersion* clip = c.state().findShot(shot)->clip.selectedVersion();
            QVERIFY2(clip, qPrintable(shot));
            QVERIFY(clip->frames > 0);
            QCOMPARE(clip->lastFrameSha256.size(), 64);
            QString onDisk;
            QVERIFY(StoryboardState::sha256OfFile(
                        QDir(dir).filePath(clip->raw.value(QStringLiteral("lastFrame")).toString()), onDisk)
                        .isNull());
            QCOMPARE(clip->lastFrameSha256, onDisk);
        }
    }

    // Cancelled during a video pass's quality step: the model judges stop, the artifact is written
    // with the judge metrics UNMEASURED ("cancelled by the operator"), the clip stays recorded, and
    // the stage ends with 130.
    void cancelDuringTheQualityStepStopsTheJudges()
    {
        gd::sandbox::SandboxLlmConfig slow;
        slow.firstTokenDelayMs = 400; // the judges' requests are in flight when the cancel comes
        gd::sandbox::SandboxLlmHost llm;
        QString error;
        QVERIFY2(llm.start(slow, 0, &error), qPrintable(error));
        StoryboardControllerOptions o = options();
        o.llmUrl = llm.url();
        StoryboardController c(o, nullptr);
        const QString dir = create(c);
        QVERIFY(!dir.isEmpty());
        QImage frame(64, 36, QImage::Format_RGB32);
        frame.fill(Qt::darkGreen);
        const QString png = m_tmp.filePath(QStringLiteral("quality-frame.png"));
        QVERIFY(frame.save(png));
        const QString shot = StoryboardKeys::shot(c.story().scenes.first().id, QStringLiteral("shot-01"));
        QVERIFY(c.upload(ItemKind::Keyframe, shot, png).isNull());

        QStringList lines;
        QString runDir;
        connect(&c, &StoryboardController::message, this, [&](const QString& l) {
            lines << l;
            static const QRegularExpression step(QStringLiteral("quality step for (\\S+) \\.\\.\\."));
            if (const auto m = step.match(l); m.hasMatch())
                runDir = m.captured(1);
            if (l.contains(QStringLiteral("quality step: Judging with the LLM")))
                QTimer::singleShot(50, &c, [&c] { c.cancel(); }); // the judges have started
        });
        QSignalSpy finished(&c, &StoryboardController::stageFinished);
        c.start(StoryboardStage::Video, {shot});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        const QString log = lines.join(QLatin1Char('\n'));
        QVERIFY2(finished.first().at(1).toInt() == 130, qPrintable(log));
        QVERIFY2(log.contains(QStringLiteral("quality step cancelled")), qPrintable(log));
        QVERIFY2(!runDir.isEmpty(), qPrintable(log));
        QFile f(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject q =
            QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("QualityMetrics")).toObject();
        const QString unmeasured = QString::fromUtf8(QJsonDocument(q.value(QStringLiteral("Unmeasured")).toArray()).toJson());
        QVERIFY2(unmeasured.contains(gd::pipeline::RunQualityJob::cancelledReason()), qPrintable(unmeasured));
        StoryboardState state;
        QVERIFY(StoryboardState::load(dir, state).isNull());
        QCOMPARE(state.findShot(shot)->clip.versions.size(), 1);
    }

    // The controller goes away while the outputs are being stored: the worker finishes its files,
    // nothing calls back into the dead controller, storyboard.json stays loadable.
    void destroyedWhileOutputsAreStored()
    {
        auto* c = new StoryboardController(options(), nullptr);
        QPointer<StoryboardController> alive(c);
        const QString dir = create(*c);
        QVERIFY(!dir.isEmpty());
        bool runFinished = false;
        connect(c, &StoryboardController::runStarted, this,
                [c, &runFinished](gd::pipeline::RunController* run) {
                    connect(run, &gd::pipeline::RunController::finished, c, [c, &runFinished] {
                        runFinished = true;
                        c->deleteLater();
                    });
                });
        c->start(StoryboardStage::References);
        QTRY_VERIFY_WITH_TIMEOUT(runFinished, 60000);
        QTRY_VERIFY(alive.isNull());
        QTest::qWait(200); // a late worker result would arrive now
        StoryboardState state;
        QVERIFY(StoryboardState::load(dir, state).isNull());
    }
};

QTEST_MAIN(TestStoryboardImporter)
#include "tst_storyboardimporter.moc"
