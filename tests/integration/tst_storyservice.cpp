#include "llm/StoryService.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"
#include "story/StoryLoader.h"
#include "story/StoryShots.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QRegularExpression>
#include <QEventLoop>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using gd::llm::StoryService;
using gd::sandbox::LlmFaultRule;

// From an idea to a Story through the real client against the LM Studio stand-in: the failure
// cases of the story issue, end to end (health check, detection, model choice, generator).
class TestStoryService : public QObject
{
    Q_OBJECT

    struct Outcome
    {
        StoryService::Outcome outcome = StoryService::Outcome::GenerationFailed;
        gd::story::Story story;
        QJsonObject llm;
        QString error;
        QStringList warnings;
        QStringList stages;
        int tokens = 0;
        double seconds = 0;
    };

    Outcome generate(const QString& url, gd::llm::StoryRequest req, const QString& rawDir = {},
                     std::function<void(StoryService*)> hook = {}, int inactivityMs = 90000)
    {
        gd::llm::StoryServiceOptions opt;
        opt.llmUrl = url;
        opt.rawDir = rawDir;
        opt.env = QProcessEnvironment(); // no operator environment leaks into the test
        opt.inactivityTimeoutMs = inactivityMs;
        StoryService s(opt);
        Outcome o;
        QEventLoop loop;
        connect(&s, &StoryService::warning, this, [&](const QString& w) { o.warnings << w; });
        connect(&s, &StoryService::stageStarted, this, [&](const QString& st) { o.stages << st; });
        connect(&s, &StoryService::token, this, [&](const QString&, const QString&) { ++o.tokens; });
        connect(&s, &StoryService::finished, &loop,
                [&](StoryService::Outcome out, const gd::story::Story& story, const QJsonObject& llm, const QJsonArray&,
                    const gd::telemetry::LlmHealthInfo&, const QString& error) {
                    o.outcome = out;
                    o.story = story;
                    o.llm = llm;
                    o.error = error;
                    loop.quit();
                });
        if (hook)
            hook(&s);
        QElapsedTimer t;
        t.start();
        QTimer::singleShot(0, &s, [&] { s.start(req); });
        QTimer::singleShot(120000, &loop, &QEventLoop::quit);
        loop.exec();
        o.seconds = t.elapsed() / 1000.0;
        return o;
    }
    static gd::llm::StoryRequest request(int scenes = 3)
    {
        gd::llm::StoryRequest r;
        r.idea = QStringLiteral("A keeper on a drowned world must relight the beacon");
        r.genre = QStringLiteral("sci-fi");
        r.sceneCount = scenes;
        r.seed = 7;
        return r;
    }
    static LlmFaultRule fault(const QString& spec)
    {
        QString e;
        auto f = LlmFaultRule::parse(spec, &e);
        if (!f)
            qFatal("bad fault %s", qPrintable(spec));
        return *f;
    }

private Q_SLOTS:
    void happyPathProducesAValidStory()
    {
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start({}, 0, nullptr));
        const Outcome o = generate(host.url().toString(), request(4));
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        QCOMPARE(o.story.scenes.size(), 4);
        QStringList problems;
        QVERIFY(gd::story::StoryLoader::fromObject(gd::story::StoryLoader::toJson(o.story), &problems).has_value());
        QVERIFY(o.tokens > 10); // streamed
        QCOMPARE(o.llm.value(QStringLiteral("Status")).toString(), QStringLiteral("success"));
        QCOMPARE(o.llm.value(QStringLiteral("RequestFormat")).toString(), QStringLiteral("json_schema"));
        QVERIFY(o.llm.value(QStringLiteral("CompletionTokens")).toInt() > 0);
        for (const auto& sc : o.story.scenes)
            QVERIFY(!sc.themes.isEmpty() && sc.themes.size() <= 3);
    }

    // Issue 8: the sandbox writes a storyboard-ready story — shot lists naming bible characters in
    // looks they have, reference-sheet prompts, locations — that validates as story.json.
    void sandboxStoryHasShotsLooksAndReferences()
    {
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start({}, 0, nullptr));
        const Outcome o = generate(host.url().toString(), request(3));
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        QCOMPARE(o.stages.filter(QStringLiteral("shots:")),
                 (QStringList{QStringLiteral("shots:scene-001"), QStringLiteral("shots:scene-002"), QStringLiteral("shots:scene-003")}));
        const gd::story::Story& s = o.story;
        QCOMPARE(s.templateVersion, QStringLiteral("2.0"));
        QVERIFY(!s.locations.isEmpty());
        int looks = 0;
        for (const auto& c : s.characters) {
            QVERIFY2(c.referencePrompt.contains(c.name), qPrintable(c.referencePrompt));
            looks += int(c.looks.size());
        }
        QVERIFY(looks > s.characters.size()); // someone has a second look
        static const QRegularExpression pronoun(QStringLiteral("\\b(he|she|him|her|his|hers)\\b"),
                                                QRegularExpression::CaseInsensitiveOption);
        for (const auto& sc : s.scenes) {
            QVERIFY(!sc.shots.isEmpty() && sc.shots.size() <= 4);
            for (const auto& shot : sc.shots) {
                QVERIFY2(!pronoun.match(shot.firstFrame).hasMatch(), qPrintable(shot.firstFrame));
                for (const auto& v : shot.visibleCharacters) {
                    QVERIFY2(sc.characters.contains(v.name), qPrintable(v.name));
                    QVERIFY(gd::story::findLook(s, v.name, v.look));
                    // The keyframe prompt carries the look after the name.
                    const QString prompt = gd::story::composeShotPrompt(s, sc, shot).prompt;
                    const QString tagged = v.name + QStringLiteral(" (") + gd::story::findLook(s, v.name, v.look)->descriptor;
                    QVERIFY2(prompt.contains(tagged), qPrintable(prompt));
                }
            }
        }
        QStringList problems;
        QVERIFY2(gd::story::StoryLoader::fromObject(gd::story::StoryLoader::toJson(s), &problems).has_value(),
                 qPrintable(problems.join(QLatin1Char('\n'))));
    }

    void noShotsKeepsTheStoryAsBefore()
    {
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start({}, 0, nullptr));
        gd::llm::StoryRequest r = request(2);
        r.shots = false;
        const Outcome o = generate(host.url().toString(), r);
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        QVERIFY(o.stages.filter(QStringLiteral("shots:")).isEmpty());
        for (const auto& sc : o.story.scenes)
            QVERIFY(sc.shots.isEmpty());
        QVERIFY(o.story.locations.isEmpty());
        QVERIFY(!gd::story::StoryLoader::toJson(o.story).value(QStringLiteral("scenes")).toArray().at(0).toObject().contains(
            QStringLiteral("shots")));
    }

    void tolerantParsingAndCorrectiveRetry_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<int>("retries");
        QTest::newRow("fenced json with think block") << QStringLiteral("fenced-think:1") << 0;
        QTest::newRow("malformed then valid") << QStringLiteral("malformed-json:1") << 1;
        QTest::newRow("truncated then valid") << QStringLiteral("truncated:1") << 1;
        QTest::newRow("503 while loading then success") << QStringLiteral("loading-503:2") << 0;
        QTest::newRow("mid-stream error then valid") << QStringLiteral("stream-error:1") << 1;
    }
    void tolerantParsingAndCorrectiveRetry()
    {
        QFETCH(QString, spec);
        QFETCH(int, retries);
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start({}, 0, nullptr));
        host.addFault(fault(spec));
        const Outcome o = generate(host.url().toString(), request(3));
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        QCOMPARE(o.story.scenes.size(), 3);
        QCOMPARE(o.llm.value(QStringLiteral("Retries")).toInt(), retries);
    }

    void persistentFailureSavesRawAnswersAndInventsNothing()
    {
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start({}, 0, nullptr));
        host.addFault(fault(QStringLiteral("fewer-items:0"))); // every answer lacks a scene
        QTemporaryDir raw;
        const Outcome o = generate(host.url().toString(), request(3), raw.path());
        QCOMPARE(o.outcome, StoryService::Outcome::GenerationFailed);
        QVERIFY(o.story.scenes.isEmpty());
        QVERIFY(!o.error.isEmpty());
        QVERIFY(QDir(raw.path()).entryList(QDir::Files).size() >= 2); // first answer and the retry
    }

    void serverDownIsLlmUnavailableQuickly()
    {
        quint16 port;
        {
            QTcpServer probe;
            probe.listen(QHostAddress::LocalHost, 0);
            port = probe.serverPort();
        }
        const Outcome o = generate(QStringLiteral("http://127.0.0.1:%1").arg(port), request());
        QCOMPARE(o.outcome, StoryService::Outcome::LlmUnavailable);
        QVERIFY(o.seconds < 10.0);
        QVERIFY2(o.error.contains(QStringLiteral("Start LM Studio")), qPrintable(o.error));
    }

    void noUsableModel_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::newRow("no model loaded") << QStringLiteral("no-model:0");
        QTest::newRow("only an embedding model") << QStringLiteral("embedding-only:0");
    }
    void noUsableModel()
    {
        QFETCH(QString, spec);
        gd::sandbox::SandboxLlmConfig cfg;
        cfg.faults << fault(spec);
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start(cfg, 0, nullptr));
        const Outcome o = generate(host.url().toString(), request());
        QCOMPARE(o.outcome, StoryService::Outcome::LlmUnavailable);
        QVERIFY2(o.error.contains(QStringLiteral("model"), Qt::CaseInsensitive), qPrintable(o.error));
    }

    void contextOverflowIsReportedWithNumbers()
    {
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start({}, 0, nullptr));
        host.addFault(fault(QStringLiteral("context-overflow:0")));
        const Outcome o = generate(host.url().toString(), request());
        QCOMPARE(o.outcome, StoryService::Outcome::GenerationFailed);
        QVERIFY2(o.error.contains(QRegularExpression(QStringLiteral("\\d{3,}"))), qPrintable(o.error));
        QCOMPARE(host.server()->chatRequestCount(), 1); // a 400 is never retried
    }

    void stalledStreamHitsTheInactivityTimeout()
    {
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start({}, 0, nullptr));
        host.addFault(fault(QStringLiteral("stall:0")));
        const Outcome o = generate(host.url().toString(), request(), {}, {}, 1000);
        QCOMPARE(o.outcome, StoryService::Outcome::GenerationFailed);
        QVERIFY2(o.error.contains(QStringLiteral("timeout"), Qt::CaseInsensitive) || o.error.contains(QStringLiteral("no data")),
                 qPrintable(o.error));
        QVERIFY(o.seconds < 30);
    }

    void emptyIdeaSendsNoRequest()
    {
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start({}, 0, nullptr));
        gd::llm::StoryRequest r = request();
        r.idea = QStringLiteral("   ");
        const Outcome o = generate(host.url().toString(), r);
        QCOMPARE(o.outcome, StoryService::Outcome::BadInput);
        QCOMPARE(host.server()->chatRequestCount(), 0);
    }

    void longIdeaIsTruncatedWithAWarning()
    {
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start({}, 0, nullptr));
        gd::llm::StoryRequest r = request(2);
        r.idea = QString(20000, QLatin1Char('x'));
        const Outcome o = generate(host.url().toString(), r);
        QVERIFY2(o.outcome == StoryService::Outcome::Ok, qPrintable(o.error));
        QVERIFY2(o.warnings.join(QLatin1Char(' ')).contains(QStringLiteral("only the first"), Qt::CaseInsensitive),
                 qPrintable(o.warnings.join(QLatin1Char('\n'))));
    }

    void cancelDuringStreamingAborts()
    {
        gd::sandbox::SandboxLlmConfig cfg;
        cfg.tokenDelayMs = 20;
        gd::sandbox::SandboxLlmHost host;
        QVERIFY(host.start(cfg, 0, nullptr));
        const Outcome o = generate(host.url().toString(), request(), {}, [](StoryService* s) {
            QObject::connect(s, &StoryService::token, s, [s](const QString&, const QString&) { s->cancel(); });
        });
        QCOMPARE(o.outcome, StoryService::Outcome::Cancelled);
        QVERIFY(o.story.scenes.isEmpty());
        QTRY_COMPARE(host.server()->abortedStreams(), 1);
    }
};

QTEST_GUILESS_MAIN(TestStoryService)
#include "tst_storyservice.moc"
