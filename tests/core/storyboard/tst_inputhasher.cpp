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
