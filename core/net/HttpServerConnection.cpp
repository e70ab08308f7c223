#include "net/HttpServerConnection.h"

#include "net/HttpResponse.h"
#include "net/MiniHttpServer.h"

#include <QTcpSocket>
#include <QTimer>

namespace gd::net {

namespace {
constexpr qint64 kMaxHeadBytes = 64 * 1024;
}

HttpServerConnection::HttpServerConnection(QTcpSocket* socket, MiniHttpServer* server)
    : QObject(server), m_socket(socket), m_server(server)
{
    connect(socket, &QTcpSocket::readyRead, this, &HttpServerConnection::onReadyRead);
    // `disconnected` is also emitted from the socket's own destructor (~QAbstractSocket disconnects
    // from the host when the server and its children go away), when the object is no longer a
    // QTcpSocket: reach it only as the QObject taken here, never through m_socket (UBSan: invalid
    // downcast in QPointer<QTcpSocket>).
    QObject* const socketObject = socket;
    connect(socket, &QTcpSocket::disconnected, this, [this, socketObject]() {
        m_state = State::Closed;
        socketObject->deleteLater();
        deleteLater();
    });
    if (socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpServerConnection::onReadyRead, Qt::QueuedConnection);
}

HttpServerConnection::~HttpServerConnection() = default;

void HttpServerConnection::abort()
{
    m_state = State::Closed;
    if (m_socket)
        m_socket->abort();
}

void HttpServerConnection::onReadyRead()
{
    while (m_socket && m_state != State::Closed && !m_trickling) {
        if (m_state == State::ReadingHead) {
            if (m_socket->bytesAvailable() <= 0)
                return;
            const QByteArray peeked =
                m_socket->peek(qMin<qint64>(m_socket->bytesAvailable(), kMaxHeadBytes + 4));
            const int end = peeked.indexOf("\r\n\r\n");
            if (end < 0) {
                if (peeked.size() > kMaxHeadBytes) {
                    m_socket->readAll();
                    writeResponseAndMaybeClose(HttpResponse::text(400, "400: Bad Request"), false, false);
                }
                return;
            }
            QString error;
            auto request = HttpRequest::parseHead(peeked.left(end), &error);
            if (!request) {
                m_socket->readAll();
                writeResponseAndMaybeClose(HttpResponse::text(400, "400: " + error.toUtf8()), false, false);
                return;
            }
            if (m_server->webSocketsEnabled() && request->isWebSocketUpgrade() &&
                MiniHttpServer::isWebSocketPath(request->path)) {
                if (!MiniHttpServer::originAllowed(*request)) {
                    m_socket->read(end + 4);
                    writeResponseAndMaybeClose(HttpResponse::empty(403), false, false);
                    return;
                }
                // Nothing of the handshake has been consumed: QWebSocketServer reads it from the socket
                // itself.
                QTcpSocket* socket = m_socket;
                disconnect(socket, nullptr, this, nullptr);
                m_socket = nullptr;
                m_state = State::Closed;
                m_server->handOverToWebSocket(socket);
                deleteLater();
                return;
            }
            m_socket->read(end + 4);
            m_request = *request;
            if (m_request.header("Transfer-Encoding").toLower().contains("chunked")) {
                writeResponseAndMaybeClose(
                    HttpResponse::text(501, "501: chunked request bodies are not supported"), false, false);
                return;
            }
            bool ok = true;
            const QByteArray lengthHeader = m_request.header("Content-Length");
            m_expectedBody = lengthHeader.isEmpty() ? 0 : lengthHeader.trimmed().toLongLong(&ok);
            if (!ok || m_expectedBody < 0) {
                writeResponseAndMaybeClose(HttpResponse::text(400, "400: Bad Request (Content-Length)"),
                                           false, false);
                return;
            }
            if (m_expectedBody > m_server->maxBodyBytes()) {
                // aiohttp's HTTPRequestEntityTooLarge text; the body is not read, so the connection cannot be
                // reused.
                const QByteArray text = "Maximum request body size " +
                                        QByteArray::number(m_server->maxBodyBytes()) +
                                        " exceeded, actual body size " + QByteArray::number(m_expectedBody);
                writeResponseAndMaybeClose(HttpResponse::text(413, text), m_request.method == "HEAD", false);
                return;
            }
            m_state = State::ReadingBody;
        }
        if (m_state == State::ReadingBody) {
            const qint64 missing = m_expectedBody - m_request.body.size();
            if (missing > 0)
                m_request.body += m_socket->read(missing);
            if (m_request.body.size() < m_expectedBody)
                return;
            finishRequest();
        }
    }
}

void HttpServerConnection::finishRequest()
{
    const HttpRequest request = std::move(m_request);
    m_request = HttpRequest();
    m_expectedBody = 0;
    m_state = State::ReadingHead;
    const HttpResponse response = m_server->dispatch(request);
    writeResponseAndMaybeClose(response, request.method == "HEAD", request.wantsKeepAlive());
}

void HttpServerConnection::writeResponseAndMaybeClose(const HttpResponse& response, bool headOnly,
                                                      bool keepAlive)
{
    if (!m_socket)
        return;
    const bool close = !keepAlive || response.closeConnection;
    if (!headOnly && response.trickleIntervalMs > 0 && response.trickleChunkBytes > 0 &&
        !response.body.isEmpty()) {
        m_socket->write(response.serialize(true, !close));
        m_trickleRest = response.body;
        m_trickleIntervalMs = response.trickleIntervalMs;
        m_trickleChunkBytes = response.trickleChunkBytes;
        m_trickleClose = close;
        m_trickling = true;
        QTimer::singleShot(m_trickleIntervalMs, this, &HttpServerConnection::trickleNext);
        return;
    }
    m_socket->write(response.serialize(headOnly, !close));
    if (close) {
        m_state = State::Closed;
        m_socket->disconnectFromHost();
    }
}

void HttpServerConnection::trickleNext()
{
    if (!m_socket || m_state == State::Closed) {
        m_trickling = false;
        return;
    }
    m_socket->write(m_trickleRest.left(m_trickleChunkBytes));
    m_trickleRest.remove(0, m_trickleChunkBytes);
    if (!m_trickleRest.isEmpty()) {
        QTimer::singleShot(m_trickleIntervalMs, this, &HttpServerConnection::trickleNext);
        return;
    }
    m_trickling = false;
    if (m_trickleClose) {
        m_state = State::Closed;
        m_socket->disconnectFromHost();
        return;
    }
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpServerConnection::onReadyRead, Qt::QueuedConnection);
}

} // namespace gd::net
