#include "llm/LlmChatJob.h"
#include "llm/LlmClient.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>
#include <memory>
#include <optional>

using namespace gd::llm;
using gd::sandbox::LlmFaultKind;
using gd::sandbox::LlmFaultRule;
using gd::sandbox::SandboxLlmConfig;
using gd::sandbox::SandboxLlmHost;

namespace {

ChatRequest
storyRequest(const QString& text = QStringLiteral("Write one short scene about a lighthouse keeper."))
{
    ChatRequest r;
    r.messages = {{QStringLiteral("system"), QStringLiteral("You write short screen stories.")},
                  {QStringLiteral("user"), text}};
    r.temperature = 0.6;
    r.topP = 0.85;
    r.maxTokens = 400;
    return r;
}

QJsonObject sceneSchema()
{
    return QJsonDocument::fromJson("{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\"},\n"
                                   "        "
                                   "\"logline\":{\"type\":\"string\"},\"beats\":{\"type\":\"array\","
                                   "\"items\":{\"type\":\"string\"},\"minItems\":2,\"maxItems\":4}},\n"
                                   "        \"required\":[\"title\",\"logline\",\"beats\"]}")
        .object();
}

// A port nothing listens on.
quint16 closedPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

// Runs one chat to its end; collects the streamed pieces.
struct ChatRun
{
    std::optional<ChatResult> result;
    QStringList tokens;
    QStringList reasoning;
};

void runChat(LlmClient& client, const ChatRequest& request, ChatRun* run, int timeoutMs = 15000,
             std::function<void(ChatJob*)> onFirstToken = {})
{
    ChatJob* job = client.startChat(request, nullptr);
    QObject::connect(job, &ChatJob::token, job, [run, job, onFirstToken](const QString& t) {
        run->tokens << t;
        if (run->tokens.size() == 1 && onFirstToken)
            onFirstToken(job);
    });
    QObject::connect(job, &ChatJob::reasoningToken, job, [run](const QString& t) { run->reasoning << t; });
    QObject::connect(job, &ChatJob::finished, job, [run](const ChatResult& r) { run->result = r; });
    QElapsedTimer clock;
    clock.start();
    while (!run->result && clock.elapsed() < timeoutMs)
        QTest::qWait(5);
}

} // namespace

// LlmClient + LlmChatJob against the sandbox LLM (and a scripted byte-level peer): detection, the
// request shape, streaming, every failure a user would see, retries, timeouts and cancellation.
class TstLlmClient : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<SandboxLlmHost> m_host;
    SandboxLlmConfig m_config;

    bool startHost(const SandboxLlmConfig& config)
    {
        m_host = std::make_unique<SandboxLlmHost>();
        m_config = config;
        QString error;
        const bool ok = m_host->start(config, 0, &error);
        if (!ok)
            qWarning() << "sandbox LLM did not start:" << error;
        return ok;
    }

    std::unique_ptr<LlmClient> makeClient()
    {
        auto client = std::make_unique<LlmClient>(m_host->url());
        client->setRetryPolicy(5, 20, 100); // fast retries keep the test quick
        return client;
    }

    ServerInfo detect(LlmClient& client)
    {
        std::optional<ServerInfo> info;
        client.detect(this, [&info](const ServerInfo& i) { info = i; });
        QElapsedTimer clock;
        clock.start();
        while (!info && clock.elapsed() < 15000)
            QTest::qWait(5);
        return info.value_or(ServerInfo{{QStringLiteral("test"), QStringLiteral("no answer")}, {}, {}, {}});
    }

private Q_SLOTS:
    void cleanup() { m_host.reset(); }

    void normaliseUrl_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected");
        QTest::newRow("root") << QStringLiteral("http://127.0.0.1:1234")
                              << QStringLiteral("http://127.0.0.1:1234");
        QTest::newRow("trailing slash")
            << QStringLiteral("http://127.0.0.1:1234/") << QStringLiteral("http://127.0.0.1:1234");
        QTest::newRow("v1") << QStringLiteral("http://127.0.0.1:1234/v1/")
                            << QStringLiteral("http://127.0.0.1:1234");
        QTest::newRow("chat completions") << QStringLiteral("http://127.0.0.1:1234/v1/chat/completions")
                                          << QStringLiteral("http://127.0.0.1:1234");
        QTest::newRow("localhost") << QStringLiteral("http://localhost:11434")
                                   << QStringLiteral("http://127.0.0.1:11434");
        QTest::newRow("no scheme") << QStringLiteral("localhost:8080/v1")
                                   << QStringLiteral("http://127.0.0.1:8080");
        QTest::newRow("proxy prefix kept") << QStringLiteral("https://gpu.example/llm/v1/chat/completions")
                                           << QStringLiteral("https://gpu.example/llm");
        QTest::newRow("empty") << QString() << QString();
    }

    void normaliseUrl()
    {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        const QUrl url = LlmClient::normaliseUrl(input);
        QCOMPARE(url.isValid() ? url.toString() : QString(), expected);
    }

    void pickModel_data()
    {
        QTest::addColumn<int>("flavour");
        QTest::addColumn<QStringList>("models"); // id:type:loaded
        QTest::addColumn<QString>("configured");
        QTest::addColumn<QString>("expected"); // "" = no_model
        const int lm = int(ServerFlavour::LmStudio);
        const QStringList both{QStringLiteral("qwen:llm:1"), QStringLiteral("gemma:llm:0"),
                               QStringLiteral("nomic-embed:embeddings:1")};
        QTest::newRow("configured and listed")
            << lm << both << QStringLiteral("gemma") << QStringLiteral("gemma");
        QTest::newRow("configured missing: loaded llm")
            << lm << both << QStringLiteral("llama") << QStringLiteral("qwen");
        QTest::newRow("none configured: loaded llm") << lm << both << QString() << QStringLiteral("qwen");
        QTest::newRow("jit server, nothing loaded")
            << lm << QStringList{QStringLiteral("gemma:llm:0")} << QString() << QStringLiteral("gemma");
        QTest::newRow("embedding only")
            << lm << QStringList{QStringLiteral("nomic-embed:embeddings:1")} << QString() << QString();
        QTest::newRow("configured embedding") << lm << QStringList{QStringLiteral("nomic-embed:embeddings:1")}
                                              << QStringLiteral("nomic-embed") << QString();
        QTest::newRow("empty list") << lm << QStringList{} << QString() << QString();
        QTest::newRow("ollama implicit latest")
            << int(ServerFlavour::Ollama) << QStringList{QStringLiteral("llama3.2:latest:llm:0")}
            << QStringLiteral("llama3.2") << QStringLiteral("llama3.2:latest");
        QTest::newRow("generic, nothing loaded")
            << int(ServerFlavour::OpenAiGeneric) << QStringList{QStringLiteral("m:llm:0")} << QString()
            << QString();
    }

    void pickModel()
    {
        QFETCH(int, flavour);
        QFETCH(QStringList, models);
        QFETCH(QString, configured);
        QFETCH(QString, expected);
        ServerInfo info;
        info.flavour = ServerFlavour(flavour);
        for (const QString& spec : models) {
            const QStringList parts = spec.split(QLatin1Char(':'));
            ModelInfo m;
            m.id = parts.mid(0, parts.size() - 2).join(QLatin1Char(':'));
            m.type = parts[parts.size() - 2];
            m.loaded = parts.last() == QLatin1String("1");
            info.models.append(m);
        }
        gd::Error why;
        const auto picked = LlmClient::pickModel(info, configured, &why);
        if (expected.isEmpty()) {
            QVERIFY(!picked);
            QCOMPARE(why.kind, QStringLiteral("no_model"));
            QVERIFY2(why.message.contains(QStringLiteral("ollama pull")) ||
                         why.message.contains(QStringLiteral("llama-server")),
                     qPrintable(why.message));
        } else {
            QVERIFY2(picked.has_value(), qPrintable(why.message));
            QCOMPARE(*picked, expected);
        }
    }

    void classifyHttpError_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QStringList>("mentions");
        QTest::newRow("lmstudio n_keep")
            << 400
            << QByteArray("{\"error\":\"The number of tokens to keep from the initial prompt is greater than "
                          "the context length (n_keep: 13055>= n_ctx: 4096). Try to load the model with a "
                          "larger context length, or provide a shorter input.\"}")
            << QStringLiteral("context_overflow")
            << QStringList{QStringLiteral("n_prompt_tokens=13055"), QStringLiteral("n_ctx=4096")};
        QTest::newRow("llamacpp exceed")
            << 400
            << QByteArray("{\"error\":{\"code\":400,\"type\":\"exceed_context_size_error\",\"n_prompt_"
                          "tokens\":13392,\"n_ctx\":8192,\"message\":\"request (13392 tokens) exceeds the "
                          "available context size (8192 tokens), try increasing it\"}}")
            << QStringLiteral("context_overflow")
            << QStringList{QStringLiteral("n_prompt_tokens=13392"), QStringLiteral("n_ctx=8192")};
        QTest::newRow("lmstudio no models")
            << 400
            << QByteArray("{\"error\":\"No models loaded. Please load a model in the developer page or use "
                          "the `lms load` command.\"}")
            << QStringLiteral("no_model") << QStringList{QStringLiteral("No models loaded")};
        QTest::newRow("ollama not found")
            << 404
            << QByteArray("{\"error\":{\"message\":\"model \\\"x\\\" not found, try pulling it "
                          "first\",\"type\":\"not_found_error\"}}")
            << QStringLiteral("no_model") << QStringList{QStringLiteral("ollama pull")};
        QTest::newRow("bad key") << 401
                                 << QByteArray("{\"error\":{\"code\":401,\"message\":\"Invalid API Key\"}}")
                                 << QStringLiteral("http")
                                 << QStringList{QStringLiteral("401"), QStringLiteral("API key")};
        QTest::newRow("json_object rejected")
            << 400 << QByteArray("{\"error\":\"'response_format.type' must be 'json_schema' or 'text'\"}")
            << QStringLiteral("http") << QStringList{QStringLiteral("json_schema")};
        QTest::newRow("plain text 500")
            << 500 << QByteArray("Internal Server Error") << QStringLiteral("http")
            << QStringList{QStringLiteral("500"), QStringLiteral("Internal Server Error")};
    }

    void classifyHttpError()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(QString, kind);
        QFETCH(QStringList, mentions);
        const gd::Error e = LlmChatJob::classifyHttpError(
            status, body, QStringLiteral("http://127.0.0.1:1/v1/chat/completions"));
        QCOMPARE(e.kind, kind);
        for (const QString& m : mentions)
            QVERIFY2(e.message.contains(m), qPrintable(e.message));
        QCOMPARE(e.detail.value(QStringLiteral("status")).toInt(), status);
    }

    void retryAfter()
    {
        QCOMPARE(LlmChatJob::retryAfterMs("2"), 2000);
        QCOMPARE(LlmChatJob::retryAfterMs(""), -1);
        QCOMPARE(LlmChatJob::retryAfterMs("soon"), -1);
        const QByteArray inFive =
            QDateTime::currentDateTimeUtc().addSecs(5).toString(Qt::RFC2822Date).toLatin1();
        const int ms = LlmChatJob::retryAfterMs(inFive);
        QVERIFY2(ms > 3000 && ms <= 5000, qPrintable(QString::number(ms)));
    }

    void detectsFlavour_data()
    {
        QTest::addColumn<QString>("flavour");
        QTest::addColumn<int>("expected");
        QTest::addColumn<QString>("model");
        QTest::newRow("lmstudio") << QStringLiteral("lmstudio") << int(ServerFlavour::LmStudio)
                                  << QStringLiteral("sandbox-story-7b-instruct");
        QTest::newRow("ollama") << QStringLiteral("ollama") << int(ServerFlavour::Ollama)
                                << QStringLiteral("sandbox-story-7b-instruct:latest");
        QTest::newRow("llamacpp") << QStringLiteral("llamacpp") << int(ServerFlavour::LlamaCpp)
                                  << QStringLiteral("sandbox-story-7b-instruct");
    }

    void detectsFlavour()
    {
        QFETCH(QString, flavour);
        QFETCH(int, expected);
        QFETCH(QString, model);
        SandboxLlmConfig config;
        config.flavour = flavour;
        QVERIFY(startHost(config));
        auto client = makeClient();
        const ServerInfo info = detect(*client);
        QVERIFY2(info.error.isNull(), qPrintable(info.error.toString()));
        QCOMPARE(int(info.flavour), expected);
        const auto it = std::find_if(info.models.cbegin(), info.models.cend(),
                                     [&](const ModelInfo& m) { return m.id == model; });
        QVERIFY2(it != info.models.cend(), qPrintable(model));
        QVERIFY(it->loaded);
        QCOMPARE(it->type, QStringLiteral("llm"));
        QCOMPARE(it->contextLength, config.contextLength);
        if (flavour == QLatin1String("lmstudio")) {
            const bool embeddingFiltered =
                std::any_of(info.models.cbegin(), info.models.cend(), [&](const ModelInfo& m) {
                    return m.id == config.embeddingModelId && m.type == QLatin1String("embeddings");
                });
            QVERIFY(embeddingFiltered);
        }
        QVERIFY(client->hasServerInfo());
    }

    void streamsTokens_data()
    {
        QTest::addColumn<QString>("flavour");
        QTest::newRow("lmstudio") << QStringLiteral("lmstudio");
        QTest::newRow("ollama") << QStringLiteral("ollama");
        QTest::newRow("llamacpp") << QStringLiteral("llamacpp");
    }

    void streamsTokens()
    {
        QFETCH(QString, flavour);
        SandboxLlmConfig config;
        config.flavour = flavour;
        QVERIFY(startHost(config));
        auto client = makeClient();
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        const ChatResult& r = *run.result;
        QVERIFY2(r.error.isNull(), qPrintable(r.error.toString()));
        QVERIFY(run.tokens.size() > 5); // streamed piece by piece, not in one block
        QCOMPARE(run.tokens.join(QString()), r.content);
        QVERIFY(r.content.size() > 40);
        QCOMPARE(r.finishReason, QStringLiteral("stop"));
        QVERIFY(!r.truncated);
        QCOMPARE(r.tokenCountSource, QStringLiteral("usage"));
        QVERIFY(r.promptTokens > 0);
        QVERIFY(r.completionTokens > 0);
        QVERIFY(r.timeToFirstTokenMs.has_value());
        QVERIFY(r.tokensPerSecond.has_value() && *r.tokensPerSecond > 0);
        QCOMPARE(r.retries, 0);
        QCOMPARE(r.requestFormat, QStringLiteral("text"));
        QVERIFY(r.model.startsWith(QStringLiteral("sandbox-story-7b-instruct")));
        QVERIFY(r.completedAt >= r.startedAt);
        // Ollama's /v1 overrides the Modelfile with 1.0 unless both are sent.
        const QJsonObject body = m_host->server()->lastChatRequest();
        QCOMPARE(body.value(QStringLiteral("temperature")).toDouble(), 0.6);
        QCOMPARE(body.value(QStringLiteral("top_p")).toDouble(), 0.85);
    }

    void jsonSchemaRequestShape()
    {
        QVERIFY(startHost(SandboxLlmConfig{}));
        auto client = makeClient();
        ChatRequest request = storyRequest();
        request.jsonSchema = sceneSchema();
        request.schemaName = QStringLiteral("scene plan");
        request.seed = 42;
        ChatRun run;
        runChat(*client, request, &run);
        QVERIFY(run.result);
        QVERIFY2(run.result->error.isNull(), qPrintable(run.result->error.toString()));
        QCOMPARE(run.result->requestFormat, QStringLiteral("json_schema"));

        const QJsonObject body = m_host->server()->lastChatRequest();
        const QJsonObject format = body.value(QStringLiteral("response_format")).toObject();
        QCOMPARE(format.value(QStringLiteral("type")).toString(), QStringLiteral("json_schema"));
        const QJsonObject js = format.value(QStringLiteral("json_schema")).toObject();
        QCOMPARE(js.value(QStringLiteral("strict")), QJsonValue(true));
        QCOMPARE(js.value(QStringLiteral("name")).toString(), QStringLiteral("scene_plan"));
        QCOMPARE(js.value(QStringLiteral("schema")).toObject(), sceneSchema());
        QCOMPARE(body.value(QStringLiteral("temperature")).toDouble(), 0.6);
        QCOMPARE(body.value(QStringLiteral("top_p")).toDouble(), 0.85);
        QCOMPARE(body.value(QStringLiteral("max_tokens")).toInt(), 400);
        QCOMPARE(body.value(QStringLiteral("seed")).toInt(), 42);
        QCOMPARE(body.value(QStringLiteral("stream")), QJsonValue(true));
        QCOMPARE(
            body.value(QStringLiteral("stream_options")).toObject().value(QStringLiteral("include_usage")),
            QJsonValue(true));
        QCOMPARE(body.value(QStringLiteral("model")).toString(), QStringLiteral("sandbox-story-7b-instruct"));
        QVERIFY(!QJsonDocument(body).toJson().contains("json_object"));

        const QJsonObject answer = QJsonDocument::fromJson(run.result->content.toUtf8()).object();
        QVERIFY2(!answer.value(QStringLiteral("title")).toString().isEmpty(),
                 qPrintable(run.result->content));
    }

    void serverDownIsUnreachableQuickly()
    {
        LlmClient client(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(closedPort())));
        QElapsedTimer clock;
        clock.start();
        std::optional<ServerInfo> info;
        client.detect(this, [&info](const ServerInfo& i) { info = i; });
        QTRY_VERIFY_WITH_TIMEOUT(info.has_value(), 5000);
        QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(info->error.kind, QStringLiteral("unreachable"));
        QVERIFY(info->error.message.contains(QStringLiteral("No LLM server is running")));

        ChatRun run;
        runChat(client, storyRequest(), &run, 5000);
        QVERIFY(run.result);
        QCOMPARE(run.result->error.kind, QStringLiteral("unreachable"));
    }

    void noUsableModel_data()
    {
        QTest::addColumn<int>("fault");
        QTest::addColumn<QString>("mention");
        QTest::newRow("no model") << int(LlmFaultKind::NoModel) << QStringLiteral("lms load");
        QTest::newRow("embedding only") << int(LlmFaultKind::EmbeddingOnly) << QStringLiteral("embedding");
    }

    void noUsableModel()
    {
        QFETCH(int, fault);
        QFETCH(QString, mention);
        SandboxLlmConfig config;
        config.faults = {LlmFaultRule{LlmFaultKind(fault), 0, 0}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QCOMPARE(run.result->error.kind, QStringLiteral("no_model"));
        QVERIFY2(run.result->error.message.contains(mention, Qt::CaseInsensitive),
                 qPrintable(run.result->error.message));
        QVERIFY(run.result->error.message.contains(QStringLiteral("ollama pull")));
        QVERIFY(run.tokens.isEmpty());
    }

    void loadingThenSuccessIsRetried()
    {
        SandboxLlmConfig config;
        config.faults = {LlmFaultRule{LlmFaultKind::Loading503, 2, 0}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QVERIFY2(run.result->error.isNull(), qPrintable(run.result->error.toString()));
        QCOMPARE(run.result->retries, 2);
        QCOMPARE(m_host->server()->chatRequestCount(), 3);
        QVERIFY(!run.result->content.isEmpty());
    }

    void persistent503GivesUp()
    {
        SandboxLlmConfig config;
        config.faults = {LlmFaultRule{LlmFaultKind::Loading503, 0, 0}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        client->setRetryPolicy(3, 10, 20);
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QCOMPARE(run.result->error.kind, QStringLiteral("http"));
        QVERIFY2(run.result->error.message.contains(QStringLiteral("503")),
                 qPrintable(run.result->error.message));
        QCOMPARE(run.result->retries, 2);
        QCOMPARE(m_host->server()->chatRequestCount(), 3);
    }

    void refusedBeforeAnyByteIsRetried()
    {
        QVERIFY(startHost(SandboxLlmConfig{}));
        auto client = makeClient();
        QVERIFY(detect(*client).error.isNull());
        const quint16 port = m_host->port();
        m_host->stop(); // the server restarts: refused until it is back
        client->setRetryPolicy(6, 150, 400);
        QTimer::singleShot(200, this, [this, port] {
            QString error;
            QVERIFY2(m_host->start(m_config, port, &error), qPrintable(error));
        });
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QVERIFY2(run.result->error.isNull(), qPrintable(run.result->error.toString()));
        QVERIFY(run.result->retries >= 1);
    }

    void streamErrorEvent()
    {
        SandboxLlmConfig config;
        config.faults = {LlmFaultRule{LlmFaultKind::StreamError, 1, 0}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QCOMPARE(run.result->error.kind, QStringLiteral("stream"));
        QVERIFY2(run.result->error.message.contains(QStringLiteral("crashed")),
                 qPrintable(run.result->error.message));
        QVERIFY(!run.tokens.isEmpty());   // content came before the error
        QCOMPARE(run.result->retries, 0); // never retried once content streamed
        QCOMPARE(m_host->server()->chatRequestCount(), 1);
    }

    void stallHitsInactivityTimeout()
    {
        SandboxLlmConfig config;
        config.faults = {LlmFaultRule{LlmFaultKind::Stall, 1, 0}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        client->setInactivityTimeoutMs(300);
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QCOMPARE(run.result->error.kind, QStringLiteral("timeout"));
        QCOMPARE(run.result->error.detail.value(QStringLiteral("phase")).toString(),
                 QStringLiteral("inactivity"));
        QVERIFY(run.result->truncated);
        QVERIFY(!run.result->content.isEmpty());
        QTRY_COMPARE(m_host->server()->abortedStreams(), 1);
    }

    void coldLoadHitsFirstTokenTimeout()
    {
        SandboxLlmConfig config;
        config.faults = {LlmFaultRule{LlmFaultKind::ColdLoad, 1, 5000}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        QVERIFY(detect(*client).error.isNull());
        client->setFirstTokenTimeoutMs(300);
        client->setInactivityTimeoutMs(60000);
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QCOMPARE(run.result->error.kind, QStringLiteral("timeout"));
        QCOMPARE(run.result->error.detail.value(QStringLiteral("phase")).toString(),
                 QStringLiteral("first-token"));
        QVERIFY(run.tokens.isEmpty());
    }

    void eofWithoutDoneIsTruncated()
    {
        SandboxLlmConfig config;
        config.faults = {LlmFaultRule{LlmFaultKind::EofNoDone, 1, 0}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QVERIFY(run.result->truncated);
        QCOMPARE(run.result->error.kind, QStringLiteral("stream"));
        QVERIFY(run.result->finishReason.isEmpty());
        QVERIFY(!run.result->content.isEmpty());
    }

    void lengthFinishIsTruncated()
    {
        SandboxLlmConfig config;
        config.faults = {LlmFaultRule{LlmFaultKind::Truncated, 1, 0}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QVERIFY2(run.result->error.isNull(), qPrintable(run.result->error.toString()));
        QCOMPARE(run.result->finishReason, QStringLiteral("length"));
        QVERIFY(run.result->truncated);
    }

    void contextOverflow_data()
    {
        QTest::addColumn<QString>("flavour");
        QTest::newRow("lmstudio") << QStringLiteral("lmstudio");
        QTest::newRow("llamacpp") << QStringLiteral("llamacpp");
    }

    void contextOverflow()
    {
        QFETCH(QString, flavour);
        SandboxLlmConfig config;
        config.flavour = flavour;
        config.faults = {LlmFaultRule{LlmFaultKind::ContextOverflow, 1, 20000}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        const gd::Error& e = run.result->error;
        QCOMPARE(e.kind, QStringLiteral("context_overflow"));
        QVERIFY2(e.message.contains(QStringLiteral("n_prompt_tokens=20000")), qPrintable(e.message));
        QVERIFY2(e.message.contains(QStringLiteral("n_ctx=8192")), qPrintable(e.message));
        QCOMPARE(e.detail.value(QStringLiteral("nCtx")).toInt(), 8192);
        QCOMPARE(run.result->retries, 0); // 400 is never retried
        QCOMPARE(m_host->server()->chatRequestCount(), 1);
    }

    void reasoningKeptApart_data()
    {
        QTest::addColumn<int>("fault");
        QTest::newRow("inline think") << int(LlmFaultKind::FencedThink);
        QTest::newRow("reasoning only") << int(LlmFaultKind::ReasoningOnly);
    }

    void reasoningKeptApart()
    {
        QFETCH(int, fault);
        SandboxLlmConfig config;
        config.faults = {LlmFaultRule{LlmFaultKind(fault), 1, 0}};
        QVERIFY(startHost(config));
        auto client = makeClient();
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        const ChatResult& r = *run.result;
        QVERIFY(!r.reasoning.isEmpty());
        QCOMPARE(run.reasoning.join(QString()), r.reasoning);
        QVERIFY(!r.content.contains(QStringLiteral("<think>")));
        QVERIFY(!r.content.contains(QStringLiteral("</think>")));
        QVERIFY(!r.content.contains(r.reasoning.trimmed().left(30)));
        QVERIFY(r.timeToFirstTokenMs.has_value());
        if (LlmFaultKind(fault) == LlmFaultKind::ReasoningOnly) {
            QVERIFY(r.content.isEmpty());
            QCOMPARE(r.finishReason, QStringLiteral("length"));
            QVERIFY(r.truncated);
        } else {
            QVERIFY(r.content.startsWith(QStringLiteral("```json")));
        }
    }

    void cancelMidStream()
    {
        SandboxLlmConfig config;
        config.tokenDelayMs = 20;
        QVERIFY(startHost(config));
        auto client = makeClient();
        ChatRun run;
        runChat(*client, storyRequest(), &run, 15000, [](ChatJob* job) { job->cancel(); });
        QVERIFY(run.result);
        QCOMPARE(run.result->error.kind, QStringLiteral("cancelled"));
        QCOMPARE(run.tokens.size(), 1); // nothing after the cancel
        QTRY_COMPARE(m_host->server()->abortedStreams(), 1);
    }

    void apiKey()
    {
        SandboxLlmConfig config;
        config.apiKey = QStringLiteral("sekrit-token");
        QVERIFY(startHost(config));
        {
            auto client = makeClient();
            const ServerInfo info = detect(*client);
            QCOMPARE(info.error.kind, QStringLiteral("http"));
            QVERIFY2(info.error.message.contains(QStringLiteral("API key")), qPrintable(info.error.message));
        }
        auto client = makeClient();
        client->setApiKey(QStringLiteral("sekrit-token"));
        ChatRun run;
        runChat(*client, storyRequest(), &run);
        QVERIFY(run.result);
        QVERIFY2(run.result->error.isNull(), qPrintable(run.result->error.toString()));
        QVERIFY(!run.result->content.isEmpty());
    }

    // Byte-level: a scripted peer splits a multibyte character and a CRLF across TCP writes, pings with
    // comments, and never sends [DONE] after the finish chunk.
    void scriptedPeerByteLevel()
    {
        QTcpServer peer;
        QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
        const QList<QByteArray> pieces{
            ": ping\r\n\r\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"caf\xC3",
            "\xA9\"}}]}\r",
            "\n\r\ndata:{\"choices\":[{\"delta\":{\"content\":\" \xE2\x98",
            "\x95\"}}]}\n\n",
            "data: "
            "{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,"
            "\"completion_tokens\":2}}\n\n",
        };
        connect(&peer, &QTcpServer::newConnection, this, [&peer, pieces] {
            QTcpSocket* s = peer.nextPendingConnection();
            connect(s, &QTcpSocket::readyRead, s, [s, pieces] {
                const QByteArray request = s->readAll();
                if (request.startsWith("GET /v1/models")) {
                    const QByteArray body =
                        "{\"object\":\"list\",\"data\":[{\"id\":\"peer-model\",\"object\":\"model\"}]}";
                    s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                             QByteArray::number(body.size()) + "\r\n\r\n" + body);
                    return;
                }
                if (request.startsWith("GET ")) {
                    s->write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    return;
                }
                s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
                s->flush();
                int delay = 0;
                for (const QByteArray& p : pieces) {
                    delay += 15;
                    QTimer::singleShot(delay, s, [s, p] {
                        s->write(p);
                        s->flush();
                    });
                }
                QTimer::singleShot(delay + 15, s, [s] { s->disconnectFromHost(); });
            });
        });
        LlmClient client(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(peer.serverPort())));
        ChatRun run;
        runChat(client, storyRequest(), &run);
        QVERIFY(run.result);
        QVERIFY2(run.result->error.isNull(), qPrintable(run.result->error.toString()));
        QCOMPARE(run.tokens, (QStringList{QStringLiteral("caf\u00e9"), QStringLiteral(" \u2615")}));
        QCOMPARE(run.result->finishReason, QStringLiteral("stop"));
        QCOMPARE(run.result->completionTokens, 2);
        QCOMPARE(run.result->model, QStringLiteral("peer-model"));
    }
};

QTEST_GUILESS_MAIN(TstLlmClient)
#include "tst_llmclient.moc"
