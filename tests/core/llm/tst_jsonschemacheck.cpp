#include "llm/JsonSchemaCheck.h"
#include "llm/StoryGenerator.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using gd::llm::JsonSchemaCheck;
using gd::llm::StoryGenerator;

class TestJsonSchemaCheck : public QObject
{
    Q_OBJECT

private:
    static QJsonObject obj(const char* json) { return QJsonDocument::fromJson(json).object(); }

    static QJsonObject validScenes(int n)
    {
        QJsonArray scenes;
        for (int i = 0; i < n; ++i)
            scenes.append(QJsonObject{{QStringLiteral("title"), QStringLiteral("Storm Watch")},
                                      {QStringLiteral("summary"), QStringLiteral("Mara climbs the tower as the storm arrives.")},
                                      {QStringLiteral("mood"), QStringLiteral("tense")},
                                      {QStringLiteral("themes"), QJsonArray{QStringLiteral("suspense")}},
                                      {QStringLiteral("characters"), QJsonArray{QStringLiteral("Mara Voss")}},
                                      {QStringLiteral("cameraMovement"), QStringLiteral("slow dolly in")},
                                      {QStringLiteral("palette"), QStringLiteral("teal and orange")}});
        return QJsonObject{{QStringLiteral("scenes"), scenes}};
    }

private Q_SLOTS:
    void sceneList_data()
    {
        QTest::addColumn<QString>("mutation");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("valid") << "" << QStringList{};
        QTest::newRow("theme not in vocabulary")
            << "theme" << QStringList{QStringLiteral("scenes[2].themes[0]: 'joy' is not one of action, romance, mystery, dialogue, "
                                                     "exposition, suspense, comedy, drama, horror, wonder, tragedy, triumph")};
        QTest::newRow("too few scenes") << "fewer" << QStringList{QStringLiteral("scenes: 4 items, at least 5 required")};
        QTest::newRow("too many themes") << "themes4" << QStringList{QStringLiteral("scenes[0].themes: 4 items, at most 3 allowed")};
        QTest::newRow("no themes") << "themes0" << QStringList{QStringLiteral("scenes[1].themes: 0 items, at least 1 required")};
        QTest::newRow("missing summary") << "nosummary" << QStringList{QStringLiteral("scenes[3].summary: required")};
        QTest::newRow("unknown character") << "character" << QStringList{QStringLiteral("scenes[4].characters[0]: 'Bob' is not one of Mara Voss, Ilan")};
        QTest::newRow("wrong type") << "type" << QStringList{QStringLiteral("scenes[0].mood: expected string, got number")};
        QTest::newRow("root not object") << "root" << QStringList{QStringLiteral("(root): expected object, got array")};
    }

    void sceneList()
    {
        QFETCH(QString, mutation);
        QFETCH(QStringList, expected);
        QJsonObject doc = validScenes(5);
        QJsonArray scenes = doc.value(QStringLiteral("scenes")).toArray();
        auto edit = [&](int i, const QString& key, const QJsonValue& v) {
            QJsonObject s = scenes.at(i).toObject();
            if (v.isUndefined())
                s.remove(key);
            else
                s.insert(key, v);
            scenes.replace(i, s);
        };
        if (mutation == QLatin1String("theme"))
            edit(2, QStringLiteral("themes"), QJsonArray{QStringLiteral("joy")});
        else if (mutation == QLatin1String("fewer"))
            scenes.removeLast();
        else if (mutation == QLatin1String("themes4"))
            edit(0, QStringLiteral("themes"), QJsonArray{QStringLiteral("action"), QStringLiteral("drama"), QStringLiteral("wonder"), QStringLiteral("horror")});
        else if (mutation == QLatin1String("themes0"))
            edit(1, QStringLiteral("themes"), QJsonArray{});
        else if (mutation == QLatin1String("nosummary"))
            edit(3, QStringLiteral("summary"), QJsonValue(QJsonValue::Undefined));
        else if (mutation == QLatin1String("character"))
            edit(4, QStringLiteral("characters"), QJsonArray{QStringLiteral("Bob")});
        else if (mutation == QLatin1String("type"))
            edit(0, QStringLiteral("mood"), 3);
        doc.insert(QStringLiteral("scenes"), scenes);
        const QJsonValue value = mutation == QLatin1String("root") ? QJsonValue(QJsonArray{}) : QJsonValue(doc);
        const QStringList problems =
            JsonSchemaCheck::check(value, StoryGenerator::scenesSchema(5, {QStringLiteral("Mara Voss"), QStringLiteral("Ilan")}));
        QCOMPARE(problems, expected);
    }

    void keywords_data()
    {
        QTest::addColumn<QString>("schema");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("integer ok") << "{\"type\":\"integer\"}" << "[3]" << QStringList{};
        QTest::newRow("integer fraction") << "{\"type\":\"integer\"}" << "[3.5]" << QStringList{QStringLiteral("(root): expected integer, got number")};
        QTest::newRow("type list") << "{\"type\":[\"string\",\"null\"]}" << "[null]" << QStringList{};
        QTest::newRow("min length") << "{\"type\":\"string\",\"minLength\":5}" << "[\"abc\"]"
                                    << QStringList{QStringLiteral("(root): 3 characters, at least 5 required")};
        QTest::newRow("max length") << "{\"type\":\"string\",\"maxLength\":2}" << "[\"abc\"]"
                                    << QStringList{QStringLiteral("(root): 3 characters, at most 2 allowed")};
        QTest::newRow("minimum") << "{\"type\":\"number\",\"minimum\":1}" << "[0]" << QStringList{QStringLiteral("(root): 0 is less than the minimum 1")};
        QTest::newRow("nested required")
            << "{\"type\":\"object\",\"required\":[\"a\"],\"properties\":{\"a\":{\"type\":\"object\",\"required\":[\"b\",\"c\"]}}}"
            << "[{\"a\":{\"c\":1}}]" << QStringList{QStringLiteral("a.b: required")};
        QTest::newRow("all problems reported")
            << "{\"type\":\"object\",\"required\":[\"a\",\"b\"]}" << "[{}]"
            << QStringList{QStringLiteral("a: required"), QStringLiteral("b: required")};
    }

    void keywords()
    {
        QFETCH(QString, schema);
        QFETCH(QString, value);
        QFETCH(QStringList, expected);
        // Values are wrapped in a one-element array because QJsonDocument only parses containers.
        const QJsonValue v = QJsonDocument::fromJson(value.toUtf8()).array().at(0);
        QCOMPARE(JsonSchemaCheck::check(v, obj(schema.toUtf8().constData())), expected);
    }
};

QTEST_GUILESS_MAIN(TestJsonSchemaCheck)
#include "tst_jsonschemacheck.moc"
