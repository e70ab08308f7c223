#include "sandbox/SandboxHost.h"

#include "sandbox/SandboxComfyServer.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTextStream>
#include <QThread>
#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace gd::sandbox {

namespace {
int g_signalPipe[2] = {-1, -1};

void onTerminationSignal(int)
{
    // Only async-signal-safe work here: wake the event loop through the pipe.
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(g_signalPipe[1], &byte, 1);
}

void installQuitOnSignals()
{
    if (g_signalPipe[0] >= 0 || ::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalPipe) != 0)
        return;
    auto* notifier =
        new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, QCoreApplication::instance());
    QObject::connect(notifier, &QSocketNotifier::activated, QCoreApplication::instance(), [notifier]() {
        char byte = 0;
        [[maybe_unused]] const ssize_t n = ::read(g_signalPipe[0], &byte, 1);
        notifier->setEnabled(false);
        QCoreApplication::quit();
    });
    struct sigaction action = {};
    action.sa_handler = onTerminationSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}
} // namespace

SandboxHost::SandboxHost(QObject* parent) : QObject(parent) {}

SandboxHost::~SandboxHost()
{
    stop();
}

bool SandboxHost::start(const SandboxConfig& config, quint16 port, QString* error)
{
    if (m_thread)
        stop();
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("sandbox-comfyui"));
    auto* server = new SandboxComfyServer(config);
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

void SandboxHost::stop()
{
    if (!m_thread)
        return;
    if (m_server) {
        SandboxComfyServer* server = m_server;
        QMetaObject::invokeMethod(
            server, [server]() { server->close(); }, Qt::BlockingQueuedConnection);
    }
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_server = nullptr;
}

bool SandboxHost::isRunning() const
{
    return m_thread && m_server;
}

QUrl SandboxHost::url() const
{
    return m_url;
}

quint16 SandboxHost::port() const
{
    return m_port;
}

SandboxComfyServer* SandboxHost::server() const
{
    return m_server;
}

void SandboxHost::addFault(const FaultRule& rule)
{
    if (SandboxComfyServer* server = m_server)
        QMetaObject::invokeMethod(
            server, [server, rule]() { server->addFault(rule); }, Qt::QueuedConnection);
}

void SandboxHost::setMarkerNodeInstalled(bool installed)
{
    if (SandboxComfyServer* server = m_server)
        QMetaObject::invokeMethod(
            server, [server, installed]() { server->setMarkerNodeInstalled(installed); },
            Qt::QueuedConnection);
}

int SandboxHost::runStandalone(const SandboxConfig& config, quint16 port, QTextStream& out)
{
    auto* server = new SandboxComfyServer(config, QCoreApplication::instance());
    QString error;
    if (!server->listen(port, &error)) {
        out << "Sandbox ComfyUI could not start: " << error << Qt::endl;
        delete server;
        return 1;
    }
    installQuitOnSignals();
    out << "Sandbox ComfyUI listening on " << server->url().toString()
        << " (output: " << server->config().outputDir << ")" << Qt::endl;
    return 0;
}

} // namespace gd::sandbox
