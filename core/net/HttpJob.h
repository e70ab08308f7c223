#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QFile>
#include <QObject>
#include <QPointer>
#include <QTimer>

class QNetworkReply;

namespace gd::net {

// Limits for one HTTP request. Every wait has a bound: `idleTimeoutMs` (no bytes for that long)
// and `totalTimeoutMs` (whole request, defeats slow-loris answers); `maxResponseBytes` caps what an
// untrusted server can make us buffer.
struct HttpLimits
{
    int idleTimeoutMs = 30000;
    int totalTimeoutMs = 120000;
    qint64 maxResponseBytes = 64LL * 1024 * 1024;
};

// One HTTP operation: emits progress, then exactly one of succeeded/failed, then finished, then
// deletes itself. A non-2xx status is a failure of kind "http" whose detail carries the status and
// the (capped) body; statusCode()/body() stay readable in the failed handler.
class HttpJob : public QObject
{
    Q_OBJECT
public:
    HttpJob(QNetworkReply* reply, const HttpLimits& limits, const QString& what, QObject* parent = nullptr);
    ~HttpJob() override;

    // Stream the body into this file instead of memory (for frame and video downloads). The file is
    // written as <path>.part and renamed on success; a failed download leaves nothing behind.
    void setDownloadTarget(const QString& path);
    void abort();

    int statusCode() const { return m_status; }
    const QByteArray& body() const { return m_body; }
    QString description() const { return m_what; }
    qint64 elapsedMs() const { return m_clock.elapsed(); }

Q_SIGNALS:
    void progress(qint64 receivedBytes, qint64 totalBytes);
    void succeeded(int status, const QByteArray& body);
    void failed(const gd::Error& error);
    void finished();

private:
    void onReadyRead();
    void onFinished();
    void fail(const Error& error);
    void finish();

    QPointer<QNetworkReply> m_reply;
    HttpLimits m_limits;
    QString m_what;
    QByteArray m_body;
    qint64 m_received = 0;
    int m_status = 0;
    bool m_done = false;
    QTimer m_idleTimer;
    QTimer m_totalTimer;
    QElapsedTimer m_clock;
    QString m_downloadPath;
    QFile m_downloadFile;
};

} // namespace gd::net
