#pragma once

#include "comfy/ComfyEvent.h"
#include "common/Error.h"
#include "net/Backoff.h"
#include "net/HttpClient.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTimer>
#include <QUrl>
#include <functional>

class QWebSocket;

namespace gd::comfy {

// Result of POST /prompt (spec/comfyui-api.md §2.3/2.4).
struct SubmitResult
{
    Error error;      // null on 200
    QString promptId; // the id the server uses (normally ours)
    double number = 0;
    QJsonObject nodeErrors;         // may be non-empty on 200 (partial success)
    bool validationFailure = false; // 400 with the §2.4 shape: never worth a requeue
};

struct HistoryResult
{
    Error error;
    bool found = false; // false for `{}`: queued, running, unknown or not yet written
    QJsonObject entry;
};

struct QueueResult
{
    Error error;
    QStringList running;
    QStringList pending;
};

struct UploadResult
{
    Error error;
    QString name;
    QString subfolder;
    QString type;
};

// One file named by a node's UI output (history `outputs[node]` or WS `executed.output`).
struct OutputFile
{
    QString nodeId;
    QString key; // images | gifs | done_marker | ...
    QString filename;
    QString subfolder;
    QString type; // output | temp | input
};

// The client of one ComfyUI server: HTTP calls and one WebSocket with a stable clientId.
// The socket reconnects by itself (close, wait for `disconnected`, reopen with the same clientId,
// jittered backoff) and keeps itself alive with pings; callers reconcile through /queue and
// /history after socketConnected(). Lives on one thread; never blocks.
class ComfyClient : public QObject
{
    Q_OBJECT
public:
    enum class SocketState
    {
        Closed,
        Connecting,
        Open,
        Reconnecting
    };
    Q_ENUM(SocketState)

    explicit ComfyClient(const QUrl& url, QObject* parent = nullptr);
    ~ComfyClient() override;

    // Operator-typed URL → canonical base URL: scheme added, trailing '/' removed, 0.0.0.0 and
    // localhost replaced by 127.0.0.1 (IPv6 first resolution of "localhost" is a common trap).
    static QUrl normaliseUrl(const QString& text);

    QUrl url() const { return m_url; }
    QString clientId() const { return m_clientId; }
    // A resumed run takes over the clientId its prompts were queued with, so the server routes
    // their WebSocket events to the new socket (comfyui-api.md §5.1). Call before openSocket().
    void setClientId(const QString& clientId)
    {
        if (!clientId.isEmpty())
            m_clientId = clientId;
    }
    void setBearerToken(const QString& token);
    void setRequestTimeoutMs(int ms)
    {
        m_limits.idleTimeoutMs = ms;
        m_limits.totalTimeoutMs = 4 * ms;
    }

    // --- WebSocket -------------------------------------------------------------------------
    void openSocket();
    void closeSocket();
    SocketState socketState() const { return m_socketState; }
    bool isSocketOpen() const { return m_socketState == SocketState::Open; }
    // Close gracefully, wait for `disconnected`, reopen with the same clientId (§5.1 bug guard).
    void rehandshake(const QString& reason);
    qint64 msSinceLastSocketTraffic() const;
    void setKeepaliveIntervalMs(int ms);

    // --- HTTP ------------------------------------------------------------------------------
    template <typename T> using Callback = std::function<void(const T&)>;
    void systemStats(QObject* ctx, Callback<std::pair<QJsonObject, Error>> done);
    // `known` false when the server answers {} (class not installed).
    void objectInfo(const QString& classType, QObject* ctx, Callback<std::pair<bool, Error>> done);
    void submit(const QJsonObject& graph, const QString& promptId, QObject* ctx, Callback<SubmitResult> done);
    void history(const QString& promptId, QObject* ctx, Callback<HistoryResult> done);
    // GET /history?max_items=N: the last N finished prompts keyed by prompt id, oldest first (§3.2).
    void recentHistory(int maxItems, QObject* ctx, Callback<std::pair<QJsonObject, Error>> done);
    void queue(QObject* ctx, Callback<QueueResult> done);
    void interrupt(const QString& promptId, QObject* ctx, Callback<Error> done);
    void deleteFromQueue(const QStringList& promptIds, QObject* ctx, Callback<Error> done);
    void freeMemory(bool unloadModels, bool freeMemory, QObject* ctx, Callback<Error> done);
    // GET /view into `destPath` (streamed, capped at `maxBytes`).
    void view(const OutputFile& file, const QString& destPath, qint64 maxBytes, QObject* ctx,
              Callback<Error> done);
    void viewBytes(const OutputFile& file, qint64 maxBytes, QObject* ctx,
                   Callback<std::pair<QByteArray, Error>> done);
    void uploadImage(const QString& filePath, const QString& subfolder, QObject* ctx,
                     Callback<UploadResult> done);

    // --- pure helpers (tested without a server) -------------------------------------------
    static SubmitResult parseSubmitResponse(int httpStatus, const QByteArray& body, const QString& sentId);
    // GET /history/{id} body → that prompt's entry; `{}` (not written yet) is found=false, not an error.
    // `what` names the request in the error message.
    static HistoryResult parseHistoryResponse(const QByteArray& body, const QString& promptId,
                                              const QString& what);
    // "Prompt outputs failed validation: node 4 (CheckpointLoaderSimple) input ckpt_name: Value not in list:
    // ..."
    static QString describeNodeErrors(const QJsonObject& error, const QJsonObject& nodeErrors);
    // Every list item with `filename` under any key except `animated`, in node order.
    static QVector<OutputFile> outputFiles(const QJsonObject& outputsByNode);
    static QVector<OutputFile> outputFilesOfNode(const QString& nodeId, const QJsonObject& uiOutput);
    static QString executionErrorText(const QJsonObject& data);

Q_SIGNALS:
    void event(const gd::comfy::ComfyEvent& event);
    void socketConnected();
    void socketDisconnected(const QString& reason);
    void socketStateChanged(gd::comfy::ComfyClient::SocketState state);

private:
    void startSocket();
    void onSocketConnected();
    void onSocketDisconnected();
    void onTextMessage(const QString& text);
    void scheduleReconnect();
    void setSocketState(SocketState s);
    QUrl socketUrl() const;
    // Calls `body` exactly once when the job ends (error null on success), unless `ctx` is gone.
    void whenDone(net::HttpJob* job, QObject* ctx, std::function<void(net::HttpJob*, const Error&)> body);

    QUrl m_url;
    QString m_clientId;
    QString m_token;
    net::HttpClient* m_http;
    net::HttpLimits m_limits;
    QWebSocket* m_socket = nullptr;
    SocketState m_socketState = SocketState::Closed;
    bool m_wantOpen = false;
    bool m_reopenAfterClose = false;
    net::Backoff m_backoff{500, 10000};
    QTimer m_reconnectTimer;
    QTimer m_keepaliveTimer;
    qint64 m_lastTrafficMs = 0;
    qint64 m_lastPongMs = 0;
    int m_keepaliveMs = 20000;
};

} // namespace gd::comfy
