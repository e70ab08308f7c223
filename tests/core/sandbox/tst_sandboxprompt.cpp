// POST /prompt of the sandbox ComfyUI server: validation failures with the real error shapes, partial
// success, queue contents and numbering, client-chosen prompt ids.
#include "SandboxTestSupport.h"

#include <QtTest>

using namespace sbtest;

namespace {
using Mutator = std::function<void(QJsonObject&)>;

void setInput(QJsonObject& graph, const QString& node, const QString& input, const QJsonValue& value)
{
    QJsonObject n = graph.value(node).toObject();
    QJsonObject in = n.value(QStringLiteral("inputs")).toObject();
    if (value.isUndefined())
        in.remove(input);
    else
        in.insert(input, value);
    n.insert(QStringLiteral("inputs"), in);
    graph.insert(node, n);
}
} // namespace

Q_DECLARE_METATYPE(Mutator)

class TestSandboxPrompt : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void invalidPromptsAreRejected_data();
    void invalidPromptsAreRejected();
    void perInputErrors_data();
    void perInputErrors();
    void missingPromptKeyIsNoPrompt();
    void malformedJsonIs500();
    void partialSuccessRunsOnlyValidOutputs();
    void literalsAreCoercedInQueuedGraph();
    void clientPromptIdIsHonoured();
    void queueListsRunningAndPending();
    void numberAndFrontOrdering();
    void queueDeleteAndClear();
};

void TestSandboxPrompt::invalidPromptsAreRejected_data()
{
    QTest::addColumn<Mutator>("mutate");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown class, even unconnected")
        << Mutator([](QJsonObject& g) {
               g.insert(QStringLiteral("50"),
                        QJsonObject{{QStringLiteral("class_type"), QStringLiteral("WriteDoneMarker|pysssss")},
                                    {QStringLiteral("inputs"), QJsonObject()}});
           })
        << QStringLiteral("invalid_prompt")
        << QStringLiteral("Cannot execute because node WriteDoneMarker|pysssss does not exist.");
    QTest::newRow("missing class_type")
        << Mutator([](QJsonObject& g) {
               g.insert(QStringLiteral("51"), QJsonObject{{QStringLiteral("inputs"), QJsonObject()}});
           })
        << QStringLiteral("invalid_prompt")
        << QStringLiteral("Cannot execute because a node is missing the class_type property.");
    QTest::newRow("no output node") << Mutator([](QJsonObject& g) { g.remove(QStringLiteral("9")); })
                                    << QStringLiteral("prompt_no_outputs")
                                    << QStringLiteral("Prompt has no outputs");
}

void TestSandboxPrompt::invalidPromptsAreRejected()
{
    QFETCH(Mutator, mutate);
    QFETCH(QString, type);
    QFETCH(QString, message);
    ServerFixture f;
    Http http(f.url());
    QJsonObject graph = t2iGraph(QStringLiteral("t/x"));
    mutate(graph);
    const Reply r = http.postJson(QStringLiteral("/prompt"), promptBody(graph, QStringLiteral("c")));
    QCOMPARE(r.status, 400);
    const QJsonObject error = r.json().value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("type")).toString(), type);
    QCOMPARE(error.value(QStringLiteral("message")).toString(), message);
    QVERIFY(error.contains(QStringLiteral("details")));
    QCOMPARE(error.value(QStringLiteral("extra_info")).toObject(), QJsonObject());
    QCOMPARE(r.json().value(QStringLiteral("node_errors")).toObject(), QJsonObject());
    QCOMPARE(
        http.get(QStringLiteral("/queue")).json().value(QStringLiteral("queue_pending")).toArray().size(), 0);
    QCOMPARE(f.server->promptPostCount(), 1);
}

void TestSandboxPrompt::perInputErrors_data()
{
    QTest::addColumn<Mutator>("mutate");
    QTest::addColumn<QString>("node");
    QTest::addColumn<QString>("errorType");
    QTest::addColumn<QString>("inputName");
    QTest::newRow("required input missing") << Mutator([](QJsonObject& g) {
        setInput(g, QStringLiteral("3"), QStringLiteral("steps"), QJsonValue::Undefined);
    }) << QStringLiteral("3") << QStringLiteral("required_input_missing")
                                            << QStringLiteral("steps");
    QTest::newRow("below min") << Mutator([](QJsonObject& g) {
        setInput(g, QStringLiteral("3"), QStringLiteral("steps"), 0);
    }) << QStringLiteral("3") << QStringLiteral("value_smaller_than_min")
                               << QStringLiteral("steps");
    QTest::newRow("above max") << Mutator([](QJsonObject& g) {
        setInput(g, QStringLiteral("3"), QStringLiteral("denoise"), 1.5);
    }) << QStringLiteral("3") << QStringLiteral("value_bigger_than_max")
                               << QStringLiteral("denoise");
    QTest::newRow("not an int") << Mutator([](QJsonObject& g) {
        setInput(g, QStringLiteral("5"), QStringLiteral("width"), QStringLiteral("wide"));
    }) << QStringLiteral("5") << QStringLiteral("invalid_input_type")
                                << QStringLiteral("width");
    QTest::newRow("combo value not in list") << Mutator([](QJsonObject& g) {
        setInput(g, QStringLiteral("3"), QStringLiteral("sampler_name"), QStringLiteral("nope"));
    }) << QStringLiteral("3") << QStringLiteral("value_not_in_list")
                                             << QStringLiteral("sampler_name");
    QTest::newRow("bad linked input") << Mutator([](QJsonObject& g) {
        setInput(g, QStringLiteral("8"), QStringLiteral("samples"), QJsonArray{QStringLiteral("3")});
    }) << QStringLiteral("8") << QStringLiteral("bad_linked_input")
                                      << QStringLiteral("samples");
    QTest::newRow("type mismatch") << Mutator([](QJsonObject& g) {
        setInput(g, QStringLiteral("8"), QStringLiteral("samples"), link("4", 0));
    }) << QStringLiteral("8") << QStringLiteral("return_type_mismatch")
                                   << QStringLiteral("samples");
    QTest::newRow("output links to missing node") << Mutator([](QJsonObject& g) {
        setInput(g, QStringLiteral("9"), QStringLiteral("images"), link("99", 0));
    }) << QStringLiteral("9") << QStringLiteral("exception_during_validation")
                                                  << QString();
    QTest::newRow("inner node links to missing node") << Mutator([](QJsonObject& g) {
        setInput(g, QStringLiteral("8"), QStringLiteral("samples"), link("99", 0));
    }) << QStringLiteral("8") << QStringLiteral("exception_during_inner_validation")
                                                      << QStringLiteral("images");
}

void TestSandboxPrompt::perInputErrors()
{
    QFETCH(Mutator, mutate);
    QFETCH(QString, node);
    QFETCH(QString, errorType);
    QFETCH(QString, inputName);
    ServerFixture f;
    Http http(f.url());
    QJsonObject graph = t2iGraph(QStringLiteral("t/x"));
    mutate(graph);
    const Reply r = http.postJson(QStringLiteral("/prompt"), promptBody(graph, QStringLiteral("c")));
    QCOMPARE(r.status, 400);
    const QJsonObject json = r.json();
    const QJsonObject error = json.value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("type")).toString(),
             QStringLiteral("prompt_outputs_failed_validation"));
    QCOMPARE(error.value(QStringLiteral("message")).toString(),
             QStringLiteral("Prompt outputs failed validation"));
    const QJsonObject nodeErrors = json.value(QStringLiteral("node_errors")).toObject();
    QVERIFY2(nodeErrors.contains(node), r.body.constData());
    QCOMPARE(nodeErrors.size(), 1); // nodes downstream of the failure are not listed
    const QJsonObject entry = nodeErrors.value(node).toObject();
    QCOMPARE(entry.value(QStringLiteral("class_type")).toString(),
             graph.value(node).toObject().value(QStringLiteral("class_type")).toString());
    QCOMPARE(entry.value(QStringLiteral("dependent_outputs")).toArray(), QJsonArray{QStringLiteral("9")});
    const QJsonObject first = entry.value(QStringLiteral("errors")).toArray().first().toObject();
    QCOMPARE(first.value(QStringLiteral("type")).toString(), errorType);
    QVERIFY(first.contains(QStringLiteral("message")) && first.contains(QStringLiteral("details")));
    const QJsonObject extra = first.value(QStringLiteral("extra_info")).toObject();
    if (!inputName.isEmpty())
        QCOMPARE(extra.value(QStringLiteral("input_name")).toString(), inputName);
    if (errorType.startsWith(QLatin1String("exception_during")))
        QCOMPARE(extra.value(QStringLiteral("exception_type")).toString(), QStringLiteral("KeyError"));
    if (errorType == QLatin1String("value_smaller_than_min"))
        QCOMPARE(first.value(QStringLiteral("message")).toString(),
                 QStringLiteral("Value 0 smaller than min of 1"));
}

void TestSandboxPrompt::missingPromptKeyIsNoPrompt()
{
    ServerFixture f;
    Http http(f.url());
    const Reply r = http.postJson(QStringLiteral("/api/prompt"),
                                  QJsonObject{{QStringLiteral("client_id"), QStringLiteral("c")}});
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
             QStringLiteral("no_prompt"));
    QCOMPARE(r.json().value(QStringLiteral("node_errors")).toObject(), QJsonObject());
}

void TestSandboxPrompt::malformedJsonIs500()
{
    ServerFixture f;
    Http http(f.url());
    QCOMPARE(http.post(QStringLiteral("/prompt"), "{not json").status, 500);
    QCOMPARE(http.post(QStringLiteral("/history"), "").status, 500);
    // only /interrupt tolerates a missing body
    QCOMPARE(http.post(QStringLiteral("/interrupt"), "").status, 200);
}

void TestSandboxPrompt::partialSuccessRunsOnlyValidOutputs()
{
    ServerFixture f;
    Http http(f.url());
    QJsonObject graph = t2iGraph(QStringLiteral("ok/frame"));
    // A second output whose prefix input is missing: dropped with node_errors, the rest still runs.
    graph.insert(
        QStringLiteral("10"),
        QJsonObject{{QStringLiteral("class_type"), QStringLiteral("SaveImage")},
                    {QStringLiteral("inputs"), QJsonObject{{QStringLiteral("images"), link("8", 0)}}}});
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("c")));
    const Reply r = http.postJson(QStringLiteral("/prompt"), promptBody(graph, QStringLiteral("c")));
    QCOMPARE(r.status, 200);
    const QJsonObject nodeErrors = r.json().value(QStringLiteral("node_errors")).toObject();
    QCOMPARE(nodeErrors.keys(), QStringList{QStringLiteral("10")});
    QCOMPARE(nodeErrors.value(QStringLiteral("10"))
                 .toObject()
                 .value(QStringLiteral("errors"))
                 .toArray()
                 .first()
                 .toObject()
                 .value(QStringLiteral("type"))
                 .toString(),
             QStringLiteral("required_input_missing"));
    const QString id = r.json().value(QStringLiteral("prompt_id")).toString();
    QVERIFY(ws.waitForDone(id) >= 0);
    const QJsonObject entry = http.get(QStringLiteral("/history/") + id).json().value(id).toObject();
    QCOMPARE(entry.value(QStringLiteral("outputs")).toObject().keys(), QStringList{QStringLiteral("9")});
    QCOMPARE(entry.value(QStringLiteral("prompt")).toArray().at(4).toArray(),
             QJsonArray{QStringLiteral("9")});
}

void TestSandboxPrompt::literalsAreCoercedInQueuedGraph()
{
    ServerFixture f;
    Http http(f.url());
    QJsonObject graph = t2iGraph(QStringLiteral("coerce/frame"));
    setInput(graph, QStringLiteral("3"), QStringLiteral("steps"), QStringLiteral("4"));
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("c")));
    const Reply r = http.postJson(QStringLiteral("/prompt"), promptBody(graph, QStringLiteral("c")));
    QCOMPARE(r.status, 200);
    const QString id = r.json().value(QStringLiteral("prompt_id")).toString();
    QVERIFY(ws.waitForDone(id) >= 0);
    const QJsonArray queued = http.get(QStringLiteral("/history/") + id)
                                  .json()
                                  .value(id)
                                  .toObject()
                                  .value(QStringLiteral("prompt"))
                                  .toArray();
    const QJsonValue steps = queued.at(2)
                                 .toObject()
                                 .value(QStringLiteral("3"))
                                 .toObject()
                                 .value(QStringLiteral("inputs"))
                                 .toObject()
                                 .value(QStringLiteral("steps"));
    QVERIFY(steps.isDouble());
    QCOMPARE(steps.toInt(), 4);
    QCOMPARE(ws.ofType(QStringLiteral("progress")).size(), 4);
}

void TestSandboxPrompt::clientPromptIdIsHonoured()
{
    ServerFixture f;
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("c")));
    const QJsonObject graph = t2iGraph(QStringLiteral("ids/frame"));
    const Reply r = http.postJson(QStringLiteral("/prompt"),
                                  promptBody(graph, QStringLiteral("c"), QStringLiteral("my-own-id")));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("prompt_id")).toString(), QStringLiteral("my-own-id"));
    QCOMPARE(r.json().value(QStringLiteral("number")).toInt(-1), 0);
    QVERIFY(ws.waitForDone(QStringLiteral("my-own-id")) >= 0);
    QVERIFY(http.get(QStringLiteral("/history/my-own-id")).json().contains(QStringLiteral("my-own-id")));
    QCOMPARE(f.server->lastGraph(QStringLiteral("my-own-id")), graph);
    // Without one the server makes a uuid4 string.
    const Reply generated = http.postJson(
        QStringLiteral("/prompt"), promptBody(t2iGraph(QStringLiteral("ids/other")), QStringLiteral("c")));
    QCOMPARE(generated.json().value(QStringLiteral("prompt_id")).toString().size(), 36);
    QCOMPARE(generated.json().value(QStringLiteral("number")).toInt(-1), 1);
}

void TestSandboxPrompt::queueListsRunningAndPending()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.stepDelayMs = 40; });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("c")));
    QStringList ids;
    for (int i = 0; i < 3; ++i)
        ids << http.postJson(QStringLiteral("/prompt"),
                             promptBody(t2iGraph(QStringLiteral("q/f%1").arg(i), 1, 50), QStringLiteral("c")))
                   .json()
                   .value(QStringLiteral("prompt_id"))
                   .toString();
    QVERIFY(ws.waitForType(QStringLiteral("progress")) >= 0);
    const QJsonObject queue = http.get(QStringLiteral("/queue")).json();
    const QJsonArray running = queue.value(QStringLiteral("queue_running")).toArray();
    QCOMPARE(running.size(), 1);
    const QJsonArray item = running.first().toArray();
    QCOMPARE(item.size(), 5);
    QCOMPARE(item.at(1).toString(), ids.at(0));
    QVERIFY(item.at(2).toObject().contains(QStringLiteral("3")));
    QCOMPARE(item.at(3).toObject().value(QStringLiteral("client_id")).toString(), QStringLiteral("c"));
    QCOMPARE(item.at(4).toArray(), QJsonArray{QStringLiteral("9")});
    QStringList pending;
    for (const QJsonValue& v : queue.value(QStringLiteral("queue_pending")).toArray())
        pending << v.toArray().at(1).toString();
    pending.sort();
    QStringList expected{ids.at(1), ids.at(2)};
    expected.sort();
    QCOMPARE(pending, expected);
    // The running prompt is counted too; its history is {} while it runs.
    QCOMPARE(http.get(QStringLiteral("/prompt"))
                 .json()
                 .value(QStringLiteral("exec_info"))
                 .toObject()
                 .value(QStringLiteral("queue_remaining"))
                 .toInt(),
             3);
    QCOMPARE(http.get(QStringLiteral("/history/") + ids.at(0)).body, QByteArray("{}"));
    http.postJson(QStringLiteral("/queue"), QJsonObject{{QStringLiteral("clear"), true}});
    http.post(QStringLiteral("/interrupt"), "{}");
    QVERIFY(ws.waitForDone(ids.at(0)) >= 0);
}

void TestSandboxPrompt::numberAndFrontOrdering()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.stepDelayMs = 30; });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("c")));
    auto post = [&](const QString& prefix, const QJsonObject& extra) {
        QJsonObject body = promptBody(t2iGraph(prefix, 1, 2), QStringLiteral("c"), prefix);
        for (auto it = extra.begin(); it != extra.end(); ++it)
            body.insert(it.key(), it.value());
        return http.postJson(QStringLiteral("/prompt"), body);
    };
    // The first one starts immediately and blocks the worker for a while.
    QJsonObject blockerBody = promptBody(t2iGraph(QStringLiteral("blocker"), 1, 40), QStringLiteral("c"),
                                         QStringLiteral("blocker"));
    QCOMPARE(http.postJson(QStringLiteral("/prompt"), blockerBody).status, 200);
    QVERIFY(ws.waitForType(QStringLiteral("execution_start")) >= 0);
    const Reply normal = post(QStringLiteral("normal"), {});
    const Reply front = post(QStringLiteral("front"), {{QStringLiteral("front"), true}});
    const Reply explicitNumber = post(QStringLiteral("explicit"), {{QStringLiteral("number"), 1}});
    QVERIFY(normal.body.contains("\"number\": 1,"));
    QVERIFY(front.body.contains("\"number\": -2,"));
    // A client-supplied number is converted with float(): it comes back as 1.0.
    QVERIFY2(explicitNumber.body.contains("\"number\": 1.0,"), explicitNumber.body.constData());
    QStringList started;
    for (const QString& id : {QStringLiteral("front"), QStringLiteral("normal"), QStringLiteral("explicit")})
        QVERIFY(ws.waitForDone(id, 20000) >= 0);
    for (const QJsonObject& m : ws.ofType(QStringLiteral("execution_start")))
        started << m.value(QStringLiteral("prompt_id")).toString();
    // lower number first; "explicit" (1.0) ties with "normal" (1) and the id breaks the tie like the tuple
    // compare
    QCOMPARE(started, (QStringList{QStringLiteral("blocker"), QStringLiteral("front"),
                                   QStringLiteral("explicit"), QStringLiteral("normal")}));
}

void TestSandboxPrompt::queueDeleteAndClear()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.stepDelayMs = 30; });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("c")));
    http.postJson(QStringLiteral("/prompt"), promptBody(t2iGraph(QStringLiteral("run"), 1, 40),
                                                        QStringLiteral("c"), QStringLiteral("run")));
    http.postJson(QStringLiteral("/prompt"),
                  promptBody(t2iGraph(QStringLiteral("a")), QStringLiteral("c"), QStringLiteral("a")));
    http.postJson(QStringLiteral("/prompt"),
                  promptBody(t2iGraph(QStringLiteral("b")), QStringLiteral("c"), QStringLiteral("b")));
    QVERIFY(ws.waitForType(QStringLiteral("execution_start")) >= 0);
    const int before = ws.ofType(QStringLiteral("status")).size();
    QCOMPARE(http.postJson(QStringLiteral("/queue"),
                           QJsonObject{{QStringLiteral("delete"), QJsonArray{QStringLiteral("a")}}})
                 .status,
             200);
    QTRY_COMPARE(ws.ofType(QStringLiteral("status")).size(), before + 1);
    QJsonArray pending =
        http.get(QStringLiteral("/queue")).json().value(QStringLiteral("queue_pending")).toArray();
    QCOMPARE(pending.size(), 1);
    QCOMPARE(pending.first().toArray().at(1).toString(), QStringLiteral("b"));
    // Deleting the last pending item wipes the queue first, so two status messages go out.
    QCOMPARE(http.postJson(QStringLiteral("/queue"),
                           QJsonObject{{QStringLiteral("delete"), QJsonArray{QStringLiteral("b")}}})
                 .status,
             200);
    QTRY_COMPARE(ws.ofType(QStringLiteral("status")).size(), before + 3);
    QCOMPARE(ws.ofType(QStringLiteral("status"))
                 .last()
                 .value(QStringLiteral("status"))
                 .toObject()
                 .value(QStringLiteral("exec_info"))
                 .toObject()
                 .value(QStringLiteral("queue_remaining"))
                 .toInt(),
             1);
    // The running prompt is untouched and deleted ones never reach history.
    QVERIFY(ws.waitForDone(QStringLiteral("run"), 20000) >= 0);
    QCOMPARE(http.get(QStringLiteral("/history/a")).body, QByteArray("{}"));
    QCOMPARE(http.get(QStringLiteral("/history")).json().keys(), QStringList{QStringLiteral("run")});
}

QTEST_MAIN(TestSandboxPrompt)
#include "tst_sandboxprompt.moc"
