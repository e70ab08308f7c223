#include "net/HttpJob.h"

#include <QNetworkReply>

namespace gd::net {

namespace {
constexpr int kBodyInErrorMax = 4096;
}

HttpJob::HttpJob(QNetworkReply* reply, const HttpLimits& limits, const QString& what, QObject* parent)
    : QObject(parent), m_reply(reply), m_limits(limits), m_what(what)
{
    m_clock.start();
    m_idleTimer.setSingleShot(true);
    m_totalTimer.setSingleShot(true);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        fail({QStringLiteral("timeout"),
              QStringLiteral("%1: no data for %2 s").arg(m_what).arg(m_limits.idleTimeoutMs / 1000.0),
              {}});
    });
    connect(&m_totalTimer, &QTimer::timeout, this, [this] {
        fail({QStringLiteral("timeout"),
              QStringLiteral("%1: not finished after %2 s").arg(m_what).arg(m_limits.totalTimeoutMs / 1000.0),
              {}});
    });
    if (m_limits.idleTimeoutMs > 0)
        m_idleTimer.start(m_limits.idleTimeoutMs);
    if (m_limits.totalTimeoutMs > 0)
        m_totalTimer.start(m_limits.totalTimeoutMs);
    connect(reply, &QNetworkReply::readyRead, this, &HttpJob::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &HttpJob::onFinished);
    connect(reply, &QNetworkReply::uploadProgress, this, [this] {
        if (m_limits.idleTimeoutMs > 0)
            m_idleTimer.start(m_limits.idleTimeoutMs);
    });
}

HttpJob::~HttpJob()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
    if (m_downloadFile.isOpen()) {
        m_downloadFile.close();
        m_downloadFile.remove();
    }
}

void HttpJob::setDownloadTarget(const QString& path)
{
    m_downloadPath = path;
}

void HttpJob::abort()
{
    fail({QStringLiteral("cancelled"), QStringLiteral("%1: cancelled").arg(m_what), {}});
}

void HttpJob::onReadyRead()
{
    if (m_done || !m_reply)
        return;
    if (m_limits.idleTimeoutMs > 0)
        m_idleTimer.start(m_limits.idleTimeoutMs);
    const QByteArray chunk = m_reply->readAll();
    m_received += chunk.size();
    if (m_limits.maxResponseBytes > 0 && m_received > m_limits.maxResponseBytes) {
        fail({QStringLiteral("oversized"),
              QStringLiteral("%1: response larger than %2 bytes").arg(m_what).arg(m_limits.maxResponseBytes),
              {}});
        return;
    }
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const bool toFile = !m_downloadPath.isEmpty() && status >= 200 && status < 300;
    if (toFile) {
        if (!m_downloadFile.isOpen()) {
            m_downloadFile.setFileName(m_downloadPath + QStringLiteral(".part"));
            if (!m_downloadFile.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
                fail({QStringLiteral("io"),
                      QStringLiteral("Cannot write %1: %2")
                          .arg(m_downloadFile.fileName(), m_downloadFile.errorString()),
                      {}});
                return;
            }
        }
        if (m_downloadFile.write(chunk) != chunk.size()) {
            fail({QStringLiteral("io"),
                  QStringLiteral("Cannot write %1: %2")
                      .arg(m_downloadFile.fileName(), m_downloadFile.errorString()),
                  {}});
            return;
        }
    } else {
        m_body += chunk;
    }
    Q_EMIT progress(m_received, m_reply->header(QNetworkRequest::ContentLengthHeader).toLongLong());
}

void HttpJob::onFinished()
{
    if (m_done || !m_reply)
        return;
    onReadyRead();
    if (m_done)
        return;
    m_status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const auto netError = m_reply->error();
    if (m_status == 0 && netError != QNetworkReply::NoError) {
        QString kind = QStringLiteral("network");
        if (netError == QNetworkReply::ConnectionRefusedError ||
            netError == QNetworkReply::HostNotFoundError || netError == QNetworkReply::TimeoutError)
            kind = QStringLiteral("unreachable");
        fail({kind,
              QStringLiteral("%1: %2").arg(m_what, m_reply->errorString()),
              {{QStringLiteral("networkError"), int(netError)}}});
        return;
    }
    if (m_status < 200 || m_status >= 300) {
        QJsonObject detail{{QStringLiteral("status"), m_status},
                           {QStringLiteral("body"), QString::fromUtf8(m_body.left(kBodyInErrorMax))}};
        fail({QStringLiteral("http"), QStringLiteral("%1: HTTP %2").arg(m_what).arg(m_status), detail});
        return;
    }
    if (m_downloadFile.isOpen() || !m_downloadPath.isEmpty()) {
        if (!m_downloadFile.isOpen()) { // empty body: still produce the (empty) file
            m_downloadFile.setFileName(m_downloadPath + QStringLiteral(".part"));
            if (!m_downloadFile.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
                fail({QStringLiteral("io"),
                      QStringLiteral("Cannot write %1").arg(m_downloadFile.fileName()),
                      {}});
                return;
            }
        }
        const bool flushed = m_downloadFile.flush();
        m_downloadFile.close();
        QFile::remove(m_downloadPath);
        if (!flushed || !m_downloadFile.rename(m_downloadPath)) {
            m_downloadFile.remove();
            fail({QStringLiteral("io"), QStringLiteral("Cannot write %1").arg(m_downloadPath), {}});
            return;
        }
    }
    m_done = true;
    m_idleTimer.stop();
    m_totalTimer.stop();
    Q_EMIT succeeded(m_status, m_body);
    finish();
}

void HttpJob::fail(const Error& error)
{
    if (m_done)
        return;
    m_done = true;
    m_idleTimer.stop();
    m_totalTimer.stop();
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
    if (m_downloadFile.isOpen()) {
        m_downloadFile.close();
        m_downloadFile.remove();
    }
    Q_EMIT failed(error);
    finish();
}

void HttpJob::finish()
{
    Q_EMIT finished();
    deleteLater();
}

} // namespace gd::net
