#include "llm/JsonSchemaCheck.h"
#include "llm/StoryGenerator.h"
#include "sandbox/StoryCorpus.h"
#include "story/StoryLoader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QtTest>

using gd::llm::JsonSchemaCheck;
using gd::llm::StoryGenerator;
using gd::sandbox::StoryCorpus;

namespace {

// What the generator's shots stage shows the model: the scene's cast with their looks (JSON), as
// the v2.0 templates render {{characterLooks}}.
QString shotsContext()
{
    const QJsonArray cast{
        QJsonObject{{QStringLiteral("name"), QStringLiteral("Mara Voss")},
                    {QStringLiteral("visualDescriptor"), QStringLiteral("weathered woman in an orange storm coat")},
                    {QStringLiteral("looks"),
                     QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("everyday")},
                                            {QStringLiteral("descriptor"), QStringLiteral("weathered woman in an orange storm coat")}},
                                QJsonObject{{QStringLiteral("id"), QStringLiteral("storm-gear")},
                                            {QStringLiteral("descriptor"), QStringLiteral("orange storm coat under an oilskin cape")}}}}},
        QJsonObject{{QStringLiteral("name"), QStringLiteral("Ilan Reyes")},
                    {QStringLiteral("visualDescriptor"), QStringLiteral("lanky engineer with brass goggles")},
                    {QStringLiteral("looks"),
                     QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("default")},
                                            {QStringLiteral("descriptor"), QStringLiteral("lanky engineer with brass goggles")}}}}}};
    const QJsonObject locations{{QStringLiteral("locations"),
                                 QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("Lamp room")},
                                                        {QStringLiteral("descriptor"), QStringLiteral("glass lamp room")}}}}};
    return QStringLiteral("Plan the shots of one scene.\n\nCharacters who may appear in this scene, with their looks (JSON):\n%1\n\n"
                          "Locations of the story (JSON):\n%2\n")
        .arg(QString::fromUtf8(QJsonDocument(cast).toJson()), QString::fromUtf8(QJsonDocument(locations).toJson()));
}

const QRegularExpression& pronoun()
{
    static const QRegularExpression re(QStringLiteral("\\b(he|she|him|her|his|hers)\\b"), QRegularExpression::CaseInsensitiveOption);
    return re;
}

} // namespace

// The sandbox LLM's answers to the story-format stages (bible with reference prompts, looks and
// locations; per-scene shot lists) must pass the generator's own checks, so that
// `gemdirect story --sandbox` produces a storyboard-ready story with no GPU and no model.
class TestStoryCorpus : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void bibleWithReferences_data()
    {
        QTest::addColumn<quint64>("seed");
        for (quint64 seed : {1ULL, 2ULL, 7ULL, 42ULL, 1234ULL})
            QTest::newRow(qPrintable(QString::number(seed))) << seed;
    }
    void bibleWithReferences()
    {
        QFETCH(quint64, seed);
        const QJsonObject schema = StoryGenerator::bibleSchema(true);
        StoryCorpus corpus(seed, QStringLiteral("A keeper on a drowned world must relight the beacon."));
        const QJsonValue answer = corpus.fill(schema);
        QStringList problems = JsonSchemaCheck::check(answer, schema);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));

        static const QRegularExpression slug(QStringLiteral("^[a-z0-9]+(-[a-z0-9]+)*$"));
        const QJsonArray characters = answer.toObject().value(QStringLiteral("characters")).toArray();
        int twoLooks = 0;
        for (const QJsonValue& v : characters) {
            const QJsonObject c = v.toObject();
            const QString name = c.value(QStringLiteral("name")).toString();
            QVERIFY2(c.value(QStringLiteral("referencePrompt")).toString().startsWith(QStringLiteral("character reference sheet, ") + name),
                     qPrintable(c.value(QStringLiteral("referencePrompt")).toString()));
            QSet<QString> ids;
            const QJsonArray looks = c.value(QStringLiteral("looks")).toArray();
            for (const QJsonValue& l : looks) {
                const QString id = l.toObject().value(QStringLiteral("id")).toString();
                QVERIFY2(slug.match(id).hasMatch(), qPrintable(id));
                QVERIFY2(!ids.contains(id), qPrintable(id));
                ids.insert(id);
                // A look's sheet names the character and shows that look.
                const QString descriptor = l.toObject().value(QStringLiteral("descriptor")).toString();
                QVERIFY(l.toObject().value(QStringLiteral("referencePrompt")).toString().contains(name + QStringLiteral(", ") + descriptor));
            }
            twoLooks += looks.size() > 1 ? 1 : 0;
        }
        QVERIFY(twoLooks >= 1); // some character changes outfit: the storyboard has looks to choose from
        const QJsonArray locations = answer.toObject().value(QStringLiteral("locations")).toArray();
        QVERIFY(locations.size() >= 2);
        QSet<QString> places;
        for (const QJsonValue& l : locations) {
            const QString name = l.toObject().value(QStringLiteral("name")).toString();
            QVERIFY2(!places.contains(name), qPrintable(name));
            places.insert(name);
            QVERIFY(l.toObject().value(QStringLiteral("referencePrompt")).toString().startsWith(QStringLiteral("environment reference, ") + name));
        }
        // Nobody is both a character and a location, and the bible reads as story.json's.
        for (const QJsonValue& v : characters)
            QVERIFY(!places.contains(v.toObject().value(QStringLiteral("name")).toString()));
        gd::story::Story story;
        story.bible = answer.toObject();
        problems = gd::story::StoryLoader::readBible(story);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    }

    void shotsNameTheCastWithTheirLooks_data()
    {
        QTest::addColumn<quint64>("seed");
        for (quint64 seed : {3ULL, 11ULL, 99ULL, 2024ULL})
            QTest::newRow(qPrintable(QString::number(seed))) << seed;
    }
    void shotsNameTheCastWithTheirLooks()
    {
        QFETCH(quint64, seed);
        const QStringList names{QStringLiteral("Mara Voss"), QStringLiteral("Ilan Reyes")};
        const QHash<QString, QStringList> looks{{names.at(0), {QStringLiteral("everyday"), QStringLiteral("storm-gear")}},
                                                {names.at(1), {QStringLiteral("default")}}};
        const QJsonObject schema = StoryGenerator::shotsSchema(
            names, {QStringLiteral("everyday"), QStringLiteral("storm-gear"), QStringLiteral("default")}, {QStringLiteral("Lamp room")});
        StoryCorpus corpus(seed, shotsContext());
        const QJsonValue answer = corpus.fill(schema);
        const QStringList problems = JsonSchemaCheck::check(answer, schema);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        const QJsonArray shots = answer.toObject().value(QStringLiteral("shots")).toArray();
        QVERIFY(shots.size() >= 2 && shots.size() <= StoryGenerator::kMaxShotsPerScene);
        for (const QJsonValue& v : shots) {
            const QJsonObject shot = v.toObject();
            const QString first = shot.value(QStringLiteral("firstFrame")).toString();
            QVERIFY2(!pronoun().match(first).hasMatch(), qPrintable(first));
            QVERIFY2(!pronoun().match(shot.value(QStringLiteral("lastFrame")).toString()).hasMatch(),
                     qPrintable(shot.value(QStringLiteral("lastFrame")).toString()));
            const QJsonArray visible = shot.value(QStringLiteral("visibleCharacters")).toArray();
            QVERIFY(!visible.isEmpty());
            for (const QJsonValue& c : visible) {
                const QString name = c.toObject().value(QStringLiteral("name")).toString();
                const QString look = c.toObject().value(QStringLiteral("look")).toString();
                QVERIFY2(looks.value(name).contains(look), qPrintable(name + QLatin1Char('#') + look));
                // Named in the frame, so composeShotPrompt can inject the look after the name.
                QVERIFY2(first.contains(name), qPrintable(first));
            }
        }
        // Deterministic for a seed.
        StoryCorpus again(seed, shotsContext());
        QCOMPARE(again.fill(schema), answer);
    }

    void sceneWithoutCastHasEmptyShots()
    {
        const QJsonObject schema = StoryGenerator::shotsSchema({}, {}, {});
        StoryCorpus corpus(5, QStringLiteral("Plan the shots of one scene. Nobody appears."));
        const QJsonValue answer = corpus.fill(schema);
        QVERIFY(JsonSchemaCheck::check(answer, schema).isEmpty());
        for (const QJsonValue& v : answer.toObject().value(QStringLiteral("shots")).toArray())
            QVERIFY(v.toObject().value(QStringLiteral("visibleCharacters")).toArray().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestStoryCorpus)
#include "tst_storycorpus.moc"
