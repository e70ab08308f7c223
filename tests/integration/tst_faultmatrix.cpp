// The fault matrix of issue 6 §4: one data-driven row per fault the sandbox stand-ins can inject, each
// run through the real pipeline (or the story service for LLM faults) with the outcome an operator
// would see asserted: exit code, scene statuses, attempts and requeues, the telemetry fields and
// run-summary lines of the contract, a run directory that validates, nothing written outside it, and
// every finished scene's frames intact. docs/RELIABILITY.md ("Fault matrix") maps each row to the
// behaviour it proves.
#include "RunHarness.h"
#include "llm/StoryService.h"
#include "net/PlainHttpCheck.h"
#include "pipeline/FrameVerifier.h"
#include "pipeline/ResumePlanner.h"
#include "sandbox/LlmFaultRule.h"
#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"

#include <QDirIterator>
#include <QFile>
#include <QHostAddress>
#include <QNetworkInterface>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>

// ---- disk full ------------------------------------------------------------------------------------
// A full disk without root or a mount: this executable interposes libc's write() (it is linked with
// ENABLE_EXPORTS, so Qt's own file writes resolve here too). While armed, every write to a file below
// g_fullRoot fails the way the kernel fails it on a full filesystem, with ENOSPC; all other writes
// (the sandbox's output folder, sockets, the terminal) go through untouched.
namespace {
std::atomic<bool> g_diskFull{false};
char g_fullRoot[4096] = {0};
std::atomic<int> g_enospcWrites{0};
} // namespace

extern "C" ssize_t write(int fd, const void* buf, size_t count)
{
    using WriteFn = ssize_t (*)(int, const void*, size_t);
    static const WriteFn real = reinterpret_cast<WriteFn>(dlsym(RTLD_NEXT, "write"));
    if (g_diskFull.load(std::memory_order_acquire) && count > 0 && fd > 2) {
        char link[64];
        std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        char target[4096];
        const ssize_t n = ::readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = 0;
            if (std::strncmp(target, g_fullRoot, std::strlen(g_fullRoot)) == 0) {
                g_enospcWrites.fetch_add(1);
                errno = ENOSPC;
                return -1;
            }
        }
    }
    return real(fd, buf, count);
}

namespace {

using gd::pipeline::QueuePolicy;
using gd::pipeline::RunController;
using gd::sandbox::FaultRule;
using gd::sandbox::LlmFaultRule;

// What a ComfyUI-side row sets up and expects.
struct ComfyRow
{
    QStringList faults;
    int scenes = 2;
    int frames = 4;
    bool remote = false;         // frames over /view instead of the shared output folder
    bool markerInstalled = true; // GemDirectSaveFrames present on the server
    int stepDelayMs = 2;         // sampler step cadence (40: faults land mid-run)
    bool serverDown = false;     // nothing listens at the URL
    bool diskFull = false;       // the runs root fills up once scene-001 is finished
    bool diskFreedWhenHeld = false; // ... and has space again once the queue is held for it
    std::function<void(QueuePolicy&)> policy;
    std::function<void(gd::pipeline::RunOptions&)> options;

    int exitCode = 0;
    QStringList statuses; // per scene
    QList<int> attempts;  // per scene
    int requeues = 0;
    QStringList summaryLines; // substrings the run-summary must contain
    bool validates = true;    // RunValidator passes (a full disk cannot keep run-summary.txt complete)
    std::function<void(const RunOutcome&)> check;
};

struct LlmRow
{
    QString fault;
    int inactivityMs = 90000;
    gd::llm::StoryService::Outcome outcome = gd::llm::StoryService::Outcome::Ok;
    int retries = 0;
    QString errorMentions; // regular expression the error must match (failures)
    double maxSeconds = 60;
};

} // namespace

Q_DECLARE_METATYPE(ComfyRow)
Q_DECLARE_METATYPE(LlmRow)

namespace {

FaultRule fault(const QString& spec)
{
    QString e;
    auto f = FaultRule::parse(spec, &e);
    if (!f)
        qFatal("bad fault spec %s: %s", qPrintable(spec), qPrintable(e));
    return *f;
}

QString readText(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

QString summaryOf(const RunOutcome& o)
{
    return readText(QDir(o.runDir).filePath(QStringLiteral("run-summary.txt")));
}

// Every file below `dir`, absolute paths, `skip` subtrees left out.
QSet<QString> filesBelow(const QString& dir, const QStringList& skip = {})
{
    QSet<QString> out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString p = QFileInfo(it.next()).absoluteFilePath();
        bool skipped = false;
        for (const QString& s : skip)
            skipped = skipped || p.startsWith(s + QLatin1Char('/'));
        if (!skipped)
            out.insert(p);
    }
    return out;
}

const gd::telemetry::AttemptTelemetry& keptTelemetry(const RunOutcome& o, int scene)
{
    return o.record.scenes.at(scene).kept()->telemetry;
}

// A TCP relay on a non-loopback address of this machine to a loopback server: lets a test reach the
// sandbox "from another machine" without it ever listening beyond loopback.
class Relay : public QObject
{
public:
    Relay(quint16 targetPort) : m_target(targetPort)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* in = m_server.nextPendingConnection()) {
                auto* out = new QTcpSocket(in);
                out->connectToHost(QHostAddress::LocalHost, m_target);
                connect(in, &QTcpSocket::readyRead, out, [in, out] { out->write(in->readAll()); });
                connect(out, &QTcpSocket::readyRead, in, [in, out] { in->write(out->readAll()); });
                connect(in, &QTcpSocket::disconnected, out, &QTcpSocket::disconnectFromHost);
                connect(out, &QTcpSocket::disconnected, in, &QTcpSocket::disconnectFromHost);
                connect(in, &QTcpSocket::disconnected, in, &QObject::deleteLater);
            }
        });
    }
    // Listens on the first non-loopback IPv4 address; false when the machine has none.
    bool listen()
    {
        for (const QHostAddress& a : QNetworkInterface::allAddresses())
            if (a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLoopback() && !a.isLinkLocal() &&
                m_server.listen(a, 0))
                return true;
        return false;
    }
    QUrl url() const
    {
        return QUrl(QStringLiteral("http://%1:%2")
                        .arg(m_server.serverAddress().toString())
                        .arg(m_server.serverPort()));
    }

private:
    QTcpServer m_server;
    quint16 m_target;
};

} // namespace

class TestFaultMatrix : public QObject
{
    Q_OBJECT

    static void addComfy(const char* name, const ComfyRow& row) { QTest::newRow(name) << row; }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<ComfyRow>();
        qRegisterMetaType<LlmRow>();
    }

    void comfyFault_data();
    void comfyFault();
    void llmFault_data();
    void llmFault();
    void plainHttpToAnotherMachineWarns();
    void bearerTokensNeverReachLogsOrTheRunDirectory();
};

void TestFaultMatrix::comfyFault_data()
{
    QTest::addColumn<ComfyRow>("row");
    const QStringList ok2{QStringLiteral("succeeded"), QStringLiteral("succeeded")};
    {
        ComfyRow r;
        r.serverDown = true;
        r.scenes = 1;
        r.exitCode = 3;
        addComfy("server down at start", r);
    }
    {
        // The server dies in scene-001 and never comes back: every wait is bounded, both scenes are
        // tried and fail with a reason, the run ends with exit 1.
        ComfyRow r;
        r.faults = {QStringLiteral("die:scene-001_a1")};
        r.stepDelayMs = 40;
        r.policy = [](QueuePolicy& p) { p.maxWaitSeconds = 3; };
        r.options = [](gd::pipeline::RunOptions& o) { o.reconnectWaitSeconds = 1; };
        r.exitCode = 1;
        r.statuses = {QStringLiteral("failed"), QStringLiteral("failed")};
        r.attempts = {2, 2};
        r.requeues = 2;
        r.summaryLines = {QStringLiteral("[Scene scene-001] ERROR: "),
                          QStringLiteral("[Scene scene-002] ERROR: ")};
        addComfy("death mid-scene", r);
    }
    {
        // ComfyUI restarts mid-scene and forgets its queue: the lost prompt is detected through /queue +
        // /history, resubmitted once the server is back, and the run completes.
        ComfyRow r;
        r.faults = {QStringLiteral("restart:scene-001_a1:1:800")};
        r.stepDelayMs = 40;
        r.statuses = ok2;
        r.attempts = {2, 1};
        r.requeues = 1;
        r.summaryLines = {
            QStringLiteral("[Scene scene-001] Requeue requested (next attempt 2/2) reason: no frames "
                           "(Prompt ")};
        r.check = [](const RunOutcome& o) {
            QVERIFY(o.record.scenes.at(0)
                        .attempts.at(0)
                        .errors.join(QLatin1Char(' '))
                        .contains(QStringLiteral("lost by the server")));
        };
        addComfy("restart that loses the queue", r);
    }
    {
        ComfyRow r;
        r.faults = {QStringLiteral("ws-drop:scene-001_a1")};
        r.stepDelayMs = 40;
        r.statuses = ok2;
        r.attempts = {1, 1};
        r.check = [](const RunOutcome& o) {
            QVERIFY(keptTelemetry(o, 0).historyAttempts >= 1); // reconciled through /history
            QVERIFY(keptTelemetry(o, 0).doneMarkerDetected);
        };
        addComfy("WebSocket drop", r);
    }
    {
        ComfyRow r;
        r.faults = {QStringLiteral("ws-silent:scene-001_a1")};
        r.stepDelayMs = 40;
        r.statuses = ok2;
        r.attempts = {1, 1};
        r.check = [](const RunOutcome& o) {
            QVERIFY(keptTelemetry(o, 0).historyAttempts >= 1);
            QCOMPARE(keptTelemetry(o, 0).completionSignal, QStringLiteral("history"));
        };
        addComfy("silent WebSocket", r);
    }
    {
        ComfyRow r;
        r.faults = {QStringLiteral("history-delay:scene-001:1:1500")};
        r.statuses = ok2;
        r.attempts = {1, 1};
        r.check = [](const RunOutcome& o) {
            QVERIFY(o.record.scenes.at(0).kept()->historyRetrieved);
            QCOMPARE(keptTelemetry(o, 0).historyExitReason, QStringLiteral("success"));
            QVERIFY(keptTelemetry(o, 0).historyAttempts >= 2); // `{}` first, then the entry
        };
        addComfy("delayed history", r);
    }
    for (const char* kind : {"execution-error", "oom", "interrupt"}) {
        ComfyRow r;
        r.faults = {QString::fromLatin1(kind) + QStringLiteral(":scene-001_a1")};
        r.statuses = ok2;
        r.attempts = {2, 1};
        r.requeues = 1;
        r.summaryLines = {
            QStringLiteral("[Scene scene-001] Requeue requested (next attempt 2/2) reason: no frames (")};
        const QString k = QString::fromLatin1(kind);
        r.check = [k](const RunOutcome& o) {
            const auto& first = o.record.scenes.at(0).attempts.at(0);
            QCOMPARE(first.frameCount, 0);
            const QString errors = first.errors.join(QLatin1Char(' '));
            if (k == QLatin1String("oom")) {
                QVERIFY2(errors.contains(QStringLiteral("OutOfMemoryError")), qPrintable(errors));
                QVERIFY(first.warnings.join(QLatin1Char(' ')).contains(QStringLiteral("ran out of memory")));
            } else if (k == QLatin1String("interrupt")) {
                QVERIFY2(errors.contains(QStringLiteral("interrupted")), qPrintable(errors));
            } else {
                QVERIFY2(errors.contains(QStringLiteral("KSampler")), qPrintable(errors));
            }
            QCOMPARE(o.record.scenes.at(0).kept()->attempt, 2);
        };
        addComfy(qPrintable(k), r);
    }
    {
        ComfyRow r;
        r.faults = {QStringLiteral("missing-marker:scene-001_a1")};
        r.statuses = ok2;
        r.attempts = {1, 1};
        r.summaryLines = {QStringLiteral("DoneMarkerDetected=false"),
                          QStringLiteral("fallback=Done marker not found after 1 seconds (waited ")};
        r.check = [](const RunOutcome& o) {
            QVERIFY(!keptTelemetry(o, 0).doneMarkerDetected);
            QVERIFY(keptTelemetry(o, 0).doneMarkerWaitSeconds >= 0.9);
            QVERIFY(!keptTelemetry(o, 0).forcedCopyTriggered);
            QVERIFY(keptTelemetry(o, 1).doneMarkerDetected);
        };
        addComfy("missing done marker", r);
    }
    {
        // Frames written 150 ms apart: the producer's marker comes after the last one, so nothing is
        // taken early and no forced copy happens.
        ComfyRow r;
        r.faults = {QStringLiteral("slow-frames:scene-001_a1:1:150")};
        r.statuses = ok2;
        r.attempts = {1, 1};
        r.check = [](const RunOutcome& o) {
            QVERIFY(keptTelemetry(o, 0).doneMarkerDetected);
            QVERIFY(!keptTelemetry(o, 0).forcedCopyTriggered);
            QCOMPARE(o.record.scenes.at(0).kept()->frameCount, 4);
        };
        addComfy("slow writes with marker", r);
    }
    {
        // No marker node and frames still settling: the stability window cannot pass, so the copy is
        // forced, with the debug file and the fallback note.
        ComfyRow r;
        r.faults = {QStringLiteral("slow-frames:scene-001_a1:1:100")};
        r.markerInstalled = false;
        r.scenes = 1;
        r.policy = [](QueuePolicy& p) {
            p.stabilityWindowSeconds = 5.0;
            p.stabilityRetries = 0;
        };
        r.statuses = {QStringLiteral("succeeded")};
        r.attempts = {1};
        r.summaryLines = {QStringLiteral("ForcedCopyTriggered=true"),
                          QStringLiteral("ForcedCopyDebugPath=scene-001/forced-copy-debug-"),
                          QStringLiteral("WARNING: ComfyUI at ")};
        r.check = [](const RunOutcome& o) {
            const auto& t = keptTelemetry(o, 0);
            QVERIFY(t.forcedCopyTriggered);
            QVERIFY(QFile::exists(QDir(o.runDir).filePath(t.forcedCopyDebugPath)));
            QVERIFY(t.fallbackNotes.contains(QStringLiteral("Forced copy after stability retries; see ") +
                                             t.forcedCopyDebugPath));
            QCOMPARE(o.record.scenes.at(0).kept()->frameCount, 4);
        };
        addComfy("slow writes without marker", r);
    }
    {
        ComfyRow r;
        r.faults = {QStringLiteral("zero-frames:scene-001_a1")};
        r.statuses = ok2;
        r.attempts = {2, 1};
        r.requeues = 1;
        r.summaryLines = {
            QStringLiteral("[Scene scene-001][Attempt 1] Frames=0 "),
            QStringLiteral("[Scene scene-001] Requeue requested (next attempt 2/2) reason: no frames")};
        r.check = [](const RunOutcome& o) { QCOMPARE(o.record.scenes.at(0).kept()->frameCount, 4); };
        addComfy("zero frames", r);
    }
    {
        ComfyRow r;
        r.faults = {QStringLiteral("few-frames:scene-001:0:3")};
        r.statuses = ok2; // frames > 0 count as success, with the below-floor warning
        r.attempts = {2, 1};
        r.requeues = 1;
        r.summaryLines = {
            QStringLiteral("[Scene scene-001] Requeue requested (next attempt 2/2) reason: frame count "
                           "below floor (3/4)"),
            QStringLiteral("[Scene scene-001] WARNING: Frame count below floor (3/4)")};
        r.check = [](const RunOutcome& o) {
            QVERIFY(!o.record.scenes.at(0).kept()->meetsFrameFloor);
            QCOMPARE(o.record.scenes.at(0).kept()->frameCount, 3);
        };
        addComfy("below frame floor", r);
    }
    for (const char* spec : {"hostile-filename:scene-001:0", "hostile-subfolder:scene-001:0:1"}) {
        ComfyRow r;
        r.faults = {QString::fromLatin1(spec)};
        r.remote = true; // the /view download is where a hostile name could write outside
        r.exitCode = 1;
        r.statuses = {QStringLiteral("failed"), QStringLiteral("succeeded")};
        r.attempts = {2, 1};
        r.requeues = 1;
        r.summaryLines = {QStringLiteral("[Scene scene-001] ERROR: Refused output path")};
        addComfy(QString::fromLatin1(spec).section(QLatin1Char(':'), 0, 0) ==
                         QLatin1String("hostile-filename")
                     ? "hostile filename"
                     : "hostile subfolder",
                 r);
    }
    {
        ComfyRow r;
        r.faults = {QStringLiteral("truncated-frame:scene-001:0")};
        r.scenes = 1;
        r.frames = 5;
        r.policy = [](QueuePolicy& p) { p.frameFloor = 1; };
        r.statuses = {QStringLiteral("succeeded")};
        r.attempts = {1};
        r.summaryLines = {QStringLiteral("rejected: truncated PNG")};
        r.check = [](const RunOutcome& o) { QCOMPARE(o.record.scenes.at(0).kept()->frameCount, 4); };
        addComfy("truncated frame file", r);
    }
    {
        // A proxy cuts every /history answer about scene-001 in half: the completion still arrives over
        // the WebSocket and the frames on the marker; the history is reported as not retrieved, with the
        // parse error, after the post-execution window.
        ComfyRow r;
        r.faults = {QStringLiteral("malformed-json:scene-001_a1")};
        r.statuses = ok2;
        r.attempts = {1, 1};
        r.summaryLines = {QStringLiteral("[Scene scene-001] HISTORY WARNING: "),
                          QStringLiteral("HistoryExitReason=postExecution")};
        r.check = [](const RunOutcome& o) {
            const auto* k = o.record.scenes.at(0).kept();
            QVERIFY(!k->historyRetrieved);
            QVERIFY(keptTelemetry(o, 0).historyPostExecutionTimeoutReached);
            QVERIFY2(k->historyErrors.join(QLatin1Char(' ')).contains(QStringLiteral("invalid JSON")),
                     qPrintable(k->historyErrors.join(QLatin1Char('\n'))));
            QCOMPARE(k->frameCount, 4);
            QVERIFY(o.record.scenes.at(1).kept()->historyRetrieved);
        };
        addComfy("malformed JSON", r);
    }
    {
        // The history entry carries a 33 MB workflow: the client stops reading at its 32 MB cap instead
        // of buffering it, and the scene completes on the WebSocket and the marker.
        ComfyRow r;
        r.faults = {QStringLiteral("oversized-response:scene-001_a1:1:33000")};
        r.statuses = ok2;
        r.attempts = {1, 1};
        r.summaryLines = {QStringLiteral("[Scene scene-001] HISTORY WARNING: ")};
        r.check = [](const RunOutcome& o) {
            const auto* k = o.record.scenes.at(0).kept();
            QVERIFY(!k->historyRetrieved);
            const QString errors = k->historyErrors.join(QLatin1Char('\n'));
            QVERIFY2(errors.contains(QStringLiteral("response larger than 33554432 bytes")),
                     qPrintable(errors));
            QCOMPARE(k->frameCount, 4);
        };
        addComfy("oversized response", r);
    }
    {
        // /history answers trickle out 8 bytes every 200 ms: the post-execution window bounds the wait
        // with the client's default request timeouts (30 s idle / 120 s total) untouched.
        ComfyRow r;
        r.faults = {QStringLiteral("slow-loris:scene-001_a1:1:200")};
        r.statuses = ok2;
        r.attempts = {1, 1};
        r.summaryLines = {QStringLiteral("[Scene scene-001] HISTORY WARNING: "),
                          QStringLiteral("HistoryExitReason=postExecution")};
        r.check = [](const RunOutcome& o) {
            QVERIFY(!o.record.scenes.at(0).kept()->historyRetrieved);
            QVERIFY(keptTelemetry(o, 0).historyPostExecutionTimeoutReached);
            QVERIFY2(o.seconds < 20, qPrintable(QString::number(o.seconds)));
        };
        addComfy("slow-loris responses", r);
    }
    {
        // The runs root fills up right after scene-001 finished. Scene-001 keeps its frames and the
        // artifact written after it; scene-002's downloads fail with the OS's reason and the queue is
        // held: scene-003 is never submitted. The hold bound (1.5 s here) runs out, the run ends with
        // exit 1, the rest not started, and `gemdirect resume` finishes it once there is space.
        ComfyRow r;
        r.diskFull = true;
        r.remote = true; // frames are downloaded, i.e. written, into the run directory
        r.scenes = 3;
        r.exitCode = 1;
        r.validates = false;
        r.options = [](gd::pipeline::RunOptions& o) {
            o.diskFullHoldSeconds = 1.5;
            o.diskFullPollSeconds = 0.2;
        };
        addComfy("disk full", r);
        // Space comes back while the queue is held: scene-002 is tried again (the attempt the disk
        // spoiled does not spend the retry budget), scene-003 follows, exit 0.
        r.diskFreedWhenHeld = true;
        r.exitCode = 0;
        addComfy("disk full, space returns: the run completes", r);
    }
}

void TestFaultMatrix::comfyFault()
{
    QFETCH(ComfyRow, row);
    RunHarness h;
    h.remote = row.remote;
    h.config.stepDelayMs = row.stepDelayMs;
    h.config.markerNodeInstalled = row.markerInstalled;
    for (const QString& spec : row.faults)
        h.config.faults << fault(spec);
    QUrl url;
    if (row.serverDown) {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(probe.serverPort()));
    } else {
        QVERIFY(h.startServer());
    }
    QDir().mkpath(h.root.filePath(QStringLiteral("runs")));
    const QString comfyRoot = QFileInfo(h.root.filePath(QStringLiteral("comfy"))).absoluteFilePath();
    const QSet<QString> before = filesBelow(h.root.path(), {comfyRoot});

    QueuePolicy policy = testPolicy();
    if (row.policy)
        row.policy(policy);
    const QString runsRoot = QFileInfo(h.root.filePath(QStringLiteral("runs"))).canonicalFilePath();
    QStringList artifactWarnings;
    QStringList heldStates;   // sceneState texts of a held queue, as the scene table shows them
    int submittedWhileFull = 0;
    auto hook = [&](RunController* c) {
        QObject::connect(c, &RunController::warning, c, [&](const QString& w) { artifactWarnings << w; });
        if (!row.diskFull)
            return;
        QObject::connect(c, &RunController::attemptStarted, c, [&](const QString&, int, int) {
            submittedWhileFull += g_diskFull ? 1 : 0;
        });
        QObject::connect(c, &RunController::sceneState, c, [&, c](const QString& id, const QString& state) {
            if (!state.startsWith(QLatin1String("held: the disk under")))
                return;
            heldStates << id + QLatin1Char(' ') + state;
            if (row.diskFreedWhenHeld && g_diskFull)
                QTimer::singleShot(600, c, [] { g_diskFull = false; }); // held for a few polls first
        });
        QObject::connect(c, &RunController::sceneFinished, c, [&](const gd::telemetry::SceneRecord& s) {
            if (s.sceneId != QLatin1String("scene-001"))
                return;
            std::snprintf(g_fullRoot, sizeof g_fullRoot, "%s/", runsRoot.toLocal8Bit().constData());
            g_enospcWrites = 0;
            g_diskFull = true;
        });
    };
    const RunOutcome o = h.run(makeStory(row.scenes, row.frames), policy, QStringLiteral("sandbox"), url,
                               120000, hook, row.options);
    g_diskFull = false;
    QVERIFY2(o.message != QLatin1String("TEST TIMEOUT"), "the run must end by itself");
    QVERIFY2(o.exitCode == row.exitCode,
             qPrintable(QStringLiteral("exit %1: %2").arg(o.exitCode).arg(o.message)));

    if (row.serverDown) {
        QVERIFY(o.seconds < 10.0);
        QVERIFY2(o.message.contains(QStringLiteral("not reachable")), qPrintable(o.message));
        QVERIFY(o.runDir.isEmpty()); // nothing queued, no run directory
        QCOMPARE(filesBelow(h.root.path(), {comfyRoot}), before);
        return;
    }
    QVERIFY(!o.runDir.isEmpty());

    // Nothing outside the run directory was written.
    const QString runDir = QFileInfo(o.runDir).absoluteFilePath();
    for (const QString& p : filesBelow(h.root.path(), {comfyRoot, runDir}))
        QVERIFY2(before.contains(p), qPrintable(QStringLiteral("written outside the run directory: ") + p));
    // No temp or partial file survives a run.
    for (const QString& p : filesBelow(runDir))
        QVERIFY2(!p.endsWith(QLatin1String(".tmp")) && !p.endsWith(QLatin1String(".part")),
                 qPrintable(QStringLiteral("left behind: ") + p));
    // The artifact on disk parses; every scene that finished with frames has them intact.
    QFile artifactFile(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
    QVERIFY(artifactFile.open(QIODevice::ReadOnly));
    QJsonParseError pe{};
    const QJsonObject artifact = QJsonDocument::fromJson(artifactFile.readAll(), &pe).object();
    QCOMPARE(pe.error, QJsonParseError::NoError);
    const QJsonArray artifactScenes = artifact.value(QStringLiteral("Scenes")).toArray();
    for (const QJsonValue& v : artifactScenes) {
        const QJsonObject sc = v.toObject();
        const int frames = sc.value(QStringLiteral("FrameCount")).toInt();
        if (frames <= 0)
            continue;
        const QDir dir(QDir(runDir).filePath(sc.value(QStringLiteral("GeneratedFramesDir")).toString()));
        const QStringList pngs = dir.entryList({QStringLiteral("*.png")}, QDir::Files);
        QCOMPARE(pngs.size(), frames);
        for (const QString& f : pngs)
            QVERIFY2(gd::pipeline::FrameVerifier::verify(dir.filePath(f)).ok, qPrintable(dir.filePath(f)));
    }
    // A loopback server never draws the plain-http warning.
    for (const QString& w : artifactWarnings)
        QVERIFY2(!w.contains(QStringLiteral("plain http")), qPrintable(w));

    if (row.diskFull) {
        QVERIFY(g_enospcWrites > 0);
        const auto& s1 = o.record.scenes.at(0);
        QCOMPARE(s1.status, QStringLiteral("succeeded"));
        QCOMPARE(int(s1.attempts.size()), 1);
        QCOMPARE(artifactScenes.at(0).toObject().value(QStringLiteral("FrameCount")).toInt(), 4);
        // Scene-002 ran into the full disk with the OS's reason; only it was submitted meanwhile.
        const QString errors = o.record.scenes.at(1).attempts.value(0).errors.join(QLatin1Char('\n'));
        QVERIFY2(errors.contains(QStringLiteral("No space left on device")), qPrintable(errors));
        QCOMPARE(submittedWhileFull, 1);
        // The hold is visible: a warning naming the directory and the free space, the scene table's
        // held state, and the artifact's DiskFullHolds[].
        const QString warnings = artifactWarnings.join(QLatin1Char('\n'));
        QVERIFY2(warnings.contains(QStringLiteral("Queue held: the disk under %1 is full (").arg(runDir)) &&
                     warnings.contains(QStringLiteral(" free, ")),
                 qPrintable(warnings));
        QVERIFY2(!heldStates.isEmpty() && heldStates.first().startsWith(QLatin1String("scene-00")),
                 qPrintable(heldStates.join(QLatin1Char('\n'))));
        const QJsonArray holds = o.record.extra.value(QStringLiteral("DiskFullHolds")).toArray();
        QCOMPARE(holds.size(), 1);
        const QJsonObject hold = holds.at(0).toObject();
        QCOMPARE(hold.value(QStringLiteral("Directory")).toString(), runDir);
        QVERIFY(hold.value(QStringLiteral("NeededBytes")).toDouble() >= 256.0 * 1024 * 1024);
        if (row.diskFreedWhenHeld) {
            QCOMPARE(hold.value(QStringLiteral("Outcome")).toString(), QStringLiteral("resumed"));
            // Tried again once there was room; the spoiled attempt did not spend the retry budget
            // (budget 1: a second spent attempt would have been the last).
            QCOMPARE(o.record.scenes.at(1).status, QStringLiteral("succeeded"));
            QCOMPARE(int(o.record.scenes.at(1).attempts.size()), 2);
            QCOMPARE(o.record.scenes.at(2).status, QStringLiteral("succeeded"));
            QCOMPARE(int(o.record.scenes.at(2).attempts.size()), 1);
            for (int i = 0; i < 3; ++i)
                QCOMPARE(artifactScenes.at(i).toObject().value(QStringLiteral("FrameCount")).toInt(), 4);
            const QString text = summaryOf(o);
            QVERIFY2(text.contains(QStringLiteral("Disk space is back under %1 (").arg(runDir)), qPrintable(text));
            QVERIFY2(text.contains(QStringLiteral("Scene summary: 3/3 succeeded")), qPrintable(text));
            QVERIFY2(text.contains(QStringLiteral("## Artifact Index")), qPrintable(text));
            // Lines written while the disk was full are lost; the others are whole lines.
            const QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
            const int index = int(lines.indexOf(QStringLiteral("## Artifact Index")));
            for (int i = 1; i < index; ++i)
                QVERIFY2(QRegularExpression(QStringLiteral("^\\[\\d\\d:\\d\\d:\\d\\d\\] "))
                             .match(lines.at(i))
                             .hasMatch(),
                         qPrintable(QStringLiteral("garbled line: ") + lines.at(i)));
            return;
        }
        // The bound ran out: nothing after scene-002's attempt was submitted, the rest is not started
        // and the run is left resumable (no artifact index).
        QCOMPARE(hold.value(QStringLiteral("Outcome")).toString(), QStringLiteral("expired"));
        QVERIFY2(o.message.contains(QStringLiteral("not started")) && o.message.contains(QStringLiteral("gemdirect resume")),
                 qPrintable(o.message));
        QCOMPARE(int(o.record.scenes.at(1).attempts.size()), 1);
        QCOMPARE(int(o.record.scenes.at(2).attempts.size()), 0);
        for (int i = 1; i < 3; ++i) {
            QVERIFY(o.record.scenes.at(i).status != QLatin1String("succeeded"));
            QVERIFY2(o.record.scenes.at(i).errors.join(QLatin1Char(' ')).contains(QStringLiteral("Not started: the disk under")),
                     qPrintable(o.record.scenes.at(i).errors.join(QLatin1Char(' '))));
        }
        QVERIFY(!summaryOf(o).contains(QStringLiteral("## Artifact Index")));

        // With space again, `gemdirect resume` (its planner and a controller on the plan) renders
        // what was left; scene-001 is not rendered again.
        QString error;
        bool alreadyFinished = true;
        const auto plan = gd::pipeline::ResumePlanner::plan(runDir, &error, &alreadyFinished);
        QVERIFY2(plan, qPrintable(error));
        QVERIFY(!alreadyFinished);
        QCOMPARE(plan->count(gd::pipeline::ResumeScene::Phase::Done), 1);
        const RunOutcome resumed = h.run(makeStory(row.scenes, row.frames), policy, QStringLiteral("sandbox"), url,
                                         120000, {}, [&](gd::pipeline::RunOptions& opt) {
                                             QString e;
                                             QVERIFY2(gd::pipeline::ResumePlanner::applyTo(*plan, &opt, &e), qPrintable(e));
                                         });
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.message));
        QCOMPARE(resumed.runDir, runDir);
        QCOMPARE(int(resumed.record.scenes.at(0).attempts.size()), 1);
        for (const auto& sc : resumed.record.scenes)
            QCOMPARE(sc.status, QStringLiteral("succeeded"));
        QVERIFY(summaryOf(resumed).contains(QStringLiteral("## Artifact Index")));
        for (const QString& p : filesBelow(runDir))
            QVERIFY2(!p.endsWith(QLatin1String(".tmp")) && !p.endsWith(QLatin1String(".part")),
                     qPrintable(QStringLiteral("left behind: ") + p));
        return;
    }

    QCOMPARE(o.record.scenes.size(), row.statuses.size());
    for (int i = 0; i < row.statuses.size(); ++i) {
        QCOMPARE(o.record.scenes.at(i).status, row.statuses.at(i));
        QCOMPARE(int(o.record.scenes.at(i).attempts.size()), row.attempts.at(i));
    }
    const QJsonObject summary = artifact.value(QStringLiteral("Summary")).toObject();
    QCOMPARE(summary.value(QStringLiteral("Requeues")).toInt(), row.requeues);
    const QString text = summaryOf(o);
    int ok = 0;
    int total = 0;
    for (const auto& s : o.record.scenes) {
        ++total;
        ok += s.status == QLatin1String("succeeded") ? 1 : 0;
    }
    QVERIFY2(text.contains(QStringLiteral("Scene summary: %1/%2 succeeded | ").arg(ok).arg(total)),
             qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral(" | requeues=%1").arg(row.requeues)), qPrintable(text));
    for (const auto& s : o.record.scenes)
        QVERIFY2(text.contains(QStringLiteral("[Scene %1] Telemetry: DurationSeconds=").arg(s.sceneId)),
                 qPrintable(text));
    for (const QString& line : row.summaryLines)
        QVERIFY2(text.contains(line), qPrintable(QStringLiteral("missing '%1' in:\n%2").arg(line, text)));
    if (row.validates) {
        const auto v = gd::telemetry::RunValidator::validate(o.runDir);
        QVERIFY2(v.exitCode == 0, qPrintable(v.errors.join(QLatin1Char('\n'))));
    }
    if (row.check)
        row.check(o);
}

void TestFaultMatrix::llmFault_data()
{
    using O = gd::llm::StoryService::Outcome;
    QTest::addColumn<LlmRow>("row");
    QTest::newRow("LLM 503 while loading")
        << LlmRow{QStringLiteral("loading-503:2"), 90000, O::Ok, 0, {}, 60};
    QTest::newRow("LLM malformed JSON once")
        << LlmRow{QStringLiteral("malformed-json:1"), 90000, O::Ok, 1, {}, 60};
    QTest::newRow("LLM malformed JSON always") << LlmRow{
        QStringLiteral("malformed-json:0"), 90000, O::GenerationFailed, 1, QStringLiteral("JSON|json"), 60};
    QTest::newRow("LLM truncated answer") << LlmRow{QStringLiteral("truncated:1"), 90000, O::Ok, 1, {}, 60};
    QTest::newRow("LLM stalled stream") << LlmRow{
        QStringLiteral("stall:0"), 1000, O::GenerationFailed, 1, QStringLiteral("(?i)timeout|no data"), 30};
}

void TestFaultMatrix::llmFault()
{
    QFETCH(LlmRow, row);
    gd::sandbox::SandboxLlmHost host;
    QVERIFY(host.start({}, 0, nullptr));
    QString e;
    const auto rule = LlmFaultRule::parse(row.fault, &e);
    QVERIFY2(rule, qPrintable(e));
    host.addFault(*rule);

    QTemporaryDir root;
    const QString rawDir = root.filePath(QStringLiteral("run/story/raw"));
    gd::llm::StoryServiceOptions opt;
    opt.llmUrl = host.url().toString();
    opt.rawDir = rawDir;
    opt.env = QProcessEnvironment();
    opt.inactivityTimeoutMs = row.inactivityMs;
    gd::llm::StoryService service(opt);
    gd::llm::StoryRequest req;
    req.idea = QStringLiteral("A keeper on a drowned world must relight the beacon");
    req.sceneCount = 3;
    req.seed = 7;

    bool done = false;
    gd::llm::StoryService::Outcome outcome{};
    gd::story::Story story;
    QJsonObject llm;
    QString error;
    gd::telemetry::LlmHealthInfo health;
    QObject::connect(&service, &gd::llm::StoryService::finished, &service,
                     [&](gd::llm::StoryService::Outcome out, const gd::story::Story& s, const QJsonObject& l,
                         const QJsonArray&, const gd::telemetry::LlmHealthInfo& hi, const QString& err) {
                         done = true;
                         outcome = out;
                         story = s;
                         llm = l;
                         health = hi;
                         error = err;
                     });
    QElapsedTimer clock;
    clock.start();
    service.start(req);
    QTRY_VERIFY_WITH_TIMEOUT(done, 120000);
    const double seconds = clock.elapsed() / 1000.0;

    QVERIFY2(outcome == row.outcome,
             qPrintable(QStringLiteral("outcome %1: %2").arg(int(outcome)).arg(error)));
    QVERIFY2(seconds < row.maxSeconds, qPrintable(QString::number(seconds)));
    QCOMPARE(health.status, QStringLiteral("success"));
    QCOMPARE(llm.value(QStringLiteral("Retries")).toInt(), row.retries);
    if (row.outcome == gd::llm::StoryService::Outcome::Ok) {
        QCOMPARE(story.scenes.size(), 3);
        QCOMPARE(llm.value(QStringLiteral("Status")).toString(), QStringLiteral("success"));
    } else {
        QVERIFY(story.scenes.isEmpty()); // nothing invented
        QVERIFY2(error.contains(QRegularExpression(row.errorMentions)), qPrintable(error));
        QVERIFY(!llm.value(QStringLiteral("Errors")).toArray().isEmpty());
        if (row.fault.startsWith(QLatin1String("malformed-json")))
            QVERIFY(!filesBelow(rawDir).isEmpty()); // the answers that failed are kept for diagnosis
    }
    // The raw answers are the only files written, and only into the run's story/raw folder.
    for (const QString& p : filesBelow(root.path()))
        QVERIFY2(p.startsWith(QFileInfo(rawDir).absoluteFilePath() + QLatin1Char('/')), qPrintable(p));
}

void TestFaultMatrix::plainHttpToAnotherMachineWarns()
{
    RunHarness h;
    QVERIFY(h.startServer());
    Relay relay(h.host.url().port());
    if (!relay.listen())
        QSKIP("this machine has no non-loopback IPv4 address to reach the sandbox through");
    const QUrl remote = relay.url();
    QVERIFY(gd::net::PlainHttpCheck::isPlainRemote(remote));

    // In-process: warning signal, run-summary WARNING line, artifact Warnings[].
    h.remote = true; // a server on another machine shares no output folder
    const RunOutcome o = h.run(makeStory(1, 3), testPolicy(), QStringLiteral("sandbox"), remote);
    QVERIFY2(o.exitCode == 0, qPrintable(o.message));
    const QString expected =
        QStringLiteral("ComfyUI at %1 is reached over plain http").arg(remote.toString());
    QVERIFY2(o.warnings.join(QLatin1Char('\n')).contains(expected),
             qPrintable(o.warnings.join(QLatin1Char('\n'))));
    QVERIFY2(summaryOf(o).contains(QStringLiteral("WARNING: ") + expected), qPrintable(summaryOf(o)));
    QFile f(QDir(o.runDir).filePath(QStringLiteral("artifact-metadata.json")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonArray warnings =
        QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("Warnings")).toArray();
    QVERIFY(warnings.size() == 1 && warnings.at(0).toString().startsWith(expected));
    const auto v = gd::telemetry::RunValidator::validate(o.runDir);
    QVERIFY2(v.exitCode == 0, qPrintable(v.errors.join(QLatin1Char('\n'))));

    // The CLI prints it on stderr.
    QTemporaryDir home;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(GD_CLI_PATH),
            {QStringLiteral("run"), QStringLiteral("--story"), QStringLiteral("examples/lighthouse.json"),
             QStringLiteral("--comfy-url"), remote.toString(), QStringLiteral("--workflow"),
             QStringLiteral("sandbox"), QStringLiteral("--runs-root"), home.filePath(QStringLiteral("runs")),
             QStringLiteral("--fast"), QStringLiteral("--no-history"), QStringLiteral("--no-quality"),
             QStringLiteral("--quiet")});
    QSignalSpy finished(&p, &QProcess::finished);
    QVERIFY(finished.wait(120000)); // the event loop keeps the relay and the sandbox serving
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.contains(QStringLiteral("WARNING: ") + expected), qPrintable(err));

    // The story's LLM server over plain http from another machine is warned about as well.
    gd::sandbox::SandboxLlmHost llmHost;
    QVERIFY(llmHost.start({}, 0, nullptr));
    Relay llmRelay(llmHost.url().port());
    QVERIFY(llmRelay.listen());
    gd::llm::StoryServiceOptions opt;
    opt.llmUrl = llmRelay.url().toString();
    opt.env = QProcessEnvironment();
    gd::llm::StoryService service(opt);
    QStringList storyWarnings;
    bool done = false;
    QObject::connect(&service, &gd::llm::StoryService::warning, &service,
                     [&](const QString& w) { storyWarnings << w; });
    QObject::connect(&service, &gd::llm::StoryService::finished, &service, [&] { done = true; });
    gd::llm::StoryRequest req;
    req.idea = QStringLiteral("A lighthouse keeper");
    req.sceneCount = 2;
    service.start(req);
    QTRY_VERIFY_WITH_TIMEOUT(done, 60000);
    QVERIFY2(storyWarnings.join(QLatin1Char('\n'))
                 .contains(QStringLiteral("The LLM server at %1 is reached over plain http")
                               .arg(llmRelay.url().toString())),
             qPrintable(storyWarnings.join(QLatin1Char('\n'))));
}

void TestFaultMatrix::bearerTokensNeverReachLogsOrTheRunDirectory()
{
    const QString comfyToken = QStringLiteral("gd-comfy-secret-3f9a1c77d2");
    const QString llmToken = QStringLiteral("gd-llm-secret-88b2e6a0c4");
    gd::sandbox::SandboxLlmConfig llmCfg;
    llmCfg.apiKey = llmToken; // the stand-in answers 401 without it: a finished story proves it was sent
    gd::sandbox::SandboxLlmHost llmHost;
    QVERIFY(llmHost.start(llmCfg, 0, nullptr));
    gd::sandbox::SandboxHost comfy;
    QTemporaryDir home;
    gd::sandbox::SandboxConfig cfg;
    cfg.outputDir = home.filePath(QStringLiteral("comfy/output"));
    cfg.stepDelayMs = 2;
    QVERIFY(comfy.start(cfg, 0, nullptr));

    // Story from the LLM and the render in one `gemdirect run --idea`, with every log at trace level.
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_STATE_HOME"), home.filePath(QStringLiteral("state")));
    env.insert(QStringLiteral("XDG_CACHE_HOME"), home.filePath(QStringLiteral("cache")));
    env.insert(QStringLiteral("GD_LOG_LEVEL"), QStringLiteral("trace"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(GD_CLI_PATH), {QStringLiteral("run"),
                                          QStringLiteral("--idea"),
                                          QStringLiteral("A keeper relights the beacon"),
                                          QStringLiteral("--scenes"),
                                          QStringLiteral("2"),
                                          QStringLiteral("--llm-url"),
                                          llmHost.url().toString(),
                                          QStringLiteral("--llm-token"),
                                          llmToken,
                                          QStringLiteral("--comfy-url"),
                                          comfy.url().toString(),
                                          QStringLiteral("--comfy-output-dir"),
                                          cfg.outputDir,
                                          QStringLiteral("--comfy-token"),
                                          comfyToken,
                                          QStringLiteral("--workflow"),
                                          QStringLiteral("sandbox"),
                                          QStringLiteral("--runs-root"),
                                          home.filePath(QStringLiteral("runs")),
                                          QStringLiteral("--fast"),
                                          QStringLiteral("--no-history"),
                                          QStringLiteral("--no-quality"),
                                          QStringLiteral("--verbose")});
    QSignalSpy finished(&p, &QProcess::finished);
    QVERIFY(finished.wait(180000));
    const QByteArray out = p.readAllStandardOutput() + p.readAllStandardError();
    QVERIFY2(p.exitCode() == 0, out.right(4000).constData());
    QVERIFY(out.contains("Run directory: "));
    QVERIFY2(out.contains("] [debug] "), "debug logging reached the captured output");

    // Every byte the run left behind: console output, log files, run directory, raw LLM answers.
    QByteArray everything = out;
    for (const QString& f : filesBelow(home.path(), {QFileInfo(cfg.outputDir).absoluteFilePath()})) {
        QFile file(f);
        if (file.open(QIODevice::ReadOnly))
            everything += file.readAll();
    }
    QVERIFY(everything.contains("artifact-metadata") || everything.contains("E2E Story-to-Video Run"));
    for (const QString& token : {comfyToken, llmToken}) {
        QVERIFY2(!everything.contains(token.toUtf8()),
                 qPrintable(QStringLiteral("token %1 leaked").arg(token)));
        QVERIFY2(!everything.contains(token.toUtf8().toBase64()), qPrintable(token));
    }
}

QTEST_GUILESS_MAIN(TestFaultMatrix)
#include "tst_faultmatrix.moc"
