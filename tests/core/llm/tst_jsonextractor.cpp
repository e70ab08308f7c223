#include "llm/JsonExtractor.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using gd::llm::ChatResult;
using gd::llm::JsonExtractor;

class TestJsonExtractor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void accepts_data()
    {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("expectedJson"); // compact form of the value
        QTest::addColumn<bool>("repaired");
        QTest::newRow("plain") << "{\"a\":1}" << "{\"a\":1}" << false;
        QTest::newRow("bom") << QString(QChar(0xFEFF)) + QStringLiteral("{\"a\":1}") << "{\"a\":1}" << false;
        QTest::newRow("fences and think") << "<think>The user wants {json}. Let me think [carefully].</think>\n```json\n{\"a\": [1, 2]}\n```\n"
                                          << "{\"a\":[1,2]}" << false;
        QTest::newRow("closing think only") << "so the answer is {x}</think>{\"a\":true}" << "{\"a\":true}" << false;
        QTest::newRow("leading prose") << "Sure! Here is the story bible you asked for:\n\n{\"title\":\"Dusk\"}\nHope it helps."
                                       << "{\"title\":\"Dusk\"}" << false;
        QTest::newRow("prose with braces before") << "Note {draft}: as requested [v2]\n{\"a\":1}" << "{\"a\":1}" << false;
        QTest::newRow("nested strings with braces") << "{\"p\":\"a } tricky ] \\\"quoted {\\\" text\",\"q\":{\"r\":[\"[\"]}}"
                                                     << "{\"p\":\"a } tricky ] \\\"quoted {\\\" text\",\"q\":{\"r\":[\"[\"]}}" << false;
        QTest::newRow("array root") << "Result: [ {\"a\":1}, {\"a\":2} ]" << "[{\"a\":1},{\"a\":2}]" << false;
        QTest::newRow("trailing commas") << "{\"a\": [1, 2, ], \"b\": 3, }" << "{\"a\":[1,2],\"b\":3}" << true;
        QTest::newRow("comments") << "{\n  // the title\n  \"a\": 1 /* one */\n}" << "{\"a\":1}" << true;
        QTest::newRow("nan and infinity") << "{\"a\": NaN, \"b\": -Infinity, \"c\": \"NaN stays\"}"
                                          << "{\"a\":null,\"b\":null,\"c\":\"NaN stays\"}" << true;
        // Qt's parser tolerates raw line breaks inside strings; the value must come out right either way.
        QTest::newRow("raw newline in string") << "{\"a\": \"line one\nline two\"}" << "{\"a\":\"line one\\nline two\"}" << false;
        QTest::newRow("trailing comma and prose with braces after") << "{\"a\": {\"b\": 1,},} and {more}" << "{\"a\":{\"b\":1}}" << true;
    }

    void accepts()
    {
        QFETCH(QString, content);
        QFETCH(QString, expectedJson);
        QFETCH(bool, repaired);
        const auto x = JsonExtractor::extract(content, QStringLiteral("stop"));
        QVERIFY2(x.ok, qPrintable(x.error));
        const QByteArray compact = x.value.isArray() ? QJsonDocument(x.value.toArray()).toJson(QJsonDocument::Compact)
                                                     : QJsonDocument(x.value.toObject()).toJson(QJsonDocument::Compact);
        QCOMPARE(QString::fromUtf8(compact), expectedJson);
        QCOMPARE(!x.repairs.isEmpty(), repaired);
    }

    void rejects_data()
    {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("reasoning");
        QTest::addColumn<QString>("finishReason");
        QTest::addColumn<bool>("truncated");
        QTest::addColumn<QString>("expected");
        QTest::newRow("cut mid-object") << "{\"title\": \"Dusk\", \"scenes\": [{\"a\": 1}" << "" << "stop" << false << "never closed";
        QTest::newRow("length finish with complete json") << "{\"a\":1}" << "" << "length" << true << "cut off at the token limit";
        QTest::newRow("eof without finish") << "{\"a\":1}" << "" << "" << true << "without a finish marker";
        QTest::newRow("reasoning only") << "" << "Let me plan the scenes first..." << "stop" << false << "only reasoning";
        QTest::newRow("reasoning only with length") << "" << "Let me plan..." << "length" << true << "whole budget went into reasoning";
        QTest::newRow("think only inline") << "<think>planning the story</think>" << "" << "stop" << false << "only reasoning";
        QTest::newRow("empty") << "  " << "" << "stop" << false << "empty";
        QTest::newRow("no json") << "I cannot help with that." << "" << "stop" << false << "no JSON object or array";
        QTest::newRow("cut inside nested array") << "Here: {\"scenes\": [{\"a\": 1}, {\"a\": 2}" << "" << "stop" << false << "never closed";
        QTest::newRow("mismatched brackets") << "{\"a\": [1, 2}" << "" << "stop" << false << "never closed";
        QTest::newRow("garbage inside") << "{\"a\": tru}" << "" << "stop" << false << "invalid JSON";
    }

    void rejects()
    {
        QFETCH(QString, content);
        QFETCH(QString, reasoning);
        QFETCH(QString, finishReason);
        QFETCH(bool, truncated);
        QFETCH(QString, expected);
        ChatResult r;
        r.content = content;
        r.reasoning = reasoning;
        r.finishReason = finishReason;
        r.truncated = truncated;
        const auto x = JsonExtractor::fromResult(r);
        QVERIFY(!x.ok);
        QVERIFY2(x.error.contains(expected), qPrintable(x.error));
    }

    void repairEscapesControlCharacters()
    {
        QStringList repairs;
        QCOMPARE(JsonExtractor::repair(QStringLiteral("{\"a\": \"x\ny\tz\"}"), &repairs), QStringLiteral("{\"a\": \"x\\ny\\tz\"}"));
        QCOMPARE(repairs, QStringList{QStringLiteral("escaped raw line breaks/control characters inside strings")});
    }

    void matchingBracketIgnoresStrings()
    {
        const QString text = QStringLiteral("xx{\"a\":\"}\",\"b\":[\"]\"]} tail");
        QCOMPARE(JsonExtractor::matchingBracket(text, 2), text.indexOf(QLatin1String(" tail")));
        QCOMPARE(JsonExtractor::matchingBracket(QStringLiteral("{\"a\":[}"), 0), qsizetype(-1));
    }
};

QTEST_GUILESS_MAIN(TestJsonExtractor)
#include "tst_jsonextractor.moc"
