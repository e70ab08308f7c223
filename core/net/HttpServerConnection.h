#pragma once

#include "net/HttpRequest.h"

#include <QObject>
#include <QPointer>

class QTcpSocket;

namespace gd::net {

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
    void trickleNext();

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
    // A trickled response still being written: later pipelined requests wait until it is done.
    QByteArray m_trickleRest;
    int m_trickleIntervalMs = 0;
    int m_trickleChunkBytes = 0;
    bool m_trickleClose = false;
    bool m_trickling = false;
};

} // namespace gd::net
