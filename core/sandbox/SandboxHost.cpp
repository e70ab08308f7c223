#include "sandbox/SandboxHost.h"

#include "sandbox/SandboxComfyServer.h"

#include <QCoreApplication>
#include <QTextStream>
#include <QThread>

namespace gd::sandbox {


SandboxHost::SandboxHost(QObject* parent) : QObject(parent) {}

SandboxHost::~SandboxHost()
{
    stop();
}

bool SandboxHost::start(const SandboxConfig& config, quint16 port, QString* error)
{
    auto* server = new SandboxComfyServer(config);
    if (!m_runner.start(
            server, QStringLiteral("sandbox-comfyui"), [server, port](QString* why) { return server->listen(port, why); },
            [server]() { server->close(); }, error))
        return false;
    m_port = server->port();
    m_url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
    return true;
}

void SandboxHost::stop()
{
    m_runner.stop();
}

bool SandboxHost::isRunning() const
{
    return m_runner.isRunning();
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
    return static_cast<SandboxComfyServer*>(m_runner.server());
}

void SandboxHost::addFault(const FaultRule& rule)
{
    if (auto* server = this->server())
        m_runner.invoke([server, rule]() { server->addFault(rule); }, false);
}

void SandboxHost::setMarkerNodeInstalled(bool installed)
{
    if (auto* server = this->server())
        m_runner.invoke([server, installed]() { server->setMarkerNodeInstalled(installed); }, false);
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
    ServerThread::quitApplicationOnSignals();
    out << "Sandbox ComfyUI listening on " << server->url().toString()
        << " (output: " << server->config().outputDir << ")" << Qt::endl;
    return 0;
}

} // namespace gd::sandbox
