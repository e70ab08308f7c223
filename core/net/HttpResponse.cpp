#include "net/HttpResponse.h"

#include <QDateTime>
#include <QLocale>

namespace gd::net {

void HttpResponse::setHeader(const QByteArray& name, const QByteArray& value)
{
    for (auto& h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0) {
            h.second = value;
            return;
        }
    }
    headers.append({name, value});
}

QByteArray HttpResponse::header(const QByteArray& name) const
{
    for (const auto& h : headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    return {};
}

HttpResponse HttpResponse::json(const QByteArray& jsonText, int status)
{
    HttpResponse r;
    r.status = status;
    r.body = jsonText;
    r.setHeader("Content-Type", "application/json; charset=utf-8");
    return r;
}

HttpResponse HttpResponse::empty(int status)
{
    HttpResponse r;
    r.status = status;
    r.setHeader("Content-Type", "application/octet-stream");
    return r;
}

HttpResponse HttpResponse::text(int status, const QByteArray& body)
{
    HttpResponse r;
    r.status = status;
    r.body = body;
    r.setHeader("Content-Type", "text/plain; charset=utf-8");
    return r;
}

QByteArray HttpResponse::reasonPhrase(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 206:
        return "Partial Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 411:
        return "Length Required";
    case 413:
        return "Request Entity Too Large";
    case 416:
        return "Requested Range Not Satisfiable";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    default:
        return "Unknown";
    }
}

QByteArray HttpResponse::serialize(bool headOnly, bool keepAlive) const
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    for (const auto& h : headers)
        out += h.first + ": " + h.second + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "Date: " +
           QLocale::c()
               .toString(QDateTime::currentDateTimeUtc(), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss"))
               .toLatin1() +
           " GMT\r\n";
    // The sandbox answers like ComfyUI's aiohttp unless a handler names itself.
    if (header("Server").isEmpty())
        out += "Server: Python/3.12 aiohttp/3.11.18\r\n";
    out += keepAlive && !closeConnection ? QByteArrayLiteral("Connection: keep-alive\r\n")
                                         : QByteArrayLiteral("Connection: close\r\n");
    out += "\r\n";
    if (!headOnly)
        out += body;
    return out;
}

} // namespace gd::net
