#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

namespace gd::net {

// One HTTP response as aiohttp would send it (status, headers, body); serialised by HttpServerConnection.
struct HttpResponse
{
    int status = 200;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    bool closeConnection = false;
    // Slow-loris answers (sandbox fault): the head goes out at once, then the body trickles out
    // `trickleChunkBytes` at a time every `trickleIntervalMs`, so a client's idle timer never fires and
    // only a whole-request bound ends the wait. 0 = the whole response in one write.
    int trickleIntervalMs = 0;
    int trickleChunkBytes = 0;

    void setHeader(const QByteArray& name, const QByteArray& value);
    QByteArray header(const QByteArray& name) const;

    // application/json; charset=utf-8 (web.json_response)
    static HttpResponse json(const QByteArray& jsonText, int status = 200);
    // web.Response(status=N): empty body, application/octet-stream, as ComfyUI's bare "return
    // web.Response(...)"
    static HttpResponse empty(int status);
    // text/plain; charset=utf-8, e.g. aiohttp's "404: Not Found"
    static HttpResponse text(int status, const QByteArray& body);
    static QByteArray reasonPhrase(int status);

    // Status line + headers (+ body unless headOnly). Content-Length always describes the full body; Date
    // is added, and aiohttp's Server header unless the response sets its own.
    QByteArray serialize(bool headOnly, bool keepAlive) const;
};

} // namespace gd::net
