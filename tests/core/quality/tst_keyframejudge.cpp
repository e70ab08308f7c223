// The storyboard keyframe judge (issue 8): the "keyframe_rubric" and "keyframe_sameness" requests as they go
// on the wire (images in order), parsing and range checks, the corrective retry, best-of-N tie rules, the
// no-vision-model path, and the whole round trip against the sandbox LLM's deterministic vision answers.
#include "../sandbox/StoryboardTestImages.h"
#include "llm/JsonSchemaCheck.h"
#include "llm/LlmClient.h"
#include "quality/JudgeChat.h"
#include "quality/KeyframeJudge.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"

#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using gd::quality::BestOfChoice;
using gd::quality::KeyframeCharacter;
using gd::quality::KeyframeJudge;
using gd::quality::KeyframeJudgeInput;
using gd::quality::KeyframeJudgeOptions;
using gd::quality::KeyframeVerdict;
using namespace sbimages;

Q_DECLARE_METATYPE(QVector<gd::quality::KeyframeVerdict>)

namespace {

const QString kDescription = QStringLiteral("Mara Voss and Ivo Brandt argue in the lamp room");
const QString kPrompt =
    QStringLiteral("Mara Voss and Ivo Brandt argue in the lamp room at dusk, orange storm coat");

KeyframeVerdict verdict(double score, bool borders, QVector<int> identity = {})
{
    KeyframeVerdict v;
    v.score = score;
    v.bordersOrText = borders;
    for (int i = 0; i < identity.size(); ++i)
        v.identity.append({QStringLiteral("c%1").arg(i), identity.at(i)});
    return v;
}

KeyframeVerdict failed(const QString& why)
{
    KeyframeVerdict v;
    v.error = {QStringLiteral("judge"), why, {}};
    return v;
}

gd::llm::ChatResult answerResult(const QJsonObject& answer)
{
    gd::llm::ChatResult r;
    r.content = QString::fromUtf8(QJsonDocument(answer).toJson(QJsonDocument::Compact));
    r.finishReason = QStringLiteral("stop");
    return r;
}

QJsonObject goodAnswer()
{
    return QJsonObject{{QStringLiteral("description_match"), 3},
                       {QStringLiteral("character_count"), 2},
                       {QStringLiteral("characters"),
                        QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("Ivo Brandt")},
                                               {QStringLiteral("identity"), 2}},
                                   QJsonObject{{QStringLiteral("name"), QStringLiteral("mara  voss")},
                                               {QStringLiteral("identity"), 4}}}},
                       {QStringLiteral("borders_or_text"), false},
                       {QStringLiteral("score"), 7.5},
                       {QStringLiteral("reasons"), QStringLiteral("Both present.")}};
}

} // namespace

class TstKeyframeJudge : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_good, m_missing, m_boxed, m_maraSheet, m_ivoSheet;

    QString write(const QString& name, const QByteArray& bytes)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
            qFatal("cannot write %s", qPrintable(path));
        return path;
    }

    KeyframeJudgeInput input(const QString& candidate) const
    {
        return {candidate,
                kDescription,
                {{QStringLiteral("Mara Voss"), m_maraSheet}, {QStringLiteral("Ivo Brandt"), m_ivoSheet}}};
    }

    static gd::sandbox::SandboxLlmConfig visionConfig()
    {
        gd::sandbox::SandboxLlmConfig c;
        c.visionModel = true;
        c.tokenDelayMs = 0;
        return c;
    }

    struct Judged
    {
        QVector<KeyframeVerdict> verdicts;
        int chatRequests = 0;
        QJsonObject lastRequest;
    };

    Judged judgeAll(const gd::sandbox::SandboxLlmConfig& config, const QVector<KeyframeJudgeInput>& inputs,
                    const KeyframeJudgeOptions& options = {})
    {
        gd::sandbox::SandboxLlmHost host;
        QString error;
        if (!host.start(config, 0, &error))
            qFatal("sandbox LLM: %s", qPrintable(error));
        gd::llm::LlmClient client(host.url());
        client.setRetryPolicy(1, 10, 10);
        KeyframeJudge judge(&client, options);
        Judged out;
        for (const KeyframeJudgeInput& in : inputs)
            judge.judge(in, this, [&out](const KeyframeVerdict& v) { out.verdicts.append(v); });
        if (!QTest::qWaitFor([&] { return out.verdicts.size() == inputs.size(); }, 30000))
            qFatal("the keyframe judge did not answer");
        out.chatRequests = host.server()->chatRequestCount();
        out.lastRequest = host.server()->lastChatRequest();
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_good = write(QStringLiteral("good.png"), keyframePng(maraAndIvo(), kPrompt));
        m_missing = write(QStringLiteral("missing.png"), keyframePng({maraAndIvo().first()}, kPrompt));
        m_boxed = write(QStringLiteral("boxed.png"), keyframePng(maraAndIvo(), kPrompt, 60, 20));
        m_maraSheet = write(QStringLiteral("mara-sheet.png"), sheetPng(kOrange));
        m_ivoSheet = write(QStringLiteral("ivo-sheet.png"), sheetPng(kTeal));
    }

    void rubricRequestShape()
    {
        KeyframeJudgeInput in = input(m_good);
        in.characters.append({QStringLiteral("Old Keeper"), QString()}); // no approved sheet: counted only
        const QStringList urls{QStringLiteral("data:image/png;base64,AAAA"),
                               QStringLiteral("data:image/png;base64,BBBB"),
                               QStringLiteral("data:image/png;base64,CCCC")};
        const gd::llm::ChatRequest r = KeyframeJudge::rubricRequest(in, urls, QStringLiteral("vlm"));
        QCOMPARE(r.schemaName, QStringLiteral("keyframe_rubric"));
        QCOMPARE(r.temperature, 0.0);
        QCOMPARE(r.model, QStringLiteral("vlm"));
        QCOMPARE(r.messages.size(), 2);
        QCOMPARE(r.messages.first().role, QStringLiteral("system"));
        const QString user = r.messages.last().content;
        QVERIFY(user.contains(kDescription));
        QVERIFY(user.contains(QLatin1String("Expected visible characters: 3")));
        QVERIFY(user.contains(QLatin1String("Character 1: Mara Voss (reference sheet: image 2)")));
        QVERIFY(user.contains(QLatin1String("Character 2: Ivo Brandt (reference sheet: image 3)")));
        QVERIFY(user.contains(QLatin1String("Character 3: Old Keeper (no reference sheet: count only)")));
        QCOMPARE(r.messages.last().imageDataUrls, urls);
        const QJsonObject props = r.jsonSchema.value(QStringLiteral("properties")).toObject();
        for (const char* key :
             {"description_match", "character_count", "characters", "borders_or_text", "score", "reasons"}) {
            QVERIFY2(props.contains(QLatin1String(key)), key);
            QVERIFY2(r.jsonSchema.value(QStringLiteral("required")).toArray().contains(QLatin1String(key)),
                     key);
        }
        QCOMPARE(
            props.value(QStringLiteral("characters")).toObject().value(QStringLiteral("minItems")).toInt(),
            2);
        QCOMPARE(props.value(QStringLiteral("score")).toObject().value(QStringLiteral("maximum")).toInt(),
                 10);

        // On the wire (LM Studio): one user message, the text part first, then the images in that order.
        const QJsonObject body =
            gd::llm::LlmClient::chatBody(r, gd::llm::ServerFlavour::LmStudio, QStringLiteral("vlm"));
        const QJsonArray parts = body.value(QStringLiteral("messages"))
                                     .toArray()
                                     .last()
                                     .toObject()
                                     .value(QStringLiteral("content"))
                                     .toArray();
        QCOMPARE(parts.size(), 4);
        QCOMPARE(parts.at(0).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("text"));
        for (int i = 0; i < 3; ++i)
            QCOMPARE(parts.at(i + 1)
                         .toObject()
                         .value(QStringLiteral("image_url"))
                         .toObject()
                         .value(QStringLiteral("url"))
                         .toString(),
                     urls.at(i));
        QCOMPARE(body.value(QStringLiteral("response_format"))
                     .toObject()
                     .value(QStringLiteral("json_schema"))
                     .toObject()
                     .value(QStringLiteral("name"))
                     .toString(),
                 QStringLiteral("keyframe_rubric"));
    }

    void samenessRequestShape()
    {
        const gd::llm::ChatRequest r = KeyframeJudge::samenessRequest(
            QStringLiteral("data:a"), QStringLiteral("data:b"), QStringLiteral("vlm"));
        QCOMPARE(r.schemaName, QStringLiteral("keyframe_sameness"));
        QCOMPARE(r.messages.last().imageDataUrls,
                 (QStringList{QStringLiteral("data:a"), QStringLiteral("data:b")}));
        const QJsonArray required = r.jsonSchema.value(QStringLiteral("required")).toArray();
        QCOMPARE(required, (QJsonArray{QStringLiteral("same_identity"), QStringLiteral("same_layout"),
                                       QStringLiteral("reasons")}));
    }

    void parseAndRangeCheck_data()
    {
        QTest::addColumn<QJsonObject>("answer");
        QTest::addColumn<QString>("problem"); // empty: accepted
        QTest::newRow("valid, names in any order and spacing") << goodAnswer() << QString();
        auto with = [](const char* key, const QJsonValue& v) {
            QJsonObject a = goodAnswer();
            a.insert(QLatin1String(key), v);
            return a;
        };
        QTest::newRow("score above 10")
            << with("score", 11) << QStringLiteral("score: 11 is more than the maximum 10");
        QTest::newRow("negative count") << with("character_count", -1)
                                        << QStringLiteral("character_count: -1 is less than the minimum 0");
        QTest::newRow("fractional match")
            << with("description_match", 2.5) << QStringLiteral("description_match: expected integer");
        QTest::newRow("borders as text") << with("borders_or_text", QStringLiteral("no"))
                                         << QStringLiteral("borders_or_text: expected boolean");
        QJsonObject missing = goodAnswer();
        missing.remove(QStringLiteral("reasons"));
        QTest::newRow("reasons missing") << missing << QStringLiteral("reasons: required");
        QTest::newRow("identity 5")
            << with("characters",
                    QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("Mara Voss")},
                                           {QStringLiteral("identity"), 5}},
                               QJsonObject{{QStringLiteral("name"), QStringLiteral("Ivo Brandt")},
                                           {QStringLiteral("identity"), 1}}})
            << QStringLiteral("characters[0].identity: 5 is more than the maximum 4");
        QTest::newRow("a stranger instead of Ivo")
            << with("characters",
                    QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("Mara Voss")},
                                           {QStringLiteral("identity"), 3}},
                               QJsonObject{{QStringLiteral("name"), QStringLiteral("Bob")},
                                           {QStringLiteral("identity"), 1}}})
            << QStringLiteral("characters[1].name: 'Bob' is not one of the listed characters with a sheet; "
                              "characters: no identity for 'Ivo Brandt'");
        QTest::newRow("Mara twice")
            << with("characters",
                    QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("Mara Voss")},
                                           {QStringLiteral("identity"), 3}},
                               QJsonObject{{QStringLiteral("name"), QStringLiteral("Mara Voss")},
                                           {QStringLiteral("identity"), 1}}})
            << QStringLiteral("characters[1].name: 'Mara Voss' is named twice; characters: no identity for "
                              "'Ivo Brandt'");
    }

    void parseAndRangeCheck()
    {
        QFETCH(QJsonObject, answer);
        QFETCH(QString, problem);
        const KeyframeJudgeInput in = input(m_good);
        QString why;
        const auto checked =
            gd::quality::JudgeChat::answer(answerResult(answer), KeyframeJudge::rubricSchema(2), &why);
        QStringList problems;
        if (checked)
            problems = KeyframeJudge::rubricProblems(*checked, in);
        else
            problems << why;
        if (problem.isEmpty()) {
            QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
            const KeyframeVerdict v = KeyframeJudge::verdictFrom(*checked, in);
            QCOMPARE(v.score, 7.5);
            QCOMPARE(v.descriptionMatch, 3);
            QCOMPARE(v.characterCount, 2);
            // In the input's order and spelling, whatever the model wrote.
            QCOMPARE(v.identity, (QVector<QPair<QString, int>>{{QStringLiteral("Mara Voss"), 4},
                                                               {QStringLiteral("Ivo Brandt"), 2}}));
            QCOMPARE(v.meanIdentity(), 3.0);
        } else {
            QVERIFY2(problems.join(QStringLiteral("; ")).contains(problem),
                     qPrintable(problems.join(QStringLiteral("; "))));
        }
    }

    void verdictJsonRoundTrip()
    {
        KeyframeVerdict v = verdict(8.5, true, {3, 4});
        v.descriptionMatch = 4;
        v.characterCount = 2;
        v.reasons = QStringLiteral("ok");
        v.model = QStringLiteral("vlm");
        const QJsonObject json = v.toJson();
        QCOMPARE(json.value(QStringLiteral("identity")).toObject().value(QStringLiteral("c1")).toInt(), 4);
        const auto back = KeyframeVerdict::fromJson(json);
        QVERIFY(back);
        QCOMPARE(back->toJson(), json);
        QJsonObject bad = json;
        bad.insert(QStringLiteral("identity"), QJsonObject{{QStringLiteral("c0"), 7}});
        QVERIFY(!KeyframeVerdict::fromJson(bad));
        bad = json;
        bad.insert(QStringLiteral("score"), QStringLiteral("9"));
        QVERIFY(!KeyframeVerdict::fromJson(bad));
    }

    void bestOfTies_data()
    {
        QTest::addColumn<QVector<KeyframeVerdict>>("verdicts");
        QTest::addColumn<int>("index");
        QTest::addColumn<QString>("why");
        QTest::newRow("highest score")
            << QVector<KeyframeVerdict>{verdict(6, false), verdict(8.5, true), verdict(7, false)} << 1
            << QStringLiteral("candidate 2 of 3: highest score 8.5 (next 7)");
        QTest::newRow("tie: no borders wins")
            << QVector<KeyframeVerdict>{verdict(8, true, {4}), verdict(8, false, {2})} << 1
            << QStringLiteral("no borders or text where the others have them");
        QTest::newRow("tie: higher mean identity")
            << QVector<KeyframeVerdict>{verdict(8, false, {2, 3}), verdict(8, false, {4, 3}),
                                        verdict(5, false, {4, 4})}
            << 1 << QStringLiteral("same border/text flags; higher mean identity 3.5");
        QTest::newRow("tie: lowest index")
            << QVector<KeyframeVerdict>{verdict(3, false), verdict(8, false, {3}), verdict(8, false, {3})}
            << 1 << QStringLiteral("lowest index");
        QTest::newRow("failed candidates are skipped")
            << QVector<KeyframeVerdict>{failed(QStringLiteral("timeout")), verdict(2, true)} << 1
            << QStringLiteral("the only judged candidate (score 2) (candidate 1 not judged: timeout)");
        QTest::newRow("none judged")
            << QVector<KeyframeVerdict>{failed(QStringLiteral("no vision model: none"))} << -1
            << QStringLiteral("no candidate could be judged (candidate 1 not judged: no vision model: none)");
    }

    void bestOfTies()
    {
        QFETCH(QVector<KeyframeVerdict>, verdicts);
        QFETCH(int, index);
        QFETCH(QString, why);
        const BestOfChoice choice = KeyframeJudge::bestOf(verdicts);
        QCOMPARE(choice.index, index);
        QVERIFY2(choice.why.contains(why), qPrintable(choice.why));
    }

    void judgesAgainstTheSandboxVisionModel()
    {
        const Judged j = judgeAll(visionConfig(), {input(m_good), input(m_missing), input(m_boxed)});
        QCOMPARE(j.chatRequests, 3);
        for (const KeyframeVerdict& v : j.verdicts) {
            QVERIFY2(v.ok(), qPrintable(v.error.message));
            QCOMPARE(v.model, QStringLiteral("sandbox-vision-2b"));
            QCOMPARE(v.retries, 0);
        }
        const KeyframeVerdict& good = j.verdicts.at(0);
        QCOMPARE(good.score, 10.0);
        QCOMPARE(good.descriptionMatch, 4);
        QCOMPARE(good.characterCount, 2);
        QCOMPARE(good.identity, (QVector<QPair<QString, int>>{{QStringLiteral("Mara Voss"), 4},
                                                              {QStringLiteral("Ivo Brandt"), 4}}));
        QVERIFY(!good.bordersOrText);
        QCOMPARE(j.verdicts.at(1).characterCount, 1);
        QCOMPARE(j.verdicts.at(1).identity.at(1).second, 0);
        QVERIFY(j.verdicts.at(2).bordersOrText);
        const BestOfChoice best = KeyframeJudge::bestOf(j.verdicts);
        QCOMPARE(best.index, 0);

        // The last request carried the candidate first, then Mara's sheet, then Ivo's, as the text lists
        // them.
        const QJsonArray parts = j.lastRequest.value(QStringLiteral("messages"))
                                     .toArray()
                                     .last()
                                     .toObject()
                                     .value(QStringLiteral("content"))
                                     .toArray();
        QCOMPARE(parts.size(), 4);
        const QStringList files{m_boxed, m_maraSheet, m_ivoSheet};
        for (int i = 0; i < 3; ++i) {
            QFile f(files.at(i));
            QVERIFY(f.open(QIODevice::ReadOnly));
            QCOMPARE(parts.at(i + 1)
                         .toObject()
                         .value(QStringLiteral("image_url"))
                         .toObject()
                         .value(QStringLiteral("url"))
                         .toString(),
                     QStringLiteral("data:image/png;base64,") + QString::fromLatin1(f.readAll().toBase64()));
        }
        QCOMPARE(j.lastRequest.value(QStringLiteral("model")).toString(),
                 QStringLiteral("sandbox-vision-2b"));
    }

    void malformedAnswerGetsOneCorrectiveRetry()
    {
        gd::sandbox::SandboxLlmConfig c = visionConfig();
        c.faults = {{gd::sandbox::LlmFaultKind::MalformedJson, 1, 0}};
        const Judged j = judgeAll(c, {input(m_good)});
        QCOMPARE(j.chatRequests, 2);
        const KeyframeVerdict& v = j.verdicts.first();
        QVERIFY2(v.ok(), qPrintable(v.error.message));
        QCOMPARE(v.retries, 1);
        QCOMPARE(v.score, 10.0);
        const QString user = j.lastRequest.value(QStringLiteral("messages"))
                                 .toArray()
                                 .last()
                                 .toObject()
                                 .value(QStringLiteral("content"))
                                 .toArray()
                                 .first()
                                 .toObject()
                                 .value(QStringLiteral("text"))
                                 .toString();
        QVERIFY2(user.startsWith(QLatin1String("Your previous answer was rejected: unreadable judge answer")),
                 qPrintable(user));
    }

    void malformedTwiceIsAnErrorNamingTheProblem()
    {
        gd::sandbox::SandboxLlmConfig c = visionConfig();
        c.faults = {{gd::sandbox::LlmFaultKind::MalformedJson, 2, 0}};
        const Judged j = judgeAll(c, {input(m_good)});
        QCOMPARE(j.chatRequests, 2);
        const KeyframeVerdict& v = j.verdicts.first();
        QCOMPARE(v.error.kind, QStringLiteral("judge"));
        QVERIFY2(
            v.error.message.contains(QLatin1String("rejected twice; last problem: unreadable judge answer")),
            qPrintable(v.error.message));
    }

    void noVisionModelIsUnmeasuredNotAFallback()
    {
        gd::sandbox::SandboxLlmConfig c;
        c.tokenDelayMs = 0; // only the story model (and the embedder) are listed
        KeyframeJudgeOptions o;
        o.visionModel = QStringLiteral("sandbox-story-7b-instruct"); // configured, but it cannot see
        const Judged j = judgeAll(c, {input(m_good)}, o);
        QCOMPARE(j.chatRequests, 0); // no silent fallback to the text model
        QCOMPARE(j.verdicts.first().error.kind, QStringLiteral("no_model"));
        QVERIFY2(j.verdicts.first().error.message.startsWith(QLatin1String("no vision model: ")),
                 qPrintable(j.verdicts.first().error.message));
        QVERIFY(KeyframeJudge::bestOf(j.verdicts).index < 0);
    }

    void operatorPicksTheModel()
    {
        gd::sandbox::SandboxLlmHost host;
        QString error;
        gd::sandbox::SandboxLlmConfig c;
        c.tokenDelayMs = 0;
        QVERIFY2(host.start(c, 0, &error), qPrintable(error));
        gd::llm::LlmClient client(host.url());
        client.setRetryPolicy(1, 10, 10);
        KeyframeJudge judge(&client, {});
        std::optional<gd::quality::VisionModelChoice> choice;
        judge.selectModel(this, [&choice](const gd::quality::VisionModelChoice& c) { choice = c; });
        QTRY_VERIFY_WITH_TIMEOUT(choice.has_value(), 20000);
        QVERIFY(!choice->model);
        QCOMPARE(choice->error.kind, QStringLiteral("no_model"));
        QVERIFY(choice->visionModels.isEmpty());
        QVERIFY(choice->listed.contains(
            QStringLiteral("sandbox-story-7b-instruct"))); // what the operator can pick from
        // The operator's pick is used as it is; here the server refuses images for a text model, in its
        // words.
        judge.setVisionModel(QStringLiteral("sandbox-story-7b-instruct"));
        std::optional<KeyframeVerdict> v;
        judge.judge(input(m_good), this, [&v](const KeyframeVerdict& r) { v = r; });
        QTRY_VERIFY_WITH_TIMEOUT(v.has_value(), 20000);
        QVERIFY(!v->ok());
        QVERIFY2(v->error.message.contains(QLatin1String("does not support images")),
                 qPrintable(v->error.message));
        QCOMPARE(host.server()->chatRequestCount(), 1); // a transport error is not "corrected"
    }

    void unreadableImagesAreNamed()
    {
        const QString notAnImage = write(QStringLiteral("sheet.txt.png"), QByteArray("not a png"));
        KeyframeJudgeInput in = input(m_good);
        in.characters[1].sheetPath = notAnImage;
        const Judged j = judgeAll(visionConfig(), {in});
        QCOMPARE(j.chatRequests, 0);
        QCOMPARE(j.verdicts.first().error.kind, QStringLiteral("image"));
        QVERIFY2(
            j.verdicts.first().error.message.startsWith(QLatin1String("reference sheet of Ivo Brandt: ")),
            qPrintable(j.verdicts.first().error.message));
    }

    void samenessAndAlignmentOnKeyframes()
    {
        gd::sandbox::SandboxLlmHost host;
        QString error;
        QVERIFY2(host.start(visionConfig(), 0, &error), qPrintable(error));
        gd::llm::LlmClient client(host.url());
        client.setRetryPolicy(1, 10, 10);
        KeyframeJudge judge(&client, {});
        QVector<gd::quality::SamenessVerdict> same;
        judge.judgeSameness(m_good, m_good, this,
                            [&same](const gd::quality::SamenessVerdict& v) { same.append(v); });
        judge.judgeSameness(m_good, m_missing, this,
                            [&same](const gd::quality::SamenessVerdict& v) { same.append(v); });
        std::optional<gd::quality::AlignmentVerdict> aligned;
        judge.judgeAlignment(m_good, kPrompt, this,
                             [&aligned](const gd::quality::AlignmentVerdict& v) { aligned = v; });
        QTRY_VERIFY_WITH_TIMEOUT(aligned.has_value(), 30000);
        QCOMPARE(same.size(), 2); // in the order asked for
        QVERIFY2(same.at(0).nearIdentical(), qPrintable(same.at(0).reasons));
        QVERIFY(!same.at(1).nearIdentical());
        QVERIFY(!same.at(1).sameIdentity);
        QVERIFY2(aligned->ok(), qPrintable(aligned->error.message));
        QCOMPARE(aligned->model, QStringLiteral("sandbox-vision-2b"));
        QCOMPARE(aligned->judge.value(QStringLiteral("Scene")).toDouble(),
                 4.0); // the keyframe shows exactly its prompt
        QVERIFY(aligned->judge.contains(QStringLiteral("Mean")));
        QCOMPARE(host.server()->chatRequestCount(),
                 2 + 3); // two sameness calls, median of three alignment calls
    }
};

QTEST_GUILESS_MAIN(TstKeyframeJudge)
#include "tst_keyframejudge.moc"
