#include "llm/StoryService.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"
#include "story/StoryLoader.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QTest>
#include <QTimer>

using gd::llm::StoryService;
using gd::sandbox::LlmFaultRule;

// Regenerating ONE scene's render prompt (StoryService::regenerateScene → StoryGenerator) against
// the LM Studio stand-in: only that scene's prompt fields change, the bible is the context, the
// prompt stage streams, checks and retries like in a full generation.
class TestSceneRegeneration : public QObject
{
    Q_OBJECT

    struct Outcome
    {
        StoryService::Outcome outcome = StoryService::Outcome::GenerationFailed;
        gd::story::Story story;
        QJsonObject llm;
        QString error;
        QStringList stages;
        QStringList warnings;
        QStringList tokenStages;
    };

    // A whole story from the sandbox, as the panel would hold it before "regenerate scene".
    gd::story::Story m_story;
    gd::sandbox::SandboxLlmHost* m_host = nullptr;
    int m_chatsBefore = 0;
    int chats() const { return m_host->server()->chatRequestCount() - m_chatsBefore; }

    static gd::llm::StoryServiceOptions options(const QString& url)
    {
        gd::llm::StoryServiceOptions opt;
        opt.llmUrl = url;
        opt.env = QProcessEnvironment(); // no operator environment leaks into the test
        return opt;
    }

    Outcome run(const std::function<void(StoryService&)>& begin)
    {
        StoryService s(options(m_host->url().toString()));
        Outcome o;
        QEventLoop loop;
        connect(&s, &StoryService::stageStarted, this, [&](const QString& st) { o.stages << st; });
        connect(&s, &StoryService::warning, this, [&](const QString& w) { o.warnings << w; });
        connect(&s, &StoryService::token, this, [&](const QString& st, const QString&) {
            if (!o.tokenStages.contains(st))
                o.tokenStages << st;
        });
        connect(&s, &StoryService::finished, &loop,
                [&](StoryService::Outcome out, const gd::story::Story& story, const QJsonObject& llm,
                    const QJsonArray&, const gd::telemetry::LlmHealthInfo&, const QString& error) {
                    o.outcome = out;
                    o.story = story;
                    o.llm = llm;
                    o.error = error;
                    loop.quit();
                });
        QTimer::singleShot(0, &s, [&] { begin(s); });
        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
        loop.exec();
        return o;
    }

    Outcome regenerate(const gd::story::Story& story, const QString& sceneId, gd::llm::StoryRequest req = {})
    {
        return run([&](StoryService& s) { s.regenerateScene(story, sceneId, req); });
    }

    static LlmFaultRule fault(const QString& spec)
    {
        QString e;
        auto f = LlmFaultRule::parse(spec, &e);
        if (!f)
            qFatal("bad fault %s", qPrintable(spec));
        return *f;
    }

    static QJsonObject sceneJson(const gd::story::StoryScene& sc)
    {
        gd::story::Story s;
        s.scenes = {sc};
        return gd::story::StoryLoader::toJson(s).value(QStringLiteral("scenes")).toArray().at(0).toObject();
    }

    static QJsonObject withoutPrompts(const gd::story::StoryScene& sc)
    {
        QJsonObject o = sceneJson(sc);
        o.remove(QStringLiteral("prompt"));
        o.remove(QStringLiteral("negativePrompt"));
        return o;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_host = new gd::sandbox::SandboxLlmHost(this);
        QVERIFY(m_host->start({}, 0, nullptr));
        gd::llm::StoryRequest req;
        req.idea = QStringLiteral("A keeper on a drowned world must relight the beacon");
        req.genre = QStringLiteral("sci-fi");
        req.sceneCount = 3;
        req.seed = 11;
        const Outcome o = run([&](StoryService& s) { s.start(req); });
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        m_story = o.story;
        // An operator's unknown key must survive the regeneration like every other field.
        m_story.scenes[1].raw.insert(QStringLiteral("operatorNote"), QStringLiteral("keep the fog"));
    }

    void init() { m_chatsBefore = m_host->server()->chatRequestCount(); }

    void onlyThatScenesPromptChanges()
    {
        const Outcome o = regenerate(m_story, QStringLiteral("scene-002"));
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        QCOMPARE(o.stages, QStringList{QStringLiteral("prompts:scene-002")});
        QCOMPARE(o.tokenStages, QStringList{QStringLiteral("prompts:scene-002")}); // streamed
        QCOMPARE(o.story.scenes.size(), m_story.scenes.size());
        QVERIFY(o.story.scenes.at(1).prompt != m_story.scenes.at(1).prompt);
        QVERIFY(!o.story.scenes.at(1).negativePrompt.isEmpty());
        const int tokens = gd::llm::StoryGenerator::estimateTokens(o.story.scenes.at(1).prompt);
        QVERIFY(tokens >= gd::llm::StoryGenerator::kMinPromptTokens &&
                tokens <= gd::llm::StoryGenerator::kMaxPromptTokens);
        QCOMPARE(withoutPrompts(o.story.scenes.at(1)), withoutPrompts(m_story.scenes.at(1)));
        for (int i : {0, 2})
            QCOMPARE(sceneJson(o.story.scenes.at(i)), sceneJson(m_story.scenes.at(i)));
        // Everything outside the scenes is untouched too.
        gd::story::Story before = m_story, after = o.story;
        before.scenes.clear();
        after.scenes.clear();
        QCOMPARE(gd::story::StoryLoader::toJson(after), gd::story::StoryLoader::toJson(before));
        QCOMPARE(o.llm.value(QStringLiteral("TemplateKey")).toString(),
                 m_story.templateId + QLatin1Char('@') + m_story.templateVersion);
        QCOMPARE(chats(), 1);
    }

    void editedBibleIsTheContext()
    {
        // The operator rewrote a character's look: the regenerated prompt repeats the new descriptor.
        gd::story::Story story = m_story;
        int row = -1;
        for (int i = 0; i < story.scenes.size() && row < 0; ++i)
            if (!story.scenes.at(i).characters.isEmpty())
                row = i;
        QVERIFY(row >= 0);
        const QString name = story.scenes.at(row).characters.first();
        const QString descriptor =
            QStringLiteral("tall diver in a crimson brass helmet with a cracked visor");
        QJsonArray characters = story.bible.value(QStringLiteral("characters")).toArray();
        for (int i = 0; i < characters.size(); ++i) {
            QJsonObject c = characters.at(i).toObject();
            if (c.value(QStringLiteral("name")).toString() == name) {
                c.insert(QStringLiteral("visualDescriptor"), descriptor);
                characters[i] = c;
            }
        }
        story.bible.insert(QStringLiteral("characters"), characters);
        const Outcome o = regenerate(story, story.scenes.at(row).id);
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        QVERIFY2(o.story.scenes.at(row).prompt.contains(descriptor),
                 qPrintable(o.story.scenes.at(row).prompt));
    }

    void badAnswerIsCorrectedOnce_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::newRow("malformed json") << QStringLiteral("malformed-json:1");
        QTest::newRow("cut off by max_tokens") << QStringLiteral("truncated:1");
    }
    void badAnswerIsCorrectedOnce()
    {
        QFETCH(QString, spec);
        m_host->addFault(fault(spec));
        const Outcome o = regenerate(m_story, QStringLiteral("scene-001"));
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        QCOMPARE(o.llm.value(QStringLiteral("Retries")).toInt(), 1);
        QCOMPARE(chats(), 2);
        QVERIFY(o.story.scenes.at(0).prompt != m_story.scenes.at(0).prompt);
    }

    void twoBadAnswersFailWithoutAStory()
    {
        m_host->addFault(fault(QStringLiteral("malformed-json:2")));
        const Outcome o = regenerate(m_story, QStringLiteral("scene-003"));
        QCOMPARE(o.outcome, StoryService::Outcome::GenerationFailed);
        QVERIFY(o.story.scenes.isEmpty());
        QVERIFY2(o.error.contains(QStringLiteral("prompts:scene-003")), qPrintable(o.error));
        QCOMPARE(chats(), 2);
    }

    void unknownSceneSendsNothing()
    {
        const Outcome o = regenerate(m_story, QStringLiteral("scene-042"));
        QCOMPARE(o.outcome, StoryService::Outcome::BadInput);
        QVERIFY2(o.error.contains(QStringLiteral("scene-042")), qPrintable(o.error));
        QCOMPARE(chats(), 0);
    }

    void missingTemplateVersionFallsBackWithAWarning()
    {
        gd::story::Story story = m_story;
        story.templateVersion = QStringLiteral("9.9");
        const Outcome o = regenerate(story, QStringLiteral("scene-001"));
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        QVERIFY2(o.warnings.join(QLatin1Char('\n')).contains(QStringLiteral("9.9")),
                 qPrintable(o.warnings.join(QLatin1Char('\n'))));
        // The newest installed version of the same template (2.0 since issue 8's shots section).
        QCOMPARE(o.llm.value(QStringLiteral("TemplateKey")).toString(),
                 m_story.templateId + QStringLiteral("@2.0"));
    }

    void sameSeedSameVariantNoSeedNewVariant()
    {
        gd::llm::StoryRequest seeded;
        seeded.seed = 99;
        const Outcome a = regenerate(m_story, QStringLiteral("scene-001"), seeded);
        const Outcome b = regenerate(m_story, QStringLiteral("scene-001"), seeded);
        QVERIFY2(a.outcome == StoryService::Outcome::Ok && b.outcome == StoryService::Outcome::Ok,
                 qPrintable(a.error + b.error));
        QCOMPARE(a.story.scenes.at(0).prompt, b.story.scenes.at(0).prompt);
        const Outcome c = regenerate(m_story, QStringLiteral("scene-001"));
        const Outcome d = regenerate(m_story, QStringLiteral("scene-001"));
        QVERIFY(c.outcome == StoryService::Outcome::Ok && d.outcome == StoryService::Outcome::Ok);
        QVERIFY(c.story.scenes.at(0).prompt != d.story.scenes.at(0).prompt);
    }
};

QTEST_GUILESS_MAIN(TestSceneRegeneration)
#include "tst_sceneregeneration.moc"
