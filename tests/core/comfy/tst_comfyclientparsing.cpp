#include "comfy/ComfyClient.h"
#include "comfy/ComfyEvent.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using gd::comfy::ComfyClient;
using gd::comfy::ComfyEvent;

// The pure parts of the ComfyUI client, against the shapes of spec/comfyui-api.md.
class TestComfyClientParsing : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void normalisesOperatorUrls_data()
    {
        QTest::addColumn<QString>("in");
        QTest::addColumn<QString>("out");
        QTest::newRow("bare host") << QStringLiteral("127.0.0.1:8188")
                                   << QStringLiteral("http://127.0.0.1:8188");
        QTest::newRow("trailing slash")
            << QStringLiteral("http://127.0.0.1:8188/") << QStringLiteral("http://127.0.0.1:8188");
        QTest::newRow("any address") << QStringLiteral("http://0.0.0.0:8188")
                                     << QStringLiteral("http://127.0.0.1:8188");
        QTest::newRow("localhost") << QStringLiteral("localhost:8188")
                                   << QStringLiteral("http://127.0.0.1:8188");
        QTest::newRow("https proxy path")
            << QStringLiteral("https://gpu.example/comfy/") << QStringLiteral("https://gpu.example/comfy");
    }
    void normalisesOperatorUrls()
    {
        QFETCH(QString, in);
        QFETCH(QString, out);
        QCOMPARE(ComfyClient::normaliseUrl(in).toString(), out);
    }

    void submit200()
    {
        const auto r = ComfyClient::parseSubmitResponse(
            200, R"J({"prompt_id":"abc","number":7,"node_errors":{}})J", QStringLiteral("abc"));
        QVERIFY(r.error.isNull());
        QCOMPARE(r.promptId, QStringLiteral("abc"));
        QCOMPARE(r.number, 7.0);
    }

    void submit400NamesNodeClassAndInput()
    {
        const QByteArray body =
            R"J({"error":{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation", "details":"","extra_info":{}},"node_errors":{"4":{"errors":[{"type":"value_not_in_list","message":"Value not in list", "details":"ckpt_name: 'x.safetensors' not in (list of length 12)","extra_info":{"input_name":"ckpt_name",
            "input_config":null,"received_value":"x.safetensors"}}],"dependent_outputs":["9"],"class_type":"CheckpointLoaderSimple"}}})J";
        const auto r = ComfyClient::parseSubmitResponse(400, body, QStringLiteral("abc"));
        QVERIFY(r.validationFailure);
        QCOMPARE(r.error.kind, QStringLiteral("validation"));
        QVERIFY2(r.error.message.contains(
                     QStringLiteral("node 4 (CheckpointLoaderSimple) input ckpt_name: Value not in list")),
                 qPrintable(r.error.message));
        QCOMPARE(r.error.detail.value(QStringLiteral("status")).toInt(), 400);
    }

    void submit400InvalidPromptWithoutNodeErrors()
    {
        const QByteArray body =
            R"J({"error":{"type":"invalid_prompt","message":"Cannot execute because node WriteDoneMarker|pysssss does not exist.", "details":"Node ID '#9'","extra_info":{}},"node_errors":{}})J";
        const auto r = ComfyClient::parseSubmitResponse(400, body, QStringLiteral("abc"));
        QVERIFY(r.validationFailure);
        QVERIFY(r.error.message.contains(QStringLiteral("WriteDoneMarker|pysssss does not exist")));
        QVERIFY(r.error.message.contains(QStringLiteral("Node ID '#9'")));
    }

    void submitGarbageIsAProtocolError()
    {
        const auto r =
            ComfyClient::parseSubmitResponse(200, "<html>proxy error</html>", QStringLiteral("abc"));
        QCOMPARE(r.error.kind, QStringLiteral("protocol"));
        const auto r500 =
            ComfyClient::parseSubmitResponse(500, "Internal Server Error", QStringLiteral("abc"));
        QCOMPARE(r500.error.kind, QStringLiteral("http"));
        QVERIFY(!r500.validationFailure);
    }

    void outputFilesUnderAnyKey()
    {
        const QJsonObject outputs =
            QJsonDocument::fromJson(
                R"J({ "9": {"images":[{"filename":"a_00001_.png","subfolder":"gemdirect/r","type":"output"}, {"filename":"a_00002_.png","subfolder":"gemdirect/r","type":"output"}], "done_marker":[{"filename":"a.done","subfolder":"gemdirect/r","type":"output"}]}, "12": {"images":[{"filename":"v_00001_.mp4","subfolder":"","type":"output"}],"animated":[true]}, "15": {"gifs":[{"filename":"AnimateDiff_00003.mp4","subfolder":"","type":"output","format":"video/h264-mp4"}]}, "20": {"text":["hello"]}})J")
                .object();
        const auto files = ComfyClient::outputFiles(outputs);
        QCOMPARE(files.size(), 5);
        int markers = 0;
        for (const auto& f : files)
            markers += f.key == QLatin1String("done_marker");
        QCOMPARE(markers, 1);
        QCOMPARE(files.at(0).nodeId, QStringLiteral("12"));
    }

    void eventsParse()
    {
        auto ev = ComfyEvent::fromJson(
            QJsonDocument::fromJson(R"J({"type":"executing","data":{"node":null,"prompt_id":"p1"}})J")
                .object());
        QVERIFY(ev.isCompletionOf(QStringLiteral("p1")));
        QVERIFY(!ev.isCompletionOf(QStringLiteral("p2")));
        // The reconnect re-announcement has a node but no prompt id (§5.1).
        ev = ComfyEvent::fromJson(
            QJsonDocument::fromJson(R"J({"type":"executing","data":{"node":"3"}})J").object());
        QCOMPARE(ev.type, ComfyEvent::Type::Executing);
        QVERIFY(!ev.nodeIsNull);
        QVERIFY(ev.promptId.isEmpty());
        ev = ComfyEvent::fromJson(
            QJsonDocument::fromJson(
                R"J({"type":"progress","data":{"value":5,"max":20,"prompt_id":"p1","node":"3"}})J")
                .object());
        QCOMPARE(ev.value, 5);
        QCOMPARE(ev.max, 20);
        ev = ComfyEvent::fromJson(
            QJsonDocument::fromJson(
                R"J({"type":"status","data":{"status":{"exec_info":{"queue_remaining":2}},"sid":"x"}})J")
                .object());
        QCOMPARE(ev.queueRemaining, 2);
        ev = ComfyEvent::fromJson(
            QJsonDocument::fromJson(R"J({"type":"crystools.monitor","data":{}})J").object());
        QCOMPARE(ev.type, ComfyEvent::Type::Other);
    }

    void socketFramesThatAreNotObjectsAreDropped_data()
    {
        QTest::addColumn<QByteArray>("frame");
        QTest::newRow("truncated") << QByteArray("{\"type\":\"executing\",\"data\":{\"node\"");
        QTest::newRow("array") << QByteArray(R"J([{"type":"executing"}])J");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("binary junk") << QByteArray("\xff\xfe\x00{", 4);
    }
    void socketFramesThatAreNotObjectsAreDropped()
    {
        QFETCH(QByteArray, frame);
        QVERIFY(!ComfyEvent::fromMessage(frame).has_value());
    }

    void socketFrameBecomesAnEvent()
    {
        const auto ev =
            ComfyEvent::fromMessage(R"J({"type":"executing","data":{"node":null,"prompt_id":"p1"}})J");
        QVERIFY(ev.has_value());
        QVERIFY(ev->isCompletionOf(QStringLiteral("p1")));
    }

    void historyResponses_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("found");
        QTest::addColumn<QString>("errorKind");
        // §3.1: `{}` means queued, running, unknown or not yet written: not found, and not an error.
        QTest::newRow("not written yet") << QByteArray("{}") << false << QString();
        QTest::newRow("finished")
            << QByteArray(R"J({"p1":{"outputs":{},"status":{"status_str":"success","completed":true}}})J")
            << true << QString();
        QTest::newRow("another prompt only")
            << QByteArray(R"J({"p2":{"outputs":{}}})J") << false << QString();
        QTest::newRow("entry not an object") << QByteArray(R"J({"p1":[1,2]})J") << false << QString();
        QTest::newRow("truncated body")
            << QByteArray("{\"p1\":{\"outp") << false << QStringLiteral("protocol");
        QTest::newRow("html error page")
            << QByteArray("<html>502</html>") << false << QStringLiteral("protocol");
    }
    void historyResponses()
    {
        QFETCH(QByteArray, body);
        QFETCH(bool, found);
        QFETCH(QString, errorKind);
        const auto r =
            ComfyClient::parseHistoryResponse(body, QStringLiteral("p1"), QStringLiteral("GET /history/p1"));
        QCOMPARE(r.found, found);
        QCOMPARE(r.error.kind, errorKind);
        if (!errorKind.isEmpty())
            QVERIFY2(r.error.message.startsWith(QStringLiteral("GET /history/p1: ")),
                     qPrintable(r.error.message));
        if (found)
            QCOMPARE(r.entry.value(QStringLiteral("status"))
                         .toObject()
                         .value(QStringLiteral("status_str"))
                         .toString(),
                     QStringLiteral("success"));
    }

    void executionErrorText()
    {
        const QJsonObject data =
            QJsonDocument::fromJson(
                R"J({"prompt_id":"p","node_id":"3","node_type":"KSampler", "exception_message":"Allocation on device \nThis error means you ran out of memory on your GPU.\n", "exception_type":"torch.OutOfMemoryError"})J")
                .object();
        const QString t = ComfyClient::executionErrorText(data);
        QVERIFY2(t.startsWith(QStringLiteral(
                     "execution_error in node 3 (KSampler): torch.OutOfMemoryError: Allocation on device")),
                 qPrintable(t));
        QVERIFY(!t.endsWith(QLatin1Char('\n')));
    }
};

QTEST_GUILESS_MAIN(TestComfyClientParsing)
#include "tst_comfyclientparsing.moc"
