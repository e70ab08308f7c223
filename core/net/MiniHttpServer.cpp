#include "net/MiniHttpServer.h"

#include "net/HttpServerConnection.h"

#include <QHostAddress>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketServer>

namespace gd::net {

MiniHttpServer::MiniHttpServer(QObject* parent)
    : QObject(parent), m_tcp(new QTcpServer(this)),
      m_ws(new QWebSocketServer(QStringLiteral("gemdirect"), QWebSocketServer::NonSecureMode, this))
{
    connect(m_tcp, &QTcpServer::newConnection, this, &MiniHttpServer::onNewConnection);
    connect(m_ws, &QWebSocketServer::newConnection, this, [this]() {
        while (m_ws->hasPendingConnections()) {
            QWebSocket* socket = m_ws->nextPendingConnection();
            if (socket)
                Q_EMIT webSocketConnected(socket);
        }
    });
}

MiniHttpServer::~MiniHttpServer() = default;

void MiniHttpServer::setHandler(Handler handler)
{
    m_handler = std::move(handler);
}

void MiniHttpServer::setMaxBodyBytes(qint64 bytes)
{
    m_maxBodyBytes = bytes;
}

bool MiniHttpServer::listen(quint16 port, QString* error)
{
    return listen(QHostAddress(QHostAddress::LocalHost), port, error);
}

bool MiniHttpServer::listen(const QHostAddress& address, quint16 port, QString* error)
{
    if (m_tcp->isListening())
        return true;
    if (!address.isLoopback()) {
        if (error)
            *error = QStringLiteral("refusing to listen on %1: only loopback addresses (127.0.0.1, ::1) are allowed")
                         .arg(address.toString());
        return false;
    }
    if (!m_tcp->listen(address, port)) {
        if (error) {
            const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
                                     ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
                                     : address.toString();
            *error = QStringLiteral("cannot listen on %1:%2: %3").arg(host).arg(port).arg(m_tcp->errorString());
        }
        return false;
    }
    m_port = m_tcp->serverPort();
    return true;
}

void MiniHttpServer::stopListening()
{
    m_tcp->close();
}

bool MiniHttpServer::isListening() const
{
    return m_tcp->isListening();
}

quint16 MiniHttpServer::port() const
{
    return m_port;
}

void MiniHttpServer::dropHttpConnections()
{
    const auto connections = m_connections;
    m_connections.clear();
    for (const auto& c : connections)
        if (c)
            c->abort();
}

bool MiniHttpServer::isWebSocketPath(const QString& path)
{
    return path == QLatin1String("/ws") || path == QLatin1String("/api/ws");
}

bool MiniHttpServer::originAllowed(const HttpRequest& request)
{
    if (!request.hasHeader("Host") || !request.hasHeader("Origin"))
        return true;
    const QString host = QString::fromUtf8(request.header("Host")).toLower();
    const QUrl origin(QString::fromUtf8(request.header("Origin")));
    const QUrl hostUrl(QStringLiteral("//") + host);
    const QString hostName = hostUrl.host();
    const QHostAddress address(hostName);
    const bool loopback =
        hostName == QLatin1String("localhost") || (!address.isNull() && address.isLoopback());
    QString hostDomain = host;
    QString originDomain = origin.authority().toLower();
    // Like the Python code: if one side has no port, compare host names only.
    if (origin.port() < 0)
        hostDomain = hostName;
    if (hostUrl.port() < 0)
        originDomain = origin.host().toLower();
    if (loopback && !hostDomain.isEmpty() && !originDomain.isEmpty())
        return hostDomain == originDomain;
    return true;
}

HttpResponse MiniHttpServer::dispatch(const HttpRequest& request)
{
    if (!originAllowed(request))
        return HttpResponse::empty(403);
    if (request.method == "OPTIONS")
        return HttpResponse::empty(200);
    if (!m_handler)
        return HttpResponse::text(404, "404: Not Found");
    return m_handler(request);
}

void MiniHttpServer::handOverToWebSocket(QTcpSocket* socket)
{
    m_ws->handleConnection(socket);
}

void MiniHttpServer::onNewConnection()
{
    while (m_tcp->hasPendingConnections()) {
        QTcpSocket* socket = m_tcp->nextPendingConnection();
        if (!socket)
            continue;
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); // aiohttp sets TCP_NODELAY too
        m_connections.removeAll(QPointer<HttpServerConnection>());
        m_connections.append(new HttpServerConnection(socket, this));
    }
}

} // namespace gd::net
