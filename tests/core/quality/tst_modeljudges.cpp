#include "RunHarness.h"
#include "llm/LlmClient.h"
#include "quality/ModelJudges.h"
#include "sandbox/PngText.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"
#include "sandbox/SandboxVision.h"

#include <QSignalSpy>
#include <QtTest>

using gd::Error;
using gd::quality::JudgeOptions;
using gd::quality::JudgeResults;
using gd::quality::ModelJudges;

namespace {

gd::story::Story judgeStory()
{
    const QStringList prompts = {
        QStringLiteral("wide shot of a lighthouse keeper climbing a spiral stair in a storm"),
        QStringLiteral("close up of a red fox hunting mice in a snowy meadow at dawn"),
        QStringLiteral("aerial view of a desert caravan crossing golden dunes at sunset"),
    };
    QJsonArray scenes;
    for (int i = 0; i < prompts.size(); ++i)
        scenes.append(QJsonObject{
            {QStringLiteral("id"), QStringLiteral("scene-%1").arg(i + 1, 3, 10, QLatin1Char('0'))},
            {QStringLiteral("title"), QStringLiteral("Part %1").arg(i + 1)},
            {QStringLiteral("prompt"), prompts.at(i)},
            {QStringLiteral("expectedFrames"), 5}});
    QStringList problems;
    return *gd::story::StoryLoader::fromObject(
        QJsonObject{{QStringLiteral("storyId"), QStringLiteral("story-judges")},
                    {QStringLiteral("logline"), QStringLiteral("Three views of one long day.")},
                    {QStringLiteral("scenes"), scenes}},
        &problems);
}

} // namespace

// Model-based metrics against the sandbox LLM and a real sandbox render.
class TstModelJudges : public QObject
{
    Q_OBJECT

private:
    RunHarness m_harness;
    QString m_runDir;

    JudgeResults judge(const gd::sandbox::SandboxLlmConfig& config, const JudgeOptions& options,
                       int* chatRequests = nullptr, int* embeddingRequests = nullptr, bool stopServer = false)
    {
        gd::sandbox::SandboxLlmHost host;
        QString error;
        if (!host.start(config, 0, &error))
            qFatal("sandbox LLM: %s", qPrintable(error));
        const QUrl url = host.url();
        if (stopServer)
            host.stop();
        gd::llm::LlmClient client(url);
        client.setRetryPolicy(1, 10, 10);
        ModelJudges judges;
        QSignalSpy spy(&judges, &ModelJudges::finished);
        judges.run(m_runDir, &client, options);
        if (!spy.wait(60000))
            qFatal("judges did not finish");
        if (chatRequests)
            *chatRequests = stopServer ? 0 : host.server()->chatRequestCount();
        if (embeddingRequests)
            *embeddingRequests = stopServer ? 0 : host.server()->embeddingRequestCount();
        return spy.first().first().value<JudgeResults>();
    }

    static gd::sandbox::SandboxLlmConfig visionConfig()
    {
        gd::sandbox::SandboxLlmConfig c;
        c.visionModel = true;
        c.tokenDelayMs = 0;
        return c;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_harness.startServer(&error), qPrintable(error));
        const RunOutcome out = m_harness.run(judgeStory());
        QCOMPARE(out.exitCode, 0);
        m_runDir = out.runDir;
        QVERIFY(QFileInfo::exists(QDir(m_runDir).filePath(QStringLiteral("story/story.json"))));
    }

    void frameCarriesPromptChunk()
    {
        // ComfyUI's SaveImage writes the graph as tEXt "prompt"; the sandbox frames do too.
        const QString frame =
            ModelJudges::middleFrameIn(QDir(m_runDir).filePath(QStringLiteral("scene-002/attempt-1")));
        QVERIFY(!frame.isEmpty());
        QFile f(frame);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray png = f.readAll();
        QVERIFY(!QImage::fromData(png).isNull());
        const auto text = gd::sandbox::SandboxVision::promptTextOf(png);
        QVERIFY(text.has_value());
        QVERIFY2(text->contains(QLatin1String("red fox")), qPrintable(*text));
    }

    void allMetricsMeasured()
    {
        int chats = 0;
        int embeds = 0;
        const JudgeResults r = judge(visionConfig(), {}, &chats, &embeds);
        QVERIFY2(r.unmeasured.isEmpty(), qPrintable(r.unmeasured.join(QLatin1Char('\n'))));
        // 3 coherence calls + 3 judge calls per scene + 1 caption per scene.
        QCOMPARE(chats, 3 + 3 * 3 + 3);
        QCOMPARE(embeds, 1);
        const double coherence = r.run.value(QStringLiteral("CoherenceJudgeScore")).toDouble();
        QVERIFY(coherence >= 1 && coherence <= 5);
        QCOMPARE(r.run.value(QStringLiteral("CoherenceJudgeModel")).toString(),
                 QStringLiteral("sandbox-story-7b-instruct"));
        QCOMPARE(r.run.value(QStringLiteral("PromptAlignmentJudgeModel")).toString(),
                 QStringLiteral("sandbox-vision-2b"));
        QCOMPARE(r.run.value(QStringLiteral("SemanticAlignmentCaptionModel")).toString(),
                 QStringLiteral("sandbox-vision-2b"));
        QCOMPARE(r.run.value(QStringLiteral("SemanticAlignmentEmbeddingModel")).toString(),
                 QStringLiteral("text-embedding-nomic-embed-text-v1.5"));
        QVERIFY(r.run.value(QStringLiteral("PromptAlignmentJudgeMean")).toDouble() >= 3.0);
        QVERIFY(r.run.value(QStringLiteral("SemanticAlignmentMargin")).toDouble() > 0.1);
        QCOMPARE(r.run.value(QStringLiteral("SemanticAlignmentRetrievalTop1")).toDouble(), 1.0);
        QCOMPARE(r.scenes.size(), 3);
        for (const QJsonObject& scene : r.scenes) {
            const QJsonObject pa = scene.value(QStringLiteral("PromptAlignmentJudge")).toObject();
            for (const char* k : {"Scene", "Action", "Camera", "Mean"})
                QVERIFY2(pa.value(QLatin1String(k)).isDouble(), k);
            QCOMPARE(pa.value(QStringLiteral("Mean")).toDouble(),
                     (pa.value(QStringLiteral("Scene")).toDouble() +
                      pa.value(QStringLiteral("Action")).toDouble() +
                      pa.value(QStringLiteral("Camera")).toDouble()) /
                         3.0);
            QVERIFY(scene.value(QStringLiteral("SemanticAlignmentScore")).toDouble() > 0.3);
        }
    }

    void judgeCallsAreMedianOfThreeAtTemperatureZero()
    {
        JudgeOptions o;
        o.promptAlignment = false;
        o.semanticAlignment = false;
        int chats = 0;
        const JudgeResults r = judge(visionConfig(), o, &chats);
        QCOMPARE(chats, 3);
        QVERIFY(r.run.value(QStringLiteral("CoherenceJudgeScore")).isDouble());
        QVERIFY(!r.run.contains(QStringLiteral("PromptAlignmentJudgeMean")));
    }

    void noVisionModel()
    {
        gd::sandbox::SandboxLlmConfig c;
        c.tokenDelayMs = 0; // visionModel off
        int chats = 0;
        const JudgeResults r = judge(c, {}, &chats);
        QCOMPARE(chats, 3); // the coherence judge still runs
        QVERIFY(r.run.value(QStringLiteral("CoherenceJudgeScore")).isDouble());
        QVERIFY(r.run.value(QStringLiteral("PromptAlignmentJudgeMean")).isNull());
        QVERIFY(r.run.value(QStringLiteral("SemanticAlignmentMean")).isNull());
        const QString all = r.unmeasured.join(QLatin1Char('\n'));
        QVERIFY2(all.contains(QLatin1String("PromptAlignmentJudgeMean: no vision model")), qPrintable(all));
        QVERIFY2(all.contains(QLatin1String("SemanticAlignmentMean: no vision model")), qPrintable(all));
    }

    void noEmbeddingModel()
    {
        gd::sandbox::SandboxLlmConfig c = visionConfig();
        c.embeddingModelId.clear();
        JudgeOptions o;
        o.coherence = false;
        o.promptAlignment = false;
        int chats = 0;
        int embeds = 0;
        const JudgeResults r = judge(c, o, &chats, &embeds);
        QCOMPARE(chats, 0);
        QCOMPARE(embeds, 0);
        QVERIFY(r.run.value(QStringLiteral("SemanticAlignmentMean")).isNull());
        QVERIFY(r.run.contains(QStringLiteral("SemanticAlignmentMargin")));
        QVERIFY(r.run.value(QStringLiteral("SemanticAlignmentMargin")).isNull());
        QVERIFY2(r.unmeasured.join(QLatin1Char('\n'))
                     .contains(QLatin1String("SemanticAlignmentMean: no embedding model")),
                 qPrintable(r.unmeasured.join(QLatin1Char('\n'))));
    }

    void serverDown()
    {
        const JudgeResults r = judge(visionConfig(), {}, nullptr, nullptr, true);
        QCOMPARE(r.unmeasured.size(), 3);
        for (const QString& u : r.unmeasured)
            QVERIFY2(u.contains(QLatin1String("LLM server not available")), qPrintable(u));
        QVERIFY(r.run.value(QStringLiteral("CoherenceJudgeScore")).isNull());
        QVERIFY(!r.run.contains(QStringLiteral("CoherenceJudgeModel")));
    }

    void configuredTextModelIsNotUsedAsVisionModel()
    {
        gd::sandbox::SandboxLlmConfig c = visionConfig();
        JudgeOptions o;
        o.coherence = false;
        o.semanticAlignment = false;
        o.visionModel = QStringLiteral("sandbox-story-7b-instruct"); // not vision-capable: never picked
        const JudgeResults r = judge(c, o);
        QVERIFY(r.run.value(QStringLiteral("PromptAlignmentJudgeMean")).isDouble()); // fell back to the VLM
        QCOMPARE(r.run.value(QStringLiteral("PromptAlignmentJudgeModel")).toString(),
                 QStringLiteral("sandbox-vision-2b"));
    }

    void textModelRefusesImagesOnTheWire()
    {
        gd::sandbox::SandboxLlmHost host;
        QString error;
        QVERIFY2(host.start(visionConfig(), 0, &error), qPrintable(error));
        gd::llm::LlmClient client(host.url());
        client.setRetryPolicy(1, 10, 10);
        const QString frame =
            ModelJudges::middleFrameIn(QDir(m_runDir).filePath(QStringLiteral("scene-001/attempt-1")));
        Error why;
        const QString url = ModelJudges::frameDataUrl(frame, 512, &why);
        QVERIFY2(url.startsWith(QLatin1String("data:image/png;base64,")), qPrintable(why.message));
        for (const QString& model :
             {QStringLiteral("sandbox-story-7b-instruct"), QStringLiteral("sandbox-vision-2b")}) {
            gd::llm::ChatRequest request;
            request.model = model;
            request.temperature = 0;
            request.messages = {{QStringLiteral("user"), QStringLiteral("Describe the frame."), {url}}};
            auto* job = client.startChat(request, this);
            QSignalSpy spy(job, &gd::llm::ChatJob::finished);
            QVERIFY(spy.wait(20000));
            const auto result = spy.first().first().value<gd::llm::ChatResult>();
            if (model.contains(QLatin1String("vision"))) {
                QVERIFY2(result.error.isNull(), qPrintable(result.error.message));
                QVERIFY2(result.content.contains(QLatin1String("lighthouse keeper")),
                         qPrintable(result.content));
            } else {
                QVERIFY2(result.error.message.contains(QLatin1String("does not support images")),
                         qPrintable(result.error.message));
            }
        }
        QCOMPARE(host.server()->visionRequestCount(), 2);
    }

    void math_data()
    {
        QTest::addColumn<QVector<double>>("values");
        QTest::addColumn<double>("median");
        QTest::newRow("odd") << QVector<double>{5, 1, 3} << 3.0;
        QTest::newRow("even") << QVector<double>{4, 1, 3, 2} << 2.5;
        QTest::newRow("one") << QVector<double>{2} << 2.0;
        QTest::newRow("ties") << QVector<double>{4, 4, 1} << 4.0;
    }
    void math()
    {
        QFETCH(QVector<double>, values);
        QFETCH(double, median);
        QCOMPARE(ModelJudges::median(values), median);
    }

    void cosine()
    {
        QCOMPARE(*ModelJudges::cosine({1, 0}, {0, 1}), 0.0);
        QCOMPARE(*ModelJudges::cosine({1, 2, 3}, {2, 4, 6}), 1.0);
        QCOMPARE(*ModelJudges::cosine({1, 0}, {-1, 0}), -1.0);
        QVERIFY(!ModelJudges::cosine({1, 0}, {1, 0, 0}));
        QVERIFY(!ModelJudges::cosine({0, 0}, {1, 0}));
        QVERIFY(!ModelJudges::cosine({}, {}));
    }

    void marginAndRetrieval()
    {
        // Scene 0 matches its prompt best; scene 1's caption is closer to prompt 0 than to its own.
        const QVector<QVector<double>> sim{{0.9, 0.3, 0.1}, {0.6, 0.5, 0.2}, {0.2, 0.2, 0.8}};
        const auto s = ModelJudges::semanticStats(sim);
        QCOMPARE(s.matched, (QVector<double>{0.9, 0.5, 0.8}));
        QVERIFY(qAbs(s.margins.at(0) - (0.9 - 0.2)) < 1e-12);
        QVERIFY(qAbs(s.margins.at(1) - (0.5 - 0.4)) < 1e-12);
        QVERIFY(qAbs(s.margins.at(2) - (0.8 - 0.2)) < 1e-12);
        QVERIFY(qAbs(*s.margin - (0.7 + 0.1 + 0.6) / 3) < 1e-12);
        QVERIFY(qAbs(*s.retrievalTop1 - 2.0 / 3.0) < 1e-12);
        QVERIFY(qAbs(s.mean - (0.9 + 0.5 + 0.8) / 3) < 1e-12);
        const auto single = ModelJudges::semanticStats({{0.7}});
        QVERIFY(!single.margin);
        QVERIFY(!single.retrievalTop1);
    }

    void pngTextRoundTrip()
    {
        QImage image(8, 8, QImage::Format_RGB32);
        image.fill(Qt::red);
        QByteArray png;
        QBuffer b(&png);
        b.open(QIODevice::WriteOnly);
        QVERIFY(image.save(&b, "PNG"));
        const QByteArray tagged = gd::sandbox::PngText::withText(png, "prompt", "{\"1\":2}");
        QCOMPARE(*gd::sandbox::PngText::readText(tagged, "prompt"), QByteArray("{\"1\":2}"));
        QVERIFY(!QImage::fromData(tagged).isNull()); // still a valid PNG (CRC right)
        QCOMPARE(QImage::fromData(tagged).text(QStringLiteral("prompt")), QStringLiteral("{\"1\":2}"));
        QVERIFY(!gd::sandbox::PngText::readText(png, "prompt"));
        QVERIFY(
            !gd::sandbox::PngText::readText(tagged.left(40), "prompt")); // cut chunk: no out-of-bounds read
        QCOMPARE(gd::sandbox::PngText::asciiJson(QStringLiteral("\"é\"").toUtf8()),
                 QByteArray("\"\\u00e9\""));
    }
};

QTEST_GUILESS_MAIN(TstModelJudges)
#include "tst_modeljudges.moc"
