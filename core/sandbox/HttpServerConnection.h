#pragma once

#include "sandbox/HttpRequest.h"

#include <QObject>
#include <QPointer>

class QTcpSocket;

namespace gd::sandbox {

class MiniHttpServer;
struct HttpResponse;

// One client TCP connection of MiniHttpServer: parses requests (Content-Length bodies, keep-alive,
// pipelining), answers them through the server's handler, and hands WebSocket upgrades over untouched. The
// handshake bytes are only peeked, never read, so QWebSocketServer::handleConnection still sees the complete
// request.
class HttpServerConnection : public QObject
{
    Q_OBJECT
public:
    HttpServerConnection(QTcpSocket* socket, MiniHttpServer* server);
    ~HttpServerConnection() override;

    void abort(); // drop the connection without a response (restart/die faults)

private:
    void onReadyRead();
    void finishRequest();
    void writeResponseAndMaybeClose(const HttpResponse& response, bool headOnly, bool keepAlive);

    enum class State
    {
        ReadingHead,
        ReadingBody,
        Closed
    };

    QPointer<QTcpSocket> m_socket;
    MiniHttpServer* m_server;
    State m_state = State::ReadingHead;
    HttpRequest m_request;
    qint64 m_expectedBody = 0;
};

} // namespace gd::sandbox
