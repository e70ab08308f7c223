#include "sandbox/LlmStreamConnection.h"

#include "net/HttpResponse.h"
#include "sandbox/SandboxLlmServer.h"

#include <QDateTime>
#include <QLocale>
#include <QTcpSocket>
#include <QTimer>

namespace gd::sandbox {

namespace {
constexpr qint64 kMaxHeadBytes = 64 * 1024;
constexpr qint64 kMaxBodyBytes = 64LL * 1024 * 1024;

QByteArray httpDate()
{
    return QLocale::c()
               .toString(QDateTime::currentDateTimeUtc(), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss"))
               .toLatin1() +
           " GMT";
}

QByteArray reason(int status)
{
    switch (status) {
    case 401:
        return "Unauthorized";
    case 503:
        return "Service Unavailable";
    case 204:
        return "No Content";
    default:
        return net::HttpResponse::reasonPhrase(status);
    }
}
} // namespace

LlmStreamConnection::LlmStreamConnection(QTcpSocket* socket, SandboxLlmServer* server)
    : QObject(server), m_socket(socket), m_server(server), m_timer(new QTimer(this))
{
    socket->setParent(this);
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, &LlmStreamConnection::playNext);
    connect(socket, &QTcpSocket::readyRead, this, &LlmStreamConnection::onReadyRead);
    connect(socket, &QTcpSocket::disconnected, this, &LlmStreamConnection::onDisconnected);
    if (socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &LlmStreamConnection::onReadyRead, Qt::QueuedConnection);
}

LlmStreamConnection::~LlmStreamConnection() = default;

void LlmStreamConnection::abort()
{
    m_closed = true;
    m_timer->stop();
    if (m_socket)
        m_socket->abort();
}

void LlmStreamConnection::onDisconnected()
{
    // A response still in progress means the client went away mid-answer (QNetworkReply::abort, a timeout).
    if (m_busy && m_plan.countsAsStream && !m_closed)
        m_server->noteAbortedStream();
    m_closed = true;
    m_busy = false;
    m_timer->stop();
    deleteLater();
}

void LlmStreamConnection::onReadyRead()
{
    while (m_socket && !m_closed && !m_busy) {
        if (!m_haveHead) {
            const QByteArray peeked =
                m_socket->peek(qMin<qint64>(m_socket->bytesAvailable(), kMaxHeadBytes + 4));
            const int end = peeked.indexOf("\r\n\r\n");
            if (end < 0) {
                if (peeked.size() > kMaxHeadBytes) {
                    m_socket->readAll();
                    m_keepAlive = false;
                    m_busy = true;
                    Plan plan;
                    plan.status = 431;
                    respond(plan);
                }
                return;
            }
            m_socket->read(end + 4);
            QString error;
            auto request = net::HttpRequest::parseHead(peeked.left(end), &error);
            if (!request) {
                m_keepAlive = false;
                m_busy = true;
                Plan plan;
                plan.status = 400;
                plan.body = error.toUtf8();
                respond(plan);
                return;
            }
            m_request = *request;
            bool ok = true;
            const QByteArray length = m_request.header("Content-Length");
            m_expectedBody = length.isEmpty() ? 0 : length.trimmed().toLongLong(&ok);
            if (!ok || m_expectedBody < 0 || m_expectedBody > kMaxBodyBytes) {
                m_keepAlive = false;
                m_busy = true;
                Plan plan;
                plan.status = 413;
                respond(plan);
                return;
            }
            m_haveHead = true;
        }
        const qint64 missing = m_expectedBody - m_request.body.size();
        if (missing > 0)
            m_request.body += m_socket->read(missing);
        if (m_request.body.size() < m_expectedBody)
            return;
        m_haveHead = false;
        m_busy = true;
        m_keepAlive = m_request.wantsKeepAlive();
        const net::HttpRequest request = std::move(m_request);
        m_request = net::HttpRequest();
        m_server->handle(this, request);
    }
}

void LlmStreamConnection::respond(const Plan& plan)
{
    if (m_closed || !m_socket)
        return;
    m_plan = plan;
    m_next = 0;
    m_headWritten = false;
    if (plan.holdMs < 0)
        return; // held until the client goes away
    if (plan.holdMs > 0)
        QTimer::singleShot(plan.holdMs, this, &LlmStreamConnection::startPlayback);
    else
        startPlayback();
}

void LlmStreamConnection::writeHead()
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(m_plan.status) + ' ' + reason(m_plan.status) + "\r\n";
    for (const auto& h : m_plan.headers)
        out += h.first + ": " + h.second + "\r\n";
    if (m_plan.streaming)
        out += "Transfer-Encoding: chunked\r\n";
    else
        out += "Content-Length: " + QByteArray::number(m_plan.body.size()) + "\r\n";
    out += "Date: " + httpDate() + "\r\n";
    const bool keepAlive = m_keepAlive && m_plan.end == End::Complete;
    if (!m_plan.streaming)
        out += keepAlive ? QByteArrayLiteral("Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n")
                         : QByteArrayLiteral("Connection: close\r\n");
    out += "\r\n";
    m_socket->write(out);
    m_headWritten = true;
}

void LlmStreamConnection::writeChunk(const QByteArray& bytes)
{
    if (bytes.isEmpty())
        return;
    m_socket->write(QByteArray::number(bytes.size(), 16) + "\r\n" + bytes + "\r\n");
}

void LlmStreamConnection::startPlayback()
{
    if (m_closed || !m_socket)
        return;
    writeHead();
    if (!m_plan.streaming) {
        if (m_plan.headOnly) {
            // Content-Length already describes the body a GET would get.
        } else if (m_plan.sendBodyBytes >= 0) {
            m_socket->write(m_plan.body.left(m_plan.sendBodyBytes));
            m_plan.end = End::Close;
        } else {
            m_socket->write(m_plan.body);
        }
        finishPlayback();
        return;
    }
    playNext();
}

void LlmStreamConnection::playNext()
{
    if (m_closed || !m_socket)
        return;
    // Pieces without a delay go out back to back; a delay hands control back to the event loop so the client
    // sees them arrive over time (and so a disconnect is noticed between two pieces).
    while (m_next < m_plan.pieces.size()) {
        const Piece& piece = m_plan.pieces.at(m_next);
        if (piece.delayMs > 0 && !m_delayDone) {
            m_delayDone = true;
            m_timer->start(piece.delayMs);
            return;
        }
        m_delayDone = false;
        writeChunk(piece.bytes);
        ++m_next;
        if (m_socket->state() != QAbstractSocket::ConnectedState)
            return;
    }
    finishPlayback();
}

void LlmStreamConnection::finishPlayback()
{
    if (!m_socket)
        return;
    switch (m_plan.end) {
    case End::Stall:
        // Keep m_busy: the request is still "being answered" until the client gives up.
        m_socket->flush();
        return;
    case End::Close:
        m_closed = true;
        m_busy = false;
        m_socket->disconnectFromHost();
        return;
    case End::Complete:
        if (m_plan.streaming)
            m_socket->write("0\r\n\r\n");
        m_busy = false;
        if (!m_keepAlive) {
            m_closed = true;
            m_socket->disconnectFromHost();
            return;
        }
        if (m_socket->bytesAvailable() > 0)
            QMetaObject::invokeMethod(this, &LlmStreamConnection::onReadyRead, Qt::QueuedConnection);
        return;
    }
}

} // namespace gd::sandbox
