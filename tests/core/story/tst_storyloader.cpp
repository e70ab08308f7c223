#include "story/StoryLoader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using gd::story::StoryLoader;

// story.json is hand-edited by operators: every problem must be reported, with its path, and a
// valid file must round-trip without losing keys the app does not know.
class TestStoryLoader : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void loadsTheBundledExample()
    {
        QStringList problems;
        auto s =
            StoryLoader::load(QStringLiteral(GD_SOURCE_DIR "/resources/examples/lighthouse.json"), &problems);
        QVERIFY2(s.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        QCOMPARE(s->storyId, QStringLiteral("story-lighthouse"));
        QCOMPARE(s->scenes.size(), 5);
        QCOMPARE(s->scenes.at(0).id, QStringLiteral("scene-001"));
        QCOMPARE(s->scenes.at(0).expectedFrames, 25);
        QCOMPARE(s->scenes.at(2).characters, QStringList{QStringLiteral("Mara Voss")});
    }

    void reportsEveryProblem_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("not json") << QByteArray("{\"storyId\": ")
                                  << QStringList{QStringLiteral("story: invalid JSON at offset")};
        QTest::newRow("not an object")
            << QByteArray("[1,2]") << QStringList{QStringLiteral("top level must be a JSON object")};
        QTest::newRow("missing required")
            << QByteArray("{}")
            << QStringList{QStringLiteral("storyId: required"), QStringLiteral("logline: required"),
                           QStringLiteral("scenes: required")};
        QTest::newRow("empty scenes")
            << QByteArray(R"({"storyId":"s","logline":"l","scenes":[]})")
            << QStringList{QStringLiteral("scenes: must contain at least one scene")};
        QTest::newRow("bad scenes")
            << QByteArray(
                   R"({"storyId":"s","logline":"l","scenes":[{"id":"scene-1","prompt":"p"},{"id":"scene-002"}, {"id":"scene-002","prompt":"q","expectedFrames":-3,"themes":"x"}, 7]})")
            << QStringList{QStringLiteral("scenes[0].id: 'scene-1' is not 'scene-' followed by three digits"),
                           QStringLiteral("scenes[1].prompt: required"),
                           QStringLiteral("scenes[2].id: 'scene-002' is used by an earlier scene"),
                           QStringLiteral("scenes[2].expectedFrames: must be a whole number"),
                           QStringLiteral("scenes[2].themes: must be a list of strings"),
                           QStringLiteral("scenes[3]: must be an object")};
        // Fuzzing regression (docs/RELIABILITY.md, Fuzzing): a huge count is refused, not converted to int.
        QTest::newRow("expectedFrames beyond int")
            << QByteArray(
                   R"({"storyId":"s","logline":"l","scenes":[{"id":"scene-001","prompt":"p","expectedFrames":1e308},{"id":"scene-002","prompt":"q","expectedFrames":2.5}]})")
            << QStringList{
                   QStringLiteral("scenes[0].expectedFrames: must be a whole number from 0 to 100000"),
                   QStringLiteral("scenes[1].expectedFrames: must be a whole number from 0 to 100000")};
        QTest::newRow("wrong types")
            << QByteArray(
                   R"({"storyId":5,"logline":"l","title":[],"scenes":[{"id":"scene-001","prompt":"p"}]})")
            << QStringList{QStringLiteral("storyId: must be a string"),
                           QStringLiteral("title: must be a string")};
    }
    void reportsEveryProblem()
    {
        QFETCH(QByteArray, json);
        QFETCH(QStringList, expected);
        QStringList problems;
        QVERIFY(!StoryLoader::fromJson(json, &problems).has_value());
        const QString all = problems.join(QLatin1Char('\n'));
        for (const QString& e : expected)
            QVERIFY2(all.contains(e), qPrintable(QStringLiteral("missing '%1' in:\n%2").arg(e, all)));
        QCOMPARE(problems.size(), expected.size());
    }

    void defaultsAndRoundTrip()
    {
        const QByteArray json = "{\"storyId\":\"s\",\"logline\":\"l\",\"custom\":{\"keep\":true},\"scenes\":["
                                "{\"id\":\"scene-001\","
                                "\"prompt\":\"a \\\"quoted\\\" prompt\",\"operatorNote\":\"keep me\"}]}";
        QStringList problems;
        auto s = StoryLoader::fromJson(json, &problems);
        QVERIFY(s.has_value());
        QCOMPARE(s->scenes.at(0).negativePrompt, StoryLoader::defaultNegativePrompt());
        QCOMPARE(s->scenes.at(0).expectedFrames, 0);
        const QJsonObject out = StoryLoader::toJson(*s);
        QCOMPARE(out.value(QStringLiteral("custom")).toObject().value(QStringLiteral("keep")).toBool(), true);
        const QJsonObject scene = out.value(QStringLiteral("scenes")).toArray().at(0).toObject();
        QCOMPARE(scene.value(QStringLiteral("operatorNote")).toString(), QStringLiteral("keep me"));
        QCOMPARE(scene.value(QStringLiteral("prompt")).toString(), QStringLiteral("a \"quoted\" prompt"));
        QStringList again;
        QVERIFY(StoryLoader::fromObject(out, &again).has_value());
    }

    void missingFileIsNamed()
    {
        QStringList problems;
        QVERIFY(!StoryLoader::load(QStringLiteral("/nonexistent/story.json"), &problems));
        QVERIFY(problems.value(0).startsWith(QStringLiteral("/nonexistent/story.json: cannot open")));
    }
};

QTEST_GUILESS_MAIN(TestStoryLoader)
#include "tst_storyloader.moc"
