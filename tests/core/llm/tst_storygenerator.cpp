#include "llm/ChatBackend.h"
#include "llm/PromptLibrary.h"
#include "llm/StoryGenerator.h"
#include "story/StoryLoader.h"
#include "story/StoryShots.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <memory>

using namespace gd::llm;

namespace {

// One canned answer: streamed in chunks on a timer, then finished with this result.
struct Reply
{
    QString content;
    QString reasoning;
    QString finishReason = QStringLiteral("stop");
    bool truncated = false;
    bool hang = false; // stream the chunks, then never finish (until cancelled)
    gd::Error error;
};

// A ChatJob that plays a Reply back: one chunk per timer tick, like a real stream.
class ScriptedJob : public ChatJob
{
    Q_OBJECT
public:
    ScriptedJob(const ChatRequest& request, Reply reply, int* cancelCount, QObject* parent)
        : ChatJob(parent)
        , m_reply(std::move(reply))
        , m_cancelCount(cancelCount)
    {
        const QString text = m_reply.content;
        for (qsizetype i = 0; i < text.size(); i += 256)
            m_chunks << text.mid(i, 256);
        m_result.content = m_reply.content;
        m_result.reasoning = m_reply.reasoning;
        m_result.finishReason = m_reply.finishReason;
        m_result.truncated = m_reply.truncated;
        m_result.error = m_reply.error;
        m_result.model = QStringLiteral("scripted-7b");
        m_result.requestFormat = QStringLiteral("json_schema");
        int promptChars = 0;
        for (const ChatMessage& m : request.messages)
            promptChars += int(m.content.size());
        m_result.promptTokens = promptChars / 4;
        m_result.completionTokens = int(m_reply.content.size() / 4);
        m_result.tokenCountSource = QStringLiteral("usage");
        m_result.timeToFirstTokenMs = 12.5;
        m_result.startedAt = QDateTime::currentDateTimeUtc();
        m_timer.setInterval(1);
        connect(&m_timer, &QTimer::timeout, this, &ScriptedJob::step);
        m_timer.start();
    }

    void cancel() override
    {
        if (m_done)
            return;
        m_done = true;
        m_timer.stop();
        ++*m_cancelCount;
        ChatResult r;
        r.error = gd::Error{QStringLiteral("cancelled"), QStringLiteral("cancelled by the user"), {}};
        Q_EMIT finished(r);
        deleteLater();
    }

private:
    void step()
    {
        if (m_next < m_chunks.size()) {
            Q_EMIT token(m_chunks.at(m_next++));
            return;
        }
        if (m_reply.hang)
            return;
        m_done = true;
        m_timer.stop();
        m_result.completedAt = QDateTime::currentDateTimeUtc();
        m_result.durationMs = 40;
        Q_EMIT finished(m_result);
        deleteLater();
    }

    Reply m_reply;
    int* m_cancelCount;
    QStringList m_chunks;
    qsizetype m_next = 0;
    ChatResult m_result;
    QTimer m_timer;
    bool m_done = false;
};

const QStringList kNames{QStringLiteral("Mara Voss"), QStringLiteral("Ilan Reyes"), QStringLiteral("Unit Nine")};
const QStringList kDescriptors{QStringLiteral("weathered woman in an orange storm coat"),
                               QStringLiteral("lanky young engineer with a shaved head and brass goggles"),
                               QStringLiteral("battered silver maintenance robot with one cracked blue eye")};

QString compact(const QJsonObject& o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QJsonObject bibleObject()
{
    QJsonArray chars;
    for (int i = 0; i < kNames.size(); ++i)
        chars.append(QJsonObject{{QStringLiteral("name"), kNames.at(i)},
                                 {QStringLiteral("role"), i == 0 ? QStringLiteral("protagonist") : QStringLiteral("ally")},
                                 {QStringLiteral("visualDescriptor"), kDescriptors.at(i)}});
    return QJsonObject{
        {QStringLiteral("title"), QStringLiteral("The Last Lighthouse")},
        {QStringLiteral("logline"), QStringLiteral("A keeper on a drowned world must relight the beacon before the ship is lost.")},
        {QStringLiteral("directorsVision"), QStringLiteral("Slow, cold, wide frames; sodium light against blue fog.")},
        {QStringLiteral("characters"), chars},
        {QStringLiteral("setting"), QStringLiteral("A lighthouse on the last rock of a flooded planet.")},
        {QStringLiteral("plotOutline"),
         QJsonArray{QStringLiteral("The beacon fails as the storm season begins."),
                    QStringLiteral("Mara and Ilan fight the storm to reach the lamp room."),
                    QStringLiteral("Unit Nine gives its power cell to relight the beacon.")}}};
}

QJsonObject scenesObject(int count)
{
    const QStringList vocab = StoryGenerator::themeVocabulary();
    QJsonArray scenes;
    for (int i = 0; i < count; ++i)
        scenes.append(QJsonObject{
            {QStringLiteral("title"), QStringLiteral("Scene %1").arg(i + 1)},
            {QStringLiteral("summary"), QStringLiteral("Something visible happens in scene %1.").arg(i + 1)},
            {QStringLiteral("mood"), QStringLiteral("tense")},
            {QStringLiteral("themes"), QJsonArray{vocab.at(i % vocab.size()), vocab.at((i + 5) % vocab.size())}},
            {QStringLiteral("characters"), QJsonArray{kNames.at(i % kNames.size()), kNames.at((i + 1) % kNames.size())}},
            {QStringLiteral("cameraMovement"), QStringLiteral("slow dolly in")},
            {QStringLiteral("palette"), QStringLiteral("teal and sodium orange")}});
    return QJsonObject{{QStringLiteral("scenes"), scenes}};
}

// The bible a model writes when the schema asks for reference prompts and locations (shots on):
// Mara Voss has two looks, the others only their implicit default look.
QJsonObject bibleObjectWithReferences()
{
    QJsonObject o = bibleObject();
    QJsonArray chars = o.value(QStringLiteral("characters")).toArray();
    for (int i = 0; i < chars.size(); ++i) {
        QJsonObject c = chars.at(i).toObject();
        c.insert(QStringLiteral("referencePrompt"),
                 QStringLiteral("character reference sheet, %1, %2, front, side and back view, plain grey background")
                     .arg(kNames.at(i), kDescriptors.at(i)));
        if (i == 0)
            c.insert(QStringLiteral("looks"),
                     QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("storm-coat")},
                                            {QStringLiteral("descriptor"), QStringLiteral("orange storm coat, soaked hair")},
                                            {QStringLiteral("referencePrompt"),
                                             QStringLiteral("character reference sheet, Mara Voss, orange storm coat, soaked hair")}},
                                QJsonObject{{QStringLiteral("id"), QStringLiteral("dry-wool")},
                                            {QStringLiteral("descriptor"), QStringLiteral("grey wool sweater, hair tied back")},
                                            {QStringLiteral("referencePrompt"),
                                             QStringLiteral("character reference sheet, Mara Voss, grey wool sweater, hair tied back")}}});
        chars[i] = c;
    }
    o.insert(QStringLiteral("characters"), chars);
    o.insert(QStringLiteral("locations"),
             QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("Lamp room")},
                                    {QStringLiteral("descriptor"), QStringLiteral("glass lamp room with a giant brass lens")},
                                    {QStringLiteral("referencePrompt"),
                                     QStringLiteral("environment reference, Lamp room, glass lamp room with a giant brass lens, no people")}}});
    return o;
}

// Names of the cast a shot_list schema allows (the scene's characters).
QStringList shotNames(const ChatRequest& request)
{
    const QJsonArray names = request.jsonSchema.value(QStringLiteral("properties")).toObject().value(QStringLiteral("shots")).toObject()
                                 .value(QStringLiteral("items")).toObject().value(QStringLiteral("properties")).toObject()
                                 .value(QStringLiteral("visibleCharacters")).toObject().value(QStringLiteral("items")).toObject()
                                 .value(QStringLiteral("properties")).toObject().value(QStringLiteral("name")).toObject()
                                 .value(QStringLiteral("enum")).toArray();
    QStringList out;
    for (const QJsonValue& n : names)
        out << n.toString();
    return out;
}

QString lookOf(const QString& name, bool second)
{
    if (name == kNames.first())
        return second ? QStringLiteral("dry-wool") : QStringLiteral("storm-coat");
    return QStringLiteral("default");
}

// Two shots by name (never a pronoun), the second continuing the first.
QString shotsAnswer(const ChatRequest& request)
{
    const QStringList names = shotNames(request);
    QJsonArray first, second;
    for (const QString& n : names)
        first.append(QJsonObject{{QStringLiteral("name"), n}, {QStringLiteral("look"), lookOf(n, false)}});
    if (!names.isEmpty())
        second.append(QJsonObject{{QStringLiteral("name"), names.first()}, {QStringLiteral("look"), lookOf(names.first(), true)}});
    const QString who = names.isEmpty() ? QStringLiteral("the empty tower") : names.join(QStringLiteral(" and "));
    const QJsonArray shots{
        QJsonObject{{QStringLiteral("description"), QStringLiteral("%1 reach the lamp room as the storm breaks.").arg(who)},
                    {QStringLiteral("firstFrame"), QStringLiteral("wide shot, %1 in the lamp room at night, rain on the glass").arg(who)},
                    {QStringLiteral("lastFrame"), QString()},
                    {QStringLiteral("visibleCharacters"), first},
                    {QStringLiteral("location"), QStringLiteral("Lamp room")},
                    {QStringLiteral("camera"), QStringLiteral("slow dolly in")},
                    {QStringLiteral("motion"), QStringLiteral("rain streams down the glass")},
                    {QStringLiteral("continuesPrevious"), false}},
        QJsonObject{{QStringLiteral("description"), QStringLiteral("A close look at the brass lens.")},
                    {QStringLiteral("firstFrame"),
                     QStringLiteral("close-up, %1 turning the brass lens, sparks in the dark")
                         .arg(names.isEmpty() ? QStringLiteral("a gloved hand") : names.first())},
                    {QStringLiteral("lastFrame"), QStringLiteral("close-up, the brass lens glowing white")},
                    {QStringLiteral("visibleCharacters"), second},
                    {QStringLiteral("location"), QString()},
                    {QStringLiteral("camera"), QStringLiteral("locked-off close-up")},
                    {QStringLiteral("motion"), QStringLiteral("the lens starts to turn")},
                    {QStringLiteral("continuesPrevious"), true}}};
    return compact(QJsonObject{{QStringLiteral("shots"), shots}});
}

// A render prompt that, like a good model, repeats the descriptors the generator injected.
QString promptAnswer(const ChatRequest& request)
{
    const QString user = request.messages.last().content;
    QStringList parts{QStringLiteral("cinematic wide shot")};
    static const QRegularExpression line(QStringLiteral("^- [^:\\n]+: (.+)$"), QRegularExpression::MultilineOption);
    auto it = line.globalMatch(user);
    while (it.hasNext())
        parts << it.next().captured(1);
    const QString filler = QStringLiteral("volumetric fog, sodium light, wet basalt rocks, crashing waves, 35mm anamorphic lens");
    while (parts.join(QStringLiteral(", ")).size() < 800)
        parts << filler;
    return compact(QJsonObject{{QStringLiteral("prompt"), parts.join(QStringLiteral(", "))},
                               {QStringLiteral("negativePrompt"), QStringLiteral("blurry, watermark, text")}});
}

// The backend the generator talks to: valid answers by schema name unless a call index has a
// scripted override. Records every request.
class ScriptedBackend : public ChatBackend
{
public:
    ChatJob* startChat(const ChatRequest& request, QObject* parent) override
    {
        const int index = int(requests.size());
        requests.append(request);
        Reply reply;
        if (overrides.contains(index)) {
            reply = overrides.value(index);
        } else if (request.schemaName == QLatin1String("story_bible")) {
            const bool references = request.jsonSchema.value(QStringLiteral("required")).toArray().contains(QStringLiteral("locations"));
            reply.content = compact(references ? bibleObjectWithReferences() : bibleObject());
        } else if (request.schemaName == QLatin1String("shot_list")) {
            reply.content = shotsAnswer(request);
        } else if (request.schemaName == QLatin1String("scene_list")) {
            const int n = request.jsonSchema.value(QStringLiteral("properties")).toObject().value(QStringLiteral("scenes"))
                              .toObject().value(QStringLiteral("minItems")).toInt();
            reply.content = compact(scenesObject(n));
        } else {
            reply.content = promptAnswer(request);
        }
        return new ScriptedJob(request, reply, &cancelCount, parent);
    }

    QVector<ChatRequest> requests;
    QHash<int, Reply> overrides;
    int cancelCount = 0;
};

struct Outcome
{
    bool done = false;
    int finishedCount = 0;
    bool ok = false;
    gd::story::Story story;
    QJsonObject llm;
    QJsonArray prompts;
    QString error;
    QStringList warnings;
    QStringList stages;
    QHash<QString, int> tokensPerStage;
};

} // namespace

class TestStoryGenerator : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<StoryGenerator> make(ScriptedBackend* backend, Outcome* out)
    {
        QStringList problems;
        auto gen = std::make_unique<StoryGenerator>(backend, PromptLibrary::load({}, &problems));
        connect(gen.get(), &StoryGenerator::finished, this,
                [out](bool ok, const gd::story::Story& story, const QJsonObject& llm, const QJsonArray& prompts,
                      const QString& error) {
                    out->done = true;
                    ++out->finishedCount;
                    out->ok = ok;
                    out->story = story;
                    out->llm = llm;
                    out->prompts = prompts;
                    out->error = error;
                });
        connect(gen.get(), &StoryGenerator::warning, this, [out](const QString& w) { out->warnings << w; });
        connect(gen.get(), &StoryGenerator::stageStarted, this, [out](const QString& s) { out->stages << s; });
        connect(gen.get(), &StoryGenerator::token, this,
                [out](const QString& stage, const QString&) { ++out->tokensPerStage[stage]; });
        return gen;
    }

    static StoryRequest request(int scenes = 5)
    {
        StoryRequest r;
        r.idea = QStringLiteral("A lighthouse keeper on a drowned planet must relight the beacon.");
        r.genre = QStringLiteral("sci-fi");
        r.sceneCount = scenes;
        r.seed = 42;
        r.model = QStringLiteral("scripted-7b");
        // The stages before issue 8 (bible, scenes, prompts); the shots stage has its own tests.
        r.shots = false;
        return r;
    }

private Q_SLOTS:
    void happyPath()
    {
        ScriptedBackend backend;
        Outcome out;
        auto gen = make(&backend, &out);
        gen->start(request(5));
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        QCOMPARE(backend.requests.size(), 7);
        QCOMPARE(out.stages, (QStringList{QStringLiteral("bible"), QStringLiteral("scenes"), QStringLiteral("prompts:scene-001"),
                                          QStringLiteral("prompts:scene-002"), QStringLiteral("prompts:scene-003"),
                                          QStringLiteral("prompts:scene-004"), QStringLiteral("prompts:scene-005")}));
        QVERIFY(out.tokensPerStage.value(QStringLiteral("bible")) > 0);
        QVERIFY(out.tokensPerStage.value(QStringLiteral("prompts:scene-005")) > 0);

        // Structured output is requested with a schema each time; the scene list asks for exactly 5.
        QCOMPARE(backend.requests.at(0).schemaName, QStringLiteral("story_bible"));
        QCOMPARE(backend.requests.at(1).jsonSchema.value(QStringLiteral("properties")).toObject().value(QStringLiteral("scenes"))
                     .toObject().value(QStringLiteral("maxItems")).toInt(),
                 5);
        QVERIFY(backend.requests.at(0).messages.last().content.contains(request().idea));

        const gd::story::Story& s = out.story;
        QCOMPARE(s.title, QStringLiteral("The Last Lighthouse"));
        QCOMPARE(s.genre, QStringLiteral("sci-fi"));
        QCOMPARE(s.templateId, QStringLiteral("story-sci-fi"));
        QCOMPARE(s.templateVersion, QStringLiteral("2.0"));
        QVERIFY(QRegularExpression(QStringLiteral("^story-[0-9a-f]{8}$")).match(s.storyId).hasMatch());
        QCOMPARE(s.bible.value(QStringLiteral("characters")).toArray().size(), 3);
        QVERIFY(s.bible.value(QStringLiteral("plotOutline")).toString().contains(QLatin1String("Act 3: Unit Nine")));
        QCOMPARE(s.scenes.size(), 5);
        const QStringList vocab = StoryGenerator::themeVocabulary();
        for (int i = 0; i < s.scenes.size(); ++i) {
            const auto& sc = s.scenes.at(i);
            QCOMPARE(sc.id, QStringLiteral("scene-%1").arg(i + 1, 3, 10, QLatin1Char('0')));
            QVERIFY(sc.themes.size() >= 1 && sc.themes.size() <= 3);
            for (const QString& t : sc.themes)
                QVERIFY2(vocab.contains(t), qPrintable(t));
            QCOMPARE(sc.expectedFrames, 0);
            QVERIFY(!sc.negativePrompt.isEmpty());
            // The prompt-stage request carried the visual descriptors of the characters present,
            // the director's vision, the camera and the palette.
            const ChatRequest& req = backend.requests.at(2 + i);
            QCOMPARE(req.schemaName, QStringLiteral("scene_prompt"));
            const QString user = req.messages.last().content;
            for (const QString& name : sc.characters)
                QVERIFY2(user.contains(kDescriptors.at(kNames.indexOf(name))), qPrintable(user));
            QVERIFY(user.contains(QLatin1String("Slow, cold, wide frames")));
            QVERIFY(user.contains(QLatin1String("Camera: slow dolly in")));
            QVERIFY(user.contains(QLatin1String("Palette: teal and sodium orange")));
            QVERIFY(!user.contains(QLatin1String("{{")));
            QVERIFY(sc.prompt.contains(kDescriptors.at(kNames.indexOf(sc.characters.first()))));
        }
        // The story loads like a hand-written story.json.
        QStringList problems;
        QVERIFY(gd::story::StoryLoader::fromObject(gd::story::StoryLoader::toJson(s), &problems));

        QCOMPARE(out.prompts.size(), 5);
        for (int i = 0; i < 5; ++i) {
            const QJsonObject p = out.prompts.at(i).toObject();
            QCOMPARE(p.value(QStringLiteral("SceneId")).toString(), s.scenes.at(i).id);
            QCOMPARE(p.value(QStringLiteral("TokenCount")).toInt(), int((s.scenes.at(i).prompt.size() + 3) / 4));
            QVERIFY(p.value(QStringLiteral("TokenCount")).toInt() >= 150);
        }

        const QJsonObject& llm = out.llm;
        QCOMPARE(llm.value(QStringLiteral("Status")).toString(), QStringLiteral("success"));
        QCOMPARE(llm.value(QStringLiteral("Model")).toString(), QStringLiteral("scripted-7b"));
        QCOMPARE(llm.value(QStringLiteral("RequestFormat")).toString(), QStringLiteral("json_schema"));
        QCOMPARE(llm.value(QStringLiteral("Seed")).toInt(), 42);
        QCOMPARE(llm.value(QStringLiteral("Retries")).toInt(), 0);
        QCOMPARE(llm.value(QStringLiteral("FirstTryValid")).toBool(), true);
        QCOMPARE(llm.value(QStringLiteral("Truncated")).toBool(), false);
        QCOMPARE(llm.value(QStringLiteral("FinishReason")).toString(), QStringLiteral("stop"));
        QCOMPARE(llm.value(QStringLiteral("TokenCountSource")).toString(), QStringLiteral("usage"));
        QCOMPARE(llm.value(QStringLiteral("TimeToFirstTokenMs")).toDouble(), 12.5);
        QVERIFY(llm.value(QStringLiteral("TokensPerSecond")).toDouble() > 0);
        QVERIFY(llm.value(QStringLiteral("Errors")).toArray().isEmpty());
        int promptTokens = 0;
        for (const ChatRequest& r : backend.requests) {
            int chars = 0;
            for (const ChatMessage& m : r.messages)
                chars += int(m.content.size());
            promptTokens += chars / 4;
        }
        QCOMPARE(llm.value(QStringLiteral("PromptTokens")).toInt(), promptTokens);
        const QDateTime started = QDateTime::fromString(llm.value(QStringLiteral("StartedAt")).toString(), Qt::ISODateWithMs);
        const QDateTime completed = QDateTime::fromString(llm.value(QStringLiteral("CompletedAt")).toString(), Qt::ISODateWithMs);
        QVERIFY(started.isValid() && completed.isValid() && started <= completed);
        // Per-stage seeds differ so a deterministic server does not repeat itself.
        QVERIFY(backend.requests.at(2).seed != backend.requests.at(3).seed);
    }

    void correctiveRetry_data()
    {
        QTest::addColumn<QString>("bad");
        QTest::addColumn<QString>("expectedInCorrection");
        QString noLogline = compact(bibleObject());
        noLogline.replace(QLatin1String("\"logline\""), QLatin1String("\"tagline\""));
        QTest::newRow("unclosed json") << QStringLiteral("{\"title\": \"The Last Lighthouse\", \"characters\": [")
                                       << QStringLiteral("never closed");
        QTest::newRow("schema violation") << noLogline << QStringLiteral("logline: required");
    }

    void correctiveRetry()
    {
        QFETCH(QString, bad);
        QFETCH(QString, expectedInCorrection);
        ScriptedBackend backend;
        Reply r;
        r.content = bad;
        backend.overrides.insert(0, r);
        Outcome out;
        auto gen = make(&backend, &out);
        gen->start(request(3));
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        QCOMPARE(backend.requests.size(), 2 + 1 + 3);
        const ChatRequest& retry = backend.requests.at(1);
        QCOMPARE(retry.schemaName, QStringLiteral("story_bible"));
        QVERIFY2(retry.messages.last().content.contains(expectedInCorrection), qPrintable(retry.messages.last().content));
        QVERIFY(retry.messages.last().content.contains(QLatin1String("previous answer was rejected")));
        QVERIFY(retry.temperature < backend.requests.at(0).temperature);
        QCOMPARE(out.llm.value(QStringLiteral("Retries")).toInt(), 1);
        QCOMPARE(out.llm.value(QStringLiteral("FirstTryValid")).toBool(), false);
        QCOMPARE(out.llm.value(QStringLiteral("Errors")).toArray().size(), 1);
        QVERIFY(out.llm.value(QStringLiteral("Errors")).toArray().at(0).toString().startsWith(QLatin1String("bible attempt 1:")));
        QCOMPARE(out.warnings.size(), 1);
    }

    void fencedThinkAnswerAccepted()
    {
        ScriptedBackend backend;
        Reply r;
        r.content = QStringLiteral("<think>The user wants a bible {with braces}.</think>\nHere it is:\n```json\n")
            + compact(bibleObject()) + QStringLiteral("\n```\n");
        backend.overrides.insert(0, r);
        Outcome out;
        auto gen = make(&backend, &out);
        gen->start(request(2));
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        QCOMPARE(backend.requests.size(), 4);
        QCOMPARE(out.llm.value(QStringLiteral("Retries")).toInt(), 0);
        QCOMPARE(out.story.title, QStringLiteral("The Last Lighthouse"));
    }

    void lengthFinishRejectedThenRetried()
    {
        ScriptedBackend backend;
        Reply r;
        r.content = compact(scenesObject(4)); // complete JSON, but the server says it was cut off
        r.finishReason = QStringLiteral("length");
        r.truncated = true;
        backend.overrides.insert(1, r);
        Outcome out;
        auto gen = make(&backend, &out);
        gen->start(request(4));
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        QCOMPARE(backend.requests.size(), 2 + 1 + 4);
        const ChatRequest& retry = backend.requests.at(2);
        QCOMPARE(retry.schemaName, QStringLiteral("scene_list"));
        QVERIFY(retry.messages.last().content.contains(QLatin1String("cut off")));
        QVERIFY(retry.maxTokens > backend.requests.at(1).maxTokens);
        QCOMPARE(out.llm.value(QStringLiteral("Truncated")).toBool(), true);
        QCOMPARE(out.llm.value(QStringLiteral("Retries")).toInt(), 1);
    }

    void fewerScenesTwiceIsAnError()
    {
        QTemporaryDir raw;
        QVERIFY(raw.isValid());
        ScriptedBackend backend;
        Reply r;
        r.content = compact(scenesObject(4));
        backend.overrides.insert(1, r);
        backend.overrides.insert(2, r);
        Outcome out;
        auto gen = make(&backend, &out);
        gen->rawDir = raw.filePath(QStringLiteral("llm-raw"));
        gen->start(request(5));
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY(!out.ok);
        QVERIFY2(out.error.startsWith(QLatin1String("scenes: the answer was rejected twice")), qPrintable(out.error));
        QVERIFY2(out.error.contains(QLatin1String("4 scenes returned, exactly 5 were asked for")), qPrintable(out.error));
        QVERIFY(out.error.contains(QDir::toNativeSeparators(gen->rawDir)));
        // No silent fallback story, no further requests.
        QVERIFY(out.story.scenes.isEmpty());
        QVERIFY(out.prompts.isEmpty());
        QTest::qWait(50);
        QCOMPARE(backend.requests.size(), 3);
        QCOMPARE(out.finishedCount, 1);
        QCOMPARE(out.llm.value(QStringLiteral("Status")).toString(), QStringLiteral("failed"));
        QCOMPARE(out.llm.value(QStringLiteral("Errors")).toArray().size(), 2);

        // Every raw answer is on disk for diagnosis.
        QStringList files = QDir(gen->rawDir).entryList(QDir::Files, QDir::Name);
        QCOMPARE(files, (QStringList{QStringLiteral("bible-1.txt"), QStringLiteral("scenes-1.txt"), QStringLiteral("scenes-2.txt")}));
        QFile f(QDir(gen->rawDir).filePath(QStringLiteral("scenes-2.txt")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(f.readAll()), r.content);
    }

    void reasoningOnlyIsRetried()
    {
        QTemporaryDir raw;
        QVERIFY(raw.isValid());
        ScriptedBackend backend;
        Reply r;
        r.reasoning = QStringLiteral("Let me think about the characters first. Mara should be...");
        backend.overrides.insert(0, r);
        Outcome out;
        auto gen = make(&backend, &out);
        gen->rawDir = raw.path();
        gen->start(request(1));
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        QCOMPARE(backend.requests.size(), 4);
        QVERIFY(backend.requests.at(1).messages.last().content.contains(QLatin1String("only reasoning")));
        QVERIFY(QFile::exists(raw.filePath(QStringLiteral("bible-1.reasoning.txt"))));
        QVERIFY(QFile::exists(raw.filePath(QStringLiteral("prompts-scene-001-1.txt"))));
    }

    void emptyIdeaSendsNothing()
    {
        ScriptedBackend backend;
        Outcome out;
        auto gen = make(&backend, &out);
        StoryRequest r = request();
        r.idea = QStringLiteral("  \n\t ");
        gen->start(r);
        QTRY_VERIFY(out.done);
        QVERIFY(!out.ok);
        QCOMPARE(out.error, QStringLiteral("the story idea is empty"));
        QCOMPARE(backend.requests.size(), 0);
        QVERIFY(!gen->isRunning());
    }

    void unknownTemplateSendsNothing()
    {
        ScriptedBackend backend;
        Outcome out;
        auto gen = make(&backend, &out);
        StoryRequest r = request();
        r.templateKey = QStringLiteral("story-sci-fi@9.0");
        gen->start(r);
        QTRY_VERIFY(out.done);
        QVERIFY(!out.ok);
        QVERIFY(out.error.contains(QLatin1String("story-sci-fi@9.0")));
        QCOMPARE(backend.requests.size(), 0);
    }

    void longIdeaIsTruncatedWithWarning()
    {
        ScriptedBackend backend;
        Outcome out;
        auto gen = make(&backend, &out);
        StoryRequest r = request(1);
        QString idea;
        while (idea.size() < 20000 - 10)
            idea += QStringLiteral("storm ");
        idea = idea.left(20000 - 9) + QStringLiteral("ENDMARKER");
        QCOMPARE(idea.size(), 20000);
        r.idea = idea;
        gen->start(r);
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        QVERIFY(!out.warnings.isEmpty());
        QVERIFY2(out.warnings.first().contains(QLatin1String("20000 characters")), qPrintable(out.warnings.first()));
        const QString user = backend.requests.at(0).messages.last().content;
        QVERIFY(!user.contains(QLatin1String("ENDMARKER")));
        QVERIFY(user.count(QLatin1String("storm ")) <= 4000 / 6);
        QVERIFY(user.count(QLatin1String("storm")) > 600);
        QVERIFY(out.llm.value(QStringLiteral("Warnings")).toArray().at(0).toString().contains(QLatin1String("20000")));
    }

    void cancelMidStream()
    {
        ScriptedBackend backend;
        Reply r;
        r.content = compact(scenesObject(5));
        r.hang = true;
        backend.overrides.insert(1, r);
        Outcome out;
        auto gen = make(&backend, &out);
        gen->start(request(5));
        QTRY_VERIFY_WITH_TIMEOUT(out.tokensPerStage.value(QStringLiteral("scenes")) > 2, 10000);
        QVERIFY(!out.done);
        gen->cancel();
        QVERIFY(out.done);
        QVERIFY(!out.ok);
        QCOMPARE(out.error, QStringLiteral("cancelled"));
        QCOMPARE(backend.cancelCount, 1);
        QCOMPARE(out.llm.value(QStringLiteral("Status")).toString(), QStringLiteral("cancelled"));
        QVERIFY(out.story.scenes.isEmpty());
        QTest::qWait(100);
        QCOMPARE(backend.requests.size(), 2);
        QCOMPARE(out.finishedCount, 1);
        QVERIFY(!gen->isRunning());
        gen->cancel(); // nothing running: no second finished()
        QCOMPARE(out.finishedCount, 1);
    }

    void fatalTransportErrorIsNotRetried()
    {
        ScriptedBackend backend;
        Reply r;
        r.error = gd::Error{QStringLiteral("no_model"), QStringLiteral("No models loaded"), {}};
        r.finishReason.clear();
        backend.overrides.insert(0, r);
        Outcome out;
        auto gen = make(&backend, &out);
        gen->start(request(2));
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY(!out.ok);
        QVERIFY2(out.error.startsWith(QLatin1String("bible: No models loaded")), qPrintable(out.error));
        QCOMPARE(backend.requests.size(), 1);
    }

    void shortPromptTwiceIsAnError()
    {
        ScriptedBackend backend;
        Reply r;
        r.content = QStringLiteral("{\"prompt\":\"a lighthouse\",\"negativePrompt\":\"blurry\"}");
        backend.overrides.insert(2, r);
        backend.overrides.insert(3, r);
        Outcome out;
        auto gen = make(&backend, &out);
        gen->start(request(2));
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY(!out.ok);
        QVERIFY2(out.error.startsWith(QLatin1String("prompts:scene-001: the answer was rejected twice")), qPrintable(out.error));
        QVERIFY2(out.error.contains(QLatin1String("prompt: 12 characters, at least 600 required")), qPrintable(out.error));
        QCOMPARE(backend.requests.size(), 4);
    }

    void shotsStageWritesShotLists()
    {
        ScriptedBackend backend;
        Outcome out;
        auto gen = make(&backend, &out);
        StoryRequest r = request(3);
        r.shots = true;
        gen->start(r);
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        QCOMPARE(out.stages,
                 (QStringList{QStringLiteral("bible"), QStringLiteral("scenes"), QStringLiteral("shots:scene-001"),
                              QStringLiteral("shots:scene-002"), QStringLiteral("shots:scene-003"),
                              QStringLiteral("prompts:scene-001"), QStringLiteral("prompts:scene-002"),
                              QStringLiteral("prompts:scene-003")}));
        QVERIFY(out.tokensPerStage.value(QStringLiteral("shots:scene-001")) > 0);
        QCOMPARE(backend.requests.size(), 8);
        // The bible now asks for reference prompts and locations.
        const QJsonObject bibleSchema = backend.requests.at(0).jsonSchema;
        QVERIFY(bibleSchema.value(QStringLiteral("required")).toArray().contains(QStringLiteral("locations")));
        // The shots request carries the scene's cast with their look ids, and the locations; the
        // schema allows only the scene's characters (scene-001: Mara Voss and Ilan Reyes).
        const ChatRequest& shots = backend.requests.at(2);
        QCOMPARE(shots.schemaName, QStringLiteral("shot_list"));
        QCOMPARE(shotNames(shots), (QStringList{kNames.at(0), kNames.at(1)}));
        const QString user = shots.messages.last().content;
        QVERIFY2(user.contains(QLatin1String("storm-coat")) && user.contains(QLatin1String("dry-wool")), qPrintable(user));
        QVERIFY(user.contains(QLatin1String("Lamp room")));
        QVERIFY(!user.contains(QLatin1String("{{")));

        const gd::story::Story& s = out.story;
        QCOMPARE(s.templateVersion, QStringLiteral("2.0"));
        QCOMPARE(s.characters.size(), 3);
        QCOMPARE(s.characters.at(0).looks.size(), 2);
        QCOMPARE(s.characters.at(1).looks.size(), 1);
        QCOMPARE(s.characters.at(1).looks.at(0).id, QStringLiteral("default"));
        QVERIFY(s.characters.at(1).referencePrompt.startsWith(QLatin1String("character reference sheet, Ilan Reyes")));
        QCOMPARE(s.locations.size(), 1);
        QCOMPARE(s.locations.at(0).name, QStringLiteral("Lamp room"));
        for (const auto& sc : s.scenes) {
            QCOMPARE(sc.shots.size(), 2);
            QCOMPARE(sc.shots.at(0).id, QStringLiteral("shot-01"));
            QCOMPARE(sc.shots.at(1).id, QStringLiteral("shot-02"));
            QVERIFY(sc.shots.at(0).continuesFrom.isEmpty());
            QCOMPARE(sc.shots.at(1).continuesFrom, QStringLiteral("shot-01"));
            QCOMPARE(sc.shots.at(0).visibleCharacters.size(), sc.characters.size());
            QVERIFY(!sc.prompt.isEmpty());
        }
        const auto& shot = s.scenes.at(0).shots.at(0);
        QCOMPARE(shot.visibleCharacters.at(0).look, QStringLiteral("storm-coat"));
        QCOMPARE(shot.location, QStringLiteral("Lamp room"));
        QVERIFY(s.scenes.at(0).shots.at(1).location.isEmpty());
        // The story validates like a hand-written story.json, and a shot's keyframe prompt carries the look.
        QStringList problems;
        QVERIFY2(gd::story::StoryLoader::fromObject(gd::story::StoryLoader::toJson(s), &problems),
                 qPrintable(problems.join(QLatin1Char('\n'))));
        const QString prompt = gd::story::composeShotPrompt(s, s.scenes.at(0), shot).prompt;
        QVERIFY2(prompt.contains(QLatin1String("Mara Voss (orange storm coat, soaked hair)")), qPrintable(prompt));
    }

    void badShotsAnswerIsCorrectedOnce_data()
    {
        QTest::addColumn<QString>("bad");
        QTest::addColumn<QString>("expectedInCorrection");
        auto shotList = [](const QJsonObject& shot) { return compact(QJsonObject{{QStringLiteral("shots"), QJsonArray{shot}}}); };
        const QJsonObject good{{QStringLiteral("description"), QStringLiteral("Mara Voss and Ilan Reyes climb the stair.")},
                               {QStringLiteral("firstFrame"), QStringLiteral("low angle, Mara Voss and Ilan Reyes on a spiral stair")},
                               {QStringLiteral("lastFrame"), QString()},
                               {QStringLiteral("visibleCharacters"),
                                QJsonArray{QJsonObject{{QStringLiteral("name"), kNames.at(0)}, {QStringLiteral("look"), QStringLiteral("storm-coat")}}}},
                               {QStringLiteral("location"), QString()},
                               {QStringLiteral("camera"), QStringLiteral("handheld follow")},
                               {QStringLiteral("motion"), QStringLiteral("they climb")},
                               {QStringLiteral("continuesPrevious"), false}};
        QJsonObject wrongLook = good;
        wrongLook.insert(QStringLiteral("visibleCharacters"),
                         QJsonArray{QJsonObject{{QStringLiteral("name"), kNames.at(1)}, {QStringLiteral("look"), QStringLiteral("storm-coat")}}});
        QTest::newRow("look of another character") << shotList(wrongLook)
                                                   << QStringLiteral("shots[0].visibleCharacters[0].look: 'storm-coat' is not a look of Ilan Reyes");
        QJsonObject pronoun = good;
        pronoun.insert(QStringLiteral("firstFrame"), QStringLiteral("low angle, she climbs a spiral stair in the dark"));
        QTest::newRow("pronoun instead of a name") << shotList(pronoun) << QStringLiteral("shots[0].firstFrame: uses the pronoun 'she'");
        QJsonObject stranger = good;
        stranger.insert(QStringLiteral("visibleCharacters"),
                        QJsonArray{QJsonObject{{QStringLiteral("name"), kNames.at(2)}, {QStringLiteral("look"), QStringLiteral("default")}}});
        QTest::newRow("character not in the scene") << shotList(stranger) << QStringLiteral("shots[0].visibleCharacters[0].name");
        QTest::newRow("no shots") << compact(QJsonObject{{QStringLiteral("shots"), QJsonArray{}}}) << QStringLiteral("shots:");
    }

    void badShotsAnswerIsCorrectedOnce()
    {
        QFETCH(QString, bad);
        QFETCH(QString, expectedInCorrection);
        ScriptedBackend backend;
        Reply r;
        r.content = bad;
        backend.overrides.insert(2, r); // shots:scene-001, first attempt
        Outcome out;
        auto gen = make(&backend, &out);
        StoryRequest req = request(2);
        req.shots = true;
        gen->start(req);
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        QCOMPARE(backend.requests.size(), 2 + 3 + 2);
        const ChatRequest& retry = backend.requests.at(3);
        QCOMPARE(retry.schemaName, QStringLiteral("shot_list"));
        QVERIFY2(retry.messages.last().content.contains(expectedInCorrection), qPrintable(retry.messages.last().content));
        QVERIFY(retry.messages.last().content.contains(QLatin1String("previous answer was rejected")));
        QCOMPARE(out.llm.value(QStringLiteral("Retries")).toInt(), 1);
        QVERIFY(out.llm.value(QStringLiteral("Errors")).toArray().at(0).toString().startsWith(QLatin1String("shots:scene-001 attempt 1:")));
        QCOMPARE(out.story.scenes.at(0).shots.size(), 2); // the corrected answer
    }

    void badShotsTwiceFailWithoutAStory()
    {
        ScriptedBackend backend;
        Reply r;
        r.content = compact(QJsonObject{{QStringLiteral("shots"), QJsonArray{}}});
        backend.overrides.insert(3, r);
        backend.overrides.insert(4, r);
        Outcome out;
        auto gen = make(&backend, &out);
        StoryRequest req = request(2);
        req.shots = true;
        gen->start(req);
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY(!out.ok);
        QVERIFY2(out.error.startsWith(QLatin1String("shots:scene-002: the answer was rejected twice")), qPrintable(out.error));
        QVERIFY(out.story.scenes.isEmpty());
        QCOMPARE(backend.requests.size(), 5);
    }

    void shotsCanBeDisabled()
    {
        ScriptedBackend backend;
        Outcome out;
        auto gen = make(&backend, &out);
        gen->start(request(2)); // shots = false
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        for (const QString& stage : std::as_const(out.stages))
            QVERIFY2(!stage.startsWith(QLatin1String("shots:")), qPrintable(stage));
        QVERIFY(!backend.requests.at(0).jsonSchema.value(QStringLiteral("required")).toArray().contains(QStringLiteral("locations")));
        QVERIFY(out.story.scenes.at(0).shots.isEmpty());
        QVERIFY(out.story.locations.isEmpty());
    }

    void templateWithoutShotsSectionSkipsTheStage()
    {
        ScriptedBackend backend;
        Outcome out;
        auto gen = make(&backend, &out);
        StoryRequest req = request(2);
        req.shots = true;
        req.templateKey = QStringLiteral("story-sci-fi@1.0");
        gen->start(req);
        QTRY_VERIFY_WITH_TIMEOUT(out.done, 10000);
        QVERIFY2(out.ok, qPrintable(out.error));
        QCOMPARE(backend.requests.size(), 4);
        QVERIFY2(out.warnings.join(QLatin1Char('\n')).contains(QLatin1String("story-sci-fi@1.0 has no shots section")),
                 qPrintable(out.warnings.join(QLatin1Char('\n'))));
        QCOMPARE(out.story.templateVersion, QStringLiteral("1.0"));
    }
};

QTEST_GUILESS_MAIN(TestStoryGenerator)
#include "tst_storygenerator.moc"
