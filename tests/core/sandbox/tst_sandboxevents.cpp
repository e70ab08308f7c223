// WebSocket event stream of the sandbox ComfyUI server: the exact comfyui-api.md §5.4 order, history
// visibility around completion, the §5.5 variants (cached, interrupt, error), §5.6 prompts without client_id,
// feature flags, and the §5.1 reconnect behaviours including the stale-cleanup bug.
#include "SandboxTestSupport.h"

#include <QSignalSpy>
#include <QtTest>

using namespace sbtest;

namespace {
QString type(const QJsonObject& m)
{
    return m.value(QStringLiteral("type")).toString();
}
QJsonObject data(const QJsonObject& m)
{
    return m.value(QStringLiteral("data")).toObject();
}
int queueRemaining(const QJsonObject& statusMessage)
{
    return data(statusMessage)
        .value(QStringLiteral("status"))
        .toObject()
        .value(QStringLiteral("exec_info"))
        .toObject()
        .value(QStringLiteral("queue_remaining"))
        .toInt(-1);
}
QString postPrompt(Http& http, const QJsonObject& body)
{
    const Reply r = http.postJson(QStringLiteral("/prompt"), body);
    return r.status == 200 ? r.json().value(QStringLiteral("prompt_id")).toString() : QString();
}
} // namespace

class TestSandboxEvents : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void normalRunFollowsExactOrder();
    void historyIsEmptyUntilWrittenAfterSuccess();
    void cachedResubmissionWritesNoFiles();
    void interruptVariant();
    void targetedInterruptOfOtherPromptIsIgnored();
    void errorVariant();
    void promptWithoutClientId();
    void featureFlagsReply();
    void reconnectMidRunSendsCurrentNode();
    void staleSocketCleanupEvictsNewSocket();
};

void TestSandboxEvents::normalRunFollowsExactOrder()
{
    ServerFixture f;
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("owner")));
    QVERIFY(ws.waitForType(QStringLiteral("status")) == 0);
    const int steps = 3;
    const QString id = postPrompt(http, promptBody(t2iGraph(QStringLiteral("order/frame"), 1, steps),
                                                   QStringLiteral("owner"), QStringLiteral("P")));
    QCOMPARE(id, QStringLiteral("P"));
    QVERIFY(ws.waitForDone(id) >= 0);

    QList<QJsonObject> m = ws.messages.mid(1); // skip the connect status
    int i = 0;
    auto next = [&]() { return i < m.size() ? m.at(i++) : QJsonObject(); };
    QJsonObject msg = next();
    QCOMPARE(type(msg), QStringLiteral("status"));
    QCOMPARE(queueRemaining(msg), 1); // put
    msg = next();
    QCOMPARE(type(msg), QStringLiteral("status"));
    QCOMPARE(queueRemaining(msg), 1); // taken: the running prompt still counts
    msg = next();
    QCOMPARE(type(msg), QStringLiteral("execution_start"));
    QCOMPARE(data(msg).value(QStringLiteral("prompt_id")).toString(), id);
    QVERIFY(data(msg).value(QStringLiteral("timestamp")).toDouble() > 1.6e12);
    msg = next();
    QCOMPARE(type(msg), QStringLiteral("execution_cached"));
    QCOMPARE(data(msg).value(QStringLiteral("nodes")).toArray(), QJsonArray());

    QStringList executedOrder;
    while (i < m.size() && type(m.at(i)) == QLatin1String("progress_state")) {
        const QJsonObject running = next();
        const QJsonObject executing = next();
        QCOMPARE(type(executing), QStringLiteral("executing"));
        const QString node = data(executing).value(QStringLiteral("node")).toString();
        QCOMPARE(data(executing).value(QStringLiteral("display_node")).toString(), node);
        QCOMPARE(data(executing).value(QStringLiteral("prompt_id")).toString(), id);
        QVERIFY(!data(executing).contains(QStringLiteral("timestamp"))); // only execution_* carry timestamps
        const QJsonObject state =
            data(running).value(QStringLiteral("nodes")).toObject().value(node).toObject();
        QCOMPARE(state.value(QStringLiteral("state")).toString(), QStringLiteral("running"));
        QCOMPARE(state.value(QStringLiteral("value")).toDouble(), 0.0);
        QCOMPARE(state.value(QStringLiteral("max")).toDouble(), 1.0);
        QCOMPARE(state.value(QStringLiteral("real_node_id")).toString(), node);
        if (node == QLatin1String("3")) {
            for (int s = 1; s <= steps; ++s) {
                const QJsonObject ps = next();
                QCOMPARE(type(ps), QStringLiteral("progress_state"));
                QCOMPARE(data(ps)
                             .value(QStringLiteral("nodes"))
                             .toObject()
                             .value(node)
                             .toObject()
                             .value(QStringLiteral("value"))
                             .toDouble(),
                         double(s));
                const QJsonObject progress = next();
                QCOMPARE(type(progress), QStringLiteral("progress"));
                QCOMPARE(data(progress), (QJsonObject{{QStringLiteral("value"), s},
                                                      {QStringLiteral("max"), steps},
                                                      {QStringLiteral("prompt_id"), id},
                                                      {QStringLiteral("node"), node}}));
            }
        }
        if (node == QLatin1String("9")) {
            const QJsonObject executed = next();
            QCOMPARE(type(executed), QStringLiteral("executed"));
            QCOMPARE(data(executed).value(QStringLiteral("node")).toString(), node);
            const QJsonArray images = data(executed)
                                          .value(QStringLiteral("output"))
                                          .toObject()
                                          .value(QStringLiteral("images"))
                                          .toArray();
            QCOMPARE(images.size(), 1);
            QCOMPARE(images.first().toObject().value(QStringLiteral("filename")).toString(),
                     QStringLiteral("frame_00001_.png"));
        }
        const QJsonObject finished = next();
        QCOMPARE(type(finished), QStringLiteral("progress_state"));
        QCOMPARE(data(finished)
                     .value(QStringLiteral("nodes"))
                     .toObject()
                     .value(node)
                     .toObject()
                     .value(QStringLiteral("state"))
                     .toString(),
                 QStringLiteral("finished"));
        executedOrder << node;
    }
    // every node ran once, each after the nodes it depends on
    QStringList sorted = executedOrder;
    sorted.sort();
    QCOMPARE(sorted,
             (QStringList{QStringLiteral("3"), QStringLiteral("4"), QStringLiteral("5"), QStringLiteral("6"),
                          QStringLiteral("7"), QStringLiteral("8"), QStringLiteral("9")}));
    QVERIFY(executedOrder.indexOf(QStringLiteral("4")) < executedOrder.indexOf(QStringLiteral("6")));
    QVERIFY(executedOrder.indexOf(QStringLiteral("5")) < executedOrder.indexOf(QStringLiteral("3")));
    QVERIFY(executedOrder.indexOf(QStringLiteral("3")) < executedOrder.indexOf(QStringLiteral("8")));
    QVERIFY(executedOrder.indexOf(QStringLiteral("8")) < executedOrder.indexOf(QStringLiteral("9")));

    msg = next();
    QCOMPARE(type(msg), QStringLiteral("execution_success"));
    QCOMPARE(data(msg).value(QStringLiteral("prompt_id")).toString(), id);
    msg = next();
    QCOMPARE(type(msg), QStringLiteral("status"));
    QCOMPARE(queueRemaining(msg), 0);
    msg = next();
    QCOMPARE(type(msg), QStringLiteral("executing"));
    QVERIFY(data(msg).value(QStringLiteral("node")).isNull());
    QCOMPARE(i, m.size());

    // History records exactly the execution_* messages, as sent.
    const QJsonObject entry = http.get(QStringLiteral("/history/P")).json().value(id).toObject();
    const QJsonObject status = entry.value(QStringLiteral("status")).toObject();
    QCOMPARE(status.value(QStringLiteral("status_str")).toString(), QStringLiteral("success"));
    QCOMPARE(status.value(QStringLiteral("completed")).toBool(), true);
    QStringList recorded;
    for (const QJsonValue& v : status.value(QStringLiteral("messages")).toArray())
        recorded << v.toArray().at(0).toString();
    QCOMPARE(recorded, (QStringList{QStringLiteral("execution_start"), QStringLiteral("execution_cached"),
                                    QStringLiteral("execution_success")}));
    QCOMPARE(entry.value(QStringLiteral("meta"))
                 .toObject()
                 .value(QStringLiteral("9"))
                 .toObject()
                 .value(QStringLiteral("display_node"))
                 .toString(),
             QStringLiteral("9"));
}

void TestSandboxEvents::historyIsEmptyUntilWrittenAfterSuccess()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) {
        c.stepDelayMs = 20;
        c.historyWriteDelayMs = 400;
    });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("owner")));
    const QString id =
        postPrompt(http, promptBody(t2iGraph(QStringLiteral("hist/frame"), 1, 5), QStringLiteral("owner")));
    QVERIFY(!id.isEmpty());
    QVERIFY(ws.waitForType(QStringLiteral("progress")) >= 0);
    QCOMPARE(http.get(QStringLiteral("/history/") + id).body, QByteArray("{}")); // running
    const int success = ws.waitForType(QStringLiteral("execution_success"));
    QVERIFY(success >= 0);
    QCOMPARE(http.get(QStringLiteral("/history/") + id).body,
             QByteArray("{}")); // success sent, history not written yet
    QVERIFY(ws.waitForDone(id) > success);
    const QJsonObject entry = http.get(QStringLiteral("/api/history/") + id).json().value(id).toObject();
    QCOMPARE(entry.value(QStringLiteral("status")).toObject().value(QStringLiteral("status_str")).toString(),
             QStringLiteral("success"));
    QCOMPARE(entry.value(QStringLiteral("prompt")).toArray().at(1).toString(), id);
    QVERIFY(entry.value(QStringLiteral("outputs")).toObject().contains(QStringLiteral("9")));
    // The list form returns the last N in completion order.
    const QString second =
        postPrompt(http, promptBody(t2iGraph(QStringLiteral("hist/second"), 1, 1), QStringLiteral("owner")));
    QVERIFY(ws.waitForDone(second) >= 0);
    const QByteArray list = http.get(QStringLiteral("/history?max_items=1")).body;
    const QByteArray expectedStart = "{\"" + second.toLatin1() + "\"";
    QVERIFY(list.startsWith(expectedStart));
    QCOMPARE(http.get(QStringLiteral("/history?max_items=1&offset=0")).json().keys(), QStringList{id});
    QCOMPARE(http.get(QStringLiteral("/history")).json().size(), 2);
    QCOMPARE(
        http.postJson(QStringLiteral("/history"), QJsonObject{{QStringLiteral("delete"), QJsonArray{id}}})
            .status,
        200);
    QCOMPARE(http.get(QStringLiteral("/history")).json().keys(), QStringList{second});
    http.postJson(QStringLiteral("/history"), QJsonObject{{QStringLiteral("clear"), true}});
    QCOMPARE(http.get(QStringLiteral("/history")).body, QByteArray("{}"));
}

void TestSandboxEvents::cachedResubmissionWritesNoFiles()
{
    ServerFixture f;
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("owner")));
    const QJsonObject graph = t2iGraph(QStringLiteral("cache/frame"), 2, 2);
    const QString first = postPrompt(http, promptBody(graph, QStringLiteral("owner")));
    QVERIFY(ws.waitForDone(first) >= 0);
    const QStringList filesAfterFirst = filesUnder(f.out());
    QCOMPARE(filesAfterFirst, (QStringList{QStringLiteral("cache/frame_00001_.png"),
                                           QStringLiteral("cache/frame_00002_.png")}));
    const int mark = ws.messages.size();
    const QString second = postPrompt(http, promptBody(graph, QStringLiteral("owner")));
    QVERIFY(ws.waitForDone(second) >= 0);
    QCOMPARE(filesUnder(f.out()), filesAfterFirst);

    QStringList types;
    for (const QJsonObject& m : ws.messages.mid(mark))
        types << type(m);
    QCOMPARE(
        types.join(QLatin1Char(',')),
        (QStringList{QStringLiteral("status"), QStringLiteral("status"), QStringLiteral("execution_start"),
                     QStringLiteral("execution_cached"), QStringLiteral("executed"),
                     QStringLiteral("progress_state"), QStringLiteral("execution_success"),
                     QStringLiteral("status"), QStringLiteral("executing")})
            .join(QLatin1Char(',')));
    const QJsonArray cached = data(ws.messages.at(mark + 3)).value(QStringLiteral("nodes")).toArray();
    QCOMPARE(cached.size(), 7);
    // the old UI output is replayed, and history reports the earlier files
    const QJsonObject executed = data(ws.messages.at(mark + 4));
    QCOMPARE(
        executed.value(QStringLiteral("output")).toObject().value(QStringLiteral("images")).toArray().size(),
        2);
    const QJsonObject outputs = http.get(QStringLiteral("/history/") + second)
                                    .json()
                                    .value(second)
                                    .toObject()
                                    .value(QStringLiteral("outputs"))
                                    .toObject();
    QCOMPARE(outputs.value(QStringLiteral("9"))
                 .toObject()
                 .value(QStringLiteral("images"))
                 .toArray()
                 .first()
                 .toObject()
                 .value(QStringLiteral("filename"))
                 .toString(),
             QStringLiteral("frame_00001_.png"));
    // /free with free_memory resets the caches: the same graph renders again and the counter continues
    http.postJson(QStringLiteral("/free"), QJsonObject{{QStringLiteral("free_memory"), true}});
    const QString third = postPrompt(http, promptBody(graph, QStringLiteral("owner")));
    QVERIFY(ws.waitForDone(third) >= 0);
    QVERIFY(filesUnder(f.out()).contains(QStringLiteral("cache/frame_00004_.png")));
}

void TestSandboxEvents::interruptVariant()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.stepDelayMs = 10; });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("owner")));
    const QString id =
        postPrompt(http, promptBody(t2iGraph(QStringLiteral("intr/frame"), 1, 200), QStringLiteral("owner")));
    QVERIFY(ws.waitForType(QStringLiteral("progress")) >= 0);
    QCOMPARE(http.post(QStringLiteral("/interrupt"), "{\"prompt_id\": \"" + id.toLatin1() + "\"}").status,
             200);
    const int done = ws.waitForDone(id);
    QVERIFY(done >= 2);
    QCOMPARE(type(ws.messages.at(done - 1)), QStringLiteral("status"));
    const QJsonObject interrupted = data(ws.messages.at(done - 2));
    QCOMPARE(type(ws.messages.at(done - 2)), QStringLiteral("execution_interrupted"));
    QCOMPARE(interrupted.value(QStringLiteral("node_id")).toString(), QStringLiteral("3"));
    QCOMPARE(interrupted.value(QStringLiteral("node_type")).toString(), QStringLiteral("KSampler"));
    QVERIFY(interrupted.value(QStringLiteral("executed")).toArray().contains(QStringLiteral("4")));
    QVERIFY(ws.ofType(QStringLiteral("execution_success")).isEmpty());
    QVERIFY(ws.ofType(QStringLiteral("progress")).size() < 200);
    const QJsonObject status = http.get(QStringLiteral("/history/") + id)
                                   .json()
                                   .value(id)
                                   .toObject()
                                   .value(QStringLiteral("status"))
                                   .toObject();
    QCOMPARE(status.value(QStringLiteral("status_str")).toString(), QStringLiteral("error"));
    QCOMPARE(status.value(QStringLiteral("completed")).toBool(), false);
    QCOMPARE(status.value(QStringLiteral("messages")).toArray().last().toArray().at(0).toString(),
             QStringLiteral("execution_interrupted"));
    QVERIFY(filesUnder(f.out()).isEmpty());
}

void TestSandboxEvents::targetedInterruptOfOtherPromptIsIgnored()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.stepDelayMs = 5; });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("owner")));
    // an interrupt while idle does nothing either: the flag is reset when the next prompt starts
    http.post(QStringLiteral("/interrupt"), QByteArray());
    const QString id =
        postPrompt(http, promptBody(t2iGraph(QStringLiteral("keep/frame"), 1, 20), QStringLiteral("owner")));
    QVERIFY(ws.waitForType(QStringLiteral("progress")) >= 0);
    http.postJson(QStringLiteral("/interrupt"),
                  QJsonObject{{QStringLiteral("prompt_id"), QStringLiteral("someone-else")}});
    QVERIFY(ws.waitForDone(id) >= 0);
    QCOMPARE(ws.ofType(QStringLiteral("execution_success")).size(), 1);
    QVERIFY(ws.ofType(QStringLiteral("execution_interrupted")).isEmpty());
}

void TestSandboxEvents::errorVariant()
{
    ServerFixture f;
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("owner")));
    // A prefix that escapes the output folder makes SaveImage raise, like the real node.
    const QString id = postPrompt(
        http, promptBody(t2iGraph(QStringLiteral("../outside/frame"), 1, 2), QStringLiteral("owner")));
    QVERIFY(!id.isEmpty());
    const int done = ws.waitForDone(id);
    QVERIFY(done >= 2);
    QCOMPARE(type(ws.messages.at(done - 1)), QStringLiteral("status"));
    QCOMPARE(type(ws.messages.at(done - 2)), QStringLiteral("execution_error"));
    const QJsonObject error = data(ws.messages.at(done - 2));
    QCOMPARE(error.value(QStringLiteral("node_id")).toString(), QStringLiteral("9"));
    QCOMPARE(error.value(QStringLiteral("node_type")).toString(), QStringLiteral("SaveImage"));
    QCOMPARE(error.value(QStringLiteral("exception_type")).toString(), QStringLiteral("Exception"));
    QVERIFY(error.value(QStringLiteral("exception_message"))
                .toString()
                .contains(QStringLiteral("Saving image outside the output folder is not allowed")));
    QVERIFY(error.value(QStringLiteral("exception_message")).toString().endsWith(QLatin1Char('\n')));
    QVERIFY(error.value(QStringLiteral("executed")).toArray().contains(QStringLiteral("8")));
    QVERIFY(error.value(QStringLiteral("traceback")).isArray());
    QVERIFY(
        error.value(QStringLiteral("current_inputs")).toObject().contains(QStringLiteral("filename_prefix")));
    QVERIFY(ws.ofType(QStringLiteral("execution_success")).isEmpty());
    const QJsonObject status = http.get(QStringLiteral("/history/") + id)
                                   .json()
                                   .value(id)
                                   .toObject()
                                   .value(QStringLiteral("status"))
                                   .toObject();
    QCOMPARE(status.value(QStringLiteral("status_str")).toString(), QStringLiteral("error"));
    QCOMPARE(status.value(QStringLiteral("completed")).toBool(), false);
    QVERIFY(filesUnder(f.dir.path()).filter(QStringLiteral("outside")).isEmpty());
}

void TestSandboxEvents::promptWithoutClientId()
{
    ServerFixture f;
    Http http(f.url());
    WsClient monitor;
    QVERIFY(monitor.open(f.url(), QStringLiteral("monitor")));
    QSignalSpy finished(f.server.get(), &gd::sandbox::SandboxComfyServer::promptFinished);
    const QString id = postPrompt(http, promptBody(t2iGraph(QStringLiteral("anon/frame"), 1, 2)));
    QVERIFY(!id.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
    QTest::qWait(50);
    const QStringList types = monitor.types();
    for (const QString& never :
         {QStringLiteral("execution_start"), QStringLiteral("execution_cached"), QStringLiteral("executing"),
          QStringLiteral("executed"), QStringLiteral("execution_success")})
        QVERIFY2(!types.contains(never), qPrintable(never));
    QCOMPARE(monitor.ofType(QStringLiteral("progress")).size(), 2); // broadcast
    QVERIFY(!monitor.ofType(QStringLiteral("progress_state")).isEmpty());
    QCOMPARE(monitor.ofType(QStringLiteral("status")).size(), 4); // connect, put, take, done
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("success"));
    QVERIFY(http.get(QStringLiteral("/history/") + id)
                .json()
                .contains(id)); // polling is the only way to learn the result
}

void TestSandboxEvents::featureFlagsReply()
{
    ServerFixture f;
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("ff")));
    ws.socket().sendTextMessage(
        QStringLiteral("{\"type\":\"feature_flags\",\"data\":{\"supports_preview_metadata\":true}}"));
    QVERIFY(ws.waitForType(QStringLiteral("feature_flags")) >= 0);
    const QJsonObject flags = ws.ofType(QStringLiteral("feature_flags")).first();
    QCOMPARE(flags.value(QStringLiteral("supports_preview_metadata")).toBool(), true);
    QCOMPARE(flags.value(QStringLiteral("max_upload_size")).toDouble(), 104857600.0);
    // only the first message is examined
    ws.socket().sendTextMessage(QStringLiteral("{\"type\":\"feature_flags\",\"data\":{}}"));
    QTest::qWait(100);
    QCOMPARE(ws.ofType(QStringLiteral("feature_flags")).size(), 1);
    // the server answers client pings
    QSignalSpy pong(&ws.socket(), &QWebSocket::pong);
    ws.socket().ping("hi");
    QTRY_COMPARE(pong.size(), 1);
}

void TestSandboxEvents::reconnectMidRunSendsCurrentNode()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.stepDelayMs = 10; });
    Http http(f.url());
    auto first = std::make_unique<WsClient>();
    QVERIFY(first->open(f.url(), QStringLiteral("same")));
    const QString id =
        postPrompt(http, promptBody(t2iGraph(QStringLiteral("recon/frame"), 1, 60), QStringLiteral("same")));
    QVERIFY(first->waitForType(QStringLiteral("progress")) >= 0);
    // Close the old socket completely, then reconnect with the same clientId.
    first->socket().close();
    QTRY_VERIFY(first->disconnected);
    QTRY_COMPARE(f.server->webSocketCount(), 0);
    WsClient second;
    QVERIFY(second.open(f.url(), QStringLiteral("same")));
    QVERIFY(second.waitForType(QStringLiteral("executing")) == 1);
    const QJsonObject executing = data(second.messages.at(1));
    QCOMPARE(executing.value(QStringLiteral("node")).toString(), QStringLiteral("3"));
    QVERIFY(!executing.contains(QStringLiteral("prompt_id")));
    QVERIFY(!executing.contains(QStringLiteral("display_node")));
    // and the rest of the run reaches the new socket
    QVERIFY(second.waitForDone(id) >= 0);
    QCOMPARE(second.ofType(QStringLiteral("execution_success")).size(), 1);
}

void TestSandboxEvents::staleSocketCleanupEvictsNewSocket()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.stepDelayMs = 10; });
    Http http(f.url());
    WsClient old;
    QVERIFY(old.open(f.url(), QStringLiteral("dup")));
    WsClient fresh;
    QVERIFY(fresh.open(f.url(), QStringLiteral("dup"))); // replaces the routing entry; old stays open
    QVERIFY(fresh.waitForType(QStringLiteral("status")) == 0);
    const QString id =
        postPrompt(http, promptBody(t2iGraph(QStringLiteral("stale/frame"), 1, 40), QStringLiteral("dup")));
    QVERIFY(fresh.waitForType(QStringLiteral("progress")) >= 0);
    QVERIFY(old.ofType(QStringLiteral("progress")).isEmpty()); // the old socket is no longer routed
    // Now the old socket closes: its cleanup deletes the entry that points at the new socket.
    old.socket().close();
    QTRY_VERIFY(old.disconnected);
    QTRY_COMPARE(f.server->webSocketCount(), 0);
    const int seen = fresh.messages.size();
    QSignalSpy finished(f.server.get(), &gd::sandbox::SandboxComfyServer::promptFinished);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
    QTest::qWait(50);
    QCOMPARE(fresh.socket().state(), QAbstractSocket::ConnectedState); // still open ...
    QCOMPARE(fresh.messages.size(), seen);                             // ... but receives nothing
    QVERIFY(http.get(QStringLiteral("/history/") + id).json().contains(id));
}

QTEST_MAIN(TestSandboxEvents)
#include "tst_sandboxevents.moc"
