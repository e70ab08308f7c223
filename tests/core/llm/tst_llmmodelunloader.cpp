// LlmModelUnloader (`gemdirect run --unload-llm`) against the sandbox LLM server playing LM Studio ≥ 0.4
// (/api/v1 unload), LM Studio 0.3.x (/api/v0 only, no unload API), Ollama and llama.cpp, plus an
// unreachable server and one that requires an API key (llm-api.md §2.1, §2.2, §2.3).
#include "llm/LlmModelUnloader.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTcpServer>
#include <QTimer>
#include <QtTest>
#include <optional>

using gd::llm::LlmModelUnloader;
using gd::llm::UnloadOutcome;
using gd::sandbox::SandboxLlmConfig;
using gd::sandbox::SandboxLlmHost;

namespace {

const QString kStory = QStringLiteral("sandbox-story-7b-instruct");
const QString kEmbedding = QStringLiteral("text-embedding-nomic-embed-text-v1.5");
const QString kVision = QStringLiteral("sandbox-vision-2b");

// Runs one unloadAll() to its callback, counting the callbacks (exactly one is the contract).
UnloadOutcome unload(const QUrl& url, const QString& key = {}, int* callbacks = nullptr)
{
    LlmModelUnloader unloader(url, key);
    std::optional<UnloadOutcome> out;
    int calls = 0;
    QEventLoop loop;
    unloader.unloadAll([&](const UnloadOutcome& o) {
        ++calls;
        out = o;
        loop.quit();
    });
    QTimer::singleShot(20000, &loop, &QEventLoop::quit);
    if (!out)
        loop.exec();
    QTest::qWait(50); // a second callback would arrive here
    if (callbacks)
        *callbacks = calls;
    return out.value_or(UnloadOutcome{QStringLiteral("TEST TIMEOUT"), {}, {}, {}});
}

QJsonObject getJson(const QUrl& url, const QString& key = {})
{
    QNetworkAccessManager nam;
    QNetworkRequest request(url);
    if (!key.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + key.toUtf8());
    QNetworkReply* reply = nam.get(request);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    const QJsonObject o = QJsonDocument::fromJson(reply->readAll()).object();
    reply->deleteLater();
    return o;
}

// Instance ids the server lists as loaded in its v1 catalogue.
QStringList loadedV1(const QUrl& base, const QString& key = {})
{
    QUrl u = base;
    u.setPath(QStringLiteral("/api/v1/models"));
    return LlmModelUnloader::loadedInstancesV1(getJson(u, key));
}

} // namespace

class TestLlmModelUnloader : public QObject
{
    Q_OBJECT

    std::unique_ptr<SandboxLlmHost> m_host;

    QUrl start(const SandboxLlmConfig& config)
    {
        m_host = std::make_unique<SandboxLlmHost>();
        QString e;
        if (!m_host->start(config, 0, &e))
            qFatal("sandbox LLM: %s", qPrintable(e));
        return m_host->url();
    }

private Q_SLOTS:
    void cleanup() { m_host.reset(); }

    void v1UnloadsEveryLoadedInstance()
    {
        SandboxLlmConfig c;
        c.visionModel = true;
        const QUrl url = start(c);
        QCOMPARE(loadedV1(url), (QStringList{kStory, kVision, kEmbedding}));
        int callbacks = 0;
        const UnloadOutcome o = unload(url, {}, &callbacks);
        QCOMPARE(callbacks, 1);
        QCOMPARE(o.status, QStringLiteral("unloaded"));
        QCOMPARE(o.endpoint, QStringLiteral("/api/v1/models/unload"));
        QCOMPARE(o.models, (QStringList{kStory, kVision, kEmbedding}));
        QVERIFY2(o.message.contains(kStory), qPrintable(o.message));
        // The server's own view: nothing is loaded any more (v1 and v0 agree).
        QVERIFY(loadedV1(url).isEmpty());
        QVERIFY(!m_host->server()->modelLoaded());
        QUrl v0 = url;
        v0.setPath(QStringLiteral("/api/v0/models"));
        QVERIFY(LlmModelUnloader::loadedModelsV0(getJson(v0)).isEmpty());
        const QJsonObject json = o.toJson();
        QCOMPARE(json.value(QStringLiteral("Status")).toString(), QStringLiteral("unloaded"));
        QCOMPARE(json.value(QStringLiteral("Models")).toArray().size(), 3);
    }

    void nothingLoadedUnloadsNothing_data()
    {
        QTest::addColumn<bool>("apiV1");
        QTest::newRow("LM Studio 0.4 (v1)") << true;
        QTest::newRow("LM Studio 0.3 (v0 only)") << false;
    }
    void nothingLoadedUnloadsNothing()
    {
        QFETCH(bool, apiV1);
        SandboxLlmConfig c;
        c.modelLoaded = false;
        c.embeddingModelLoaded = false;
        c.lmStudioApiV1 = apiV1;
        const QUrl url = start(c);
        const UnloadOutcome o = unload(url);
        QCOMPARE(o.status, QStringLiteral("nothingLoaded"));
        QVERIFY(o.models.isEmpty());
        QVERIFY2(o.message.contains(QStringLiteral("nothing to unload")), qPrintable(o.message));
        QCOMPARE(m_host->server()->chatRequestCount(), 0); // listing only: nothing was loaded by asking
        QVERIFY(!m_host->server()->modelLoaded());
    }

    void v0OnlyLmStudioGetsAnInstructionNamingTheModels_data()
    {
        QTest::addColumn<bool>("unknownEndpoint200");
        // Older builds answer an unknown endpoint with 200 and an error text (spec §1.7), newer with 404.
        QTest::newRow("unknown endpoint 200") << true;
        QTest::newRow("unknown endpoint 404") << false;
    }
    void v0OnlyLmStudioGetsAnInstructionNamingTheModels()
    {
        QFETCH(bool, unknownEndpoint200);
        SandboxLlmConfig c;
        c.lmStudioApiV1 = false;
        c.legacyUnknownEndpoint200 = unknownEndpoint200;
        const QUrl url = start(c);
        const UnloadOutcome o = unload(url);
        QCOMPARE(o.status, QStringLiteral("instructed"));
        QVERIFY(o.endpoint.isEmpty());
        QCOMPARE(o.models, (QStringList{kStory, kEmbedding}));
        QVERIFY2(o.message.contains(QStringLiteral("no unload API")) && o.message.contains(kStory) &&
                     o.message.contains(QStringLiteral("lms unload --all")),
                 qPrintable(o.message));
        QVERIFY(m_host->server()->modelLoaded()); // nothing was unloaded behind the operator's back
    }

    void otherServersGetAnInstruction_data()
    {
        QTest::addColumn<QString>("flavour");
        QTest::newRow("Ollama") << QStringLiteral("ollama");
        QTest::newRow("llama.cpp server") << QStringLiteral("llamacpp");
    }
    void otherServersGetAnInstruction()
    {
        QFETCH(QString, flavour);
        SandboxLlmConfig c;
        c.flavour = flavour;
        const QUrl url = start(c);
        const UnloadOutcome o = unload(url);
        QCOMPARE(o.status, QStringLiteral("instructed"));
        QVERIFY(o.models.isEmpty());
        QVERIFY2(o.message.contains(QStringLiteral("offers no LM Studio model API")) &&
                     o.message.contains(QStringLiteral("ollama stop")) && o.message.contains(url.toString()),
                 qPrintable(o.message));
    }

    void unreachableServerFailsWithTheReason()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        const QUrl url(QStringLiteral("http://127.0.0.1:%1").arg(port));
        int callbacks = 0;
        const UnloadOutcome o = unload(url, {}, &callbacks);
        QCOMPARE(callbacks, 1);
        QCOMPARE(o.status, QStringLiteral("failed"));
        QVERIFY2(o.message.contains(QStringLiteral("did not answer")) && o.message.contains(url.toString()) &&
                     o.message.contains(QStringLiteral("refused"), Qt::CaseInsensitive),
                 qPrintable(o.message));
    }

    void apiKeyIsSentAsBearerToken()
    {
        SandboxLlmConfig c;
        c.apiKey = QStringLiteral("lm-secret-token");
        const QUrl url = start(c);
        // Without the key LM Studio refuses the list: a failure that says which option gives it.
        const UnloadOutcome refused = unload(url);
        QCOMPARE(refused.status, QStringLiteral("failed"));
        QVERIFY2(refused.message.contains(QStringLiteral("HTTP 401")) && refused.message.contains(QStringLiteral("--llm-token")),
                 qPrintable(refused.message));
        QVERIFY(!refused.message.contains(c.apiKey));
        QVERIFY(m_host->server()->modelLoaded());
        // With it, the list and every unload carry "Authorization: Bearer <key>".
        const UnloadOutcome o = unload(url, c.apiKey);
        QCOMPARE(o.status, QStringLiteral("unloaded"));
        QCOMPARE(o.models, (QStringList{kStory, kEmbedding}));
        QVERIFY(!m_host->server()->modelLoaded());
        QVERIFY(loadedV1(url, c.apiKey).isEmpty());
        QVERIFY(!o.message.contains(c.apiKey));
    }

    void listingsAreReadDefensively()
    {
        // The v1 catalogue of spec §2.2 and the v0 list of §2.1; anything else yields nothing.
        const QJsonObject v1 = QJsonDocument::fromJson(R"({"models":[
            {"type":"llm","key":"google/gemma-3-4b","loaded_instances":[{"id":"google/gemma-3-4b","config":{"context_length":4096}},
                                                                         {"id":"google/gemma-3-4b:2","config":{}}]},
            {"type":"embedding","key":"nomic","loaded_instances":[]},
            {"type":"llm","key":"odd","loaded_instances":[{"config":{}},{"id":""},{"id":42},"x"]},
            {"type":"llm","key":"dup","loaded_instances":[{"id":"google/gemma-3-4b"}]}]})")
                                   .object();
        QCOMPARE(LlmModelUnloader::loadedInstancesV1(v1), (QStringList{QStringLiteral("google/gemma-3-4b"),
                                                                        QStringLiteral("google/gemma-3-4b:2")}));
        const QJsonObject v0 = QJsonDocument::fromJson(R"({"object":"list","data":[
            {"id":"qwen2-vl-7b-instruct","state":"not-loaded"},
            {"id":"google/gemma-3-4b","state":"loaded","loaded_context_length":12918}]})")
                                   .object();
        QCOMPARE(LlmModelUnloader::loadedModelsV0(v0), QStringList{QStringLiteral("google/gemma-3-4b")});
        for (const char* junk : {R"({"models":"none"})", R"({"models":[1,2,null]})", R"({"data":{}})", "{}"}) {
            const QJsonObject o = QJsonDocument::fromJson(junk).object();
            QVERIFY(LlmModelUnloader::loadedInstancesV1(o).isEmpty());
            QVERIFY(LlmModelUnloader::loadedModelsV0(o).isEmpty());
        }
    }
};

QTEST_GUILESS_MAIN(TestLlmModelUnloader)
#include "tst_llmmodelunloader.moc"
