#include "comfy/ComfyClient.h"

#include "common/Log.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QHttpMultiPart>
#include <QJsonDocument>
#include <QNetworkRequest>
#include <QUuid>
#include <QWebSocket>
#include <algorithm>

namespace gd::comfy {

namespace {
qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QJsonObject parseObject(const QByteArray& body, Error* error, const QString& what)
{
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = {QStringLiteral("protocol"),
                  QStringLiteral("%1: the server answered with invalid JSON (%2 at offset %3)")
                      .arg(what, pe.error != QJsonParseError::NoError ? pe.errorString()
                                                                      : QStringLiteral("not an object"))
                      .arg(pe.offset),
                  {{QStringLiteral("body"), QString::fromUtf8(body.left(512))}}};
        return {};
    }
    return doc.object();
}
} // namespace

ComfyClient::ComfyClient(const QUrl& url, QObject* parent)
    : QObject(parent), m_url(url),
      m_clientId(QUuid::createUuid().toString(QUuid::WithoutBraces).remove(QLatin1Char('-'))),
      m_http(new net::HttpClient(url, this))
{
    m_limits.idleTimeoutMs = 30000;
    m_limits.totalTimeoutMs = 120000;
    m_limits.maxResponseBytes = 32LL * 1024 * 1024;
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &ComfyClient::startSocket);
    connect(&m_keepaliveTimer, &QTimer::timeout, this, [this] {
        if (!m_socket || m_socketState != SocketState::Open)
            return;
        // ComfyUI never pings; a half-open TCP connection would otherwise look alive forever.
        if (m_lastPongMs > 0 && nowMs() - m_lastPongMs > 3 * m_keepaliveMs) {
            rehandshake(QStringLiteral("no pong for %1 s").arg((nowMs() - m_lastPongMs) / 1000));
            return;
        }
        m_socket->ping();
    });
}

ComfyClient::~ComfyClient()
{
    m_wantOpen = false;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

QUrl ComfyClient::normaliseUrl(const QString& text)
{
    QString t = text.trimmed();
    if (!t.contains(QStringLiteral("://")))
        t.prepend(QStringLiteral("http://"));
    QUrl url(t, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty())
        return {};
    if (url.host() == QLatin1String("0.0.0.0") || url.host() == QLatin1String("localhost"))
        url.setHost(QStringLiteral("127.0.0.1"));
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path);
    return url;
}

void ComfyClient::setBearerToken(const QString& token)
{
    m_token = token;
    m_http->setBearerToken(token);
}

// --- WebSocket -------------------------------------------------------------------------------

QUrl ComfyClient::socketUrl() const
{
    QUrl ws = m_url;
    ws.setScheme(m_url.scheme() == QLatin1String("https") ? QStringLiteral("wss") : QStringLiteral("ws"));
    ws.setPath(m_url.path() + QStringLiteral("/ws"));
    ws.setQuery(QStringLiteral("clientId=") + m_clientId);
    return ws;
}

void ComfyClient::setSocketState(SocketState s)
{
    if (m_socketState == s)
        return;
    m_socketState = s;
    Q_EMIT socketStateChanged(s);
}

void ComfyClient::openSocket()
{
    m_wantOpen = true;
    if (!m_socket)
        startSocket();
}

void ComfyClient::closeSocket()
{
    m_wantOpen = false;
    m_reconnectTimer.stop();
    m_keepaliveTimer.stop();
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    setSocketState(SocketState::Closed);
}

void ComfyClient::setKeepaliveIntervalMs(int ms)
{
    m_keepaliveMs = ms;
    if (m_keepaliveTimer.isActive())
        m_keepaliveTimer.start(ms);
}

qint64 ComfyClient::msSinceLastSocketTraffic() const
{
    return m_lastTrafficMs == 0 ? -1 : nowMs() - m_lastTrafficMs;
}

void ComfyClient::startSocket()
{
    if (!m_wantOpen || m_socket)
        return;
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    // Previews and SaveImageWebsocket results can be several MB (krita allows 1 GiB).
    m_socket->setMaxAllowedIncomingMessageSize(256LL * 1024 * 1024);
    m_socket->setMaxAllowedIncomingFrameSize(256LL * 1024 * 1024);
    connect(m_socket, &QWebSocket::connected, this, &ComfyClient::onSocketConnected);
    connect(m_socket, &QWebSocket::disconnected, this, &ComfyClient::onSocketDisconnected);
    connect(m_socket, &QWebSocket::textMessageReceived, this, &ComfyClient::onTextMessage);
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, [this] { m_lastTrafficMs = nowMs(); });
    connect(m_socket, &QWebSocket::pong, this, [this] {
        m_lastPongMs = nowMs();
        m_lastTrafficMs = m_lastPongMs;
    });
    setSocketState(m_backoff.attempt() == 0 ? SocketState::Connecting : SocketState::Reconnecting);
    // No Origin header: ComfyUI's origin guard rejects a mismatching one with 403.
    QNetworkRequest req(socketUrl());
    if (!m_token.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + m_token.toUtf8());
    m_socket->open(req);
}

void ComfyClient::onSocketConnected()
{
    m_backoff.reset();
    m_lastTrafficMs = nowMs();
    m_lastPongMs = nowMs();
    m_keepaliveTimer.start(m_keepaliveMs);
    setSocketState(SocketState::Open);
    gd::log::get("comfy")->info("WebSocket open: {}", socketUrl().toString().toStdString());
    Q_EMIT socketConnected();
}

void ComfyClient::onSocketDisconnected()
{
    QString reason = m_socket ? m_socket->errorString() : QString();
    if (m_socket) {
        if (m_socket->closeCode() != QWebSocketProtocol::CloseCodeNormal && reason.isEmpty())
            reason = QStringLiteral("close code %1").arg(int(m_socket->closeCode()));
        m_socket->disconnect(this);
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    m_keepaliveTimer.stop();
    const bool wasOpen = m_socketState == SocketState::Open;
    if (reason.isEmpty())
        reason = QStringLiteral("connection closed");
    if (wasOpen)
        gd::log::get("comfy")->warn("WebSocket closed: {}", reason.toStdString());
    if (m_wantOpen) {
        setSocketState(SocketState::Reconnecting);
        if (m_reopenAfterClose) {
            // Our own graceful close finished: reopen at once with the same clientId.
            m_reopenAfterClose = false;
            startSocket();
        } else {
            scheduleReconnect();
        }
    } else {
        setSocketState(SocketState::Closed);
    }
    Q_EMIT socketDisconnected(reason);
}

void ComfyClient::scheduleReconnect()
{
    if (!m_reconnectTimer.isActive())
        m_reconnectTimer.start(m_backoff.nextDelayMs());
}

void ComfyClient::rehandshake(const QString& reason)
{
    gd::log::get("comfy")->warn("WebSocket re-handshake: {}", reason.toStdString());
    if (!m_socket) {
        openSocket();
        return;
    }
    // Close completely before reopening: the server's cleanup of the old socket would otherwise
    // delete the routing entry of the new one (spec/comfyui-api.md §5.1).
    m_reopenAfterClose = true;
    m_socket->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("re-handshake"));
    // A dead peer never answers the close frame; give up on it after a bound.
    QPointer<QWebSocket> sock = m_socket;
    QTimer::singleShot(3000, this, [this, sock] {
        if (sock && sock == m_socket)
            m_socket->abort();
    });
}

void ComfyClient::onTextMessage(const QString& text)
{
    m_lastTrafficMs = nowMs();
    const QByteArray utf8 = text.toUtf8();
    const std::optional<ComfyEvent> ev = ComfyEvent::fromMessage(utf8);
    if (!ev) {
        gd::log::get("comfy")->warn("Ignoring malformed WebSocket message ({} bytes)", utf8.size());
        return;
    }
    Q_EMIT event(*ev);
}

// --- HTTP ------------------------------------------------------------------------------------

void ComfyClient::whenDone(net::HttpJob* job, QObject* ctx,
                           std::function<void(net::HttpJob*, const Error&)> body)
{
    QPointer<QObject> guard(ctx);
    auto shared = std::make_shared<std::function<void(net::HttpJob*, const Error&)>>(std::move(body));
    connect(job, &net::HttpJob::succeeded, this, [job, guard, shared](int, const QByteArray&) {
        if (guard)
            (*shared)(job, Error{});
    });
    connect(job, &net::HttpJob::failed, this, [job, guard, shared](const Error& e) {
        if (guard)
            (*shared)(job, e);
    });
}

void ComfyClient::systemStats(QObject* ctx, Callback<std::pair<QJsonObject, Error>> done)
{
    net::HttpLimits lim = m_limits;
    lim.idleTimeoutMs = std::min(lim.idleTimeoutMs, 10000);
    lim.totalTimeoutMs = std::min(lim.totalTimeoutMs, 10000);
    whenDone(m_http->get(QStringLiteral("/system_stats"), {}, lim), ctx,
             [done](net::HttpJob* job, const Error& e) {
                 if (!e.isNull())
                     return done({{}, e});
                 Error pe;
                 const QJsonObject o = parseObject(job->body(), &pe, job->description());
                 done({o, pe});
             });
}

void ComfyClient::objectInfo(const QString& classType, QObject* ctx, Callback<std::pair<bool, Error>> done)
{
    const QString path =
        QStringLiteral("/object_info/") + QString::fromLatin1(QUrl::toPercentEncoding(classType));
    whenDone(m_http->get(path, {}, m_limits), ctx, [done, classType](net::HttpJob* job, const Error& e) {
        if (!e.isNull())
            return done({false, e});
        Error pe;
        const QJsonObject o = parseObject(job->body(), &pe, job->description());
        if (!pe.isNull())
            return done({false, pe});
        done({o.contains(classType), Error{}});
    });
}

SubmitResult ComfyClient::parseSubmitResponse(int httpStatus, const QByteArray& body, const QString& sentId)
{
    SubmitResult r;
    Error pe;
    const QJsonObject o = parseObject(body, &pe, QStringLiteral("POST /prompt"));
    if (httpStatus == 200) {
        if (!pe.isNull()) {
            r.error = pe;
            return r;
        }
        r.promptId = o.value(QStringLiteral("prompt_id")).toString(sentId);
        r.number = o.value(QStringLiteral("number")).toDouble();
        r.nodeErrors = o.value(QStringLiteral("node_errors")).toObject();
        return r;
    }
    if (!pe.isNull()) {
        r.error = {QStringLiteral("http"),
                   QStringLiteral("POST /prompt: HTTP %1").arg(httpStatus),
                   {{QStringLiteral("status"), httpStatus},
                    {QStringLiteral("body"), QString::fromUtf8(body.left(2048))}}};
        return r;
    }
    const QJsonObject err = o.value(QStringLiteral("error")).toObject();
    r.nodeErrors = o.value(QStringLiteral("node_errors")).toObject();
    r.validationFailure = httpStatus == 400;
    QJsonObject detail{{QStringLiteral("status"), httpStatus},
                       {QStringLiteral("error"), err},
                       {QStringLiteral("node_errors"), r.nodeErrors}};
    r.error = {httpStatus == 400 ? QStringLiteral("validation") : QStringLiteral("http"),
               describeNodeErrors(err, r.nodeErrors), detail};
    return r;
}

QString ComfyClient::describeNodeErrors(const QJsonObject& error, const QJsonObject& nodeErrors)
{
    QString text = error.value(QStringLiteral("message")).toString(QStringLiteral("Prompt rejected"));
    QStringList parts;
    for (auto it = nodeErrors.begin(); it != nodeErrors.end(); ++it) {
        const QJsonObject ne = it.value().toObject();
        const QString cls = ne.value(QStringLiteral("class_type")).toString();
        for (const QJsonValue ev : ne.value(QStringLiteral("errors")).toArray()) {
            const QJsonObject e = ev.toObject();
            const QJsonObject extra = e.value(QStringLiteral("extra_info")).toObject();
            QString p = QStringLiteral("node %1 (%2)").arg(it.key(), cls);
            if (extra.contains(QStringLiteral("input_name")))
                p += QStringLiteral(" input %1").arg(extra.value(QStringLiteral("input_name")).toString());
            p += QStringLiteral(": ") + e.value(QStringLiteral("message")).toString();
            const QString details = e.value(QStringLiteral("details")).toString();
            if (!details.isEmpty())
                p += QStringLiteral(" (") + details + QLatin1Char(')');
            parts << p;
        }
    }
    if (parts.isEmpty()) {
        const QString details = error.value(QStringLiteral("details")).toString();
        if (!details.isEmpty() && details != text)
            text += QStringLiteral(": ") + details;
        return text;
    }
    return text + QStringLiteral(": ") + parts.join(QStringLiteral("; "));
}

void ComfyClient::submit(const QJsonObject& graph, const QString& promptId, QObject* ctx,
                         Callback<SubmitResult> done)
{
    QJsonObject body{{QStringLiteral("prompt"), graph},
                     {QStringLiteral("client_id"), m_clientId},
                     {QStringLiteral("prompt_id"), promptId}};
    whenDone(m_http->postJson(QStringLiteral("/prompt"), QJsonDocument(body), m_limits), ctx,
             [done, promptId](net::HttpJob* job, const Error& e) {
                 if (!e.isNull() && e.kind != QLatin1String("http"))
                     return done(SubmitResult{e, {}, 0, {}, false});
                 done(parseSubmitResponse(job->statusCode(), job->body(), promptId));
             });
}

void ComfyClient::history(const QString& promptId, QObject* ctx, Callback<HistoryResult> done)
{
    const QString path = QStringLiteral("/history/") + QString::fromLatin1(QUrl::toPercentEncoding(promptId));
    whenDone(m_http->get(path, {}, m_limits), ctx, [done, promptId](net::HttpJob* job, const Error& e) {
        if (!e.isNull()) {
            HistoryResult r;
            r.error = e;
            return done(r);
        }
        done(parseHistoryResponse(job->body(), promptId, job->description()));
    });
}

HistoryResult ComfyClient::parseHistoryResponse(const QByteArray& body, const QString& promptId,
                                                const QString& what)
{
    HistoryResult r;
    const QJsonObject o = parseObject(body, &r.error, what);
    const QJsonValue entry = o.value(promptId);
    if (r.error.isNull() && entry.isObject()) {
        r.found = true;
        r.entry = entry.toObject();
    }
    return r;
}

void ComfyClient::recentHistory(int maxItems, QObject* ctx, Callback<std::pair<QJsonObject, Error>> done)
{
    // Without max_items the server returns its whole history (up to 10000 entries, many MB).
    const QUrlQuery query{{QStringLiteral("max_items"), QString::number(std::max(1, maxItems))}};
    whenDone(m_http->get(QStringLiteral("/history"), query, m_limits), ctx,
             [done](net::HttpJob* job, const Error& e) {
                 if (!e.isNull())
                     return done({{}, e});
                 Error pe;
                 const QJsonObject o = parseObject(job->body(), &pe, job->description());
                 done({o, pe});
             });
}

void ComfyClient::queue(QObject* ctx, Callback<QueueResult> done)
{
    whenDone(m_http->get(QStringLiteral("/queue"), {}, m_limits), ctx,
             [done](net::HttpJob* job, const Error& e) {
                 QueueResult r;
                 if (!e.isNull()) {
                     r.error = e;
                     return done(r);
                 }
                 const QJsonObject o = parseObject(job->body(), &r.error, job->description());
                 // Queue items are tuples parsed by index; newer servers append elements (§3.3).
                 auto ids = [](const QJsonArray& items) {
                     QStringList out;
                     for (const QJsonValue v : items) {
                         const QJsonArray item = v.toArray();
                         if (item.size() > 1 && item.at(1).isString())
                             out << item.at(1).toString();
                     }
                     return out;
                 };
                 r.running = ids(o.value(QStringLiteral("queue_running")).toArray());
                 r.pending = ids(o.value(QStringLiteral("queue_pending")).toArray());
                 done(r);
             });
}

void ComfyClient::interrupt(const QString& promptId, QObject* ctx, Callback<Error> done)
{
    // Targeted interrupt (ComfyUI ≥ 0.3.56); older servers interrupt whatever runs.
    QJsonObject body;
    if (!promptId.isEmpty())
        body.insert(QStringLiteral("prompt_id"), promptId);
    whenDone(m_http->postJson(QStringLiteral("/interrupt"), QJsonDocument(body), m_limits), ctx,
             [done](net::HttpJob*, const Error& e) { done(e); });
}

void ComfyClient::deleteFromQueue(const QStringList& promptIds, QObject* ctx, Callback<Error> done)
{
    QJsonObject body{{QStringLiteral("delete"), QJsonArray::fromStringList(promptIds)}};
    whenDone(m_http->postJson(QStringLiteral("/queue"), QJsonDocument(body), m_limits), ctx,
             [done](net::HttpJob*, const Error& e) { done(e); });
}

void ComfyClient::freeMemory(bool unloadModels, bool freeMem, QObject* ctx, Callback<Error> done)
{
    QJsonObject body{{QStringLiteral("unload_models"), unloadModels},
                     {QStringLiteral("free_memory"), freeMem}};
    whenDone(m_http->postJson(QStringLiteral("/free"), QJsonDocument(body), m_limits), ctx,
             [done](net::HttpJob*, const Error& e) { done(e); });
}

namespace {
QUrlQuery viewQuery(const OutputFile& file)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("filename"), file.filename);
    q.addQueryItem(QStringLiteral("subfolder"), file.subfolder);
    q.addQueryItem(QStringLiteral("type"), file.type.isEmpty() ? QStringLiteral("output") : file.type);
    return q;
}
} // namespace

void ComfyClient::view(const OutputFile& file, const QString& destPath, qint64 maxBytes, QObject* ctx,
                       Callback<Error> done)
{
    net::HttpLimits lim = m_limits;
    lim.maxResponseBytes = maxBytes;
    lim.totalTimeoutMs = std::max(lim.totalTimeoutMs, 300000);
    whenDone(m_http->download(QStringLiteral("/view"), viewQuery(file), destPath, lim), ctx,
             [done](net::HttpJob*, const Error& e) { done(e); });
}

void ComfyClient::viewBytes(const OutputFile& file, qint64 maxBytes, QObject* ctx,
                            Callback<std::pair<QByteArray, Error>> done)
{
    net::HttpLimits lim = m_limits;
    lim.maxResponseBytes = maxBytes;
    whenDone(m_http->get(QStringLiteral("/view"), viewQuery(file), lim), ctx,
             [done](net::HttpJob* job, const Error& e) {
                 done({e.isNull() ? job->body() : QByteArray(), e});
             });
}

void ComfyClient::uploadImage(const QString& filePath, const QString& subfolder, QObject* ctx,
                              Callback<UploadResult> done)
{
    auto* file = new QFile(filePath);
    if (!file->open(QIODevice::ReadOnly)) {
        UploadResult r;
        r.error = {QStringLiteral("io"),
                   QStringLiteral("Cannot read %1: %2").arg(filePath, file->errorString()),
                   {}};
        delete file;
        return done(r);
    }
    auto* multi = new QHttpMultiPart(QHttpMultiPart::FormDataType);
    QHttpPart image;
    image.setHeader(
        QNetworkRequest::ContentDispositionHeader,
        QStringLiteral("form-data; name=\"image\"; filename=\"%1\"").arg(QFileInfo(filePath).fileName()));
    image.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/octet-stream"));
    image.setBodyDevice(file);
    file->setParent(multi);
    multi->append(image);
    auto field = [multi](const char* name, const QString& value) {
        QHttpPart p;
        p.setHeader(QNetworkRequest::ContentDispositionHeader,
                    QStringLiteral("form-data; name=\"%1\"").arg(QLatin1String(name)));
        p.setBody(value.toUtf8());
        multi->append(p);
    };
    field("type", QStringLiteral("input"));
    if (!subfolder.isEmpty())
        field("subfolder", subfolder);
    whenDone(m_http->postMultipart(QStringLiteral("/upload/image"), multi, m_limits), ctx,
             [done](net::HttpJob* job, const Error& e) {
                 UploadResult r;
                 if (!e.isNull()) {
                     r.error = e;
                     return done(r);
                 }
                 const QJsonObject o = parseObject(job->body(), &r.error, job->description());
                 r.name = o.value(QStringLiteral("name")).toString();
                 r.subfolder = o.value(QStringLiteral("subfolder")).toString();
                 r.type = o.value(QStringLiteral("type")).toString();
                 if (r.error.isNull() && r.name.isEmpty())
                     r.error = {QStringLiteral("protocol"),
                                QStringLiteral("POST /upload/image: no name in the answer"),
                                {}};
                 done(r);
             });
}

// --- pure helpers ----------------------------------------------------------------------------

QVector<OutputFile> ComfyClient::outputFilesOfNode(const QString& nodeId, const QJsonObject& uiOutput)
{
    QVector<OutputFile> files;
    for (auto it = uiOutput.begin(); it != uiOutput.end(); ++it) {
        if (it.key() == QLatin1String("animated") || !it.value().isArray())
            continue;
        for (const QJsonValue v : it.value().toArray()) {
            const QJsonObject o = v.toObject();
            if (!o.contains(QStringLiteral("filename")))
                continue;
            files.push_back({nodeId, it.key(), o.value(QStringLiteral("filename")).toString(),
                             o.value(QStringLiteral("subfolder")).toString(),
                             o.value(QStringLiteral("type")).toString(QStringLiteral("output"))});
        }
    }
    return files;
}

QVector<OutputFile> ComfyClient::outputFiles(const QJsonObject& outputsByNode)
{
    QVector<OutputFile> files;
    for (auto it = outputsByNode.begin(); it != outputsByNode.end(); ++it)
        files += outputFilesOfNode(it.key(), it.value().toObject());
    return files;
}

QString ComfyClient::executionErrorText(const QJsonObject& data)
{
    const QString type = data.value(QStringLiteral("exception_type")).toString();
    const QString message = data.value(QStringLiteral("exception_message")).toString().trimmed();
    return QStringLiteral("execution_error in node %1 (%2): %3%4")
        .arg(data.value(QStringLiteral("node_id")).toString(),
             data.value(QStringLiteral("node_type")).toString(),
             type.isEmpty() ? QString() : type + QStringLiteral(": "), message);
}

} // namespace gd::comfy
