#pragma once

#include "net/HttpRequest.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>

class QTcpSocket;
class QTimer;

namespace gd::sandbox {

class SandboxLlmServer;

// One client connection of SandboxLlmServer: parses HTTP/1.1 requests (Content-Length bodies, keep-alive, one
// request at a time) and plays back the response the server planned for it - optionally after a silent hold,
// as a plain body or as an SSE stream written piece by piece with chunked framing (Express' res.write), with
// a clean end, an abrupt close or a stall. A client that goes away before the planned end is reported to the
// server once (the "client disconnected" LM Studio logs).
class LlmStreamConnection : public QObject
{
    Q_OBJECT
public:
    struct Piece
    {
        int delayMs = 0;  // wait before writing this piece
        QByteArray bytes; // already framed SSE text ("data: {...}\n\n")
    };
    enum class End
    {
        Complete, // terminate the response normally (chunked terminator / full body), keep-alive allowed
        Close,    // close the socket after the last piece without any terminator
        Stall,    // send nothing more and keep the socket open until the client goes away
    };
    struct Plan
    {
        int holdMs = 0; // silence before the status line (JIT model load, prompt processing); < 0 = forever
        int status = 200;
        QList<QPair<QByteArray, QByteArray>> headers;
        bool streaming = false; // chunked transfer, pieces written over time
        QByteArray body;        // non-streaming body
        int sendBodyBytes = -1; // non-streaming: write only this many body bytes, then close (-1 = all)
        QList<Piece> pieces;
        End end = End::Complete;
        bool countsAsStream = false; // a disconnect before the end counts as an aborted stream
        bool headOnly = false;       // HEAD: status line and headers only
    };

    LlmStreamConnection(QTcpSocket* socket, SandboxLlmServer* server);
    ~LlmStreamConnection() override;

    void respond(const Plan& plan);
    void abort();
    bool isBusy() const { return m_busy; }

private:
    void onReadyRead();
    void onDisconnected();
    void startPlayback();
    void playNext();
    void finishPlayback();
    void writeHead();
    void writeChunk(const QByteArray& bytes);

    QPointer<QTcpSocket> m_socket;
    SandboxLlmServer* m_server;
    QTimer* m_timer;
    net::HttpRequest m_request;
    bool m_haveHead = false;
    qint64 m_expectedBody = 0;
    bool m_busy = false;     // a request is being answered; further pipelined requests wait
    bool m_keepAlive = true; // of the request being answered
    bool m_headWritten = false;
    bool m_closed = false;
    Plan m_plan;
    int m_next = 0;
    bool m_delayDone = false; // the delay of piece m_next has elapsed
};

} // namespace gd::sandbox
