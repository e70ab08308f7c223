// Fault injection of the sandbox ComfyUI server: the CLI rule syntax, which prompts a rule hits, and for
// every fault kind what a client actually observes over HTTP, the WebSocket and the output folder.
#include "SandboxTestSupport.h"
#include "sandbox/FaultRule.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QImage>
#include <QSignalSpy>
#include <QtTest>

using namespace sbtest;
using gd::sandbox::FaultKind;
using gd::sandbox::FaultRule;

namespace {
const QString kPrefix = QStringLiteral("gemdirect/run/scene-001_a1");
const QString kFolder = QStringLiteral("gemdirect/run");

QJsonObject lastOfType(const WsClient& ws, const QString& type)
{
    const QList<QJsonObject> all = ws.ofType(type);
    return all.isEmpty() ? QJsonObject() : all.last();
}

QStringList pngs(const ServerFixture& f)
{
    return QDir(f.out(kFolder)).entryList({QStringLiteral("*.png")}, QDir::Files, QDir::Name);
}

bool connectionRefused(Http& http)
{
    const Reply r = http.get(QStringLiteral("/system_stats"));
    return r.status == 0 && r.error != QNetworkReply::NoError;
}
} // namespace

class TestSandboxFaults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseAcceptsCliSyntax_data();
    void parseAcceptsCliSyntax();
    void parseRejectsBadSpecs_data();
    void parseRejectsBadSpecs();
    void kindNamesListEveryKind();
    void matchAndTimesSelectPrompts();
    void faultIsObservable_data();
    void faultIsObservable();
};

void TestSandboxFaults::parseAcceptsCliSyntax_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("match");
    QTest::addColumn<int>("times");
    QTest::addColumn<int>("param");
    QTest::newRow("kind only") << QStringLiteral("oom") << int(FaultKind::Oom) << QString() << 1 << 0;
    QTest::newRow("with match") << QStringLiteral("ws-drop:scene-002") << int(FaultKind::WsDrop)
                                << QStringLiteral("scene-002") << 1 << 0;
    QTest::newRow("all, with param") << QStringLiteral("slow-frames::0:250") << int(FaultKind::SlowFrames)
                                     << QString() << 0 << 250;
    QTest::newRow("everything") << QStringLiteral("restart:run-9:3:1500") << int(FaultKind::Restart)
                                << QStringLiteral("run-9") << 3 << 1500;
    QTest::newRow("case-insensitive kind")
        << QStringLiteral("History-Delay::1:800") << int(FaultKind::HistoryDelay) << QString() << 1 << 800;
}

void TestSandboxFaults::parseAcceptsCliSyntax()
{
    QFETCH(QString, spec);
    QFETCH(int, kind);
    QFETCH(QString, match);
    QFETCH(int, times);
    QFETCH(int, param);
    QString error = QStringLiteral("stale");
    const auto rule = FaultRule::parse(spec, &error);
    QVERIFY2(rule, qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(int(rule->kind), kind);
    QCOMPARE(rule->match, match);
    QCOMPARE(rule->times, times);
    QCOMPARE(rule->param, param);
}

void TestSandboxFaults::parseRejectsBadSpecs_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("unknown kind") << QStringLiteral("explode") << QStringLiteral("unknown kind 'explode'");
    QTest::newRow("negative times") << QStringLiteral("oom::-1") << QStringLiteral("times");
    QTest::newRow("param not a number") << QStringLiteral("slow-frames::1:fast") << QStringLiteral("param");
    QTest::newRow("too many fields") << QStringLiteral("oom:a:1:2:3")
                                     << QStringLiteral("kind[:match[:times[:param]]]");
}

void TestSandboxFaults::parseRejectsBadSpecs()
{
    QFETCH(QString, spec);
    QFETCH(QString, mentions);
    QString error;
    QVERIFY(!FaultRule::parse(spec, &error));
    QVERIFY2(error.contains(mentions), qPrintable(error));
}

void TestSandboxFaults::kindNamesListEveryKind()
{
    const QStringList names = FaultRule::kindNames();
    QCOMPARE(names.size(), 18);
    for (const QString& name : names) {
        const auto kind = FaultRule::kindFromName(name);
        QVERIFY(kind);
        QCOMPARE(FaultRule::kindName(*kind), name);
    }
}

void TestSandboxFaults::matchAndTimesSelectPrompts()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) {
        c.faults = {*FaultRule::parse(QStringLiteral("execution-error:scene-002:1"), nullptr)};
    });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("c")));
    auto outcome = [&](const QString& prefix, const QString& id) {
        http.postJson(QStringLiteral("/prompt"), promptBody(t2iGraph(prefix, 1, 2), QStringLiteral("c"), id));
        if (ws.waitForDone(id) < 0)
            return QStringLiteral("timeout");
        return http.get(QStringLiteral("/history/") + id)
            .json()
            .value(id)
            .toObject()
            .value(QStringLiteral("status"))
            .toObject()
            .value(QStringLiteral("status_str"))
            .toString();
    };
    QCOMPARE(outcome(QStringLiteral("r/scene-001_a1"), QStringLiteral("a")),
             QStringLiteral("success")); // no match
    QCOMPARE(outcome(QStringLiteral("r/scene-002_a1"), QStringLiteral("b")),
             QStringLiteral("error")); // match
    QCOMPARE(outcome(QStringLiteral("r/scene-002_a2"), QStringLiteral("c2")),
             QStringLiteral("success")); // used up
    // times 0 hits every matching prompt
    f.server->addFault(*FaultRule::parse(QStringLiteral("oom::0"), nullptr));
    QCOMPARE(outcome(QStringLiteral("r/x1"), QStringLiteral("d")), QStringLiteral("error"));
    QCOMPARE(outcome(QStringLiteral("r/x2"), QStringLiteral("e")), QStringLiteral("error"));
}

void TestSandboxFaults::faultIsObservable_data()
{
    QTest::addColumn<QString>("spec");
    for (const QString& spec :
         {QStringLiteral("execution-error"), QStringLiteral("oom"), QStringLiteral("interrupt"),
          QStringLiteral("ws-drop"), QStringLiteral("ws-silent"), QStringLiteral("history-delay::1:400"),
          QStringLiteral("missing-marker"), QStringLiteral("slow-frames::1:120"),
          QStringLiteral("zero-frames"), QStringLiteral("few-frames::1:2"),
          QStringLiteral("hostile-filename"), QStringLiteral("hostile-subfolder"),
          QStringLiteral("hostile-subfolder::1:1"), QStringLiteral("truncated-frame"),
          QStringLiteral("restart::1:1200"), QStringLiteral("die"), QStringLiteral("malformed-json"),
          QStringLiteral("oversized-response::1:2048"), QStringLiteral("slow-loris::1:2")})
        QTest::newRow(qPrintable(spec)) << spec;
}

void TestSandboxFaults::faultIsObservable()
{
    QFETCH(QString, spec);
    QString parseError;
    const auto rule = FaultRule::parse(spec, &parseError);
    QVERIFY2(rule, qPrintable(parseError));
    ServerFixture f([&](gd::sandbox::SandboxConfig& c) {
        c.stepDelayMs = 5;
        c.frameSize = QSize(96, 54);
        c.faults = {*rule};
    });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("victim")));
    QSignalSpy finished(f.server.get(), &gd::sandbox::SandboxComfyServer::promptFinished);
    const Reply posted = http.postJson(
        QStringLiteral("/prompt"),
        promptBody(t2iGraph(kPrefix, 4, 6, QStringLiteral("storm"), QStringLiteral("GemDirectSaveFrames")),
                   QStringLiteral("victim"), QStringLiteral("P")));
    QCOMPARE(posted.status, 200);
    const QString marker = f.out(kFolder + QStringLiteral("/scene-001_a1.done"));
    auto historyStatus = [&]() {
        return http.get(QStringLiteral("/history/P"))
            .json()
            .value(QStringLiteral("P"))
            .toObject()
            .value(QStringLiteral("status"))
            .toObject();
    };
    auto executedOutput = [&]() {
        return lastOfType(ws, QStringLiteral("executed")).value(QStringLiteral("output")).toObject();
    };

    switch (rule->kind) {
    case FaultKind::ExecutionError:
    case FaultKind::Oom: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        const QJsonObject error = lastOfType(ws, QStringLiteral("execution_error"));
        QCOMPARE(error.value(QStringLiteral("node_type")).toString(), QStringLiteral("KSampler"));
        QCOMPARE(error.value(QStringLiteral("exception_type")).toString(),
                 rule->kind == FaultKind::Oom ? QStringLiteral("torch.OutOfMemoryError")
                                              : QStringLiteral("Exception"));
        const QString message = error.value(QStringLiteral("exception_message")).toString();
        QVERIFY(message.endsWith(QLatin1Char('\n')));
        if (rule->kind == FaultKind::Oom)
            QVERIFY(message.contains(QStringLiteral("This error means you ran out of memory on your GPU.")));
        QVERIFY(ws.ofType(QStringLiteral("execution_success")).isEmpty());
        QCOMPARE(historyStatus().value(QStringLiteral("status_str")).toString(), QStringLiteral("error"));
        QVERIFY(!QFile::exists(marker));
        QVERIFY(pngs(f).isEmpty());
        break;
    }
    case FaultKind::Interrupt: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        QCOMPARE(lastOfType(ws, QStringLiteral("execution_interrupted"))
                     .value(QStringLiteral("node_type"))
                     .toString(),
                 QStringLiteral("KSampler"));
        QVERIFY(ws.ofType(QStringLiteral("execution_success")).isEmpty());
        const QJsonObject status = historyStatus();
        QCOMPARE(status.value(QStringLiteral("completed")).toBool(true), false);
        QCOMPARE(status.value(QStringLiteral("messages")).toArray().last().toArray().at(0).toString(),
                 QStringLiteral("execution_interrupted"));
        break;
    }
    case FaultKind::WsDrop: {
        QTRY_VERIFY_WITH_TIMEOUT(ws.disconnected, 5000);
        QVERIFY(ws.ofType(QStringLiteral("execution_success")).isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000); // the prompt itself keeps running
        QCOMPARE(finished.first().at(1).toString(), QStringLiteral("success"));
        QCOMPARE(historyStatus().value(QStringLiteral("status_str")).toString(), QStringLiteral("success"));
        QVERIFY(QFile::exists(marker));
        break;
    }
    case FaultKind::WsSilent: {
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QTest::qWait(50);
        QCOMPARE(ws.socket().state(), QAbstractSocket::ConnectedState);
        QVERIFY(ws.ofType(QStringLiteral("execution_success")).isEmpty());
        QCOMPARE(ws.waitForDone(QStringLiteral("P"), 100), -1);
        QCOMPARE(historyStatus().value(QStringLiteral("status_str")).toString(), QStringLiteral("success"));
        // the next prompt is routed again
        http.postJson(QStringLiteral("/prompt"), promptBody(t2iGraph(QStringLiteral("next/f"), 1, 1),
                                                            QStringLiteral("victim"), QStringLiteral("Q")));
        QVERIFY(ws.waitForDone(QStringLiteral("Q")) >= 0);
        break;
    }
    case FaultKind::HistoryDelay: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        QCOMPARE(http.get(QStringLiteral("/history/P")).body, QByteArray("{}"));
        QCOMPARE(http.get(QStringLiteral("/history")).body, QByteArray("{}"));
        QTRY_VERIFY_WITH_TIMEOUT(http.get(QStringLiteral("/history/P")).json().contains(QStringLiteral("P")),
                                 5000);
        break;
    }
    case FaultKind::MissingMarker: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        QCOMPARE(pngs(f).size(), 4);
        QVERIFY(!QFile::exists(marker));
        QVERIFY(QDir(f.out(kFolder)).entryList({QStringLiteral("*.tmp")}, QDir::Files).isEmpty());
        QCOMPARE(executedOutput().value(QStringLiteral("done_marker")).toArray().size(),
                 1); // promised, never published
        break;
    }
    case FaultKind::SlowFrames: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        const QStringList files = pngs(f);
        QCOMPARE(files.size(), 4);
        const QDateTime first = QFileInfo(f.out(kFolder + QLatin1Char('/') + files.first())).lastModified();
        const QDateTime last = QFileInfo(f.out(kFolder + QLatin1Char('/') + files.last())).lastModified();
        QVERIFY2(first.msecsTo(last) >= 3 * rule->param / 2,
                 qPrintable(QString::number(first.msecsTo(last))));
        break;
    }
    case FaultKind::ZeroFrames:
    case FaultKind::FewFrames: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        const int expected = rule->kind == FaultKind::ZeroFrames ? 0 : rule->param;
        QCOMPARE(pngs(f).size(), expected);
        QCOMPARE(executedOutput().value(QStringLiteral("images")).toArray().size(), expected);
        QFile file(marker);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("count")).toInt(-1),
                 expected);
        break;
    }
    case FaultKind::HostileFilename:
    case FaultKind::HostileSubfolder: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        const QJsonObject fromHistory = http.get(QStringLiteral("/history/P"))
                                            .json()
                                            .value(QStringLiteral("P"))
                                            .toObject()
                                            .value(QStringLiteral("outputs"))
                                            .toObject()
                                            .value(QStringLiteral("9"))
                                            .toObject();
        QCOMPARE(fromHistory, executedOutput());
        const QJsonArray images = fromHistory.value(QStringLiteral("images")).toArray();
        QCOMPARE(images.size(), 4);
        for (const QJsonValue& v : images) {
            const QJsonObject entry = v.toObject();
            if (rule->kind == FaultKind::HostileFilename)
                QCOMPARE(entry.value(QStringLiteral("filename")).toString(),
                         QStringLiteral("../../escape.png"));
            else
                QCOMPARE(entry.value(QStringLiteral("subfolder")).toString(),
                         rule->param == 1 ? QStringLiteral("../..") : QStringLiteral("/etc"));
        }
        QCOMPARE(pngs(f).size(), 4); // the files themselves are where they belong
        break;
    }
    case FaultKind::TruncatedFrame: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        int broken = 0;
        for (const QString& name : pngs(f))
            broken += QImage(f.out(kFolder + QLatin1Char('/') + name)).isNull() ? 1 : 0;
        QCOMPARE(broken, 1);
        QVERIFY(QFile::exists(marker));
        break;
    }
    case FaultKind::Restart: {
        QTRY_VERIFY_WITH_TIMEOUT(ws.disconnected, 5000);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().at(1).toString(), QStringLiteral("lost"));
        QVERIFY(connectionRefused(http));
        QTRY_VERIFY_WITH_TIMEOUT(!connectionRefused(http), 8000);                // back on the same port
        QCOMPARE(http.get(QStringLiteral("/history/P")).body, QByteArray("{}")); // forgotten
        const QJsonObject queue = http.get(QStringLiteral("/queue")).json();
        QVERIFY(queue.value(QStringLiteral("queue_running")).toArray().isEmpty());
        QVERIFY(!QFile::exists(marker));
        WsClient again;
        QVERIFY(again.open(f.url(), QStringLiteral("victim")));
        break;
    }
    case FaultKind::Die: {
        QTRY_VERIFY_WITH_TIMEOUT(ws.disconnected, 5000);
        QCOMPARE(finished.first().at(1).toString(), QStringLiteral("lost"));
        QVERIFY(connectionRefused(http));
        QTest::qWait(300);
        QVERIFY(connectionRefused(http));
        break;
    }
    case FaultKind::MalformedJson: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        const Reply r = http.get(QStringLiteral("/history/P"));
        QCOMPARE(r.status, 200);
        QJsonParseError pe{};
        QJsonDocument::fromJson(r.body, &pe);
        QVERIFY(pe.error != QJsonParseError::NoError);
        QVERIFY(r.body.startsWith("{\"P\": {"));
        // WebSocket events and the files are untouched; only the HTTP answer is broken.
        QVERIFY(QFile::exists(marker));
        break;
    }
    case FaultKind::OversizedResponse: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        const Reply r = http.get(QStringLiteral("/history/P"));
        QVERIFY(r.body.size() > 2048 * 1024);
        const QJsonArray tuple =
            r.json().value(QStringLiteral("P")).toObject().value(QStringLiteral("prompt")).toArray();
        QCOMPARE(tuple.at(3)
                     .toObject()
                     .value(QStringLiteral("extra_pnginfo"))
                     .toObject()
                     .value(QStringLiteral("workflow"))
                     .toObject()
                     .value(QStringLiteral("notes"))
                     .toString()
                     .size(),
                 2048 * 1024);
        break;
    }
    case FaultKind::SlowLoris: {
        QVERIFY(ws.waitForDone(QStringLiteral("P")) >= 0);
        QElapsedTimer t;
        t.start();
        const Reply r = http.get(QStringLiteral("/history/P"));
        QVERIFY(r.json().contains(QStringLiteral("P"))); // complete, just slow
        // 8 bytes per 2 ms tick: at least (size / 8) ticks.
        QVERIFY2(t.elapsed() >= (r.body.size() / 8) * 2 * 3 / 4, qPrintable(QString::number(t.elapsed())));
        // Other prompts' answers are not slowed down.
        QElapsedTimer u;
        u.start();
        QCOMPARE(http.get(QStringLiteral("/history/other")).body, QByteArray("{}"));
        QVERIFY(u.elapsed() < t.elapsed());
        break;
    }
    }
}

QTEST_MAIN(TestSandboxFaults)
#include "tst_sandboxfaults.moc"
