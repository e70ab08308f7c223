#include "story/StoryLoader.h"
#include "story/StoryShots.h"

#include <QtTest>

using namespace gd::story;

// A storyboard renders shots, not scenes: the implicit shot of a scene without shots, the look a
// shot shows, and the keyframe prompt (looks, location, camera, style lock) must be exactly what
// the operator wrote in story.json.
class TestStoryShots : public QObject
{
    Q_OBJECT

    Story m_story;

private Q_SLOTS:
    void initTestCase()
    {
        QStringList problems;
        const auto s = StoryLoader::load(QStringLiteral(GD_TEST_DATA_DIR "/story-shots/lamp-room.json"), &problems);
        QVERIFY2(s.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        m_story = *s;
    }

    void sceneWithoutShotsIsOneImplicitShot()
    {
        const StoryScene& scene = m_story.scenes.at(2);
        const QVector<StoryShot> shots = effectiveShots(scene);
        QCOMPARE(shots.size(), 1);
        QCOMPARE(shots.at(0).id, QStringLiteral("shot-01"));
        QCOMPARE(shots.at(0).firstFrame, scene.prompt);
        QCOMPARE(shots.at(0).description, scene.summary);
        QCOMPARE(shots.at(0).camera, scene.cameraMovement);
        QCOMPARE(shots.at(0).visibleCharacters.size(), 2);
        QCOMPARE(shots.at(0).visibleCharacters.at(0).name, QStringLiteral("Mara Voss"));
        QVERIFY(shots.at(0).visibleCharacters.at(0).look.isEmpty());
        // Resolved against the story: each character's first look.
        const QVector<StoryShot> resolved = effectiveShots(m_story, scene);
        QCOMPARE(resolved.at(0).visibleCharacters.at(0).look, QStringLiteral("storm-coat"));
        QCOMPARE(resolved.at(0).visibleCharacters.at(1).look, QStringLiteral("default"));
        QCOMPARE(shotKey(scene.id, resolved.at(0).id), QStringLiteral("scene-003/shot-01"));
    }

    void sceneShotsAreTheScenes()
    {
        const QVector<StoryShot> shots = effectiveShots(m_story, m_story.scenes.at(1));
        QCOMPARE(shots.size(), 1);
        QCOMPARE(shots.at(0).continuesFrom, QStringLiteral("scene-001/shot-02"));
        QCOMPARE(shots.at(0).visibleCharacters.at(0).look, QStringLiteral("default")); // omitted in the file
        QCOMPARE(effectiveShots(m_story.scenes.at(0)).size(), 2);
    }

    void lookups()
    {
        QCOMPARE(findLook(m_story, QStringLiteral("Mara Voss"), QString())->id, QStringLiteral("storm-coat"));
        QCOMPARE(findLook(m_story, QStringLiteral("Mara Voss"), QStringLiteral("dry-wool"))->descriptor,
                 QStringLiteral("grey wool sweater, braid pinned up"));
        QVERIFY(!findLook(m_story, QStringLiteral("Mara Voss"), QStringLiteral("tuxedo")));
        QVERIFY(!findLook(m_story, QStringLiteral("Bob"), QString()));
        QCOMPARE(findLook(m_story, QStringLiteral("Tamsin"), QStringLiteral("default"))->descriptor,
                 QStringLiteral("young pilot with a cracked visor helmet"));
        QCOMPARE(findLocation(m_story, QStringLiteral("Lamp room"))->descriptor,
                 QStringLiteral("glass-walled lamp room around a giant brass lens"));
        QVERIFY(!findLocation(m_story, QStringLiteral("Cellar")));
        QCOMPARE(findScene(m_story, QStringLiteral("scene-002"))->title, QStringLiteral("Tamsin Sees the Light"));
        QVERIFY(!findCharacter(m_story, QStringLiteral("mara voss")));
    }

    void composedPrompt_data()
    {
        QTest::addColumn<int>("scene");
        QTest::addColumn<int>("shot"); // -1: the implicit shot
        QTest::addColumn<bool>("withStyle");
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<QString>("negative");
        QTest::newRow("look after the name, camera, style")
            << 0 << 0 << true
            << "low angle, Mara Voss (orange storm coat, soaked hair) on the last turn of a rusted spiral stair, rain on the "
               "windows, slow crane up, cinematic, 35mm film grain, volumetric fog, palette: teal and sodium orange"
            << "blurry, low-resolution, watermark, cartoon, text";
        QTest::newRow("second look and the location")
            << 0 << 1 << true
            << "medium shot, Mara Voss (grey wool sweater, braid pinned up) opening the brass housing of a giant lens, Lamp room "
               "(glass-walled lamp room around a giant brass lens), locked-off medium shot, cinematic, 35mm film grain, "
               "volumetric fog, palette: teal and sodium orange"
            << "blurry, low-resolution, watermark, cartoon, text";
        QTest::newRow("omitted look is the first, no style")
            << 1 << 0 << false << "cockpit close-up, Tamsin (young pilot with a cracked visor helmet) squinting into white light, push in"
            << "blurry, low-resolution, watermark";
        QTest::newRow("implicit shot: names not in the text are appended")
            << 2 << -1 << false
            << "wide shot of a pier in fog, weathered woman and young pilot shaking hands, Mara Voss (orange storm coat, soaked hair), "
               "Tamsin (young pilot with a cracked visor helmet), static wide shot"
            << "blurry, low-resolution, watermark";
    }
    void composedPrompt()
    {
        QFETCH(int, scene);
        QFETCH(int, shot);
        QFETCH(bool, withStyle);
        QFETCH(QString, prompt);
        QFETCH(QString, negative);
        Story story = m_story;
        if (!withStyle)
            story.style = StyleLock();
        const StoryScene& sc = story.scenes.at(scene);
        const StoryShot s = shot < 0 ? effectiveShots(story, sc).first() : sc.shots.at(shot);
        const ShotPrompt p = composeShotPrompt(story, sc, s);
        QCOMPARE(p.prompt, prompt);
        QCOMPARE(p.negativePrompt, negative);
    }

    void describedMentionIsNotDescribedTwice()
    {
        StoryShot shot;
        shot.firstFrame = QStringLiteral("Mara Voss (in a red diving suit) surfaces; Mara Voss waves");
        shot.visibleCharacters = {{QStringLiteral("Mara Voss"), QStringLiteral("storm-coat")}};
        Story story = m_story;
        story.style = StyleLock();
        QCOMPARE(composeShotPrompt(story, story.scenes.at(0), shot).prompt,
                 QStringLiteral("Mara Voss (in a red diving suit) surfaces; Mara Voss waves"));
        // "Mara Vossberg" is not a mention of Mara Voss.
        shot.firstFrame = QStringLiteral("Mara Vossberg on the pier");
        QCOMPARE(composeShotPrompt(story, story.scenes.at(0), shot).prompt,
                 QStringLiteral("Mara Vossberg on the pier, Mara Voss (orange storm coat, soaked hair)"));
    }
};

QTEST_GUILESS_MAIN(TestStoryShots)
#include "tst_storyshots.moc"
