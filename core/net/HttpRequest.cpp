#include "net/HttpRequest.h"

#include <QUrl>

namespace gd::net {

QByteArray HttpRequest::header(const QByteArray& name) const
{
    for (const auto& h : headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    return {};
}

bool HttpRequest::hasHeader(const QByteArray& name) const
{
    for (const auto& h : headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

bool HttpRequest::hasQuery(const QString& key) const
{
    for (const auto& q : query)
        if (q.first == key)
            return true;
    return false;
}

QString HttpRequest::queryValue(const QString& key, const QString& fallback) const
{
    for (const auto& q : query)
        if (q.first == key)
            return q.second;
    return fallback;
}

bool HttpRequest::wantsKeepAlive() const
{
    const QByteArray connection = header("Connection").toLower();
    if (version == "HTTP/1.0")
        return connection.contains("keep-alive");
    return !connection.contains("close");
}

bool HttpRequest::isWebSocketUpgrade() const
{
    return method == "GET" && header("Upgrade").toLower().contains("websocket") &&
           header("Connection").toLower().contains("upgrade");
}

QList<QPair<QString, QString>> HttpRequest::parseQuery(const QByteArray& rawQuery)
{
    QList<QPair<QString, QString>> out;
    for (const QByteArray& part : rawQuery.split('&')) {
        if (part.isEmpty())
            continue;
        const int eq = part.indexOf('=');
        QByteArray key = eq < 0 ? part : part.left(eq);
        QByteArray value = eq < 0 ? QByteArray() : part.mid(eq + 1);
        key.replace('+', ' ');
        value.replace('+', ' ');
        out.append({QString::fromUtf8(QByteArray::fromPercentEncoding(key)),
                    QString::fromUtf8(QByteArray::fromPercentEncoding(value))});
    }
    return out;
}

std::optional<HttpRequest> HttpRequest::parseHead(const QByteArray& head, QString* error)
{
    auto fail = [error](const QString& message) -> std::optional<HttpRequest> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    const QList<QByteArray> lines = head.split('\n');
    if (lines.isEmpty())
        return fail(QStringLiteral("empty request"));
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    if (requestLine.size() != 3 || !requestLine.at(2).startsWith("HTTP/1."))
        return fail(QStringLiteral("malformed request line"));
    HttpRequest req;
    req.method = requestLine.at(0);
    req.target = requestLine.at(1);
    req.version = requestLine.at(2);
    if (!req.target.startsWith('/'))
        return fail(QStringLiteral("request target must be an absolute path"));
    const int q = req.target.indexOf('?');
    const QByteArray rawPath = q < 0 ? req.target : req.target.left(q);
    req.path = QString::fromUtf8(QByteArray::fromPercentEncoding(rawPath));
    if (q >= 0)
        req.query = parseQuery(req.target.mid(q + 1));
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        if (line.isEmpty())
            continue;
        const int colon = line.indexOf(':');
        if (colon <= 0)
            return fail(QStringLiteral("malformed header line"));
        req.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    return req;
}

} // namespace gd::net
