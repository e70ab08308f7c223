#pragma once

#include "net/HttpRequest.h"
#include "net/HttpResponse.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <functional>

class QHostAddress;
class QTcpServer;
class QTcpSocket;
class QWebSocket;
class QWebSocketServer;

namespace gd::net {

class HttpServerConnection;

// A small HTTP/1.1 server on loopback only (QTcpServer) with aiohttp's behaviours that clients notice: the
// loopback Host/Origin guard (403, empty body), OPTIONS answered with 200, a request body cap (413), HEAD
// without body. WebSocket upgrades on /ws and /api/ws go to a QWebSocketServer in NonSecureMode unless
// disabled. Serves the sandbox stand-ins and the OpenMetrics endpoint.
class MiniHttpServer : public QObject
{
    Q_OBJECT
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;

    explicit MiniHttpServer(QObject* parent = nullptr);
    ~MiniHttpServer() override;

    void setHandler(Handler handler);
    void setMaxBodyBytes(qint64 bytes);
    qint64 maxBodyBytes() const { return m_maxBodyBytes; }

    bool listen(quint16 port, QString* error); // 127.0.0.1; port 0 picks a free one
    // Binds `address`, which must be a loopback address (127.0.0.0/8 or ::1): anything else is refused
    // with an error, because nothing served here has authentication.
    bool listen(const QHostAddress& address, quint16 port, QString* error);
    void stopListening();                      // existing connections stay open
    bool isListening() const;
    quint16 port() const;
    void dropHttpConnections(); // aborts every HTTP connection (faults)
    // Off: upgrade requests on the WebSocket paths are ordinary requests for the handler (no socket is
    // handed out that nobody would own).
    void setWebSocketsEnabled(bool enabled) { m_webSocketsEnabled = enabled; }
    bool webSocketsEnabled() const { return m_webSocketsEnabled; }

    // aiohttp origin_only_middleware: Host and Origin both present, Host is loopback, host[:port] differ ->
    // refuse.
    static bool originAllowed(const HttpRequest& request);
    static bool isWebSocketPath(const QString& path);

Q_SIGNALS:
    void webSocketConnected(QWebSocket* socket); // handshake done; the receiver owns the socket

private:
    friend class HttpServerConnection;
    HttpResponse dispatch(const HttpRequest& request);
    void handOverToWebSocket(QTcpSocket* socket);
    void onNewConnection();

    QTcpServer* m_tcp;
    QWebSocketServer* m_ws;
    Handler m_handler;
    qint64 m_maxBodyBytes = 100LL * 1024 * 1024;
    quint16 m_port = 0;
    bool m_webSocketsEnabled = true;
    QList<QPointer<HttpServerConnection>> m_connections;
};

} // namespace gd::net
