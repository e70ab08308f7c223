#pragma once

#include "sandbox/FaultRule.h"
#include "sandbox/SandboxConfig.h"

#include "sandbox/ServerThread.h"

#include <QObject>
#include <QPointer>
#include <QUrl>

class QTextStream;

namespace gd::sandbox {

class SandboxComfyServer;

// Runs a SandboxComfyServer on its own QThread so a client in the same process is never blocked by the fake
// rendering; also the composition helper for `gemdirect sandbox comfyui`.
class SandboxHost : public QObject
{
    Q_OBJECT
public:
    explicit SandboxHost(QObject* parent = nullptr);
    ~SandboxHost() override;

    // Blocks until the server listens on 127.0.0.1:port (0 = any free port) or failed to.
    bool start(const SandboxConfig& config, quint16 port, QString* error);
    void stop(); // stops the server and joins its thread
    bool isRunning() const;
    QUrl url() const;
    quint16 port() const;

    // Forwarded to the server thread with queued invocations (safe from any thread).
    void addFault(const FaultRule& rule);
    void setMarkerNodeInstalled(bool installed);

    // The server object (lives on the host's thread): connect to its signals with queued connections and use
    // its thread-safe observability accessors only.
    SandboxComfyServer* server() const;

    // For the CLI, which owns the QCoreApplication and runs exec(): creates the server on the calling thread,
    // listens, prints "Sandbox ComfyUI listening on http://127.0.0.1:P (output: DIR)" and arranges for
    // SIGINT/SIGTERM to quit the application. Returns 0 when listening, 1 (after printing the reason)
    // otherwise.
    static int runStandalone(const SandboxConfig& config, quint16 port, QTextStream& out);

private:
    ServerThread m_runner;
    QUrl m_url;
    quint16 m_port = 0;
};

} // namespace gd::sandbox
