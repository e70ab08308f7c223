#include "sandbox/SandboxLlmHost.h"

#include "sandbox/SandboxLlmServer.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTextStream>
#include <QThread>
#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace gd::sandbox {

namespace {
int g_llmSignalPipe[2] = {-1, -1};

void onLlmTerminationSignal(int)
{
    // Only async-signal-safe work here: wake the event loop through the pipe.
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(g_llmSignalPipe[1], &byte, 1);
}

void installQuitOnSignals()
{
    if (g_llmSignalPipe[0] >= 0 || ::socketpair(AF_UNIX, SOCK_STREAM, 0, g_llmSignalPipe) != 0)
        return;
    auto* notifier =
        new QSocketNotifier(g_llmSignalPipe[0], QSocketNotifier::Read, QCoreApplication::instance());
    QObject::connect(notifier, &QSocketNotifier::activated, QCoreApplication::instance(), [notifier]() {
        char byte = 0;
        [[maybe_unused]] const ssize_t n = ::read(g_llmSignalPipe[0], &byte, 1);
        notifier->setEnabled(false);
        QCoreApplication::quit();
    });
    struct sigaction action = {};
    action.sa_handler = onLlmTerminationSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}
} // namespace

SandboxLlmHost::SandboxLlmHost(QObject* parent) : QObject(parent) {}

SandboxLlmHost::~SandboxLlmHost()
{
    stop();
}

bool SandboxLlmHost::start(const SandboxLlmConfig& config, quint16 port, QString* error)
{
    if (m_thread)
        stop();
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("sandbox-llm"));
    auto* server = new SandboxLlmServer(config);
    server->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, server, &QObject::deleteLater);
    m_thread->start();
    bool ok = false;
    QString message;
    QMetaObject::invokeMethod(
        server, [server, port, &ok, &message]() { ok = server->listen(port, &message); },
        Qt::BlockingQueuedConnection);
    if (!ok) {
        if (error)
            *error = message;
        m_thread->quit();
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
        return false;
    }
    m_server = server;
    m_port = server->port();
    m_url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
    return true;
}

void SandboxLlmHost::stop()
{
    if (!m_thread)
        return;
    if (m_server) {
        SandboxLlmServer* server = m_server;
        QMetaObject::invokeMethod(
            server, [server]() { server->close(); }, Qt::BlockingQueuedConnection);
    }
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_server = nullptr;
}

bool SandboxLlmHost::isRunning() const
{
    return m_thread && m_server;
}

QUrl SandboxLlmHost::url() const
{
    return m_url;
}

quint16 SandboxLlmHost::port() const
{
    return m_port;
}

SandboxLlmServer* SandboxLlmHost::server() const
{
    return m_server;
}

void SandboxLlmHost::addFault(const LlmFaultRule& rule)
{
    // Blocking so that a request the caller sends right afterwards is guaranteed to see the fault.
    if (SandboxLlmServer* server = m_server)
        QMetaObject::invokeMethod(
            server, [server, rule]() { server->addFault(rule); },
            QThread::currentThread() == server->thread() ? Qt::DirectConnection
                                                         : Qt::BlockingQueuedConnection);
}

void SandboxLlmHost::setModelLoaded(bool loaded)
{
    if (SandboxLlmServer* server = m_server)
        QMetaObject::invokeMethod(
            server, [server, loaded]() { server->setModelLoaded(loaded); },
            QThread::currentThread() == server->thread() ? Qt::DirectConnection
                                                         : Qt::BlockingQueuedConnection);
}

int SandboxLlmHost::runStandalone(const SandboxLlmConfig& config, quint16 port, QTextStream& out)
{
    auto* server = new SandboxLlmServer(config, QCoreApplication::instance());
    QString error;
    if (!server->listen(port, &error)) {
        out << "Sandbox LLM could not start: " << error << Qt::endl;
        delete server;
        return 1;
    }
    installQuitOnSignals();
    out << "Sandbox LLM (" << config.flavour << ") listening on " << server->url().toString()
        << " (model: " << config.modelId << ")" << Qt::endl;
    return 0;
}

} // namespace gd::sandbox
