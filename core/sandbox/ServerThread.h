#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>

class QThread;

namespace gd::sandbox {

// Runs one stand-in server object on a thread of its own, shared by SandboxHost (ComfyUI) and
// SandboxLlmHost: start() moves the server there and blocks until it listens, stop() closes it on
// its thread and joins. Also the SIGINT/SIGTERM → quit wiring of the standalone `sandbox` commands.
class ServerThread
{
public:
    ServerThread() = default;
    ~ServerThread();
    ServerThread(const ServerThread&) = delete;
    ServerThread& operator=(const ServerThread&) = delete;

    // Takes ownership of `server`. `listen` and `close` run on the server's thread.
    bool start(QObject* server, const QString& threadName, std::function<bool(QString*)> listen,
               std::function<void()> close, QString* error);
    void stop();
    bool isRunning() const;
    QObject* server() const { return m_server; }
    // Runs `fn` on the server's thread: blocking (the caller sees its effect at once) or queued.
    void invoke(std::function<void()> fn, bool blocking) const;

    // Quits the QCoreApplication on SIGINT/SIGTERM (self-pipe; the handler only writes one byte).
    static void quitApplicationOnSignals();

private:
    QThread* m_thread = nullptr;
    QPointer<QObject> m_server;
    std::function<void()> m_close;
};

} // namespace gd::sandbox
