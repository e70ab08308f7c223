#include "sandbox/SandboxLlmHost.h"

#include "sandbox/SandboxLlmServer.h"

#include <QCoreApplication>
#include <QTextStream>
#include <QThread>

namespace gd::sandbox {


SandboxLlmHost::SandboxLlmHost(QObject* parent) : QObject(parent) {}

SandboxLlmHost::~SandboxLlmHost()
{
    stop();
}

bool SandboxLlmHost::start(const SandboxLlmConfig& config, quint16 port, QString* error)
{
    auto* server = new SandboxLlmServer(config);
    if (!m_runner.start(
            server, QStringLiteral("sandbox-llm"), [server, port](QString* why) { return server->listen(port, why); },
            [server]() { server->close(); }, error))
        return false;
    m_port = server->port();
    m_url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
    return true;
}

void SandboxLlmHost::stop()
{
    m_runner.stop();
}

bool SandboxLlmHost::isRunning() const
{
    return m_runner.isRunning();
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
    return static_cast<SandboxLlmServer*>(m_runner.server());
}

void SandboxLlmHost::addFault(const LlmFaultRule& rule)
{
    // Blocking so that a request the caller sends right afterwards is guaranteed to see the fault.
    if (auto* server = this->server())
        m_runner.invoke([server, rule]() { server->addFault(rule); }, true);
}

void SandboxLlmHost::setModelLoaded(bool loaded)
{
    if (auto* server = this->server())
        m_runner.invoke([server, loaded]() { server->setModelLoaded(loaded); }, true);
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
    ServerThread::quitApplicationOnSignals();
    out << "Sandbox LLM (" << config.flavour << ") listening on " << server->url().toString()
        << " (model: " << config.modelId << ")" << Qt::endl;
    return 0;
}

} // namespace gd::sandbox
