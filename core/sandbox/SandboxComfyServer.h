#pragma once

#include "sandbox/FaultRule.h"
#include "net/HttpRequest.h"
#include "net/HttpResponse.h"
#include "sandbox/NodeCatalog.h"
#include "sandbox/PromptExecution.h"
#include "sandbox/PromptQueue.h"
#include "sandbox/SandboxConfig.h"

#include <QHash>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QUrl>

class QWebSocket;

namespace gd::net {
class MiniHttpServer;
}

namespace gd::sandbox {

// A protocol-faithful stand-in for ComfyUI 0.3.64 (spec/comfyui-api.md): every route at /x and /api/x,
// validation with the real error shapes, the heap queue, history ({} until written, written after
// execution_success), the WS routing table with its stale-cleanup bug, fake execution that writes real frame
// files, and fault injection. Lives on one thread (SandboxHost gives it its own); the observability accessors
// are safe from any thread.
class SandboxComfyServer : public QObject
{
    Q_OBJECT
public:
    explicit SandboxComfyServer(const SandboxConfig& config, QObject* parent = nullptr);
    ~SandboxComfyServer() override;

    bool listen(quint16 port, QString* error); // 127.0.0.1 only; 0 picks a free port
    void close();                              // stop listening and drop every connection
    bool isListening() const;
    quint16 port() const;
    QUrl url() const; // http://127.0.0.1:<port>
    const SandboxConfig& config() const { return m_config; }

    void addFault(const FaultRule& rule);
    void clearFaults();
    void setMarkerNodeInstalled(bool installed);

    // Observability for tests (thread-safe).
    int promptPostCount() const;                          // POST /prompt requests received, valid or not
    QJsonObject lastGraph(const QString& promptId) const; // the graph as last posted under this id
    QJsonObject history() const; // every history entry (also those hidden by history-delay)
    QJsonObject historyEntry(const QString& promptId) const;
    int webSocketCount() const; // sockets in the routing table

Q_SIGNALS:
    void promptQueued(const QString& promptId);
    // status: "success", "error", "interrupted", or "lost" (restart/die fault dropped it)
    void promptFinished(const QString& promptId, const QString& status);

private:
    net::HttpResponse handle(const net::HttpRequest& request);
    net::HttpResponse postPrompt(const net::HttpRequest& request);
    net::HttpResponse getQueue();
    net::HttpResponse postQueue(const net::HttpRequest& request);
    net::HttpResponse getHistory(const net::HttpRequest& request);
    net::HttpResponse postHistory(const net::HttpRequest& request);
    net::HttpResponse postInterrupt(const net::HttpRequest& request);
    net::HttpResponse postFree(const net::HttpRequest& request);
    net::HttpResponse systemStats();
    net::HttpResponse view(const net::HttpRequest& request);
    net::HttpResponse uploadImage(const net::HttpRequest& request);

    void onWebSocket(QWebSocket* socket);
    void send(const QString& type, const QJsonObject& data, const QString& sid);
    void broadcastStatus();
    QJsonObject queueInfo() const;
    void scheduleWorker();
    void startNext();
    void onExecutionEvent(const QString& type, const QJsonObject& data);
    void onExecutionFinished(const ExecutionOutcome& outcome);
    void onMidRun();
    ExecutionFaults takeFaults(const QueueItem& item);
    // HTTP-answer faults (malformed-json, oversized-response, slow-loris) are bound to a prompt when it is
    // queued; later answers about that prompt carry them.
    void takeHttpFaults(QueueItem& item);
    net::HttpResponse historyOf(const QString& promptId);
    void simulateOutage(bool comeBack, int downMs);
    void applyFreeFlags();
    QString directoryForType(const QString& type) const;

    SandboxConfig m_config;
    NodeCatalog m_catalog;
    net::MiniHttpServer* m_http;
    PromptQueue m_queue;
    ExecutionCache m_cache;
    QPointer<PromptExecution> m_execution;
    bool m_workerScheduled = false;
    bool m_dead = false;
    quint16 m_port = 0;

    // Fault rules with how many more prompts each may hit (-1 = unlimited).
    QList<QPair<FaultRule, int>> m_faults;
    bool m_faultWsDrop = false;
    bool m_faultWsSilent = false;
    int m_faultHistoryDelayMs = 0;
    int m_faultRestartMs = -1;
    bool m_faultDie = false;
    QString m_silencedSid;
    QHash<QString, QList<FaultRule>> m_httpFaults; // prompt id -> HTTP-answer faults bound to it

    bool m_pendingUnload = false;
    bool m_pendingFreeMemory = false;

    QHash<QString, QWebSocket*> m_sockets; // routing table: clientId -> socket (PromptServer.sockets)
    QHash<QWebSocket*, QString> m_socketSid;
    QSet<QWebSocket*> m_allSockets;
    QSet<QWebSocket*> m_sawFirstMessage;

    mutable QMutex
        m_mutex; // guards the observability data below and m_queue's history for cross-thread readers
    int m_postCount = 0;
    QHash<QString, QJsonObject> m_lastGraphs;
};

} // namespace gd::sandbox
