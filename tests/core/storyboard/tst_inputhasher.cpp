#include "StoryboardTestStory.h"
#include "storyboard/InputHasher.h"

#include <QJsonDocument>
#include <QTest>

using namespace gd::storyboard;

class TestInputHasher : public QObject
{
    Q_OBJECT

private:
    static KeyframeInputSpec baseSpec()
    {
        KeyframeInputSpec s;
        s.prompt = QStringLiteral("Mara Voss, orange storm coat, at the lamp");
        s.negative = QStringLiteral("text, watermark");
        s.seed = 1234;
        s.referenceSha256.insert(QStringLiteral("character:Tom Reed#default"), QStringLiteral("t1"));
        s.referenceSha256.insert(QStringLiteral("character:Mara Voss#storm-coat"), QStringLiteral("m1"));
        s.styleReferenceSha256 = QStringLiteral("st1");
        s.profileHash = QStringLiteral("p1");
        s.model = QStringLiteral("sdxl");
        return s;
    }

private Q_SLOTS:
    // A bookend shot's end keyframe: composed from its lastFrame, anchored on the same sheets, its own
    // seed, and a hash apart from the keyframe's even when the two texts are the same.
    void endKeyframeInputsComeFromTheLastFrame()
    {
        gd::story::Story story = sbtest::bookend();
        const QString shot = QStringLiteral("scene-001/shot-01");
        StoryboardState state;
        {
            const StoryboardInputs inputs(story, state, sbtest::context());
            sbtest::renderImage(state, inputs, ItemKind::Reference, QStringLiteral("character:Mara Voss#storm-coat"));
        }
        const StoryboardInputs inputs(story, state, sbtest::context());
        const CurrentInputs start = inputs.keyframe(shot);
        const CurrentInputs end = inputs.endKeyframe(shot);
        QVERIFY2(start.blocked.isEmpty() && end.blocked.isEmpty(), qPrintable(start.blocked + end.blocked));
        QVERIFY(start.hash != end.hash);
        QCOMPARE(end.inputs.value(QStringLiteral("kind")).toString(), QStringLiteral("endKeyframe"));
        const QString endPrompt = end.inputs.value(QStringLiteral("prompt")).toString();
        // composeShotPrompt over the lastFrame: the look injected after the name, the style appended.
        QVERIFY2(endPrompt.startsWith(QStringLiteral("Mara (orange storm coat) turns the lamp off")) ||
                     endPrompt.contains(QStringLiteral("Mara turns the lamp off")),
                 qPrintable(endPrompt));
        QVERIFY2(endPrompt.contains(QStringLiteral("orange storm coat")) && endPrompt.contains(QStringLiteral("muted film")),
                 qPrintable(endPrompt));
        QVERIFY(!endPrompt.contains(QStringLiteral("at the lamp")));
        QCOMPARE(end.inputs.value(QStringLiteral("references")), start.inputs.value(QStringLiteral("references")));
        QCOMPARE(end.inputs.value(QStringLiteral("profileHash")), start.inputs.value(QStringLiteral("profileHash")));
        QVERIFY(end.inputs.value(QStringLiteral("seed")).toInteger() != start.inputs.value(QStringLiteral("seed")).toInteger());

        // The same text for both frames still hashes apart (the kind differs).
        story.scenes[0].shots[0].lastFrame = story.scenes[0].shots[0].firstFrame;
        const StoryboardInputs same(story, state, sbtest::context());
        QCOMPARE(same.endKeyframe(shot).inputs.value(QStringLiteral("prompt")),
                 same.keyframe(shot).inputs.value(QStringLiteral("prompt")));
        QVERIFY(same.endKeyframe(shot).hash != same.keyframe(shot).hash);

        // A shot without a lastFrame has no end keyframe.
        QVERIFY(!inputs.endKeyframe(QStringLiteral("scene-001/shot-02")).blocked.isEmpty());
    }

    // The clip of a bookend shot hashes the end keyframe's chosen candidate when the video profile
    // maps end_image, and ignores it otherwise.
    void clipHashesTheEndKeyframeOnlyForABookendProfile()
    {
        const gd::story::Story story = sbtest::bookend();
        const QString shot = QStringLiteral("scene-001/shot-01");
        StoryboardState state;
        InputContext bookend = sbtest::context();
        bookend.clipUsesEndImage = true;
        sbtest::renderAll(story, state, bookend);
        const QString endSha = state.findShot(shot)->endKeyframe.selectedCandidate()->sha256;
        QVERIFY(!endSha.isEmpty());
        QVERIFY(endSha != state.findShot(shot)->keyframe.selectedCandidate()->sha256);

        const StoryboardInputs withEnd(story, state, bookend);
        QCOMPARE(withEnd.clip(shot).inputs.value(QStringLiteral("end")).toString(), endSha);
        // Shots without a lastFrame never carry an end image.
        QCOMPARE(withEnd.clip(QStringLiteral("scene-001/shot-02")).inputs.value(QStringLiteral("end")).toString(), QString());

        const StoryboardInputs single(story, state, sbtest::context());
        QCOMPARE(single.clip(shot).inputs.value(QStringLiteral("end")).toString(), QString());
        QVERIFY(single.clip(shot).hash != withEnd.clip(shot).hash);

        // Re-choosing the end keyframe's candidate changes the clip hash.
        const QString before = withEnd.clip(shot).hash;
        QVERIFY(state.choose(ItemKind::EndKeyframe, shot, 1, 2, ChosenBy::Operator).isNull());
        QVERIFY(StoryboardInputs(story, state, bookend).clip(shot).hash != before);
    }

    // The story's style reference image enters a keyframe's inputs only when the profile that renders
    // it maps style_reference_image (only then is it uploaded); otherwise the inputs say it is unused,
    // a new style image leaves the keyframe fresh, and a style image not uploaded does not block it.
    void styleImageCountsOnlyWhenTheProfileMapsIt()
    {
        gd::story::Story story = sbtest::lighthouse();
        story.style.referenceImage = QStringLiteral("style.png");
        const QString anchored = QStringLiteral("scene-001/shot-01"); // Mara: her sheet anchors it
        const QString textOnly = QStringLiteral("scene-001/shot-04"); // nobody: the text profile
        InputContext ctx = sbtest::context();
        ctx.textKeyframeProfileHash = QStringLiteral("text-profile-1");
        ctx.keyframeUsesStyleImage = true;
        ctx.textKeyframeUsesStyleImage = false;
        StoryboardState state;
        {
            const StoryboardInputs inputs(story, state, ctx);
            sbtest::renderImage(state, inputs, ItemKind::Reference, QStringLiteral("character:Mara Voss#storm-coat"));
        }
        // No style image uploaded yet: only the profile that would use it is blocked.
        {
            const StoryboardInputs inputs(story, state, ctx);
            QVERIFY(inputs.keyframe(anchored).blocked.contains(QStringLiteral("style reference image")));
            QVERIFY2(inputs.keyframe(textOnly).blocked.isEmpty(), qPrintable(inputs.keyframe(textOnly).blocked));
        }
        auto uploadStyle = [&state](const QString& bytes) {
            ImageVersion v;
            v.source = QStringLiteral("uploaded");
            v.candidates = {Candidate{QStringLiteral("refs/style.png"), sbtest::fakeSha(bytes), 0, std::nullopt,
                                      std::nullopt, {}}};
            const int n = state.addReferenceVersion(StoryboardKeys::style(), v);
            QVERIFY(state.choose(ItemKind::Reference, StoryboardKeys::style(), n, 1, ChosenBy::Operator).isNull());
        };
        uploadStyle(QStringLiteral("style-1"));
        const StoryboardInputs first(story, state, ctx);
        const CurrentInputs a1 = first.keyframe(anchored);
        const CurrentInputs t1 = first.keyframe(textOnly);
        QCOMPARE(a1.inputs.value(QStringLiteral("styleReference")).toString(), sbtest::fakeSha(QStringLiteral("style-1")));
        QVERIFY(!a1.inputs.contains(QStringLiteral("styleReferenceUnused")));
        QCOMPARE(t1.inputs.value(QStringLiteral("profileHash")).toString(), QStringLiteral("text-profile-1"));
        QCOMPARE(t1.inputs.value(QStringLiteral("styleReference")).toString(), QString());
        QCOMPARE(t1.inputs.value(QStringLiteral("styleReferenceUnused")).toBool(), true);

        // A new style image: the anchored keyframe's hash changes, the text-only one's does not.
        uploadStyle(QStringLiteral("style-2"));
        const StoryboardInputs second(story, state, ctx);
        QVERIFY(second.keyframe(anchored).hash != a1.hash);
        QCOMPARE(second.keyframe(textOnly).hash, t1.hash);

        // A text profile with a style slot hashes the image like the anchored one.
        ctx.textKeyframeUsesStyleImage = true;
        const StoryboardInputs slotted(story, state, ctx);
        QCOMPARE(slotted.keyframe(textOnly).inputs.value(QStringLiteral("styleReference")).toString(),
                 sbtest::fakeSha(QStringLiteral("style-2")));
        QVERIFY(!slotted.keyframe(textOnly).inputs.contains(QStringLiteral("styleReferenceUnused")));
    }

    void canonicalJsonSortsKeysAndDropsWhitespace()
    {
        const QJsonObject a = QJsonDocument::fromJson("{\"b\": [1, {\"z\": true, \"a\": null}], \"a\": \"x\\n\\\"y\"}").object();
        QCOMPARE(InputHasher::canonicalJson(a), QByteArray("{\"a\":\"x\\n\\\"y\",\"b\":[1,{\"a\":null,\"z\":true}]}"));
        // Integers stay exact beyond 2^53 (seeds), other numbers in their shortest exact form.
        QCOMPARE(InputHasher::canonicalJson(QJsonObject{{QStringLiteral("seed"), qint64(9007199254740993LL)},
                                                        {QStringLiteral("w"), 0.1},
                                                        {QStringLiteral("n"), 3.0}}),
                 QByteArray("{\"n\":3,\"seed\":9007199254740993,\"w\":0.1}"));
        QCOMPARE(InputHasher::canonicalJson(QJsonObject{{QStringLiteral("t"), QString(QString::fromUtf8("\xc3\xa9") + QChar(1))}}),
                 QByteArray("{\"t\":\"\xc3\xa9\\u0001\"}"));
    }

    void hashIsStableAcrossKeyOrderAndWhitespace()
    {
        const QJsonObject one = QJsonDocument::fromJson(
                                    "{\"prompt\":\"p\",\"seed\":7,\"references\":[{\"key\":\"k\",\"sha256\":\"s\"}]}")
                                    .object();
        const QJsonObject two = QJsonDocument::fromJson("{\n  \"seed\" : 7 ,\n  \"references\" : [ { \"sha256\" : \"s\", "
                                                        "\"key\" : \"k\" } ],\n  \"prompt\" : \"p\"\n}")
                                    .object();
        QCOMPARE(InputHasher::hash(one), InputHasher::hash(two));
        QCOMPARE(InputHasher::hash(one).size(), 64);
        // The sheets of a keyframe are sorted by key whatever order they were added in.
        KeyframeInputSpec reversed = baseSpec();
        reversed.referenceSha256.clear();
        reversed.referenceSha256.insert(QStringLiteral("character:Mara Voss#storm-coat"), QStringLiteral("m1"));
        reversed.referenceSha256.insert(QStringLiteral("character:Tom Reed#default"), QStringLiteral("t1"));
        QCOMPARE(InputHasher::hash(InputHasher::keyframeInputs(reversed)),
                 InputHasher::hash(InputHasher::keyframeInputs(baseSpec())));
    }

    void everyKeyframeInputChangesTheHash_data()
    {
        QTest::addColumn<int>("field");
        QTest::newRow("prompt") << 0;
        QTest::newRow("negative") << 1;
        QTest::newRow("seed") << 2;
        QTest::newRow("sheet sha") << 3;
        QTest::newRow("sheet added") << 4;
        QTest::newRow("style reference") << 5;
        QTest::newRow("profile") << 6;
        QTest::newRow("model") << 7;
        QTest::newRow("text only") << 8;
        QTest::newRow("trailing space in prompt") << 9;
    }

    void everyKeyframeInputChangesTheHash()
    {
        QFETCH(int, field);
        KeyframeInputSpec s = baseSpec();
        switch (field) {
        case 0: s.prompt = QStringLiteral("Mara Voss, grey dress, at the lamp"); break;
        case 1: s.negative = QStringLiteral("text"); break;
        case 2: s.seed = 1235; break;
        case 3: s.referenceSha256.insert(QStringLiteral("character:Mara Voss#storm-coat"), QStringLiteral("m2")); break;
        case 4: s.referenceSha256.insert(QStringLiteral("character:Ada#default"), QStringLiteral("a1")); break;
        case 5: s.styleReferenceSha256 = QStringLiteral("st2"); break;
        case 6: s.profileHash = QStringLiteral("p2"); break;
        case 7: s.model = QStringLiteral("flux"); break;
        case 8: s.textOnly = true; break;
        case 9: s.prompt += QLatin1Char(' '); break;
        }
        QVERIFY(InputHasher::hash(InputHasher::keyframeInputs(s)) !=
                InputHasher::hash(InputHasher::keyframeInputs(baseSpec())));
    }

    void everyClipInputChangesTheHash_data()
    {
        QTest::addColumn<int>("field");
        QTest::newRow("start image") << 0;
        QTest::newRow("start source") << 1;
        QTest::newRow("end image") << 2;
        QTest::newRow("prompt") << 3;
        QTest::newRow("seed") << 4;
        QTest::newRow("profile") << 5;
        QTest::newRow("model") << 6;
    }

    void everyClipInputChangesTheHash()
    {
        QFETCH(int, field);
        const ClipInputSpec base{QStringLiteral("k1"), QStringLiteral("keyframe"), QString(), QStringLiteral("dolly in"),
                                 5, QStringLiteral("p"), QStringLiteral("wan")};
        ClipInputSpec s = base;
        switch (field) {
        case 0: s.startSha256 = QStringLiteral("k2"); break;
        case 1: s.startSource = QStringLiteral("previousLastFrame"); break;
        case 2: s.endSha256 = QStringLiteral("e1"); break;
        case 3: s.prompt = QStringLiteral("dolly out"); break;
        case 4: s.seed = 6; break;
        case 5: s.profileHash = QStringLiteral("q"); break;
        case 6: s.model = QStringLiteral("ltx"); break;
        }
        QVERIFY(InputHasher::hash(InputHasher::clipInputs(s)) != InputHasher::hash(InputHasher::clipInputs(base)));
    }

    void referenceInputsAndProfileHash()
    {
        const QJsonObject r1 = InputHasher::referenceInputs(QStringLiteral("sheet"), QStringLiteral("neg"), 1, QString(),
                                                            QStringLiteral("p"), QStringLiteral("m"));
        QCOMPARE(InputHasher::hash(r1), InputHasher::hash(InputHasher::referenceInputs(QStringLiteral("sheet"),
                                                                                       QStringLiteral("neg"), 1, QString(),
                                                                                       QStringLiteral("p"), QStringLiteral("m"))));
        QVERIFY(InputHasher::hash(r1) != InputHasher::hash(InputHasher::referenceInputs(QStringLiteral("sheet 2"),
                                                                                        QStringLiteral("neg"), 1, QString(),
                                                                                        QStringLiteral("p"), QStringLiteral("m"))));

        const QJsonObject graph = QJsonDocument::fromJson("{\"3\":{\"class_type\":\"KSampler\",\"inputs\":{\"cfg\":7}}}").object();
        const QJsonObject graphReordered =
            QJsonDocument::fromJson("{ \"3\" : { \"inputs\" : { \"cfg\" : 7 }, \"class_type\" : \"KSampler\" } }").object();
        const QJsonObject graphEdited = QJsonDocument::fromJson("{\"3\":{\"class_type\":\"KSampler\",\"inputs\":{\"cfg\":6}}}").object();
        const QJsonObject profile{{QStringLiteral("purpose"), QStringLiteral("keyframe")}};
        const QString h = InputHasher::profileHash(graph, profile);
        QCOMPARE(InputHasher::profileHash(graphReordered, profile), h);
        QVERIFY(InputHasher::profileHash(graphEdited, profile) != h);
        QVERIFY(InputHasher::profileHash(graph, QJsonObject{{QStringLiteral("purpose"), QStringLiteral("video")}}) != h);
        // Graph and profile are kept apart: moving a key from one to the other is a different profile.
        QVERIFY(InputHasher::profileHash(QJsonObject(), profile) != InputHasher::profileHash(profile, QJsonObject()));
    }
};

QTEST_GUILESS_MAIN(TestInputHasher)
#include "tst_inputhasher.moc"
