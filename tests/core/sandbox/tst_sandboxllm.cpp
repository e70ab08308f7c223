// The sandbox LLM server (LM Studio behaviour by default): listings, chat completions streamed and not,
// schema-valid story content, determinism, embeddings, every injectable fault, client aborts, and the other
// flavours' discovery routes. Raw QNetworkAccessManager requests only - never the app's LLM client.
#include "StoryboardTestImages.h"
#include "sandbox/GraphInspector.h"
#include "sandbox/LlmFaultRule.h"
#include "sandbox/NodeCatalog.h"
#include "sandbox/PngText.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"
#include "sandbox/StoryCorpus.h"
#include "sandbox/StoryboardFrameRenderer.h"

#include <QBuffer>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTextStream>
#include <QThread>
#include <QTimer>
#include <QtTest>
#include <cmath>
#include <memory>

using gd::sandbox::LlmFaultKind;
using gd::sandbox::LlmFaultRule;
using gd::sandbox::SandboxLlmConfig;
using gd::sandbox::SandboxLlmHost;
using gd::sandbox::StoryCorpus;

namespace {

struct Reply
{
    int status = 0;
    QByteArray body;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QList<QNetworkReply::RawHeaderPair> headers;
    qint64 elapsedMs = 0;

    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QByteArray header(const QByteArray& name) const
    {
        for (const auto& h : headers)
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        return {};
    }
};

struct SseEvent
{
    QByteArray event; // empty for plain "data:" events
    QByteArray data;
    QJsonObject json() const { return QJsonDocument::fromJson(data).object(); }
};

QList<SseEvent> parseSse(const QByteArray& body)
{
    QList<SseEvent> events;
    SseEvent current;
    bool any = false;
    for (QByteArray line : body.split('\n')) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty()) {
            if (any)
                events << current;
            current = SseEvent();
            any = false;
        } else if (line.startsWith("event:")) {
            current.event = line.mid(6).trimmed();
            any = true;
        } else if (line.startsWith("data:")) {
            current.data = line.mid(5).trimmed();
            any = true;
        }
    }
    if (any)
        events << current;
    return events;
}

QString contentOf(const QList<SseEvent>& events, const QString& field = QStringLiteral("content"))
{
    QString text;
    for (const SseEvent& e : events) {
        const QJsonArray choices = e.json().value(QStringLiteral("choices")).toArray();
        if (!choices.isEmpty())
            text +=
                choices.at(0).toObject().value(QStringLiteral("delta")).toObject().value(field).toString();
    }
    return text;
}

QStringList names(std::initializer_list<const char*> items)
{
    QStringList out;
    for (const char* item : items)
        out << QString::fromUtf8(item);
    return out;
}

QJsonArray strings(const QStringList& items)
{
    QJsonArray a;
    for (const QString& s : items)
        a.append(s);
    return a;
}

QJsonObject stringSchema()
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}};
}

QJsonObject bibleSchema()
{
    const QJsonObject character{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), strings(names({"name", "role", "visualDescriptor"}))},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("name"), stringSchema()},
                     {QStringLiteral("role"),
                      QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                  {QStringLiteral("enum"), strings(names({"protagonist", "antagonist",
                                                                          "mentor", "ally", "rival"}))}}},
                     {QStringLiteral("visualDescriptor"),
                      QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                  {QStringLiteral("maxLength"), 120}}}}}};
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                       {QStringLiteral("required"), strings(names({"title", "logline", "directorsVision",
                                                                   "characters", "setting", "plotOutline"}))},
                       {QStringLiteral("properties"),
                        QJsonObject{{QStringLiteral("title"), stringSchema()},
                                    {QStringLiteral("logline"), stringSchema()},
                                    {QStringLiteral("directorsVision"), stringSchema()},
                                    {QStringLiteral("characters"),
                                     QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                                 {QStringLiteral("minItems"), 2},
                                                 {QStringLiteral("maxItems"), 4},
                                                 {QStringLiteral("items"), character}}},
                                    {QStringLiteral("setting"), stringSchema()},
                                    {QStringLiteral("plotOutline"), stringSchema()}}}};
}

QJsonObject sceneListSchema(int count)
{
    const QJsonObject scene{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"),
         strings(names({"title", "summary", "mood", "themes", "characters", "cameraMovement", "palette"}))},
        {QStringLiteral("properties"),
         QJsonObject{
             {QStringLiteral("title"), stringSchema()},
             {QStringLiteral("summary"), stringSchema()},
             {QStringLiteral("mood"), stringSchema()},
             {QStringLiteral("themes"),
              QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                          {QStringLiteral("minItems"), 1},
                          {QStringLiteral("maxItems"), 3},
                          {QStringLiteral("items"),
                           QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                       {QStringLiteral("enum"), strings(StoryCorpus::themeVocabulary())}}}}},
             {QStringLiteral("characters"), QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                                        {QStringLiteral("minItems"), 1},
                                                        {QStringLiteral("items"), stringSchema()}}},
             {QStringLiteral("cameraMovement"), stringSchema()},
             {QStringLiteral("palette"), stringSchema()}}}};
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), strings(names({"scenes"}))},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("scenes"), QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                                            {QStringLiteral("minItems"), count},
                                                            {QStringLiteral("maxItems"), count},
                                                            {QStringLiteral("items"), scene}}}}}};
}

QJsonObject promptSchema()
{
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), strings(names({"prompt", "negativePrompt"}))},
        {QStringLiteral("properties"), QJsonObject{{QStringLiteral("prompt"), stringSchema()},
                                                   {QStringLiteral("negativePrompt"), stringSchema()}}}};
}

const QString kBibleMessage =
    QStringLiteral("Story bible:\n{\"title\":\"The Last Lighthouse\",\"characters\":[{\"name\":\"Mara "
                   "Voss\",\"role\":\"protagonist\","
                   "\"visualDescriptor\":\"weathered woman in an orange storm coat\"},{\"name\":\"Elias "
                   "Calder\",\"role\":\"mentor\","
                   "\"visualDescriptor\":\"old keeper with a white beard and a brass "
                   "telescope\"}],\"setting\":\"A lighthouse on the "
                   "last rock of a flooded planet.\"}\nWrite the scene list.");

QJsonObject chatBody(const QString& user, const QJsonObject& schema = {},
                     const QJsonValue& seed = QJsonValue())
{
    QJsonObject body{
        {QStringLiteral("model"), QStringLiteral("sandbox-story-7b-instruct")},
        {QStringLiteral("messages"),
         QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("system")},
                                {QStringLiteral("content"), QStringLiteral("You write screen stories.")}},
                    QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                {QStringLiteral("content"), user}}}},
        {QStringLiteral("temperature"), 0.7},
        {QStringLiteral("top_p"), 0.9},
        {QStringLiteral("max_tokens"), 4096}};
    if (!schema.isEmpty())
        body.insert(QStringLiteral("response_format"),
                    QJsonObject{{QStringLiteral("type"), QStringLiteral("json_schema")},
                                {QStringLiteral("json_schema"),
                                 QJsonObject{{QStringLiteral("name"), QStringLiteral("out")},
                                             {QStringLiteral("strict"), true},
                                             {QStringLiteral("schema"), schema}}}});
    if (!seed.isUndefined() && !seed.isNull())
        body.insert(QStringLiteral("seed"), seed);
    return body;
}

int words(const QString& text)
{
    return int(text.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts).size());
}

} // namespace

class TestSandboxLlm : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void faultRuleParse_data();
    void faultRuleParse();

    void v1ModelsListsBothModels();
    void v0ModelsCarryStateTypeAndContext();
    void v1NativeCatalogueCarriesLoadedContext();
    void jitListingAndLoad();
    void jitOffHidesAndRefusesUnloadedModel();
    void v1UnloadTakesTheInstanceOut();
    void lmStudio03HasNoV1Api();
    void unknownEndpointAnswers200();
    void apiKeyRequired();

    void nonStreamingChatShape();
    void v0ChatCarriesStats();
    void streamingFraming();
    void streamingWithoutUsageOption();
    void bibleSchemaIsValid();
    void sceneListSchemaIsValid();
    void promptReusesInjectedDescriptors();
    void freeTextIsAParagraph();
    void seedDeterminism();
    void temperatureZeroIgnoresSeed();
    void maxTokensAndStop();
    void jsonObjectRejected();
    void unknownAndWrongModels_data();
    void unknownAndWrongModels();
    void missingMessagesRejected();
    void hostileSchemaIsBounded();

    void embeddings();
    void embeddingsRejectChatModel();

    void faultColdLoad();
    void faultLoading503();
    void faultMalformedJson();
    void faultFencedThink();
    void faultReasoningOnly();
    void faultTruncated();
    void faultStreamError();
    void faultStall();
    void faultContextOverflow();
    void faultEofNoDone();
    void faultFewerItems();
    void faultNoModel();
    void faultEmbeddingOnly();
    void faultTimesZeroMeansAlways();
    void clientAbortIsCounted();

    void keyframeRubricFromPixels_data();
    void keyframeRubricFromPixels();
    void keyframeRubricOnSandboxRenderedKeyframes();
    void samenessFromPixels_data();
    void samenessFromPixels();

    void ollamaFlavourDiscovery();
    void llamaCppFlavourDiscovery();
    void runStandalonePrintsWhereItListens();

private:
    void start(const SandboxLlmConfig& config = SandboxLlmConfig());
    Reply get(const QString& path);
    Reply post(const QString& path, const QJsonObject& body, const QByteArray& auth = {});
    QString chatContent(const QJsonObject& body);

    std::unique_ptr<SandboxLlmHost> m_host;
    std::unique_ptr<QNetworkAccessManager> m_nam;
};

void TestSandboxLlm::init()
{
    m_nam = std::make_unique<QNetworkAccessManager>();
}

void TestSandboxLlm::cleanup()
{
    m_host.reset();
    m_nam.reset();
}

void TestSandboxLlm::start(const SandboxLlmConfig& config)
{
    m_host = std::make_unique<SandboxLlmHost>();
    SandboxLlmConfig c = config;
    QString error;
    QVERIFY2(m_host->start(c, 0, &error), qPrintable(error));
}

namespace {
Reply finish(QNetworkReply* reply, const QElapsedTimer& timer, int timeoutMs = 20000)
{
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    if (!reply->isFinished())
        loop.exec();
    Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.error = reply->error();
    r.headers = reply->rawHeaderPairs();
    r.elapsedMs = timer.elapsed();
    if (!reply->isFinished())
        reply->abort();
    reply->deleteLater();
    return r;
}
} // namespace

Reply TestSandboxLlm::get(const QString& path)
{
    QElapsedTimer timer;
    timer.start();
    QNetworkRequest request(m_host->url().resolved(QUrl(path)));
    return finish(m_nam->get(request), timer);
}

Reply TestSandboxLlm::post(const QString& path, const QJsonObject& body, const QByteArray& auth)
{
    QElapsedTimer timer;
    timer.start();
    QNetworkRequest request(m_host->url().resolved(QUrl(path)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!auth.isEmpty())
        request.setRawHeader("Authorization", auth);
    return finish(m_nam->post(request, QJsonDocument(body).toJson(QJsonDocument::Compact)), timer);
}

QString TestSandboxLlm::chatContent(const QJsonObject& body)
{
    const Reply r = post(QStringLiteral("/v1/chat/completions"), body);
    [&] { QCOMPARE(r.status, 200); }();
    return r.json()
        .value(QStringLiteral("choices"))
        .toArray()
        .at(0)
        .toObject()
        .value(QStringLiteral("message"))
        .toObject()
        .value(QStringLiteral("content"))
        .toString();
}

// Storyboard judges (issue 8) on hand-made keyframes (StoryboardTestImages.h) and on the sandbox renderer's
// own.
namespace {

using namespace sbimages;

QString dataUrl(const QByteArray& png)
{
    return QStringLiteral("data:image/png;base64,") + QString::fromLatin1(png.toBase64());
}

QJsonObject visionBody(const QString& text, const QList<QByteArray>& images, const QJsonObject& properties)
{
    QJsonArray content{
        QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), text}}};
    for (const QByteArray& png : images)
        content.append(
            QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")},
                        {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), dataUrl(png)}}}});
    QJsonObject body = chatBody(QString(), QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                                                       {QStringLiteral("properties"), properties}});
    body.insert(QStringLiteral("model"), QStringLiteral("sandbox-vision-2b"));
    body.insert(QStringLiteral("temperature"), 0);
    body.insert(QStringLiteral("messages"),
                QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                       {QStringLiteral("content"), content}}});
    return body;
}

QJsonObject rubricProperties()
{
    QJsonObject p;
    for (const char* k :
         {"description_match", "character_count", "characters", "borders_or_text", "score", "reasons"})
        p.insert(QLatin1String(k), QJsonObject{});
    return p;
}

// The user text KeyframeJudge writes (quality/KeyframeJudge.cpp rubricUserText).
QString rubricText(const QString& description, const QStringList& names, const QList<bool>& sheets)
{
    QStringList lines{QStringLiteral("Shot description:"), description, QString(),
                      QStringLiteral("Expected visible characters: %1").arg(names.size())};
    int image = 2;
    for (int i = 0; i < names.size(); ++i)
        lines << QStringLiteral("Character %1: %2 (%3)")
                     .arg(i + 1)
                     .arg(names.at(i), sheets.at(i) ? QStringLiteral("reference sheet: image %1").arg(image++)
                                                    : QStringLiteral("no reference sheet: count only"));
    lines << QString() << QStringLiteral("Image 1 is the candidate keyframe. Judge it against the rubric.");
    return lines.join(QLatin1Char('\n'));
}

const QString kDescription = QStringLiteral("Mara Voss and Ivo Brandt argue in the lamp room");
const QString kPrompt =
    QStringLiteral("Mara Voss and Ivo Brandt argue in the lamp room at dusk, orange storm coat");

} // namespace

void TestSandboxLlm::keyframeRubricFromPixels_data()
{
    QTest::addColumn<QByteArray>("keyframe");
    QTest::addColumn<QList<bool>>("sheets"); // Mara (orange sheet), Ivo (teal sheet)
    QTest::addColumn<int>("descriptionMatch");
    QTest::addColumn<int>("count");
    QTest::addColumn<QList<int>>("identity"); // of the characters with sheets
    QTest::addColumn<bool>("borders");
    QTest::addColumn<double>("score");

    const QVector<Figure> both = maraAndIvo();
    // score = 10 * (0.35 * match/4 + 0.25 * exp(-|seen-expected|/max(expected,1)) + 0.3 * identity/4 + 0.1 *
    // !borders)
    QTest::newRow("both characters, matching sheets") << keyframePng(both, kPrompt) << QList<bool>{true, true}
                                                      << 4 << 2 << QList<int>{4, 4} << false << 10.0;
    QTest::newRow("Ivo missing") << keyframePng({both.first()}, kPrompt) << QList<bool>{true, true} << 4 << 1
                                 << QList<int>{4, 0} << false << 7.5; // 0.35 + 0.25*e^-0.5 + 0.15 + 0.1
    QTest::newRow("Ivo painted in another colour")
        << keyframePng({both.first(), {QColor(140, 60, 170), QRect(200, 50, 40, 110)}}, kPrompt)
        << QList<bool>{true, true} << 4 << 2 << QList<int>{4, 1} << false
        << 8.9; // teal-purple distance 142.5: band 1; 0.35 + 0.25 + 0.3*5/8 + 0.1
    QTest::newRow("letterboxed") << keyframePng(both, kPrompt, 60, 20) << QList<bool>{true, true} << 4 << 2
                                 << QList<int>{4, 4} << true << 9.0;
    QTest::newRow("no prompt chunk") << keyframePng(both, QString()) << QList<bool>{true, true} << 0 << 2
                                     << QList<int>{4, 4} << false << 6.5;
    QTest::newRow("Ivo without a sheet: counted, not identity-judged")
        << keyframePng(both, kPrompt) << QList<bool>{true, false} << 4 << 2 << QList<int>{4} << false << 10.0;
}

void TestSandboxLlm::keyframeRubricFromPixels()
{
    QFETCH(QByteArray, keyframe);
    QFETCH(QList<bool>, sheets);
    QFETCH(int, descriptionMatch);
    QFETCH(int, count);
    QFETCH(QList<int>, identity);
    QFETCH(bool, borders);
    QFETCH(double, score);
    SandboxLlmConfig config;
    config.visionModel = true;
    config.tokenDelayMs = 0;
    start(config);
    QList<QByteArray> images{keyframe};
    if (sheets.at(0))
        images << sheetPng(kOrange);
    if (sheets.at(1))
        images << sheetPng(kTeal);
    const QString text =
        rubricText(kDescription, {QStringLiteral("Mara Voss"), QStringLiteral("Ivo Brandt")}, sheets);
    const QString content = chatContent(visionBody(text, images, rubricProperties()));
    const QJsonObject answer = QJsonDocument::fromJson(content.toUtf8()).object();
    QVERIFY2(!answer.isEmpty(), qPrintable(content));
    QCOMPARE(answer.value(QStringLiteral("description_match")).toInt(), descriptionMatch);
    QCOMPARE(answer.value(QStringLiteral("character_count")).toInt(), count);
    QCOMPARE(answer.value(QStringLiteral("borders_or_text")).toBool(), borders);
    QCOMPARE(answer.value(QStringLiteral("score")).toDouble(), score);
    const QJsonArray characters = answer.value(QStringLiteral("characters")).toArray();
    QCOMPARE(characters.size(), identity.size());
    const QStringList names{QStringLiteral("Mara Voss"), QStringLiteral("Ivo Brandt")};
    for (int i = 0; i < identity.size(); ++i) {
        QCOMPARE(characters.at(i).toObject().value(QStringLiteral("name")).toString(), names.at(i));
        QCOMPARE(characters.at(i).toObject().value(QStringLiteral("identity")).toInt(), identity.at(i));
    }
    QVERIFY(!answer.value(QStringLiteral("reasons")).toString().isEmpty());
    // Deterministic: the same request gives the same answer.
    QCOMPARE(chatContent(visionBody(text, images, rubricProperties())), content);
}

void TestSandboxLlm::keyframeRubricOnSandboxRenderedKeyframes()
{
    // Sheets and keyframes from the sandbox ComfyUI's own renderer: a sheet's colour carries into the
    // keyframes that use it, so the sandbox judge sees both characters and recognises each, whatever the
    // seed.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile graphFile(QStringLiteral(GD_SOURCE_DIR "/resources/workflows/sandbox-keyframe.json"));
    QFile sheetFile(QStringLiteral(GD_SOURCE_DIR "/resources/workflows/sandbox-reference-sheet.json"));
    QVERIFY(graphFile.open(QIODevice::ReadOnly) && sheetFile.open(QIODevice::ReadOnly));
    const QJsonObject keyframeGraph = QJsonDocument::fromJson(graphFile.readAll()).object();
    const QJsonObject sheetGraph = QJsonDocument::fromJson(sheetFile.readAll()).object();
    auto set = [](QJsonObject graph, const char* node, const char* input, const QJsonValue& value) {
        QJsonObject n = graph.value(QLatin1String(node)).toObject();
        QJsonObject inputs = n.value(QStringLiteral("inputs")).toObject();
        inputs.insert(QLatin1String(input), value);
        n.insert(QStringLiteral("inputs"), inputs);
        graph.insert(QLatin1String(node), n);
        return graph;
    };
    const gd::sandbox::NodeCatalog catalog = gd::sandbox::NodeCatalog::builtin();
    auto render = [&](const QJsonObject& graph) {
        const gd::sandbox::GraphInspector inspector(graph, catalog, dir.path());
        const gd::sandbox::StoryboardFrameRenderer renderer(inspector, dir.path());
        gd::sandbox::FrameLabel label;
        label.title = QStringLiteral("shot-01");
        label.seed = quint32(inspector.seed());
        const QByteArray png = pngOf(renderer.render(label, QSize(320, 180)));
        return gd::sandbox::PngText::withText(png, "prompt",
                                              QJsonDocument(graph).toJson(QJsonDocument::Compact));
    };
    const QByteArray mara =
        render(set(set(sheetGraph, "2", "text",
                       QStringLiteral("character reference sheet, Mara Voss, orange storm coat")),
                   "5", "seed", 7));
    const QByteArray ivo =
        render(set(set(sheetGraph, "2", "text",
                       QStringLiteral("character reference sheet, Ivo Brandt, grey fisherman sweater")),
                   "5", "seed", 7));
    {
        QFile m(dir.filePath(QStringLiteral("mara.png")));
        QFile i(dir.filePath(QStringLiteral("ivo.png")));
        QVERIFY(m.open(QIODevice::WriteOnly) && m.write(mara) == mara.size());
        QVERIFY(i.open(QIODevice::WriteOnly) && i.write(ivo) == ivo.size());
    }
    SandboxLlmConfig config;
    config.visionModel = true;
    config.tokenDelayMs = 0;
    start(config);
    const QString text =
        rubricText(kDescription, {QStringLiteral("Mara Voss"), QStringLiteral("Ivo Brandt")}, {true, true});
    for (int seed = 1; seed <= 6; ++seed) {
        QJsonObject graph = set(keyframeGraph, "2", "text", kPrompt);
        graph = set(set(set(graph, "4", "image", QStringLiteral("mara.png")), "5", "image",
                        QStringLiteral("ivo.png")),
                    "11", "seed", seed);
        const QByteArray keyframe = render(graph);
        const QJsonObject answer =
            QJsonDocument::fromJson(
                chatContent(visionBody(text, {keyframe, mara, ivo}, rubricProperties())).toUtf8())
                .object();
        QVERIFY2(answer.value(QStringLiteral("character_count")).toInt() == 2,
                 qPrintable(QStringLiteral("seed %1: %2")
                                .arg(seed)
                                .arg(answer.value(QStringLiteral("reasons")).toString())));
        const QJsonArray characters = answer.value(QStringLiteral("characters")).toArray();
        QCOMPARE(characters.size(), 2);
        QCOMPARE(characters.at(0).toObject().value(QStringLiteral("identity")).toInt(), 4);
        QCOMPARE(characters.at(1).toObject().value(QStringLiteral("identity")).toInt(), 4);
        QCOMPARE(answer.value(QStringLiteral("description_match")).toInt(), 4);
        // Swapped sheets keep both identities (each colour is still in the frame); a foreign sheet does not.
        const QJsonObject foreign =
            QJsonDocument::fromJson(
                chatContent(visionBody(text, {keyframe, sheetPng(kGreen), ivo}, rubricProperties())).toUtf8())
                .object();
        QVERIFY(foreign.value(QStringLiteral("characters"))
                    .toArray()
                    .at(0)
                    .toObject()
                    .value(QStringLiteral("identity"))
                    .toInt() < 4);
    }
}

void TestSandboxLlm::samenessFromPixels_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("sameIdentity");
    QTest::addColumn<bool>("sameLayout");
    const QVector<Figure> both = maraAndIvo();
    const QVector<Figure> moved{{kOrange, QRect(230, 70, 40, 100)}, {kTeal, QRect(20, 40, 40, 110)}};
    const QVector<Figure> others{{kGreen, QRect(70, 60, 40, 100)}, {kTeal, QRect(200, 50, 40, 110)}};
    QTest::newRow("the same keyframe")
        << keyframePng(both, kPrompt) << keyframePng(both, kPrompt) << true << true;
    QTest::newRow("same people, new composition")
        << keyframePng(both, kPrompt) << keyframePng(moved, kPrompt, 80) << true << false;
    QTest::newRow("another character, same composition")
        << keyframePng(both, kPrompt) << keyframePng(others, kPrompt) << false << true;
    QTest::newRow("one character fewer")
        << keyframePng(both, kPrompt) << keyframePng({both.first()}, kPrompt) << false << true;
}

void TestSandboxLlm::samenessFromPixels()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, sameIdentity);
    QFETCH(bool, sameLayout);
    SandboxLlmConfig config;
    config.visionModel = true;
    config.tokenDelayMs = 0;
    start(config);
    QJsonObject properties;
    for (const char* k : {"same_identity", "same_layout", "reasons"})
        properties.insert(QLatin1String(k), QJsonObject{});
    const QString content =
        chatContent(visionBody(QStringLiteral("Are they near-identical?"), {a, b}, properties));
    const QJsonObject answer = QJsonDocument::fromJson(content.toUtf8()).object();
    QCOMPARE(answer.value(QStringLiteral("same_identity")).toBool(), sameIdentity);
    QCOMPARE(answer.value(QStringLiteral("same_layout")).toBool(), sameLayout);
    QVERIFY2(!answer.value(QStringLiteral("reasons")).toString().isEmpty(), qPrintable(content));
}

void TestSandboxLlm::faultRuleParse_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("times");
    QTest::addColumn<int>("param");
    QTest::newRow("bare") << "loading-503" << true << int(LlmFaultKind::Loading503) << 1 << 0;
    QTest::newRow("times+param") << "cold-load:2:1500" << true << int(LlmFaultKind::ColdLoad) << 2 << 1500;
    QTest::newRow("always") << "stall:0" << true << int(LlmFaultKind::Stall) << 0 << 0;
    QTest::newRow("case") << "Embedding-Only" << true << int(LlmFaultKind::EmbeddingOnly) << 1 << 0;
    QTest::newRow("unknown") << "explode" << false << 0 << 0 << 0;
    QTest::newRow("bad times") << "stall:x" << false << 0 << 0 << 0;
    QTest::newRow("negative param") << "cold-load:1:-5" << false << 0 << 0 << 0;
    QTest::newRow("too many") << "stall:1:2:3" << false << 0 << 0 << 0;
}

void TestSandboxLlm::faultRuleParse()
{
    QFETCH(QString, spec);
    QFETCH(bool, ok);
    QString error;
    const auto rule = LlmFaultRule::parse(spec, &error);
    QCOMPARE(rule.has_value(), ok);
    if (!ok) {
        QVERIFY(error.contains(spec));
        return;
    }
    QFETCH(int, kind);
    QFETCH(int, times);
    QFETCH(int, param);
    QCOMPARE(int(rule->kind), kind);
    QCOMPARE(rule->times, times);
    QCOMPARE(rule->param, param);
    QCOMPARE(LlmFaultRule::kindNames().size(), 13);
    QCOMPARE(LlmFaultRule::kindFromName(LlmFaultRule::kindName(rule->kind)), rule->kind);
}

void TestSandboxLlm::v1ModelsListsBothModels()
{
    start();
    const Reply r = get(QStringLiteral("/v1/models"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("X-Powered-By"), QByteArray("Express"));
    const QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("object")).toString(), QStringLiteral("list"));
    const QJsonArray data = o.value(QStringLiteral("data")).toArray();
    QCOMPARE(data.size(), 2);
    QCOMPARE(data.at(0).toObject().value(QStringLiteral("id")).toString(),
             QStringLiteral("sandbox-story-7b-instruct"));
    QCOMPARE(data.at(1).toObject().value(QStringLiteral("id")).toString(),
             QStringLiteral("text-embedding-nomic-embed-text-v1.5"));
    for (const QJsonValue& m : data) {
        QCOMPARE(m.toObject().value(QStringLiteral("owned_by")).toString(),
                 QStringLiteral("organization_owner"));
        QVERIFY(!m.toObject().contains(QStringLiteral("state"))); // /v1 carries no loaded state or context
    }
    QCOMPARE(get(QStringLiteral("/v1/models/sandbox-story-7b-instruct")).status, 200);
    QCOMPARE(get(QStringLiteral("/v1/models/o4-mini")).status, 404);
}

void TestSandboxLlm::v0ModelsCarryStateTypeAndContext()
{
    SandboxLlmConfig c;
    c.contextLength = 12918;
    start(c);
    const QJsonArray data =
        get(QStringLiteral("/api/v0/models")).json().value(QStringLiteral("data")).toArray();
    QCOMPARE(data.size(), 2);
    const QJsonObject llm = data.at(0).toObject();
    QCOMPARE(llm.value(QStringLiteral("type")).toString(), QStringLiteral("llm"));
    QCOMPARE(llm.value(QStringLiteral("state")).toString(), QStringLiteral("loaded"));
    QCOMPARE(llm.value(QStringLiteral("loaded_context_length")).toInt(), 12918);
    QCOMPARE(llm.value(QStringLiteral("max_context_length")).toInt(), 32768);
    QCOMPARE(data.at(1).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("embeddings"));
    const Reply one = get(QStringLiteral("/api/v0/models/sandbox-story-7b-instruct"));
    QCOMPARE(one.status, 200);
    QCOMPARE(one.json().value(QStringLiteral("state")).toString(), QStringLiteral("loaded"));
    QCOMPARE(get(QStringLiteral("/api/v0/models/nope")).status, 404);
}

void TestSandboxLlm::v1NativeCatalogueCarriesLoadedContext()
{
    SandboxLlmConfig c;
    c.contextLength = 16384;
    start(c);
    const QJsonArray models =
        get(QStringLiteral("/api/v1/models")).json().value(QStringLiteral("models")).toArray();
    QCOMPARE(models.size(), 2);
    const QJsonObject llm = models.at(0).toObject();
    QCOMPARE(llm.value(QStringLiteral("key")).toString(), QStringLiteral("sandbox-story-7b-instruct"));
    QCOMPARE(llm.value(QStringLiteral("type")).toString(), QStringLiteral("llm"));
    const QJsonArray instances = llm.value(QStringLiteral("loaded_instances")).toArray();
    QCOMPARE(instances.size(), 1);
    QCOMPARE(instances.at(0)
                 .toObject()
                 .value(QStringLiteral("config"))
                 .toObject()
                 .value(QStringLiteral("context_length"))
                 .toInt(),
             16384);
    QCOMPARE(models.at(1).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("embedding"));
}

void TestSandboxLlm::jitListingAndLoad()
{
    SandboxLlmConfig c;
    c.modelLoaded = false; // JIT on by default: listed although not loaded
    start(c);
    QCOMPARE(get(QStringLiteral("/v1/models")).json().value(QStringLiteral("data")).toArray().size(), 2);
    const QJsonObject before = get(QStringLiteral("/api/v0/models/sandbox-story-7b-instruct")).json();
    QCOMPARE(before.value(QStringLiteral("state")).toString(), QStringLiteral("not-loaded"));
    QVERIFY(!before.contains(QStringLiteral("loaded_context_length")));
    QVERIFY(get(QStringLiteral("/api/v1/models"))
                .json()
                .value(QStringLiteral("models"))
                .toArray()
                .at(0)
                .toObject()
                .value(QStringLiteral("loaded_instances"))
                .toArray()
                .isEmpty());
    QCOMPARE(post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hello"))).status, 200);
    QCOMPARE(get(QStringLiteral("/api/v0/models/sandbox-story-7b-instruct"))
                 .json()
                 .value(QStringLiteral("state"))
                 .toString(),
             QStringLiteral("loaded"));
    QVERIFY(m_host->server()->modelLoaded());
}

void TestSandboxLlm::v1UnloadTakesTheInstanceOut()
{
    // spec §2.2: POST /api/v1/models/unload {"instance_id"} → {"instance_id"}; the instance leaves the
    // loaded lists (v1 loaded_instances, v0 state) and a JIT chat loads the model again.
    SandboxLlmConfig c;
    c.visionModel = true;
    start(c);
    auto instances = [this](int model) {
        return get(QStringLiteral("/api/v1/models"))
            .json()
            .value(QStringLiteral("models"))
            .toArray()
            .at(model)
            .toObject()
            .value(QStringLiteral("loaded_instances"))
            .toArray();
    };
    for (const QString& id :
         {QStringLiteral("sandbox-story-7b-instruct"), QStringLiteral("sandbox-vision-2b")}) {
        const Reply r =
            post(QStringLiteral("/api/v1/models/unload"), QJsonObject{{QStringLiteral("instance_id"), id}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json(), (QJsonObject{{QStringLiteral("instance_id"), id}}));
        // Unloading it again: no such loaded instance.
        const Reply again =
            post(QStringLiteral("/api/v1/models/unload"), QJsonObject{{QStringLiteral("instance_id"), id}});
        QCOMPARE(again.status, 404);
        QVERIFY(!again.json()
                     .value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("message"))
                     .toString()
                     .isEmpty());
    }
    QVERIFY(instances(0).isEmpty());
    QVERIFY(instances(1).isEmpty());
    QCOMPARE(instances(2).size(), 1); // the embedding model was not touched
    QVERIFY(!m_host->server()->modelLoaded());
    const QJsonObject v0 = get(QStringLiteral("/api/v0/models/sandbox-vision-2b")).json();
    QCOMPARE(v0.value(QStringLiteral("state")).toString(), QStringLiteral("not-loaded"));
    QVERIFY(!v0.contains(QStringLiteral("loaded_context_length")));
    QCOMPARE(post(QStringLiteral("/api/v1/models/unload"),
                  QJsonObject{{QStringLiteral("instance_id"), QStringLiteral("nope")}})
                 .status,
             404);
    QCOMPARE(post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hello"))).status, 200);
    QCOMPARE(instances(0).size(), 1);
}

void TestSandboxLlm::lmStudio03HasNoV1Api()
{
    SandboxLlmConfig c;
    c.lmStudioApiV1 = false;
    c.legacyUnknownEndpoint200 = false;
    start(c);
    QCOMPARE(get(QStringLiteral("/api/v1/models")).status, 404);
    QCOMPARE(post(QStringLiteral("/api/v1/models/unload"),
                  QJsonObject{{QStringLiteral("instance_id"), QStringLiteral("sandbox-story-7b-instruct")}})
                 .status,
             404);
    QVERIFY(m_host->server()->modelLoaded());
    QCOMPARE(get(QStringLiteral("/api/v0/models")).status, 200);
}

void TestSandboxLlm::jitOffHidesAndRefusesUnloadedModel()
{
    SandboxLlmConfig c;
    c.modelLoaded = false;
    c.jitLoading = false;
    start(c);
    const QJsonArray data = get(QStringLiteral("/v1/models")).json().value(QStringLiteral("data")).toArray();
    QCOMPARE(data.size(), 1);
    QCOMPARE(data.at(0).toObject().value(QStringLiteral("id")).toString(),
             QStringLiteral("text-embedding-nomic-embed-text-v1.5"));
    const Reply r = post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hello")));
    QCOMPARE(r.status, 400);
    QVERIFY(
        r.json().value(QStringLiteral("error")).toString().startsWith(QStringLiteral("No models loaded")));
}

void TestSandboxLlm::unknownEndpointAnswers200()
{
    start();
    const Reply r = get(QStringLiteral("/api/tags"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("error")).toString(),
             QStringLiteral("Unexpected endpoint or method. (GET /api/tags)"));
}

void TestSandboxLlm::apiKeyRequired()
{
    SandboxLlmConfig c;
    c.apiKey = QStringLiteral("sk-sandbox");
    start(c);
    QCOMPARE(post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi"))).status, 401);
    QCOMPARE(
        post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi")), "Bearer wrong").status,
        401);
    QCOMPARE(post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi")), "Bearer sk-sandbox")
                 .status,
             200);
}

void TestSandboxLlm::nonStreamingChatShape()
{
    start();
    const Reply r =
        post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Tell me a story.")));
    QCOMPARE(r.status, 200);
    QVERIFY(r.header("Content-Type").startsWith("application/json"));
    const QJsonObject o = r.json();
    QVERIFY(o.value(QStringLiteral("id")).toString().startsWith(QStringLiteral("chatcmpl-")));
    QCOMPARE(o.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion"));
    QCOMPARE(o.value(QStringLiteral("model")).toString(), QStringLiteral("sandbox-story-7b-instruct"));
    QVERIFY(o.value(QStringLiteral("created")).toDouble() > 1.7e9);
    const QJsonObject choice = o.value(QStringLiteral("choices")).toArray().at(0).toObject();
    QCOMPARE(choice.value(QStringLiteral("index")).toInt(-1), 0);
    QCOMPARE(choice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("stop"));
    const QJsonObject message = choice.value(QStringLiteral("message")).toObject();
    QCOMPARE(message.value(QStringLiteral("role")).toString(), QStringLiteral("assistant"));
    QVERIFY(words(message.value(QStringLiteral("content")).toString()) > 20);
    const QJsonObject usage = o.value(QStringLiteral("usage")).toObject();
    QVERIFY(usage.value(QStringLiteral("prompt_tokens")).toInt() > 0);
    QVERIFY(usage.value(QStringLiteral("completion_tokens")).toInt() > 0);
    QCOMPARE(usage.value(QStringLiteral("total_tokens")).toInt(),
             usage.value(QStringLiteral("prompt_tokens")).toInt() +
                 usage.value(QStringLiteral("completion_tokens")).toInt());
    QVERIFY(o.value(QStringLiteral("stats")).isObject());
    QVERIFY(o.value(QStringLiteral("stats")).toObject().isEmpty()); // empty on /v1 (LM Studio issue #601)
    QCOMPARE(m_host->server()->chatRequestCount(), 1);
    QCOMPARE(m_host->server()->lastChatRequest().value(QStringLiteral("max_tokens")).toInt(), 4096);
}

void TestSandboxLlm::v0ChatCarriesStats()
{
    start();
    const QJsonObject o =
        post(QStringLiteral("/api/v0/chat/completions"), chatBody(QStringLiteral("Hi"))).json();
    const QJsonObject stats = o.value(QStringLiteral("stats")).toObject();
    QVERIFY(stats.value(QStringLiteral("tokens_per_second")).toDouble() > 0);
    QVERIFY(stats.contains(QStringLiteral("time_to_first_token")));
    QCOMPARE(stats.value(QStringLiteral("stop_reason")).toString(), QStringLiteral("eosFound"));
    QCOMPARE(o.value(QStringLiteral("model_info")).toObject().value(QStringLiteral("context_length")).toInt(),
             8192);
}

void TestSandboxLlm::streamingFraming()
{
    start();
    QJsonObject body = chatBody(QStringLiteral("Tell me a story."), {}, 7);
    const QString expected = chatContent(body);
    body.insert(QStringLiteral("stream"), true);
    body.insert(QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}});
    const Reply r = post(QStringLiteral("/v1/chat/completions"), body);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("Content-Type"), QByteArray("text/event-stream"));
    QCOMPARE(r.header("Cache-Control"), QByteArray("no-cache"));
    const QList<SseEvent> events = parseSse(r.body);
    QVERIFY(events.size() > 5);
    // Role-only first chunk.
    const QJsonObject first = events.first().json();
    QCOMPARE(first.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion.chunk"));
    const QJsonObject firstDelta = first.value(QStringLiteral("choices"))
                                       .toArray()
                                       .at(0)
                                       .toObject()
                                       .value(QStringLiteral("delta"))
                                       .toObject();
    QCOMPARE(firstDelta.value(QStringLiteral("role")).toString(), QStringLiteral("assistant"));
    QVERIFY(!firstDelta.contains(QStringLiteral("content")));
    // Deltas reassemble the same text the non-streaming answer has (same seed).
    QCOMPARE(contentOf(events), expected);
    // One id for the whole stream; many small deltas (token-ish chunks).
    QSet<QString> ids;
    int contentChunks = 0;
    for (const SseEvent& e : events.mid(0, events.size() - 1)) {
        ids.insert(e.json().value(QStringLiteral("id")).toString());
        const QJsonArray choices = e.json().value(QStringLiteral("choices")).toArray();
        if (!choices.isEmpty() && choices.at(0)
                                      .toObject()
                                      .value(QStringLiteral("delta"))
                                      .toObject()
                                      .contains(QStringLiteral("content")))
            ++contentChunks;
    }
    QCOMPARE(ids.size(), 1);
    QVERIFY(contentChunks > expected.size() / 12);
    // Finish chunk, usage chunk, [DONE].
    QCOMPARE(events.last().data, QByteArray("[DONE]"));
    const QJsonObject usageChunk = events.at(events.size() - 2).json();
    QVERIFY(usageChunk.value(QStringLiteral("choices")).toArray().isEmpty());
    QVERIFY(usageChunk.value(QStringLiteral("usage"))
                .toObject()
                .value(QStringLiteral("completion_tokens"))
                .toInt() >= contentChunks);
    const QJsonObject finishChoice =
        events.at(events.size() - 3).json().value(QStringLiteral("choices")).toArray().at(0).toObject();
    QCOMPARE(finishChoice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("stop"));
    QVERIFY(finishChoice.value(QStringLiteral("delta")).toObject().isEmpty());
    for (const SseEvent& e : events.mid(0, events.size() - 3))
        QVERIFY(e.json()
                    .value(QStringLiteral("choices"))
                    .toArray()
                    .at(0)
                    .toObject()
                    .value(QStringLiteral("finish_reason"))
                    .isNull());
}

void TestSandboxLlm::streamingWithoutUsageOption()
{
    start();
    QJsonObject body = chatBody(QStringLiteral("Tell me a story."));
    body.insert(QStringLiteral("stream"), true);
    const QList<SseEvent> events = parseSse(post(QStringLiteral("/v1/chat/completions"), body).body);
    QCOMPARE(events.last().data, QByteArray("[DONE]"));
    for (const SseEvent& e : events)
        QVERIFY(!e.json().contains(QStringLiteral("usage")));
}

void TestSandboxLlm::bibleSchemaIsValid()
{
    start();
    for (int seed : {1, 2, 3, 4, 5}) {
        const QString content =
            chatContent(chatBody(QStringLiteral("A keeper on a drowned world."), bibleSchema(), seed));
        QJsonParseError error;
        const QJsonObject bible = QJsonDocument::fromJson(content.toUtf8(), &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(content));
        for (const QJsonValue& key : bibleSchema().value(QStringLiteral("required")).toArray()) {
            QVERIFY2(bible.contains(key.toString()), qPrintable(key.toString()));
            if (key.toString() != QLatin1String("characters"))
                QVERIFY(words(bible.value(key.toString()).toString()) >= 2 ||
                        key.toString() == QLatin1String("title"));
        }
        QVERIFY(bible.value(QStringLiteral("plotOutline")).toString().contains(QStringLiteral("Act 3")));
        const QJsonArray characters = bible.value(QStringLiteral("characters")).toArray();
        QVERIFY(characters.size() >= 2 && characters.size() <= 4);
        QSet<QString> seenNames;
        for (const QJsonValue& c : characters) {
            const QJsonObject o = c.toObject();
            seenNames.insert(o.value(QStringLiteral("name")).toString());
            QVERIFY(names({"protagonist", "antagonist", "mentor", "ally", "rival"})
                        .contains(o.value(QStringLiteral("role")).toString()));
            const QString descriptor = o.value(QStringLiteral("visualDescriptor")).toString();
            QVERIFY(!descriptor.isEmpty() && descriptor.size() <= 120);
        }
        QCOMPARE(seenNames.size(), int(characters.size())); // distinct characters
    }
}

void TestSandboxLlm::sceneListSchemaIsValid()
{
    start();
    const QStringList vocabulary = StoryCorpus::themeVocabulary();
    QMap<QString, int> themeCounts;
    int tags = 0;
    const QString content = chatContent(chatBody(kBibleMessage, sceneListSchema(5), 11));
    const QJsonArray scenes =
        QJsonDocument::fromJson(content.toUtf8()).object().value(QStringLiteral("scenes")).toArray();
    QCOMPARE(scenes.size(), 5);
    QSet<QString> titles;
    for (const QJsonValue& s : scenes) {
        const QJsonObject scene = s.toObject();
        for (const char* key : {"title", "summary", "mood", "cameraMovement", "palette"}) {
            QVERIFY2(scene.value(QLatin1String(key)).isString(), key);
            QVERIFY2(!scene.value(QLatin1String(key)).toString().isEmpty(), key);
        }
        titles.insert(scene.value(QStringLiteral("title")).toString());
        const QJsonArray themes = scene.value(QStringLiteral("themes")).toArray();
        QVERIFY(themes.size() >= 1 && themes.size() <= 3);
        for (const QJsonValue& t : themes) {
            QVERIFY2(vocabulary.contains(t.toString()), qPrintable(t.toString()));
            ++themeCounts[t.toString()];
            ++tags;
        }
        const QJsonArray characters = scene.value(QStringLiteral("characters")).toArray();
        QVERIFY(!characters.isEmpty());
        for (const QJsonValue& c : characters)
            QVERIFY2(names({"Mara Voss", "Elias Calder"}).contains(c.toString()), qPrintable(c.toString()));
        // The summary names a character the scene lists (entity linkage).
        QVERIFY(scene.value(QStringLiteral("summary")).toString().contains(characters.at(0).toString()));
    }
    QCOMPARE(titles.size(), 5);
    QVERIFY(themeCounts.size() >= 3); // varied tags across scenes
    int maxCount = 0;
    for (int n : themeCounts)
        maxCount = qMax(maxCount, n);
    QVERIFY(double(maxCount) / tags <= 0.5);
}

void TestSandboxLlm::promptReusesInjectedDescriptors()
{
    start();
    const QString user = QStringLiteral(
        "Write the render prompt for scene-002 \"Storm Watch\".\nCharacters present:\n"
        "- Mara Voss (protagonist): weathered woman in an orange storm coat\n"
        "- Elias Calder (mentor): old keeper with a white beard and a brass telescope\n"
        "Director's vision: slow, cold, wide frames; sodium light against blue fog.\nCamera: slow dolly in.");
    for (int seed : {3, 4, 5}) {
        const QJsonObject o =
            QJsonDocument::fromJson(chatContent(chatBody(user, promptSchema(), seed)).toUtf8()).object();
        const QString prompt = o.value(QStringLiteral("prompt")).toString();
        QVERIFY2(prompt.contains(QStringLiteral("weathered woman in an orange storm coat")),
                 qPrintable(prompt));
        QVERIFY2(prompt.contains(QStringLiteral("old keeper with a white beard and a brass telescope")),
                 qPrintable(prompt));
        const int estimate = int((prompt.size() + 3) / 4);
        QVERIFY2(estimate >= 150 && estimate <= 500, qPrintable(QString::number(estimate)));
        QVERIFY2(words(prompt) >= 150 && words(prompt) <= 500, qPrintable(QString::number(words(prompt))));
        QVERIFY(o.value(QStringLiteral("negativePrompt")).toString().contains(QStringLiteral("blurry")));
    }
}

void TestSandboxLlm::freeTextIsAParagraph()
{
    start();
    const QString text = chatContent(chatBody(QStringLiteral("Describe the lighthouse."), {}, 5));
    QVERIFY(words(text) >= 25);
    QVERIFY(text.endsWith(QLatin1Char('.')));
    QVERIFY(QJsonDocument::fromJson(text.toUtf8()).isNull()); // prose, not JSON
}

void TestSandboxLlm::seedDeterminism()
{
    start();
    const QString a = chatContent(chatBody(kBibleMessage, sceneListSchema(5), 42));
    const QString b = chatContent(chatBody(kBibleMessage, sceneListSchema(5), 42));
    const QString c = chatContent(chatBody(kBibleMessage, sceneListSchema(5), 43));
    QCOMPARE(a, b);
    QVERIFY(a != c);
    // Without a seed the messages decide: the same request twice gives the same text.
    QCOMPARE(chatContent(chatBody(QStringLiteral("Same idea"))),
             chatContent(chatBody(QStringLiteral("Same idea"))));
    QVERIFY(chatContent(chatBody(QStringLiteral("Same idea"))) !=
            chatContent(chatBody(QStringLiteral("Other idea"))));
}

void TestSandboxLlm::temperatureZeroIgnoresSeed()
{
    start();
    QJsonObject one = chatBody(QStringLiteral("Judge the story."), bibleSchema(), 1);
    QJsonObject two = chatBody(QStringLiteral("Judge the story."), bibleSchema(), 2);
    one.insert(QStringLiteral("temperature"), 0);
    two.insert(QStringLiteral("temperature"), 0);
    QCOMPARE(chatContent(one), chatContent(two));
}

void TestSandboxLlm::maxTokensAndStop()
{
    start();
    QJsonObject body = chatBody(QStringLiteral("Tell me a story."), {}, 9);
    body.insert(QStringLiteral("max_tokens"), 5);
    QJsonObject o = post(QStringLiteral("/v1/chat/completions"), body).json();
    QJsonObject choice = o.value(QStringLiteral("choices")).toArray().at(0).toObject();
    QCOMPARE(choice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("length"));
    QCOMPARE(o.value(QStringLiteral("usage")).toObject().value(QStringLiteral("completion_tokens")).toInt(),
             5);

    body = chatBody(QStringLiteral("Tell me a story."), {}, 9);
    const QString full = chatContent(body);
    const QString stopAt = full.section(QLatin1Char(' '), 3, 3);
    body.insert(QStringLiteral("stop"), QJsonArray{stopAt});
    const QString cut = chatContent(body);
    QVERIFY(!cut.contains(stopAt));
    QVERIFY(full.startsWith(cut));
}

void TestSandboxLlm::jsonObjectRejected()
{
    start();
    QJsonObject body = chatBody(QStringLiteral("Hi"));
    body.insert(QStringLiteral("response_format"),
                QJsonObject{{QStringLiteral("type"), QStringLiteral("json_object")}});
    const Reply r = post(QStringLiteral("/v1/chat/completions"), body);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json().value(QStringLiteral("error")).toString(),
             QStringLiteral("'response_format.type' must be 'json_schema' or 'text'"));
    // "strict": "true" (a string, as LM Studio's own docs write it) is accepted.
    QJsonObject strictString = chatBody(QStringLiteral("Hi"), promptSchema());
    QJsonObject format = strictString.value(QStringLiteral("response_format")).toObject();
    QJsonObject js = format.value(QStringLiteral("json_schema")).toObject();
    js.insert(QStringLiteral("strict"), QStringLiteral("true"));
    format.insert(QStringLiteral("json_schema"), js);
    strictString.insert(QStringLiteral("response_format"), format);
    QCOMPARE(post(QStringLiteral("/v1/chat/completions"), strictString).status, 200);
}

void TestSandboxLlm::unknownAndWrongModels_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("text");
    QTest::newRow("unknown") << "o4-mini" << 400 << "Invalid model identifier \"o4-mini\"";
    QTest::newRow("embedding model") << "text-embedding-nomic-embed-text-v1.5" << 400 << "embedding model";
    QTest::newRow("omitted uses the loaded one") << "" << 200 << "";
}

void TestSandboxLlm::unknownAndWrongModels()
{
    QFETCH(QString, model);
    QFETCH(int, status);
    QFETCH(QString, text);
    start();
    QJsonObject body = chatBody(QStringLiteral("Hi"));
    if (model.isEmpty())
        body.remove(QStringLiteral("model"));
    else
        body.insert(QStringLiteral("model"), model);
    const Reply r = post(QStringLiteral("/v1/chat/completions"), body);
    QCOMPARE(r.status, status);
    if (status == 200)
        return;
    const QJsonValue error = r.json().value(QStringLiteral("error"));
    const QString message =
        error.isObject() ? error.toObject().value(QStringLiteral("message")).toString() : error.toString();
    QVERIFY2(message.contains(text), qPrintable(message));
    if (model == QLatin1String("o4-mini"))
        QCOMPARE(error.toObject().value(QStringLiteral("code")).toString(),
                 QStringLiteral("model_not_found"));
}

void TestSandboxLlm::missingMessagesRejected()
{
    start();
    const Reply r = post(QStringLiteral("/v1/chat/completions"),
                         QJsonObject{{QStringLiteral("model"), QStringLiteral("x")}});
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json().value(QStringLiteral("error")).toString(),
             QStringLiteral("'messages' field is required"));
}

void TestSandboxLlm::hostileSchemaIsBounded()
{
    SandboxLlmConfig c;
    c.tokenDelayMs = 0;
    start(c);
    // A self-referencing schema with absurd sizes: the answer stays bounded and the server stays up.
    const QJsonObject node{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("label"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                                           {QStringLiteral("minLength"), 2000000000}}},
                     {QStringLiteral("children"),
                      QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                  {QStringLiteral("minItems"), 1000000000},
                                  {QStringLiteral("items"),
                                   QJsonObject{{QStringLiteral("$ref"), QStringLiteral("#")}}}}}}}};
    const Reply r = post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Tree"), node, 1));
    QCOMPARE(r.status, 200);
    QVERIFY(r.body.size() < 64 * 1024 * 1024);
    QCOMPARE(post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi"))).status, 200);
}

void TestSandboxLlm::embeddings()
{
    start();
    const QJsonObject body{
        {QStringLiteral("model"), QStringLiteral("text-embedding-nomic-embed-text-v1.5")},
        {QStringLiteral("input"), QJsonArray{QStringLiteral("a lighthouse in a storm at night"),
                                             QStringLiteral("the lighthouse in the storm at night, waves"),
                                             QStringLiteral("a cheerful bakery selling croissants")}}};
    const Reply r = post(QStringLiteral("/v1/embeddings"), body);
    QCOMPARE(r.status, 200);
    const QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("object")).toString(), QStringLiteral("list"));
    const QJsonArray data = o.value(QStringLiteral("data")).toArray();
    QCOMPARE(data.size(), 3);
    QVector<QVector<double>> vectors;
    for (int i = 0; i < data.size(); ++i) {
        const QJsonObject item = data.at(i).toObject();
        QCOMPARE(item.value(QStringLiteral("object")).toString(), QStringLiteral("embedding"));
        QCOMPARE(item.value(QStringLiteral("index")).toInt(), i);
        const QJsonArray e = item.value(QStringLiteral("embedding")).toArray();
        QCOMPARE(e.size(), 256);
        QVector<double> v;
        double norm = 0;
        for (const QJsonValue& x : e) {
            v << x.toDouble();
            norm += x.toDouble() * x.toDouble();
        }
        QVERIFY(std::abs(std::sqrt(norm) - 1.0) < 1e-6);
        vectors << v;
    }
    auto cosine = [](const QVector<double>& a, const QVector<double>& b) {
        double d = 0;
        for (int i = 0; i < a.size(); ++i)
            d += a[i] * b[i];
        return d;
    };
    QVERIFY(cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2);
    // Deterministic.
    const QJsonArray again =
        post(QStringLiteral("/v1/embeddings"), body).json().value(QStringLiteral("data")).toArray();
    QCOMPARE(again.at(2).toObject().value(QStringLiteral("embedding")).toArray(),
             data.at(2).toObject().value(QStringLiteral("embedding")).toArray());
    QCOMPARE(m_host->server()->embeddingRequestCount(), 2);
}

void TestSandboxLlm::embeddingsRejectChatModel()
{
    start();
    const Reply r = post(QStringLiteral("/v1/embeddings"),
                         QJsonObject{{QStringLiteral("model"), QStringLiteral("sandbox-story-7b-instruct")},
                                     {QStringLiteral("input"), QStringLiteral("text")}});
    QCOMPARE(r.status, 400);
    QVERIFY(r.json()
                .value(QStringLiteral("error"))
                .toString()
                .contains(QStringLiteral("not an embedding model")));
    QCOMPARE(
        post(QStringLiteral("/v1/embeddings"),
             QJsonObject{{QStringLiteral("model"), QStringLiteral("text-embedding-nomic-embed-text-v1.5")},
                         {QStringLiteral("input"), 5}})
            .status,
        400);
}

void TestSandboxLlm::faultColdLoad()
{
    start();
    m_host->addFault({LlmFaultKind::ColdLoad, 1, 400});
    QJsonObject body = chatBody(QStringLiteral("Hi"));
    body.insert(QStringLiteral("stream"), true);
    // A raw reader: nothing (not even the status line) may arrive during the hold.
    QElapsedTimer timer;
    timer.start();
    QNetworkRequest request(m_host->url().resolved(QUrl(QStringLiteral("/v1/chat/completions"))));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply* reply = m_nam->post(request, QJsonDocument(body).toJson());
    qint64 firstBytesAt = -1;
    connect(reply, &QNetworkReply::metaDataChanged, this, [&] {
        if (firstBytesAt < 0)
            firstBytesAt = timer.elapsed();
    });
    const Reply r = finish(reply, timer);
    QCOMPARE(r.status, 200);
    QVERIFY2(firstBytesAt >= 350, qPrintable(QString::number(firstBytesAt)));
    QCOMPARE(parseSse(r.body).last().data, QByteArray("[DONE]"));
    // Consumed: the next request is not held.
    const Reply next = post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi")));
    QCOMPARE(next.status, 200);
}

void TestSandboxLlm::faultLoading503()
{
    start();
    m_host->addFault({LlmFaultKind::Loading503, 2, 0});
    for (int i = 0; i < 2; ++i) {
        const Reply r = post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi")));
        QCOMPARE(r.status, 503);
        QVERIFY(r.json().value(QStringLiteral("error")).toString().contains(QStringLiteral("loading")));
    }
    QCOMPARE(post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi"))).status, 200);
    QCOMPARE(m_host->server()->chatRequestCount(), 3);
}

void TestSandboxLlm::faultMalformedJson()
{
    start();
    m_host->addFault({LlmFaultKind::MalformedJson, 1, 0});
    const QString content = chatContent(chatBody(QStringLiteral("Bible"), bibleSchema(), 1));
    QJsonParseError error;
    QJsonDocument::fromJson(content.toUtf8(), &error);
    QVERIFY(error.error != QJsonParseError::NoError);
    QVERIFY(content.trimmed().endsWith(QLatin1Char(',')));
    QVERIFY(content.startsWith(QLatin1Char('{')));
    // Next request is valid again.
    QVERIFY(QJsonDocument::fromJson(chatContent(chatBody(QStringLiteral("Bible"), bibleSchema(), 1)).toUtf8())
                .isObject());
}

void TestSandboxLlm::faultFencedThink()
{
    start();
    m_host->addFault({LlmFaultKind::FencedThink, 1, 0});
    const QString content = chatContent(chatBody(QStringLiteral("Bible"), bibleSchema(), 1));
    QVERIFY(content.startsWith(QStringLiteral("<think>")));
    const int open = int(content.indexOf(QStringLiteral("```json\n")));
    QVERIFY(content.indexOf(QStringLiteral("</think>")) < open && open > 0);
    QVERIFY(content.endsWith(QStringLiteral("\n```")));
    const QString inner = content.mid(open + 8, content.size() - open - 8 - 4);
    QVERIFY(QJsonDocument::fromJson(inner.toUtf8()).object().contains(QStringLiteral("characters")));
}

void TestSandboxLlm::faultReasoningOnly()
{
    start();
    m_host->addFault({LlmFaultKind::ReasoningOnly, 2, 0});
    const QJsonObject o =
        post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Bible"), bibleSchema())).json();
    const QJsonObject choice = o.value(QStringLiteral("choices")).toArray().at(0).toObject();
    QCOMPARE(choice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("length"));
    QCOMPARE(choice.value(QStringLiteral("message")).toObject().value(QStringLiteral("content")).toString(),
             QString());
    QVERIFY(words(choice.value(QStringLiteral("message"))
                      .toObject()
                      .value(QStringLiteral("reasoning_content"))
                      .toString()) > 20);
    QJsonObject body = chatBody(QStringLiteral("Bible"), bibleSchema());
    body.insert(QStringLiteral("stream"), true);
    const QList<SseEvent> events = parseSse(post(QStringLiteral("/v1/chat/completions"), body).body);
    QVERIFY(contentOf(events).isEmpty());
    QVERIFY(!contentOf(events, QStringLiteral("reasoning_content")).isEmpty());
    QCOMPARE(events.at(events.size() - 2)
                 .json()
                 .value(QStringLiteral("choices"))
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(QStringLiteral("finish_reason"))
                 .toString(),
             QStringLiteral("length"));
}

void TestSandboxLlm::faultTruncated()
{
    start();
    m_host->addFault({LlmFaultKind::Truncated, 1, 0});
    QJsonObject body = chatBody(QStringLiteral("Scenes"), sceneListSchema(5));
    body.insert(QStringLiteral("stream"), true);
    const QList<SseEvent> events = parseSse(post(QStringLiteral("/v1/chat/completions"), body).body);
    const QString content = contentOf(events);
    QVERIFY(content.startsWith(QStringLiteral("{\"scenes\":[")));
    QVERIFY(QJsonDocument::fromJson(content.toUtf8()).isNull());
    QCOMPARE(events.last().data, QByteArray("[DONE]"));
    QCOMPARE(events.at(events.size() - 2)
                 .json()
                 .value(QStringLiteral("choices"))
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(QStringLiteral("finish_reason"))
                 .toString(),
             QStringLiteral("length"));
}

void TestSandboxLlm::faultStreamError()
{
    start();
    m_host->addFault({LlmFaultKind::StreamError, 1, 0});
    QJsonObject body = chatBody(QStringLiteral("Tell me a story."));
    body.insert(QStringLiteral("stream"), true);
    const Reply r = post(QStringLiteral("/v1/chat/completions"), body);
    QCOMPARE(r.status, 200); // mid-stream errors keep HTTP 200
    const QList<SseEvent> events = parseSse(r.body);
    QVERIFY(!contentOf(events).isEmpty()); // some content came first
    QCOMPARE(events.last().event, QByteArray("error"));
    const QJsonObject error = events.last().json();
    QVERIFY(!error.value(QStringLiteral("error"))
                 .toObject()
                 .value(QStringLiteral("message"))
                 .toString()
                 .isEmpty());
    QCOMPARE(error.value(QStringLiteral("message")).toString(),
             error.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString());
    for (const SseEvent& e : events)
        QVERIFY(e.data != "[DONE]");
}

void TestSandboxLlm::faultStall()
{
    SandboxLlmConfig c;
    c.tokenDelayMs = 2;
    start(c);
    m_host->addFault({LlmFaultKind::Stall, 1, 0});
    QJsonObject body = chatBody(QStringLiteral("Tell me a story."));
    body.insert(QStringLiteral("stream"), true);
    QNetworkRequest request(m_host->url().resolved(QUrl(QStringLiteral("/v1/chat/completions"))));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply* reply = m_nam->post(request, QJsonDocument(body).toJson());
    QByteArray received;
    connect(reply, &QNetworkReply::readyRead, this, [&] { received += reply->readAll(); });
    QTRY_VERIFY(received.contains("\"content\""));
    // The stream stops part-way: wait until nothing more arrives, then it stays silent and unfinished.
    QByteArray before;
    for (int i = 0; i < 50 && before != received; ++i) {
        before = received;
        QTest::qWait(150);
    }
    QTest::qWait(400);
    QCOMPARE(received, before);
    QVERIFY(!reply->isFinished());
    QVERIFY(!received.contains("[DONE]"));
    QCOMPARE(m_host->server()->abortedStreams(), 0);
    reply->abort();
    reply->deleteLater();
    QTRY_COMPARE(m_host->server()->abortedStreams(), 1);
}

void TestSandboxLlm::faultContextOverflow()
{
    SandboxLlmConfig c;
    c.contextLength = 4096;
    start(c);
    m_host->addFault({LlmFaultKind::ContextOverflow, 1, 13055});
    const Reply r = post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi")));
    QCOMPARE(r.status, 400);
    const QString error = r.json().value(QStringLiteral("error")).toString();
    QVERIFY2(error.contains(QStringLiteral("n_keep: 13055>= n_ctx: 4096")), qPrintable(error));
    QVERIFY(error.contains(QStringLiteral("greater than the context length")));
    // A genuinely long prompt overflows the loaded context the same way.
    const Reply real =
        post(QStringLiteral("/v1/chat/completions"), chatBody(QString(20000, QLatin1Char('a'))));
    QCOMPARE(real.status, 400);
    QVERIFY(real.json().value(QStringLiteral("error")).toString().contains(QStringLiteral("n_ctx: 4096")));
}

void TestSandboxLlm::faultEofNoDone()
{
    start();
    m_host->addFault({LlmFaultKind::EofNoDone, 1, 0});
    QJsonObject body = chatBody(QStringLiteral("Tell me a story."));
    body.insert(QStringLiteral("stream"), true);
    const Reply r = post(QStringLiteral("/v1/chat/completions"), body);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.error, QNetworkReply::NoError);
    const QList<SseEvent> events = parseSse(r.body);
    QVERIFY(!contentOf(events).isEmpty());
    for (const SseEvent& e : events) {
        QVERIFY(e.data != "[DONE]");
        QVERIFY(e.json()
                    .value(QStringLiteral("choices"))
                    .toArray()
                    .at(0)
                    .toObject()
                    .value(QStringLiteral("finish_reason"))
                    .isNull());
    }
}

void TestSandboxLlm::faultFewerItems()
{
    start();
    m_host->addFault({LlmFaultKind::FewerItems, 1, 0});
    const QString content = chatContent(chatBody(kBibleMessage, sceneListSchema(5), 3));
    const QJsonArray scenes =
        QJsonDocument::fromJson(content.toUtf8()).object().value(QStringLiteral("scenes")).toArray();
    QCOMPARE(scenes.size(), 4); // valid JSON, one scene fewer than minItems
    QCOMPARE(QJsonDocument::fromJson(chatContent(chatBody(kBibleMessage, sceneListSchema(5), 3)).toUtf8())
                 .object()
                 .value(QStringLiteral("scenes"))
                 .toArray()
                 .size(),
             5);
}

void TestSandboxLlm::faultNoModel()
{
    start();
    m_host->addFault({LlmFaultKind::NoModel, 1, 0});
    QVERIFY(get(QStringLiteral("/v1/models")).json().value(QStringLiteral("data")).toArray().isEmpty());
    QVERIFY(get(QStringLiteral("/api/v0/models")).json().value(QStringLiteral("data")).toArray().isEmpty());
    const Reply r = post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi")));
    QCOMPARE(r.status, 400);
    QCOMPARE(
        r.json().value(QStringLiteral("error")).toString(),
        QStringLiteral(
            "No models loaded. Please load a model in the developer page or use the `lms load` command."));
    QCOMPARE(get(QStringLiteral("/v1/models")).json().value(QStringLiteral("data")).toArray().size(), 2);
}

void TestSandboxLlm::faultEmbeddingOnly()
{
    start();
    m_host->addFault({LlmFaultKind::EmbeddingOnly, 1, 0});
    const QJsonArray data = get(QStringLiteral("/v1/models")).json().value(QStringLiteral("data")).toArray();
    QCOMPARE(data.size(), 1);
    QCOMPARE(data.at(0).toObject().value(QStringLiteral("id")).toString(),
             QStringLiteral("text-embedding-nomic-embed-text-v1.5"));
    const QJsonArray v0 =
        get(QStringLiteral("/api/v0/models")).json().value(QStringLiteral("data")).toArray();
    QCOMPARE(v0.size(), 1);
    QCOMPARE(v0.at(0).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("embeddings"));
    const Reply r = post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi")));
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
             QStringLiteral("model_not_found"));
}

void TestSandboxLlm::faultTimesZeroMeansAlways()
{
    SandboxLlmConfig c;
    QString error;
    c.faults << *LlmFaultRule::parse(QStringLiteral("loading-503:0"), &error);
    start(c);
    for (int i = 0; i < 4; ++i)
        QCOMPARE(post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi"))).status, 503);
}

void TestSandboxLlm::clientAbortIsCounted()
{
    SandboxLlmConfig c;
    c.tokenDelayMs = 20;
    start(c);
    QJsonObject body = chatBody(QStringLiteral("Tell me a story."));
    body.insert(QStringLiteral("stream"), true);
    QNetworkRequest request(m_host->url().resolved(QUrl(QStringLiteral("/v1/chat/completions"))));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply* reply = m_nam->post(request, QJsonDocument(body).toJson());
    QByteArray received;
    connect(reply, &QNetworkReply::readyRead, this, [&] { received += reply->readAll(); });
    QTRY_VERIFY(received.contains("\"content\""));
    reply->abort();
    reply->deleteLater();
    QTRY_COMPARE(m_host->server()->abortedStreams(), 1);
    // A stream read to the end is not an abort.
    QJsonObject quick = chatBody(QStringLiteral("Hi"), {}, 1);
    quick.insert(QStringLiteral("max_tokens"), 3);
    quick.insert(QStringLiteral("stream"), true);
    QCOMPARE(parseSse(post(QStringLiteral("/v1/chat/completions"), quick).body).last().data,
             QByteArray("[DONE]"));
    QTest::qWait(50);
    QCOMPARE(m_host->server()->abortedStreams(), 1);
}

void TestSandboxLlm::ollamaFlavourDiscovery()
{
    SandboxLlmConfig c;
    c.flavour = QStringLiteral("ollama");
    start(c);
    const Reply root = get(QStringLiteral("/"));
    QCOMPARE(root.status, 200);
    QCOMPARE(root.body, QByteArray("Ollama is running"));
    QVERIFY(get(QStringLiteral("/api/version")).json().value(QStringLiteral("version")).isString());
    QCOMPARE(get(QStringLiteral("/api/v1/models")).status, 404);
    QCOMPARE(get(QStringLiteral("/v1/models"))
                 .json()
                 .value(QStringLiteral("data"))
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(QStringLiteral("owned_by"))
                 .toString(),
             QStringLiteral("library"));
    QJsonObject body = chatBody(QStringLiteral("Hi"));
    body.remove(QStringLiteral("temperature"));
    const QJsonObject o = post(QStringLiteral("/v1/chat/completions"), body).json();
    QCOMPARE(o.value(QStringLiteral("system_fingerprint")).toString(), QStringLiteral("fp_ollama"));
    QJsonObject jsonObject = chatBody(QStringLiteral("Hi"));
    jsonObject.insert(QStringLiteral("response_format"),
                      QJsonObject{{QStringLiteral("type"), QStringLiteral("json_object")}});
    QCOMPARE(post(QStringLiteral("/v1/chat/completions"), jsonObject).status,
             200); // Ollama maps it to format:"json"
}

void TestSandboxLlm::llamaCppFlavourDiscovery()
{
    SandboxLlmConfig c;
    c.flavour = QStringLiteral("llamacpp");
    c.contextLength = 4096;
    start(c);
    QCOMPARE(get(QStringLiteral("/health")).json().value(QStringLiteral("status")).toString(),
             QStringLiteral("ok"));
    const QJsonObject props = get(QStringLiteral("/props")).json();
    QCOMPARE(props.value(QStringLiteral("default_generation_settings"))
                 .toObject()
                 .value(QStringLiteral("n_ctx"))
                 .toInt(),
             4096);
    QVERIFY(props.contains(QStringLiteral("build_info")));
    QCOMPARE(get(QStringLiteral("/api/version")).status, 404);
    const QJsonArray models =
        get(QStringLiteral("/v1/models")).json().value(QStringLiteral("data")).toArray();
    QCOMPARE(models.size(), 1);
    QCOMPARE(models.at(0).toObject().value(QStringLiteral("owned_by")).toString(),
             QStringLiteral("llamacpp"));
    // usage + timings on the finish chunk even without include_usage.
    QJsonObject body = chatBody(QStringLiteral("Hi"));
    body.insert(QStringLiteral("stream"), true);
    const QList<SseEvent> events = parseSse(post(QStringLiteral("/v1/chat/completions"), body).body);
    const QJsonObject finishChunk = events.at(events.size() - 2).json();
    QVERIFY(finishChunk.contains(QStringLiteral("usage")));
    QVERIFY(finishChunk.contains(QStringLiteral("timings")));
    m_host->addFault({LlmFaultKind::ContextOverflow, 1, 13392});
    const QJsonObject error = post(QStringLiteral("/v1/chat/completions"), chatBody(QStringLiteral("Hi")))
                                  .json()
                                  .value(QStringLiteral("error"))
                                  .toObject();
    QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("exceed_context_size_error"));
    QCOMPARE(error.value(QStringLiteral("n_prompt_tokens")).toInt(), 13392);
    QCOMPARE(error.value(QStringLiteral("n_ctx")).toInt(), 4096);
}

void TestSandboxLlm::runStandalonePrintsWhereItListens()
{
    QString text;
    QTextStream out(&text);
    SandboxLlmConfig c;
    QCOMPARE(SandboxLlmHost::runStandalone(c, 0, out), 0);
    QVERIFY2(text.contains(QStringLiteral("Sandbox LLM (lmstudio) listening on http://127.0.0.1:")),
             qPrintable(text));
    auto* server = QCoreApplication::instance()->findChild<gd::sandbox::SandboxLlmServer*>();
    QVERIFY(server);
    // The port is taken now: a second standalone server on it reports why it cannot start.
    QString second;
    QTextStream out2(&second);
    QCOMPARE(SandboxLlmHost::runStandalone(c, server->port(), out2), 1);
    QVERIFY(second.contains(QStringLiteral("could not start")));
    delete server;
}

QTEST_GUILESS_MAIN(TestSandboxLlm)
#include "tst_sandboxllm.moc"
