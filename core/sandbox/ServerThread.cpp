#include "sandbox/ServerThread.h"

#include <QCoreApplication>
#include <QSocketNotifier>
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
} // namespace

ServerThread::~ServerThread()
{
    stop();
}

bool ServerThread::start(QObject* server, const QString& threadName, std::function<bool(QString*)> listen,
                         std::function<void()> close, QString* error)
{
    if (m_thread)
        stop();
    m_thread = new QThread;
    m_thread->setObjectName(threadName);
    server->moveToThread(m_thread);
    QObject::connect(m_thread, &QThread::finished, server, &QObject::deleteLater);
    m_thread->start();
    bool ok = false;
    QString message;
    QMetaObject::invokeMethod(
        server, [&]() { ok = listen(&message); }, Qt::BlockingQueuedConnection);
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
    m_close = std::move(close);
    return true;
}

void ServerThread::stop()
{
    if (!m_thread)
        return;
    if (m_server && m_close)
        QMetaObject::invokeMethod(m_server, m_close, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_server = nullptr;
    m_close = {};
}

bool ServerThread::isRunning() const
{
    return m_thread && m_server;
}

void ServerThread::invoke(std::function<void()> fn, bool blocking) const
{
    QObject* server = m_server;
    if (!server)
        return;
    const Qt::ConnectionType type = !blocking                                    ? Qt::QueuedConnection
                                    : QThread::currentThread() == server->thread() ? Qt::DirectConnection
                                                                                  : Qt::BlockingQueuedConnection;
    QMetaObject::invokeMethod(server, std::move(fn), type);
}

void ServerThread::quitApplicationOnSignals()
{
    if (g_signalPipe[0] >= 0 || ::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalPipe) != 0)
        return;
    auto* notifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, QCoreApplication::instance());
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

} // namespace gd::sandbox
