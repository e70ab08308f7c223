#include "llm/SseParser.h"

#include <QJsonDocument>
#include <QtTest>

using gd::llm::SseEvent;
using gd::llm::SseParser;

// SseParser: framing, decoding and error recognition of LLM streams, whatever the network chunking.
class TstSseParser : public QObject
{
    Q_OBJECT

private:
    static QString describe(const SseEvent& e)
    {
        switch (e.kind) {
        case SseEvent::Kind::Data:
            return QStringLiteral("D:") +
                   QString::fromUtf8(QJsonDocument(e.json).toJson(QJsonDocument::Compact));
        case SseEvent::Kind::Done:
            return QStringLiteral("DONE");
        case SseEvent::Kind::Error:
            return QStringLiteral("E:") + e.message;
        case SseEvent::Kind::Malformed:
            return QStringLiteral("M");
        }
        return {};
    }

    static QStringList run(SseParser::Mode mode, const QByteArray& stream, int chunkSize)
    {
        SseParser parser(mode);
        QVector<SseEvent> events;
        if (chunkSize <= 0) {
            parser.feed(stream, events);
        } else {
            for (qsizetype i = 0; i < stream.size(); i += chunkSize)
                parser.feed(
                    QByteArrayView(stream).sliced(i, std::min<qsizetype>(chunkSize, stream.size() - i)),
                    events);
        }
        parser.finish(events);
        QStringList out;
        for (const auto& e : events)
            out << describe(e);
        return out;
    }

private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<QStringList>("expected");
        const int sse = int(SseParser::Mode::Sse);
        const int nd = int(SseParser::Mode::Ndjson);

        QTest::newRow("chunks then done")
            << sse
            << QByteArray(
                   "data: {\"choices\":[{\"delta\":{\"content\":\"Once\"}}]}\n\n"
                   "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
            << QStringList{QStringLiteral("D:{\"choices\":[{\"delta\":{\"content\":\"Once\"}}]}"),
                           QStringLiteral("D:{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}"),
                           QStringLiteral("DONE")};
        QTest::newRow("utf8 multibyte")
            << sse << QByteArray("data: {\"c\":\"caf\xC3\xA9 \xE6\xBC\xA2 \xF0\x9F\x98\x80\"}\n\n")
            << QStringList{QStringLiteral("D:{\"c\":\"caf\u00e9 \u6f22 ") + QString::fromUcs4(U"\U0001F600") +
                           QStringLiteral("\"}")};
        QTest::newRow("crlf") << sse << QByteArray("data: {\"a\":1}\r\n\r\ndata: [DONE]\r\n\r\n")
                              << QStringList{QStringLiteral("D:{\"a\":1}"), QStringLiteral("DONE")};
        QTest::newRow("data without space")
            << sse << QByteArray("data:{\"a\":1}\n\ndata:[DONE]\n\n")
            << QStringList{QStringLiteral("D:{\"a\":1}"), QStringLiteral("DONE")};
        QTest::newRow("comments and pings")
            << sse << QByteArray(": ping - 2025-01-01\n\n:\n: keep-alive\ndata: {\"a\":1}\n\n")
            << QStringList{QStringLiteral("D:{\"a\":1}")};
        QTest::newRow("id and retry ignored") << sse << QByteArray("id: 7\nretry: 100\ndata: {\"a\":1}\n\n")
                                              << QStringList{QStringLiteral("D:{\"a\":1}")};
        QTest::newRow("lmstudio event error")
            << sse
            << QByteArray(
                   "event: error\ndata: {\"error\":{\"message\":\"Input does not fit in context length.\"},"
                   "\"message\":\"Input does not fit in context length.\"}\n\n")
            << QStringList{QStringLiteral("E:Input does not fit in context length.")};
        QTest::newRow("event name reset after blank line")
            << sse << QByteArray("event: error\ndata: {\"message\":\"boom\"}\n\ndata: {\"a\":1}\n\n")
            << QStringList{QStringLiteral("E:boom"), QStringLiteral("D:{\"a\":1}")};
        QTest::newRow("event error with plain text")
            << sse << QByteArray("event: error\ndata: model crashed\n\n")
            << QStringList{QStringLiteral("E:model crashed")};
        QTest::newRow("legacy error line")
            << sse
            << QByteArray(
                   "error: {\"code\":500,\"message\":\"slot unavailable\",\"type\":\"server_error\"}\n\n"
                   "data: [DONE]\n\n")
            << QStringList{QStringLiteral("E:slot unavailable"), QStringLiteral("DONE")};
        QTest::newRow("top-level error string")
            << sse << QByteArray("data: {\"error\":\"model crashed\"}\n\n")
            << QStringList{QStringLiteral("E:model crashed")};
        QTest::newRow("top-level error object")
            << sse
            << QByteArray(
                   "data: {\"error\":{\"code\":400,\"type\":\"exceed_context_size_error\",\"n_ctx\":8192,"
                   "\"n_prompt_tokens\":9000,\"message\":\"request (9000 tokens) exceeds\"}}\n\n")
            << QStringList{QStringLiteral("E:request (9000 tokens) exceeds")};
        QTest::newRow("null error is not an error")
            << sse << QByteArray("data: {\"error\":null,\"a\":1}\n\n")
            << QStringList{QStringLiteral("D:{\"a\":1,\"error\":null}")};
        QTest::newRow("usage-only chunk")
            << sse
            << QByteArray(
                   "data: {\"choices\":[],\"usage\":{\"completion_tokens\":3,\"prompt_tokens\":5}}\n\n")
            << QStringList{QStringLiteral(
                   "D:{\"choices\":[],\"usage\":{\"completion_tokens\":3,\"prompt_tokens\":5}}")};
        QTest::newRow("json over two data lines")
            << sse << QByteArray("data: {\"a\":\ndata: 1}\n\n") << QStringList{QStringLiteral("D:{\"a\":1}")};
        QTest::newRow("not json") << sse << QByteArray("data: not json\n\ndata: {\"a\":1}\n\n")
                                  << QStringList{QStringLiteral("M"), QStringLiteral("D:{\"a\":1}")};
        QTest::newRow("cut json at event end") << sse << QByteArray("data: {\"a\":\n\ndata: [DONE]\n\n")
                                               << QStringList{QStringLiteral("M"), QStringLiteral("DONE")};
        QTest::newRow("last line without newline")
            << sse << QByteArray("data: {\"a\":1}\n\ndata: [DONE]")
            << QStringList{QStringLiteral("D:{\"a\":1}"), QStringLiteral("DONE")};
        QTest::newRow("bom") << sse
                             << QByteArray("\xEF\xBB\xBF"
                                           "data: {\"a\":1}\n\n")
                             << QStringList{QStringLiteral("D:{\"a\":1}")};
        QTest::newRow("unframed json error body") << sse << QByteArray("{\"error\":\"No models loaded.\"}\n")
                                                  << QStringList{QStringLiteral("E:No models loaded.")};
        QTest::newRow("empty stream") << sse << QByteArray() << QStringList{};
        // Fuzzing regressions (docs/RELIABILITY.md, Fuzzing): an error that says nothing still reads as one.
        QTest::newRow("unframed empty error string")
            << sse << QByteArray("{\"error\":\"\"}\n")
            << QStringList{QStringLiteral("E:server reported an error without details")};
        QTest::newRow("framed empty error string")
            << sse << QByteArray("data: {\"error\":\"\",\"message\":\"\"}\n\n")
            << QStringList{QStringLiteral("E:server reported an error without details")};

        QTest::newRow("ndjson stream")
            << nd
            << QByteArray("{\"message\":{\"content\":\"Once\"},\"done\":false}\n"
                          "{\"done\":true,\"done_reason\":\"stop\",\"eval_count\":2}\n")
            << QStringList{QStringLiteral("D:{\"done\":false,\"message\":{\"content\":\"Once\"}}"),
                           QStringLiteral("D:{\"done\":true,\"done_reason\":\"stop\",\"eval_count\":2}"),
                           QStringLiteral("DONE")};
        QTest::newRow("ndjson error line")
            << nd
            << QByteArray("{\"message\":{\"content\":\"a\"},\"done\":false}\r\n\r\n"
                          "{\"error\":\"model 'x' not found\"}\r\n")
            << QStringList{QStringLiteral("D:{\"done\":false,\"message\":{\"content\":\"a\"}}"),
                           QStringLiteral("E:model 'x' not found")};
        QTest::newRow("ndjson malformed line")
            << nd << QByteArray("{\"done\":fal\n{\"done\":true}")
            << QStringList{QStringLiteral("M"), QStringLiteral("D:{\"done\":true}"), QStringLiteral("DONE")};
    }

    void parse()
    {
        QFETCH(int, mode);
        QFETCH(QByteArray, stream);
        QFETCH(QStringList, expected);
        // Whole, byte by byte (splits every multibyte character and every CRLF), and odd chunk sizes.
        for (int chunk : {0, 1, 2, 3, 7, 64}) {
            const QStringList got = run(SseParser::Mode(mode), stream, chunk);
            if (got != expected)
                qWarning() << "chunk size" << chunk << "got" << got;
            QCOMPARE(got, expected);
        }
    }

    void overlongLineIsReportedAndSkipped()
    {
        SseParser parser;
        QVector<SseEvent> events;
        const QByteArray junk(SseParser::kMaxLineBytes / 4 + 1, 'x');
        parser.feed("data: ", events);
        for (int i = 0; i < 5; ++i)
            parser.feed(junk, events);
        QVERIFY(parser.bufferedBytes() < SseParser::kMaxLineBytes);
        parser.feed("still junk\ndata: {\"a\":1}\n\n", events);
        parser.finish(events);
        QCOMPARE(events.size(), 2);
        QCOMPARE(events[0].kind, SseEvent::Kind::Error);
        QVERIFY(events[0].message.contains(QStringLiteral("longer than")));
        QCOMPARE(events[1].kind, SseEvent::Kind::Data);
        QCOMPARE(events[1].json.value(QStringLiteral("a")).toInt(), 1);
    }

    void eventNameIsCarried()
    {
        SseParser parser;
        QVector<SseEvent> events;
        parser.feed("event: message.delta\ndata: {\"content\":\"x\"}\n\n", events);
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].eventName, QStringLiteral("message.delta"));
        QCOMPARE(events[0].kind, SseEvent::Kind::Data);
    }

    void errorText_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("string") << QByteArray("{\"error\":\"No models loaded.\"}")
                                << QStringLiteral("No models loaded.");
        QTest::newRow("object")
            << QByteArray("{\"error\":{\"message\":\"Invalid model\",\"code\":\"model_not_found\"}}")
            << QStringLiteral("Invalid model");
        QTest::newRow("object without message")
            << QByteArray("{\"error\":{\"code\":503}}") << QStringLiteral("{\"code\":503}");
    }

    void errorText()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        const QJsonObject o = QJsonDocument::fromJson(json).object();
        QCOMPARE(SseParser::errorText(o.value(QStringLiteral("error"))), expected);
    }
};

QTEST_GUILESS_MAIN(TstSseParser)
#include "tst_sseparser.moc"
