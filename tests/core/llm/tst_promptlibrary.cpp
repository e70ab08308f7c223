#include "llm/PromptLibrary.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

using gd::llm::PromptLibrary;
using gd::llm::PromptTemplate;

class TestPromptLibrary : public QObject
{
    Q_OBJECT

private:
    static PromptTemplate builtin(const QString& key)
    {
        QStringList problems;
        const auto lib = PromptLibrary::load({}, &problems);
        const auto t = lib.find(key);
        if (!t)
            qFatal("built-in template missing");
        return *t;
    }

    static void writeJson(const QString& path, const QJsonObject& o)
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(o).toJson());
    }

private Q_SLOTS:
    void builtinsLoadCleanly()
    {
        QStringList problems;
        const PromptLibrary lib = PromptLibrary::load({}, &problems);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        QStringList keys;
        for (const PromptTemplate& t : lib.templates())
            keys << t.key();
        keys.sort();
        // 2.0 adds the shots section; 1.0 stays loadable for stories that name it.
        QCOMPARE(keys, (QStringList{QStringLiteral("story-drama@1.0"), QStringLiteral("story-drama@2.0"),
                                    QStringLiteral("story-sci-fi@1.0"), QStringLiteral("story-sci-fi@2.0"),
                                    QStringLiteral("story-thriller@1.0"), QStringLiteral("story-thriller@2.0")}));
        for (const PromptTemplate& t : lib.templates()) {
            QVERIFY2(PromptLibrary::validate(t).isEmpty(), qPrintable(t.key()));
            QVERIFY(t.sourcePath.startsWith(QStringLiteral(":/prompts/v%1/").arg(t.version)));
            QCOMPARE(t.shotsStage.isEmpty(), t.version == QLatin1String("1.0"));
            QVERIFY(t.created.isValid());
            QVERIFY(!t.mandatoryElements.isEmpty());
            QVERIFY(!t.characterArchetypes.isEmpty());
            QVERIFY(!t.palette.isEmpty());
            QVERIFY(!t.qualityThresholds.isEmpty());
        }
    }

    // The manifest is what operators and docs read; it must describe the shipped files exactly.
    void manifestMatchesTemplates()
    {
        QFile f(QStringLiteral(":/prompts/manifest.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonArray entries = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("templates")).toArray();
        QStringList problems;
        const PromptLibrary lib = PromptLibrary::load({}, &problems);
        QCOMPARE(entries.size(), lib.templates().size());
        for (const QJsonValue& v : entries) {
            const QJsonObject e = v.toObject();
            const QString key = e.value(QStringLiteral("id")).toString() + QLatin1Char('@') + e.value(QStringLiteral("version")).toString();
            const auto t = lib.find(key);
            QVERIFY2(t.has_value(), qPrintable(key));
            QCOMPARE(t->sourcePath, QStringLiteral(":/prompts/") + e.value(QStringLiteral("path")).toString());
            const QJsonObject full = PromptLibrary::toJson(*t);
            for (const char* field : {"author", "created", "genre", "tone", "contextLength", "tokenLimit", "mandatoryElements",
                                      "characterArchetypes", "palette", "qualityThresholds"})
                QVERIFY2(full.value(QLatin1String(field)) == e.value(QLatin1String(field)),
                         qPrintable(key + QStringLiteral(": ") + QLatin1String(field)));
        }
    }

    void validate_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty system") << "system" << "   " << "sections.system: required and must not be empty";
        QTest::newRow("bible without idea") << "bible" << "Write a bible for {{sceneCount}} scenes." << "sections.bible: missing placeholder {{idea}}";
        QTest::newRow("scenes without bible") << "scenes" << "{{sceneCount}} scenes with {{themes}}" << "sections.scenes: missing placeholder {{bible}}";
        QTest::newRow("prompt without descriptors") << "prompt"
                                                     << "{{scene}} {{directorsVision}} {{cameraMovement}} {{palette}} {{negativePrompt}}"
                                                     << "sections.prompt: missing placeholder {{characterDescriptors}}";
        QTest::newRow("shots without looks") << "shots" << "{{scene}} in up to {{maxShots}} shots"
                                             << "sections.shots: missing placeholder {{characterLooks}}";
        QTest::newRow("typo placeholder") << "system" << "You write {{genre}} for {{audiance}}." << "sections.system: unknown placeholder {{audiance}}";
        QTest::newRow("version without minor") << "version" << "1" << "version: '1' is not \"major.minor\"";
        QTest::newRow("version with prefix") << "version" << "v1.0" << "version: 'v1.0' is not \"major.minor\"";
        QTest::newRow("unknown genre") << "genre" << "space-opera" << "genre: 'space-opera' is not one of";
        QTest::newRow("zero token limit") << "tokenLimit" << "0" << "tokenLimit: must be greater than 0";
    }

    void validate()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        PromptTemplate t = builtin(QStringLiteral("story-drama"));
        QVERIFY(PromptLibrary::validate(t).isEmpty());
        if (field == QLatin1String("system"))
            t.system = value;
        else if (field == QLatin1String("bible"))
            t.bibleStage = value;
        else if (field == QLatin1String("scenes"))
            t.scenesStage = value;
        else if (field == QLatin1String("prompt"))
            t.promptStage = value;
        else if (field == QLatin1String("shots"))
            t.shotsStage = value;
        else if (field == QLatin1String("version"))
            t.version = value;
        else if (field == QLatin1String("genre"))
            t.genre = value;
        else if (field == QLatin1String("tokenLimit"))
            t.tokenLimit = value.toInt();
        const QStringList problems = PromptLibrary::validate(t);
        QVERIFY2(problems.join(QLatin1Char('\n')).contains(expected), qPrintable(problems.join(QLatin1Char('\n'))));
    }

    void userTemplatesLoadAndNewestWins()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        PromptTemplate newer = builtin(QStringLiteral("story-drama"));
        newer.version = QStringLiteral("2.10");
        newer.author = QStringLiteral("operator");
        QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("v2.10")));
        writeJson(dir.filePath(QStringLiteral("v2.10/story-drama.json")), PromptLibrary::toJson(newer));
        PromptTemplate older = newer;
        older.version = QStringLiteral("2.9");
        writeJson(dir.filePath(QStringLiteral("story-drama-2.9.json")), PromptLibrary::toJson(older));

        QStringList problems;
        const PromptLibrary lib = PromptLibrary::load({dir.path(), dir.filePath(QStringLiteral("does-not-exist"))}, &problems);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        QCOMPARE(lib.templates().size(), 8);
        // "2.10" is newer than "2.9": versions compare as numbers, not text.
        QCOMPARE(lib.find(QStringLiteral("story-drama"))->version, QStringLiteral("2.10"));
        QCOMPARE(lib.find(QStringLiteral("story-drama"))->author, QStringLiteral("operator"));
        QCOMPARE(lib.find(QStringLiteral("story-drama@1.0"))->author, QStringLiteral("gemDirect Studio"));
        QCOMPARE(lib.find(QStringLiteral("story-drama@2.9"))->version, QStringLiteral("2.9"));
        QVERIFY(!lib.find(QStringLiteral("story-drama@3.0")));
        QVERIFY(!lib.find(QStringLiteral("story-western")));
        QCOMPARE(lib.forGenre(QStringLiteral("Drama"))->version, QStringLiteral("2.10"));
        QCOMPARE(lib.forGenre(QStringLiteral("thriller"))->id, QStringLiteral("story-thriller"));
        QVERIFY(!lib.forGenre(QStringLiteral("western")));
    }

    void badUserFilesAreReportedAndSkipped()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        {
            QFile f(dir.filePath(QStringLiteral("broken.json")));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("{ \"id\": \"story-broken\", ");
        }
        PromptTemplate noPrompt = builtin(QStringLiteral("story-sci-fi"));
        noPrompt.id = QStringLiteral("story-noprompt");
        QJsonObject o = PromptLibrary::toJson(noPrompt);
        QJsonObject sections = o.value(QStringLiteral("sections")).toObject();
        sections.remove(QStringLiteral("prompt"));
        o.insert(QStringLiteral("sections"), sections);
        writeJson(dir.filePath(QStringLiteral("noprompt.json")), o);
        // Same key as a released built-in: released templates are immutable.
        PromptTemplate shadow = builtin(QStringLiteral("story-sci-fi"));
        shadow.author = QStringLiteral("someone else");
        writeJson(dir.filePath(QStringLiteral("shadow.json")), PromptLibrary::toJson(shadow));
        PromptTemplate good = builtin(QStringLiteral("story-thriller"));
        good.id = QStringLiteral("story-heist");
        writeJson(dir.filePath(QStringLiteral("heist.json")), PromptLibrary::toJson(good));

        QStringList problems;
        const PromptLibrary lib = PromptLibrary::load({dir.path()}, &problems);
        const QString all = problems.join(QLatin1Char('\n'));
        QVERIFY2(all.contains(dir.filePath(QStringLiteral("broken.json")) + QStringLiteral(": invalid JSON")), qPrintable(all));
        QVERIFY2(all.contains(dir.filePath(QStringLiteral("noprompt.json")) + QStringLiteral(": sections.prompt: required")),
                 qPrintable(all));
        QVERIFY2(all.contains(dir.filePath(QStringLiteral("shadow.json")) + QStringLiteral(": story-sci-fi@2.0 is already defined")),
                 qPrintable(all));
        QCOMPARE(problems.size(), 3);
        QVERIFY(lib.find(QStringLiteral("story-heist")));
        QVERIFY(!lib.find(QStringLiteral("story-noprompt")));
        QCOMPARE(lib.find(QStringLiteral("story-sci-fi"))->author, QStringLiteral("gemDirect Studio"));
    }

    void renderFillsPlaceholdersOnce()
    {
        const QHash<QString, QString> values{{QStringLiteral("idea"), QStringLiteral("a heist {{bible}}")},
                                             {QStringLiteral("sceneCount"), QStringLiteral("5")},
                                             {QStringLiteral("bible"), QStringLiteral("SHOULD NOT APPEAR")}};
        QCOMPARE(PromptLibrary::render(QStringLiteral("Idea: {{idea}}; {{ sceneCount }} scenes; {{unknown}}"), values),
                 QStringLiteral("Idea: a heist {{bible}}; 5 scenes; {{unknown}}"));
    }

    void compareVersions_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<int>("sign");
        QTest::newRow("minor as number") << "1.10" << "1.9" << 1;
        QTest::newRow("major wins") << "2.0" << "1.99" << 1;
        QTest::newRow("equal") << "1.0" << "1.0" << 0;
        QTest::newRow("older") << "1.0" << "1.1" << -1;
    }

    void compareVersions()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(int, sign);
        const int c = PromptLibrary::compareVersions(a, b);
        QCOMPARE((c > 0) - (c < 0), sign);
    }
};

QTEST_GUILESS_MAIN(TestPromptLibrary)
#include "tst_promptlibrary.moc"
