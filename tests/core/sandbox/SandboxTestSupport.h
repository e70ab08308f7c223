#pragma once

// Shared helpers for the sandbox server tests: raw QNetworkAccessManager / QWebSocket clients (deliberately
// not the app's ComfyUI client) and API-format graphs. Header-only so the per-file test executables stay
// independent.

#include "sandbox/SandboxComfyServer.h"

#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUrlQuery>
#include <QWebSocket>
#include <functional>
#include <memory>

namespace sbtest {

struct Reply
{
    int status = 0;
    QByteArray body;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QList<QNetworkReply::RawHeaderPair> headers;

    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QJsonArray jsonArray() const { return QJsonDocument::fromJson(body).array(); }
    QByteArray header(const QByteArray& name) const
    {
        for (const auto& h : headers)
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        return {};
    }
};

// Runs the event loop until the reply finishes (tests only; the server may live on this same thread).
inline Reply wait(QNetworkReply* reply, int timeoutMs = 15000)
{
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    if (!reply->isFinished())
        loop.exec();
    Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.error = reply->error();
    r.headers = reply->rawHeaderPairs();
    reply->deleteLater();
    return r;
}

class Http
{
public:
    explicit Http(QUrl base) : m_base(std::move(base)) {}
    QUrl url(const QString& pathAndQuery) const
    {
        QUrl u = m_base;
        const int q = pathAndQuery.indexOf(QLatin1Char('?'));
        u.setPath(q < 0 ? pathAndQuery : pathAndQuery.left(q));
        if (q >= 0)
            u.setQuery(pathAndQuery.mid(q + 1));
        return u;
    }
    QNetworkRequest request(const QString& path,
                            const QList<QPair<QByteArray, QByteArray>>& headers = {}) const
    {
        QNetworkRequest req(url(path));
        for (const auto& h : headers)
            req.setRawHeader(h.first, h.second);
        return req;
    }
    Reply get(const QString& path, const QList<QPair<QByteArray, QByteArray>>& headers = {})
    {
        return wait(m_nam.get(request(path, headers)));
    }
    Reply head(const QString& path) { return wait(m_nam.head(request(path))); }
    Reply post(const QString& path, const QByteArray& body,
               const QByteArray& contentType = "application/json")
    {
        QNetworkRequest req = request(path);
        req.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
        return wait(m_nam.post(req, body));
    }
    Reply postJson(const QString& path, const QJsonObject& body)
    {
        return post(path, QJsonDocument(body).toJson(QJsonDocument::Compact));
    }
    Reply custom(const QByteArray& verb, const QString& path)
    {
        return wait(m_nam.sendCustomRequest(request(path), verb));
    }
    QNetworkAccessManager& nam() { return m_nam; }

private:
    QUrl m_base;
    QNetworkAccessManager m_nam;
};

// A WebSocket client that records every text frame as parsed JSON.
class WsClient
{
public:
    explicit WsClient(const QString& origin = QString()) : m_socket(std::make_unique<QWebSocket>(origin))
    {
        QObject::connect(m_socket.get(), &QWebSocket::textMessageReceived, m_socket.get(),
                         [this](const QString& text) {
                             messages.append(QJsonDocument::fromJson(text.toUtf8()).object());
                         });
        QObject::connect(m_socket.get(), &QWebSocket::disconnected, m_socket.get(),
                         [this]() { disconnected = true; });
    }
    bool open(const QUrl& httpBase, const QString& clientId, const QString& path = QStringLiteral("/ws"),
              int timeoutMs = 5000)
    {
        QUrl u = httpBase;
        u.setScheme(QStringLiteral("ws"));
        u.setPath(path);
        if (!clientId.isNull()) {
            QUrlQuery q;
            q.addQueryItem(QStringLiteral("clientId"), clientId);
            u.setQuery(q);
        }
        m_socket->open(u);
        QElapsedTimer t;
        t.start();
        while (m_socket->state() != QAbstractSocket::ConnectedState && !disconnected &&
               t.elapsed() < timeoutMs)
            QTest::qWait(5);
        return m_socket->state() == QAbstractSocket::ConnectedState;
    }
    // Waits until a message satisfies pred; returns its index or -1.
    int waitFor(const std::function<bool(const QJsonObject&)>& pred, int timeoutMs = 10000, int from = 0)
    {
        QElapsedTimer t;
        t.start();
        while (true) {
            for (int i = from; i < messages.size(); ++i)
                if (pred(messages.at(i)))
                    return i;
            if (t.elapsed() > timeoutMs)
                return -1;
            QTest::qWait(2);
        }
    }
    int waitForType(const QString& type, int timeoutMs = 10000, int from = 0)
    {
        return waitFor(
            [&](const QJsonObject& m) { return m.value(QStringLiteral("type")).toString() == type; },
            timeoutMs, from);
    }
    // executing{node:null, prompt_id} = the prompt is done
    int waitForDone(const QString& promptId, int timeoutMs = 15000)
    {
        return waitFor(
            [&](const QJsonObject& m) {
                const QJsonObject d = m.value(QStringLiteral("data")).toObject();
                return m.value(QStringLiteral("type")).toString() == QLatin1String("executing") &&
                       d.value(QStringLiteral("node")).isNull() &&
                       d.value(QStringLiteral("prompt_id")).toString() == promptId;
            },
            timeoutMs);
    }
    QStringList types() const
    {
        QStringList out;
        for (const QJsonObject& m : messages)
            out << m.value(QStringLiteral("type")).toString();
        return out;
    }
    QList<QJsonObject> ofType(const QString& type) const
    {
        QList<QJsonObject> out;
        for (const QJsonObject& m : messages)
            if (m.value(QStringLiteral("type")).toString() == type)
                out << m.value(QStringLiteral("data")).toObject();
        return out;
    }
    QWebSocket& socket() { return *m_socket; }

    QList<QJsonObject> messages;
    bool disconnected = false;

private:
    std::unique_ptr<QWebSocket> m_socket;
};

// A server on this thread with its own temporary output/input/temp folders and fast timings.
struct ServerFixture
{
    QTemporaryDir dir;
    gd::sandbox::SandboxConfig config;
    std::unique_ptr<gd::sandbox::SandboxComfyServer> server;

    explicit ServerFixture(const std::function<void(gd::sandbox::SandboxConfig&)>& tweak = {})
    {
        config.outputDir = dir.filePath(QStringLiteral("output"));
        config.inputDir = dir.filePath(QStringLiteral("input"));
        config.tempDir = dir.filePath(QStringLiteral("temp"));
        config.stepDelayMs = 1;
        config.nodeDelayMs = 0;
        config.historyWriteDelayMs = 0;
        if (tweak)
            tweak(config);
        server = std::make_unique<gd::sandbox::SandboxComfyServer>(config);
        QString error;
        if (!server->listen(0, &error))
            qFatal("sandbox server did not start: %s", qPrintable(error));
    }
    QUrl url() const { return server->url(); }
    QString out(const QString& rel = QString()) const
    {
        return rel.isEmpty() ? config.outputDir : QDir(config.outputDir).filePath(rel);
    }
};

inline QJsonArray link(const char* node, int slot)
{
    return QJsonArray{QString::fromLatin1(node), slot};
}

// comfyui-api.md §7.1/7.2: checkpoint text-to-image; saveClass decides the output node.
inline QJsonObject t2iGraph(const QString& prefix, int frames = 1, int steps = 3,
                            const QString& text = QStringLiteral("a lighthouse in fog"),
                            const QString& saveClass = QStringLiteral("SaveImage"), qint64 seed = 42)
{
    QJsonObject g;
    g.insert(QStringLiteral("4"),
             QJsonObject{
                 {QStringLiteral("class_type"), QStringLiteral("CheckpointLoaderSimple")},
                 {QStringLiteral("inputs"),
                  QJsonObject{{QStringLiteral("ckpt_name"), QStringLiteral("sd_xl_base_1.0.safetensors")}}}});
    g.insert(QStringLiteral("6"),
             QJsonObject{{QStringLiteral("class_type"), QStringLiteral("CLIPTextEncode")},
                         {QStringLiteral("inputs"), QJsonObject{{QStringLiteral("text"), text},
                                                                {QStringLiteral("clip"), link("4", 1)}}}});
    g.insert(
        QStringLiteral("7"),
        QJsonObject{{QStringLiteral("class_type"), QStringLiteral("CLIPTextEncode")},
                    {QStringLiteral("inputs"), QJsonObject{{QStringLiteral("text"), QStringLiteral("blurry")},
                                                           {QStringLiteral("clip"), link("4", 1)}}}});
    g.insert(QStringLiteral("5"),
             QJsonObject{{QStringLiteral("class_type"), QStringLiteral("EmptyLatentImage")},
                         {QStringLiteral("inputs"), QJsonObject{{QStringLiteral("width"), 512},
                                                                {QStringLiteral("height"), 512},
                                                                {QStringLiteral("batch_size"), frames}}}});
    g.insert(QStringLiteral("3"),
             QJsonObject{{QStringLiteral("class_type"), QStringLiteral("KSampler")},
                         {QStringLiteral("inputs"),
                          QJsonObject{{QStringLiteral("seed"), seed},
                                      {QStringLiteral("steps"), steps},
                                      {QStringLiteral("cfg"), 7.0},
                                      {QStringLiteral("sampler_name"), QStringLiteral("euler")},
                                      {QStringLiteral("scheduler"), QStringLiteral("normal")},
                                      {QStringLiteral("denoise"), 1.0},
                                      {QStringLiteral("model"), link("4", 0)},
                                      {QStringLiteral("positive"), link("6", 0)},
                                      {QStringLiteral("negative"), link("7", 0)},
                                      {QStringLiteral("latent_image"), link("5", 0)}}}});
    g.insert(QStringLiteral("8"),
             QJsonObject{{QStringLiteral("class_type"), QStringLiteral("VAEDecode")},
                         {QStringLiteral("inputs"), QJsonObject{{QStringLiteral("samples"), link("3", 0)},
                                                                {QStringLiteral("vae"), link("4", 2)}}}});
    QJsonObject saveInputs{{QStringLiteral("images"), link("8", 0)},
                           {QStringLiteral("filename_prefix"), prefix}};
    if (saveClass == QLatin1String("PreviewImage"))
        saveInputs.remove(QStringLiteral("filename_prefix"));
    if (saveClass == QLatin1String("GemDirectSaveFrames")) {
        saveInputs.insert(QStringLiteral("job_id"),
                          QString(QStringLiteral("job-") + prefix.section(QLatin1Char('/'), -1)));
        saveInputs.insert(QStringLiteral("fps"), 12.0);
    }
    g.insert(QStringLiteral("9"),
             QJsonObject{{QStringLiteral("class_type"), saveClass}, {QStringLiteral("inputs"), saveInputs}});
    return g;
}

inline QJsonObject promptBody(const QJsonObject& graph, const QString& clientId = QString(),
                              const QString& promptId = QString())
{
    QJsonObject body{{QStringLiteral("prompt"), graph}};
    if (!clientId.isEmpty())
        body.insert(QStringLiteral("client_id"), clientId);
    if (!promptId.isEmpty())
        body.insert(QStringLiteral("prompt_id"), promptId);
    return body;
}

inline QStringList filesUnder(const QString& root)
{
    QStringList out;
    const QDir base(root);
    std::function<void(const QString&)> walk = [&](const QString& dir) {
        for (const QFileInfo& fi :
             QDir(dir).entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
            if (fi.isDir())
                walk(fi.absoluteFilePath());
            else
                out << base.relativeFilePath(fi.absoluteFilePath());
        }
    };
    walk(root);
    return out;
}

} // namespace sbtest
