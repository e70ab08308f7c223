#include "story/StoryLoader.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using gd::story::StoryLoader;

namespace {

QJsonObject readObject(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot open test data");
    return QJsonDocument::fromJson(f.readAll()).object();
}

QJsonObject lampRoom()
{
    return readObject(QStringLiteral(GD_TEST_DATA_DIR "/story-shots/lamp-room.json"));
}

// Sets (or with value undefined removes) the value at "scenes/0/shots/1/id" inside `root`.
QJsonValue patched(const QJsonValue& root, const QStringList& path, const QJsonValue& value)
{
    if (path.isEmpty())
        return value;
    bool isIndex = false;
    const int index = path.first().toInt(&isIndex);
    if (isIndex) {
        QJsonArray a = root.toArray();
        if (value.isUndefined() && path.size() == 1)
            a.removeAt(index);
        else if (index >= a.size())
            a.append(patched(QJsonValue(), path.mid(1), value));
        else
            a[index] = patched(a.at(index), path.mid(1), value);
        return a;
    }
    QJsonObject o = root.toObject();
    if (value.isUndefined() && path.size() == 1)
        o.remove(path.first());
    else
        o.insert(path.first(), patched(o.value(path.first()), path.mid(1), value));
    return o;
}

} // namespace

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

    // Stories written before shots, looks and locations existed load and save to the same content.
    void storiesRoundTripUnchanged_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("bundled example") << QStringLiteral(GD_SOURCE_DIR "/resources/examples/lighthouse.json");
        QTest::newRow("shots, looks, locations, style") << QStringLiteral(GD_TEST_DATA_DIR "/story-shots/lamp-room.json");
    }
    void storiesRoundTripUnchanged()
    {
        QFETCH(QString, path);
        QStringList problems;
        const auto s = StoryLoader::load(path, &problems);
        QVERIFY2(s.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        const QJsonObject saved = StoryLoader::toJson(*s);
        QCOMPARE(saved, readObject(path));
        const auto again = StoryLoader::fromObject(saved, &problems);
        QVERIFY(again.has_value());
        QCOMPARE(StoryLoader::toJson(*again), saved);
    }

    // Hand-written files say "nothing" in several ways; saving must not rewrite them.
    void emptyNewKeysRoundTripAsWritten()
    {
        const QByteArray json = R"({"storyId":"s","logline":"l","style":null,
            "bible":{"characters":[{"name":"Mara","looks":[]}],"locations":[]},
            "scenes":[{"id":"scene-001","prompt":"p","negativePrompt":"n","themes":[],"characters":["Mara"],"shots":null},
                      {"id":"scene-002","prompt":"q","negativePrompt":"n","themes":[],"characters":[],"shots":[]}]})";
        QStringList problems;
        const auto s = StoryLoader::fromJson(json, &problems);
        QVERIFY2(s.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        QCOMPARE(s->characters.at(0).looks.size(), 1); // implicit
        QCOMPARE(StoryLoader::toJson(*s), QJsonDocument::fromJson(json).object());
    }

    void newFieldsAreTyped()
    {
        QStringList problems;
        const auto s = StoryLoader::fromObject(lampRoom(), &problems);
        QVERIFY2(s.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        QCOMPARE(s->characters.size(), 2);
        QCOMPARE(s->characters.at(0).looks.size(), 2);
        QCOMPARE(s->characters.at(0).looks.at(1).id, QStringLiteral("dry-wool"));
        QCOMPARE(s->characters.at(0).looks.at(1).descriptor, QStringLiteral("grey wool sweater, braid pinned up"));
        // No looks in the file: one implicit look built from the character itself.
        const gd::story::StoryCharacter& tamsin = s->characters.at(1);
        QCOMPARE(tamsin.looks.size(), 1);
        QCOMPARE(tamsin.looks.at(0).id, QStringLiteral("default"));
        QCOMPARE(tamsin.looks.at(0).descriptor, tamsin.visualDescriptor);
        QCOMPARE(tamsin.looks.at(0).referencePrompt, tamsin.referencePrompt);
        QCOMPARE(s->locations.size(), 1);
        QCOMPARE(s->locations.at(0).name, QStringLiteral("Lamp room"));
        QCOMPARE(s->style.palette, QStringLiteral("teal and sodium orange"));
        QCOMPARE(s->style.referenceImage, QStringLiteral("refs/style.png"));
        const auto& shots = s->scenes.at(0).shots;
        QCOMPARE(shots.size(), 2);
        QCOMPARE(shots.at(0).lastFrame, QStringLiteral("Mara Voss at the door of the lamp room, hand on the wheel"));
        QCOMPARE(shots.at(1).visibleCharacters.at(0).look, QStringLiteral("dry-wool"));
        QCOMPARE(shots.at(1).location, QStringLiteral("Lamp room"));
        QCOMPARE(shots.at(1).continuesFrom, QStringLiteral("shot-01"));
        QCOMPARE(s->scenes.at(1).shots.at(0).visibleCharacters.at(0).look, QString()); // omitted: first look
        QVERIFY(s->scenes.at(2).shots.isEmpty());
    }

    void typedEditsAreSavedAndUnknownKeysKept()
    {
        QStringList problems;
        auto s = StoryLoader::fromObject(lampRoom(), &problems);
        QVERIFY(s.has_value());
        s->characters[0].looks[1].descriptor = QStringLiteral("black oilskin, hood up");
        s->scenes[0].shots[0].camera = QStringLiteral("handheld follow");
        s->style.text.clear();
        gd::story::StoryShot added;
        added.id = QStringLiteral("shot-01");
        added.firstFrame = QStringLiteral("wide shot, Mara Voss and Tamsin on the pier");
        added.visibleCharacters = {{QStringLiteral("Mara Voss"), QStringLiteral("storm-coat")}, {QStringLiteral("Tamsin"), QString()}};
        s->scenes[2].shots.push_back(added);
        s->scenes[2].images.insert(QStringLiteral("character_reference_image[0]"), QStringLiteral("refs/mara-voss/storm-coat/v1-c2.png"));
        const QJsonObject out = StoryLoader::toJson(*s);
        const QJsonObject look = out.value(QStringLiteral("bible")).toObject().value(QStringLiteral("characters")).toArray().at(0).toObject()
                                     .value(QStringLiteral("looks")).toArray().at(1).toObject();
        QCOMPARE(look.value(QStringLiteral("descriptor")).toString(), QStringLiteral("black oilskin, hood up"));
        QCOMPARE(look.value(QStringLiteral("lookNote")).toString(), QStringLiteral("unknown keys of a look survive"));
        // A character still without looks gets none written.
        QVERIFY(!out.value(QStringLiteral("bible")).toObject().value(QStringLiteral("characters")).toArray().at(1).toObject()
                     .contains(QStringLiteral("looks")));
        const QJsonArray scenes = out.value(QStringLiteral("scenes")).toArray();
        const QJsonObject shot = scenes.at(0).toObject().value(QStringLiteral("shots")).toArray().at(0).toObject();
        QCOMPARE(shot.value(QStringLiteral("camera")).toString(), QStringLiteral("handheld follow"));
        QCOMPARE(shot.value(QStringLiteral("shotNote")).toString(), QStringLiteral("unknown keys of a shot survive"));
        QCOMPARE(out.value(QStringLiteral("style")).toObject().value(QStringLiteral("text")).toString(), QString());
        const QJsonArray visible = scenes.at(2).toObject().value(QStringLiteral("shots")).toArray().at(0).toObject()
                                       .value(QStringLiteral("visibleCharacters")).toArray();
        QCOMPARE(visible.size(), 2);
        QCOMPARE(scenes.at(2).toObject().value(QStringLiteral("images")).toObject().value(QStringLiteral("character_reference_image[0]")).toString(),
                 QStringLiteral("refs/mara-voss/storm-coat/v1-c2.png"));
        QVERIFY(!visible.at(1).toObject().contains(QStringLiteral("look")));
        const auto reloaded = StoryLoader::fromObject(out, &problems);
        QVERIFY(reloaded.has_value());
        QCOMPARE(problems, QStringList());
        QCOMPARE(reloaded->scenes.at(2).images.value(QStringLiteral("character_reference_image[0]")),
                 QStringLiteral("refs/mara-voss/storm-coat/v1-c2.png"));
    }

    // One row per kind of bad input; each must be reported once, with its path.
    void shotAndBibleProblems_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("value"); // JSON; empty = remove the key
        QTest::addColumn<QString>("expected");
        QTest::addColumn<int>("dependent"); // further problems that follow from this one
        QTest::newRow("unknown visible character") << "scenes/0/shots/0/visibleCharacters/0/name" << QByteArray("\"Bob\"")
            << "scenes[0].shots[0].visibleCharacters[0].name: 'Bob' is not a character of the bible" << 0;
        QTest::newRow("unknown look") << "scenes/0/shots/0/visibleCharacters/0/look" << QByteArray("\"tuxedo\"")
            << "scenes[0].shots[0].visibleCharacters[0].look: 'tuxedo' is not a look of Mara Voss (storm-coat, dry-wool)" << 0;
        QTest::newRow("look of a character without looks") << "scenes/1/shots/0/visibleCharacters/0/look" << QByteArray("\"storm-coat\"")
            << "scenes[1].shots[0].visibleCharacters[0].look: 'storm-coat' is not a look of Tamsin (default)" << 0;
        QTest::newRow("character twice in a shot") << "scenes/0/shots/0/visibleCharacters/1"
            << QByteArray(R"({"name":"Mara Voss","look":"dry-wool"})")
            << "scenes[0].shots[0].visibleCharacters[1].name: 'Mara Voss' is listed twice in this shot" << 0;
        QTest::newRow("visible character not an object") << "scenes/0/shots/0/visibleCharacters/0" << QByteArray("\"Mara Voss\"")
            << "scenes[0].shots[0].visibleCharacters[0]: must be an object with name and look" << 0;
        QTest::newRow("duplicate shot id") << "scenes/0/shots/1/id" << QByteArray("\"shot-01\"")
            << "scenes[0].shots[1].id: 'shot-01' is used by an earlier shot of this scene" << 1;
        QTest::newRow("ill-formed shot id") << "scenes/1/shots/0/id" << QByteArray("\"shot-1\"")
            << "scenes[1].shots[0].id: 'shot-1' is not 'shot-' followed by two digits" << 0;
        QTest::newRow("missing shot id") << "scenes/1/shots/0/id" << QByteArray() << "scenes[1].shots[0].id: required" << 0;
        QTest::newRow("continues from a later shot") << "scenes/0/shots/0/continuesFrom" << QByteArray("\"shot-02\"")
            << "scenes[0].shots[0].continuesFrom: 'shot-02' is a later shot" << 0;
        QTest::newRow("continues from a later scene") << "scenes/0/shots/1/continuesFrom" << QByteArray("\"scene-002/shot-01\"")
            << "scenes[0].shots[1].continuesFrom: 'scene-002/shot-01' is a later shot" << 0;
        QTest::newRow("continues from itself") << "scenes/0/shots/1/continuesFrom" << QByteArray("\"shot-02\"")
            << "scenes[0].shots[1].continuesFrom: 'shot-02' names the shot itself" << 0;
        QTest::newRow("continues from an unknown shot") << "scenes/1/shots/0/continuesFrom" << QByteArray("\"scene-001/shot-09\"")
            << "scenes[1].shots[0].continuesFrom: 'scene-001/shot-09' names no shot of this story" << 0;
        QTest::newRow("empty firstFrame") << "scenes/0/shots/0/firstFrame" << QByteArray("\"  \"")
            << "scenes[0].shots[0].firstFrame: must not be empty" << 0;
        QTest::newRow("missing firstFrame") << "scenes/0/shots/1/firstFrame" << QByteArray() << "scenes[0].shots[1].firstFrame: required" << 0;
        QTest::newRow("location not in the bible") << "scenes/0/shots/1/location" << QByteArray("\"Cellar\"")
            << "scenes[0].shots[1].location: 'Cellar' is not a location of the bible" << 0;
        QTest::newRow("shots not a list") << "scenes/0/shots" << QByteArray("{}") << "scenes[0].shots: must be a list" << 1;
        QTest::newRow("shot not an object") << "scenes/0/shots/1" << QByteArray("7") << "scenes[0].shots[1]: must be an object" << 1;
        QTest::newRow("camera not a string") << "scenes/0/shots/0/camera" << QByteArray("3") << "scenes[0].shots[0].camera: must be a string" << 0;
        QTest::newRow("characters not a list") << "bible/characters" << QByteArray("\"Mara\"") << "bible.characters: must be a list" << 3;
        QTest::newRow("character not an object") << "bible/characters/1" << QByteArray("\"Tamsin\"")
            << "bible.characters[1]: must be an object" << 1;
        QTest::newRow("character without a name") << "bible/characters/1/name" << QByteArray() << "bible.characters[1].name: required" << 1;
        QTest::newRow("duplicate character") << "bible/characters/1/name" << QByteArray("\"Mara Voss\"")
            << "bible.characters[1].name: 'Mara Voss' is used by an earlier character" << 1;
        QTest::newRow("ill-formed look id") << "bible/characters/0/looks/1/id" << QByteArray("\"dry wool/2\"")
            << "bible.characters[0].looks[1].id: 'dry wool/2' must be letters, digits, '-' or '_'" << 1;
        QTest::newRow("duplicate look id") << "bible/characters/0/looks/1/id" << QByteArray("\"storm-coat\"")
            << "bible.characters[0].looks[1].id: 'storm-coat' is used by an earlier look of this character" << 1;
        QTest::newRow("looks not a list") << "bible/characters/1/looks" << QByteArray("\"default\"")
            << "bible.characters[1].looks: must be a list" << 0;
        QTest::newRow("location without a name") << "bible/locations/0/name" << QByteArray() << "bible.locations[0].name: required" << 1;
        QTest::newRow("style not an object") << "style" << QByteArray("[]") << "style: must be an object" << 0;
        QTest::newRow("style reference outside the story") << "style/referenceImage" << QByteArray("\"../../etc/passwd\"")
            << "style.referenceImage: '../../etc/passwd' must be a relative path inside the story's folder" << 0;
        QTest::newRow("scene image outside the story") << "scenes/2/images" << QByteArray(R"({"start_image":"../../x.png"})")
            << "scenes[2].images.start_image: '../../x.png' must be a relative path inside the story's folder" << 0;
        QTest::newRow("scene images not an object") << "scenes/2/images" << QByteArray("[]")
            << "scenes[2].images: must be an object" << 0;
        QTest::newRow("scene image of no image role") << "scenes/2/images" << QByteArray(R"({"prompt":"a.png"})")
            << "scenes[2].images.prompt: not an image role" << 0;
        QTest::newRow("character reference slot out of range") << "scenes/2/images"
            << QByteArray(R"({"character_reference_image[16]":"a.png"})")
            << "scenes[2].images.character_reference_image[16]: not an image role" << 0;
        QTest::newRow("absolute style reference") << "style/referenceImage" << QByteArray("\"/tmp/style.png\"")
            << "style.referenceImage: '/tmp/style.png' must be a relative path" << 0;
    }
    void shotAndBibleProblems()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, value);
        QFETCH(QString, expected);
        QFETCH(int, dependent);
        const QJsonValue v = value.isEmpty() ? QJsonValue(QJsonValue::Undefined)
                                             : QJsonDocument::fromJson("[" + value + "]").array().at(0);
        const QJsonObject story = patched(lampRoom(), path.split(QLatin1Char('/')), v).toObject();
        QStringList problems;
        QVERIFY(!StoryLoader::fromObject(story, &problems).has_value());
        // Reported once; a problem may also make what depends on it invalid (a character that is
        // gone is unknown to the shots that show it), and those are reported too.
        int found = 0;
        for (const QString& p : std::as_const(problems))
            found += p.startsWith(expected) ? 1 : 0;
        QVERIFY2(found == 1, qPrintable(problems.join(QLatin1Char('\n'))));
        if (dependent == 0)
            QVERIFY2(problems.size() == 1, qPrintable(problems.join(QLatin1Char('\n'))));
        else
            QCOMPARE(problems.size(), 1 + dependent);
    }

    void missingSceneImagesAreNamedOneEach()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QFile present(dir.filePath(QStringLiteral("kf.png")));
        QVERIFY(present.open(QIODevice::WriteOnly));
        present.write("png");
        present.close();
        gd::story::Story story;
        story.scenes.resize(2);
        story.scenes[0].images.insert(QStringLiteral("start_image"), QStringLiteral("kf.png"));
        story.scenes[0].images.insert(QStringLiteral("end_image"), QStringLiteral("gone.png"));
        story.scenes[1].images.insert(QStringLiteral("character_reference_image[0]"), QStringLiteral("refs/gone.png"));
        const QStringList problems = StoryLoader::missingImages(story, dir.path());
        QCOMPARE(problems.size(), 2);
        QVERIFY2(problems.at(0).startsWith(QStringLiteral("scenes[0].images.end_image: 'gone.png' does not exist")),
                 qPrintable(problems.at(0)));
        QVERIFY2(problems.at(1).startsWith(QStringLiteral("scenes[1].images.character_reference_image[0]: 'refs/gone.png'")),
                 qPrintable(problems.at(1)));
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
