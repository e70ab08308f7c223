// bench_sse: SSE/NDJSON parse throughput of gd::llm::SseParser over a large synthetic stream, and the
// latency from a token's write on the server socket to LlmChatJob's token() signal (scripted raw TCP
// peer on its own thread that records write times; same-process steady_clock), plus a reference chat
// against SandboxLlmHost. Prints figures; asserts nothing.
#include "llm/LlmClient.h"
#include "llm/SseParser.h"
#include "sandbox/SandboxLlmHost.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace gd::llm;
using Clock = std::chrono::steady_clock;

namespace {

const char* const kWords[] = {"The",          " lighthouse",   " keeper", " climbed", " the",
                              " spiral",      " stair",        ",",       " lantern", " swaying",
                              " caf\xC3\xA9", " \xE2\x98\x95", " salt",   "-stiffed", " coat",
                              ".\n\n",        " \xE6\xBC\xA2", " waves"};

QByteArray openAiChunk(int i)
{
    return QByteArrayLiteral(
               "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1747835957,"
               "\"model\":\"sandbox-story-7b-instruct\",\"system_fingerprint\":\"sandbox-story-7b-instruct\","
               "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"") +
           QByteArray(kWords[i % (sizeof kWords / sizeof *kWords)]).replace("\n", "\\n") +
           QByteArrayLiteral("\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

QByteArray ollamaLine(int i)
{
    return QByteArrayLiteral(
               "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.000000Z\",\"message\":"
               "{\"role\":\"assistant\",\"content\":\"") +
           QByteArray(kWords[i % (sizeof kWords / sizeof *kWords)]).replace("\n", "\\n") +
           QByteArrayLiteral("\"},\"done\":false}\n");
}

void benchParse(const char* label, SseParser::Mode mode, QByteArray (*make)(int))
{
    QByteArray stream;
    stream.reserve(72 << 20);
    int chunks = 0;
    while (stream.size() < (64 << 20)) {
        stream += make(chunks++);
        if (mode == SseParser::Mode::Sse && chunks % 50 == 0)
            stream += ": keep-alive\r\n\r\n";
    }
    const qsizetype piece = 1448; // one loopback-ish TCP segment per feed
    std::vector<double> rates;
    qsizetype events = 0;
    for (int rep = 0; rep < 5; ++rep) {
        SseParser parser(mode);
        QVector<SseEvent> out;
        out.reserve(4096);
        events = 0;
        QElapsedTimer t;
        t.start();
        for (qsizetype at = 0; at < stream.size(); at += piece) {
            parser.feed(QByteArrayView(stream).sliced(at, std::min(piece, stream.size() - at)), out);
            events += out.size();
            out.clear();
        }
        parser.finish(out);
        events += out.size();
        const double seconds = t.nsecsElapsed() / 1e9;
        rates.push_back(stream.size() / 1e6 / seconds);
    }
    std::sort(rates.begin(), rates.end());
    std::printf(
        "%-28s %7.1f MB stream, %d chunks, %lld events/pass: median %.1f MB/s (best %.1f, worst %.1f), "
        "%.2f M events/s\n",
        label, stream.size() / 1e6, chunks, static_cast<long long>(events), rates[rates.size() / 2],
        rates.back(), rates.front(), rates[rates.size() / 2] * 1e6 / (stream.size() / double(chunks)) / 1e6);
}

// Scripted peer: answers detection (generic /v1/models), then streams `count` chunks `gapMs` apart,
// stamping each write. Blocking socket API on its own thread, so the client's event loop never delays it.
class PeerThread : public QThread
{
public:
    PeerThread(int count, int gapMs) : m_count(count), m_gapMs(gapMs), m_writes(count) {}
    quint16 port() const { return m_port.load(); }
    const std::vector<Clock::time_point>& writes() const { return m_writes; }

protected:
    void run() override
    {
        QTcpServer server;
        server.listen(QHostAddress::LocalHost, 0);
        m_port = server.serverPort();
        while (server.waitForNewConnection(10000)) {
            QTcpSocket* s = server.nextPendingConnection();
            s->setSocketOption(QAbstractSocket::LowDelayOption, 1); // as Node, httplib and Go servers do
            QByteArray request;
            while (!request.contains("\r\n\r\n") && s->waitForReadyRead(5000))
                request += s->readAll();
            if (request.startsWith("GET /v1/models")) {
                const QByteArray body =
                    "{\"object\":\"list\",\"data\":[{\"id\":\"peer-model\",\"object\":\"model\"}]}";
                s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: "
                         "close\r\nContent-Length: " +
                         QByteArray::number(body.size()) + "\r\n\r\n" + body);
            } else if (request.startsWith("GET ")) {
                s->write("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            } else {
                stream(s);
                s->disconnectFromHost();
                delete s;
                return;
            }
            s->waitForBytesWritten(1000);
            s->disconnectFromHost();
            delete s;
        }
    }

private:
    void stream(QTcpSocket* s)
    {
        s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
        s->waitForBytesWritten(1000);
        for (int i = 0; i < m_count; ++i) {
            QThread::msleep(m_gapMs);
            const QByteArray chunk = "data: {\"choices\":[{\"delta\":{\"content\":\"" +
                                     QByteArray::number(i) + " \"},\"finish_reason\":null}]}\n\n";
            m_writes[i] = Clock::now();
            s->write(chunk);
            s->flush();
        }
        s->write("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
        s->waitForBytesWritten(1000);
    }

    int m_count;
    int m_gapMs;
    std::atomic<quint16> m_port{0};
    std::vector<Clock::time_point> m_writes;
};

void benchLatency()
{
    const int count = 1000;
    PeerThread peer(count, 2);
    peer.start();
    while (peer.port() == 0)
        QThread::msleep(1);
    LlmClient client(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(peer.port())));
    ChatRequest request;
    request.messages = {{QStringLiteral("user"), QStringLiteral("count")}};
    std::vector<Clock::time_point> arrivals(count);
    std::vector<bool> seen(count, false);
    bool done = false;
    ChatResult result;
    ChatJob* job = client.startChat(request, nullptr);
    QObject::connect(job, &ChatJob::token, job, [&](const QString& text) {
        const auto now = Clock::now();
        const int i = text.trimmed().toInt();
        if (i >= 0 && i < count && !seen[i]) {
            arrivals[i] = now;
            seen[i] = true;
        }
    });
    QObject::connect(job, &ChatJob::finished, job, [&](const ChatResult& r) {
        result = r;
        done = true;
    });
    QElapsedTimer guard;
    guard.start();
    while (!done && guard.elapsed() < 60000)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    peer.wait(5000);
    std::vector<double> us;
    for (int i = 0; i < count; ++i) {
        if (seen[i])
            us.push_back(std::chrono::duration<double, std::micro>(arrivals[i] - peer.writes()[i]).count());
    }
    if (us.empty()) {
        std::printf("latency: no tokens arrived (%s)\n", qPrintable(result.error.toString()));
        return;
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) {
        return us[std::min(us.size() - 1, size_t(std::ceil(p / 100.0 * us.size())) - 1)];
    };
    std::printf(
        "socket write -> token() latency over %zu tokens (2 ms apart, one chunk per write): p50 %.0f us, "
        "p95 %.0f us, p99 %.0f us, max %.0f us; result %s\n",
        us.size(), pct(50), pct(95), pct(99), us.back(),
        result.error.isNull() ? "ok" : qPrintable(result.error.toString()));
}

void benchSandbox()
{
    gd::sandbox::SandboxLlmHost host;
    gd::sandbox::SandboxLlmConfig config;
    config.tokenDelayMs = 1;
    QString error;
    if (!host.start(config, 0, &error)) {
        std::printf("sandbox: did not start: %s\n", qPrintable(error));
        return;
    }
    LlmClient client(host.url());
    ChatRequest request;
    request.messages = {{QStringLiteral("user"), QStringLiteral("Write a scene about a lighthouse keeper.")}};
    request.maxTokens = 2000;
    for (int run = 0; run < 3; ++run) {
        bool done = false;
        int tokens = 0;
        ChatResult result;
        ChatJob* job = client.startChat(request, nullptr);
        QObject::connect(job, &ChatJob::token, job, [&](const QString&) { ++tokens; });
        QObject::connect(job, &ChatJob::finished, job, [&](const ChatResult& r) {
            result = r;
            done = true;
        });
        while (!done)
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
        std::printf(
            "sandbox chat %d (tokenDelayMs=1): %d token signals, TTFT %.1f ms, %.0f tokens/s (%s), %lld ms "
            "total, %s\n",
            run + 1, tokens, result.timeToFirstTokenMs.value_or(-1), result.tokensPerSecond.value_or(-1),
            qPrintable(result.tokenCountSource), static_cast<long long>(result.durationMs),
            result.error.isNull() ? "ok" : qPrintable(result.error.toString()));
    }
    host.stop();
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    benchParse("SSE (OpenAI chunks)", SseParser::Mode::Sse, &openAiChunk);
    benchParse("NDJSON (Ollama native)", SseParser::Mode::Ndjson, &ollamaLine);
    benchLatency();
    benchSandbox();
    return 0;
}
