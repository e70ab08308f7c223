#pragma once

#include "net/HttpJob.h"

#include <QByteArray>
#include <QHash>
#include <QJsonDocument>
#include <QNetworkRequest>
#include <QObject>
#include <QUrl>
#include <QUrlQuery>

class QNetworkAccessManager;
class QHttpMultiPart;

namespace gd::net {

// The one QNetworkAccessManager owner for a server: base URL, extra headers (optional bearer token
// for reverse proxies), and factory for HttpJob objects. Lives on the thread that uses it.
class HttpClient : public QObject
{
    Q_OBJECT
public:
    explicit HttpClient(const QUrl& baseUrl, QObject* parent = nullptr);

    QUrl baseUrl() const { return m_base; }
    void setBearerToken(const QString& token);
    void setHeader(const QByteArray& name, const QByteArray& value);
    const QHash<QByteArray, QByteArray>& headers() const { return m_headers; }

    // `path` is appended to the base URL path ("/prompt"); the query is encoded by QUrlQuery with
    // every reserved character percent-encoded.
    QUrl urlFor(const QString& path, const QUrlQuery& query = {}) const;

    HttpJob* get(const QString& path, const QUrlQuery& query = {}, const HttpLimits& limits = {});
    HttpJob* postJson(const QString& path, const QJsonDocument& body, const HttpLimits& limits = {});
    HttpJob* postMultipart(const QString& path, QHttpMultiPart* multipart, const HttpLimits& limits = {});
    // Streams the response body into `filePath` (see HttpJob::setDownloadTarget).
    HttpJob* download(const QString& path, const QUrlQuery& query, const QString& filePath,
                      const HttpLimits& limits = {});

    QNetworkAccessManager* manager() const { return m_nam; }

private:
    QNetworkRequest makeRequest(const QUrl& url) const;
    QString describe(const char* verb, const QUrl& url) const;

    QUrl m_base;
    QNetworkAccessManager* m_nam;
    QHash<QByteArray, QByteArray> m_headers;
};

} // namespace gd::net
