#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <optional>

namespace gd::net {

// One parsed HTTP/1.1 request as MiniHttpServer's handlers see it (path and query already
// percent-decoded).
struct HttpRequest
{
    QByteArray method;  // upper case as sent ("GET", "POST", "HEAD", ...)
    QByteArray target;  // raw request-target ("/view?filename=a%20b.png")
    QByteArray version; // "HTTP/1.1"
    QString path;       // decoded path without query ("/view")
    QList<QPair<QString, QString>> query;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QByteArray header(const QByteArray& name) const; // case-insensitive, first occurrence, empty when absent
    bool hasHeader(const QByteArray& name) const;
    bool hasQuery(const QString& key) const;
    QString queryValue(const QString& key, const QString& fallback = {}) const; // first occurrence
    bool wantsKeepAlive() const;
    bool isWebSocketUpgrade() const;

    // Parses the request line and header block (everything before the blank line). Nullopt + error when
    // malformed.
    static std::optional<HttpRequest> parseHead(const QByteArray& head, QString* error);
    // application/x-www-form-urlencoded style query: '&'-separated, '+' is a space, %XX decoded as UTF-8
    // (yarl rules).
    static QList<QPair<QString, QString>> parseQuery(const QByteArray& rawQuery);
};

} // namespace gd::net
