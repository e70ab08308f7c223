#include "net/HttpClient.h"

#include <QHttpMultiPart>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace gd::net {

HttpClient::HttpClient(const QUrl& baseUrl, QObject* parent)
    : QObject(parent), m_base(baseUrl), m_nam(new QNetworkAccessManager(this))
{
    // Never pick up a system proxy for loopback servers; a proxy in between would break the
    // origin guard and the WebSocket routing of ComfyUI.
    m_nam->setProxy(QNetworkProxy::NoProxy);
    m_nam->setAutoDeleteReplies(false);
}

void HttpClient::setBearerToken(const QString& token)
{
    if (token.isEmpty())
        m_headers.remove("Authorization");
    else
        m_headers.insert("Authorization", "Bearer " + token.toUtf8());
}

void HttpClient::setHeader(const QByteArray& name, const QByteArray& value)
{
    m_headers.insert(name, value);
}

QUrl HttpClient::urlFor(const QString& path, const QUrlQuery& query) const
{
    QUrl url = m_base;
    QString basePath = url.path();
    while (basePath.endsWith(QLatin1Char('/')))
        basePath.chop(1);
    url.setPath(basePath + path);
    if (!query.isEmpty()) {
        // QUrlQuery leaves '+', '&' inside values ambiguous unless fully encoded.
        QUrlQuery q;
        for (const auto& item : query.queryItems(QUrl::FullyDecoded))
            q.addQueryItem(QString::fromLatin1(QUrl::toPercentEncoding(item.first)),
                           QString::fromLatin1(QUrl::toPercentEncoding(item.second)));
        url.setQuery(q.query(QUrl::FullyEncoded), QUrl::StrictMode);
    }
    return url;
}

QNetworkRequest HttpClient::makeRequest(const QUrl& url) const
{
    QNetworkRequest req(url);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    for (auto it = m_headers.cbegin(); it != m_headers.cend(); ++it)
        req.setRawHeader(it.key(), it.value());
    return req;
}

QString HttpClient::describe(const char* verb, const QUrl& url) const
{
    return QString::fromLatin1(verb) + QLatin1Char(' ') + url.toDisplayString(QUrl::RemoveUserInfo);
}

HttpJob* HttpClient::get(const QString& path, const QUrlQuery& query, const HttpLimits& limits)
{
    const QUrl url = urlFor(path, query);
    return new HttpJob(m_nam->get(makeRequest(url)), limits, describe("GET", url), this);
}

HttpJob* HttpClient::postJson(const QString& path, const QJsonDocument& body, const HttpLimits& limits)
{
    const QUrl url = urlFor(path);
    QNetworkRequest req = makeRequest(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    return new HttpJob(m_nam->post(req, body.toJson(QJsonDocument::Compact)), limits, describe("POST", url),
                       this);
}

HttpJob* HttpClient::postMultipart(const QString& path, QHttpMultiPart* multipart, const HttpLimits& limits)
{
    const QUrl url = urlFor(path);
    QNetworkReply* reply = m_nam->post(makeRequest(url), multipart);
    multipart->setParent(reply);
    return new HttpJob(reply, limits, describe("POST", url), this);
}

HttpJob* HttpClient::download(const QString& path, const QUrlQuery& query, const QString& filePath,
                              const HttpLimits& limits)
{
    HttpJob* job = get(path, query, limits);
    job->setDownloadTarget(filePath);
    return job;
}

} // namespace gd::net
