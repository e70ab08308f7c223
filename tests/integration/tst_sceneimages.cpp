// A scene's images (story.json "images") through the real pipeline against the sandbox ComfyUI:
// every image role the profile maps is uploaded and its server name injected, a mapped role without an
// image fails the scene before anything is submitted, and image profiles succeed with one still.

#include "RunHarness.h"
#include "telemetry/RunValidator.h"

#include <QImage>

namespace {

QString imageInput(const QJsonObject& graph, const QString& nodeId)
{
    return graph.value(nodeId)
        .toObject()
        .value(QStringLiteral("inputs"))
        .toObject()
        .value(QStringLiteral("image"))
        .toString();
}

QString writeImage(const QString& dir, const QString& name, Qt::GlobalColor colour)
{
    QImage img(48, 48, QImage::Format_RGB32);
    img.fill(colour);
    QDir().mkpath(dir);
    img.save(QDir(dir).filePath(name));
    return name;
}

void expectValid(const RunOutcome& o)
{
    const auto v = gd::telemetry::RunValidator::validate(o.runDir);
    QVERIFY2(v.exitCode == 0, qPrintable(v.errors.join(QLatin1Char('\n'))));
}

} // namespace

class TestSceneImages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void keyframeProfileGetsEveryCharacterReference()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        const QString storyDir = h.root.filePath(QStringLiteral("story"));
        gd::story::Story story = makeStory(1, 0);
        story.scenes[0].images.insert(QStringLiteral("character_reference_image[0]"),
                                      QStringLiteral("refs/") + writeImage(storyDir + QStringLiteral("/refs"),
                                                                           QStringLiteral("mara.png"),
                                                                           Qt::red));
        story.scenes[0].images.insert(QStringLiteral("character_reference_image[1]"),
                                      QStringLiteral("refs/") + writeImage(storyDir + QStringLiteral("/refs"),
                                                                           QStringLiteral("tom.png"),
                                                                           Qt::green));
        const RunOutcome o = h.run(story, testPolicy(), QStringLiteral("sandbox-keyframe"), {}, 60000, {},
                                   [&](gd::pipeline::RunOptions& opt) { opt.storyDir = storyDir; });
        QVERIFY2(o.exitCode == 0, qPrintable(o.message));
        const auto& scene = o.record.scenes.at(0);
        QCOMPARE(scene.frameFloor, 1); // a keyframe is one still
        const auto* kept = scene.kept();
        QVERIFY(kept);
        QCOMPARE(kept->frameCount, 1);
        const QJsonObject graph = h.host.server()->lastGraph(kept->promptId);
        const QString first = imageInput(graph, QStringLiteral("4"));
        const QString second = imageInput(graph, QStringLiteral("5"));
        QVERIFY2(first.startsWith(QStringLiteral("gemdirect/")) && first.endsWith(QStringLiteral("mara.png")),
                 qPrintable(first));
        QVERIFY2(second.startsWith(QStringLiteral("gemdirect/")) &&
                     second.endsWith(QStringLiteral("tom.png")),
                 qPrintable(second));
        const QJsonObject uploaded = kept->telemetry.extra.value(QStringLiteral("UploadedImages")).toObject();
        QCOMPARE(uploaded.value(QStringLiteral("character_reference_image[0]")).toString(), first);
        QCOMPARE(uploaded.value(QStringLiteral("character_reference_image[1]")).toString(), second);
        expectValid(o);
    }

    void bookendProfileGetsStartAndEnd()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        const QString storyDir = h.root.filePath(QStringLiteral("story"));
        gd::story::Story story = makeStory(2, 9); // Wan lengths are 4n+1
        story.scenes[0].images.insert(QStringLiteral("start_image"),
                                      writeImage(storyDir, QStringLiteral("start.png"), Qt::blue));
        story.scenes[0].images.insert(QStringLiteral("end_image"),
                                      writeImage(storyDir, QStringLiteral("end.png"), Qt::yellow));
        // The single-image spelling feeds start_image, and end_image falls back on it.
        story.scenes[1].keyframe = writeImage(storyDir, QStringLiteral("kf.png"), Qt::magenta);
        const RunOutcome o = h.run(story, testPolicy(), QStringLiteral("sandbox-i2v"), {}, 60000, {},
                                   [&](gd::pipeline::RunOptions& opt) { opt.storyDir = storyDir; });
        QVERIFY2(o.exitCode == 0, qPrintable(o.message));
        const auto* k1 = o.record.scenes.at(0).kept();
        QCOMPARE(k1->frameCount, 9);
        QJsonObject graph = h.host.server()->lastGraph(k1->promptId);
        QVERIFY(imageInput(graph, QStringLiteral("4")).endsWith(QStringLiteral("start.png")));
        QVERIFY(imageInput(graph, QStringLiteral("5")).endsWith(QStringLiteral("end.png")));
        QCOMPARE(k1->telemetry.extra.value(QStringLiteral("UploadedImages")).toObject().keys(),
                 (QStringList{QStringLiteral("end_image"), QStringLiteral("start_image")}));
        const auto* k2 = o.record.scenes.at(1).kept();
        graph = h.host.server()->lastGraph(k2->promptId);
        QVERIFY(imageInput(graph, QStringLiteral("4")).endsWith(QStringLiteral("kf.png")));
        QCOMPARE(imageInput(graph, QStringLiteral("5")), imageInput(graph, QStringLiteral("4")));
        expectValid(o);
    }

    void missingImageFailsBeforeSubmission_data()
    {
        QTest::addColumn<QString>("workflow");
        QTest::addColumn<QString>("role");
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no character reference")
            << QStringLiteral("sandbox-keyframe") << QString() << QString()
            << QStringLiteral("keyframe profile 'sandbox-keyframe' maps character_reference_image[0], but "
                              "scene scene-001 has no image");
        QTest::newRow("no start image")
            << QStringLiteral("sandbox-i2v") << QStringLiteral("end_image") << QStringLiteral("end.png")
            << QStringLiteral(
                   "video profile 'sandbox-i2v' maps start_image, but scene scene-001 has no image");
        QTest::newRow("image file gone") << QStringLiteral("sandbox-i2v") << QStringLiteral("start_image")
                                         << QStringLiteral("gone.png") << QStringLiteral("start_image '");
    }

    void missingImageFailsBeforeSubmission()
    {
        QFETCH(QString, workflow);
        QFETCH(QString, role);
        QFETCH(QString, file);
        QFETCH(QString, expected);
        RunHarness h;
        QVERIFY(h.startServer());
        const QString storyDir = h.root.filePath(QStringLiteral("story"));
        writeImage(storyDir, QStringLiteral("end.png"), Qt::yellow);
        gd::story::Story story = makeStory(1, 4);
        if (!role.isEmpty())
            story.scenes[0].images.insert(role, file);
        const RunOutcome o = h.run(story, testPolicy(), workflow, {}, 60000, {},
                                   [&](gd::pipeline::RunOptions& opt) { opt.storyDir = storyDir; });
        QCOMPARE(o.exitCode, 1);
        const auto& scene = o.record.scenes.at(0);
        QCOMPARE(scene.status, QStringLiteral("failed"));
        QCOMPARE(scene.attempts.size(), 1); // not worth a requeue
        const QString errors = scene.attempts.at(0).errors.join(QLatin1Char(' '));
        QVERIFY2(errors.contains(expected), qPrintable(errors));
        QCOMPARE(h.host.server()->promptPostCount(), 0); // no GPU time spent
        QVERIFY(!scene.attempts.at(0).telemetry.extra.contains(QStringLiteral("UploadedImages")));
        expectValid(o);
    }

    void referenceSheetIsOneStill()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        const RunOutcome o = h.run(makeStory(2, 0), testPolicy(), QStringLiteral("sandbox-reference-sheet"));
        QVERIFY2(o.exitCode == 0, qPrintable(o.message));
        for (const auto& scene : o.record.scenes) {
            QCOMPARE(scene.frameFloor, 1);
            QCOMPARE(scene.kept()->frameCount, 1);
            QVERIFY(scene.warnings.isEmpty() ||
                    !scene.warnings.join(QLatin1Char(' ')).contains(QStringLiteral("floor")));
        }
        expectValid(o);
    }
};

QTEST_GUILESS_MAIN(TestSceneImages)
#include "tst_sceneimages.moc"
