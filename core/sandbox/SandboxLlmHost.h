#pragma once

#include "sandbox/LlmFaultRule.h"
#include "sandbox/SandboxLlmConfig.h"

#include "sandbox/ServerThread.h"

#include <QObject>
#include <QPointer>
#include <QUrl>

class QTextStream;

namespace gd::sandbox {

class SandboxLlmServer;

// Runs a SandboxLlmServer on its own QThread so a client in the same process (tests, the app's sandbox mode)
// is never blocked by the fake token cadence; also the composition helper for `gemdirect sandbox llm`.
class SandboxLlmHost : public QObject
{
    Q_OBJECT
public:
    explicit SandboxLlmHost(QObject* parent = nullptr);
    ~SandboxLlmHost() override;

    // Blocks until the server listens on 127.0.0.1:port (0 = any free port) or failed to.
    bool start(const SandboxLlmConfig& config, quint16 port, QString* error);
    void stop(); // stops the server and joins its thread
    bool isRunning() const;
    QUrl url() const;
    quint16 port() const;

    // Forwarded to the server thread with queued invocations (safe from any thread).
    void addFault(const LlmFaultRule& rule);
    void setModelLoaded(bool loaded);

    // The server object (lives on the host's thread): use its thread-safe accessors and queued connections
    // only.
    SandboxLlmServer* server() const;

    // For the CLI, which owns the QCoreApplication and runs exec(): creates the server on the calling thread,
    // listens, prints "Sandbox LLM (lmstudio) listening on http://127.0.0.1:P (model: ID)" and arranges for
    // SIGINT/SIGTERM to quit the application. Returns 0 when listening, 1 (after printing the reason)
    // otherwise.
    static int runStandalone(const SandboxLlmConfig& config, quint16 port, QTextStream& out);

private:
    ServerThread m_runner;
    QUrl m_url;
    quint16 m_port = 0;
};

} // namespace gd::sandbox
