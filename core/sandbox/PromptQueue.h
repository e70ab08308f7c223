#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::sandbox {

// One queue entry, the tuple (number, prompt_id, prompt, extra_data, outputs_to_execute) of
// execution.PromptQueue.
struct QueueItem
{
    QJsonValue number; // the priority
    bool numberIsFloat =
        false; // the client supplied "number": float() made it a Python float (prints as 7.0)
    QString promptId;
    QJsonObject prompt;
    QJsonObject extraData;
    QStringList outputs;

    QJsonArray toJson() const;
    // Python json.dumps of the tuple; keeps "7.0" for a float number, which QJsonValue cannot represent.
    QByteArray toPyJson() const;
    QByteArray numberText() const;
    QString clientId() const { return extraData.value(QStringLiteral("client_id")).toString(); }
    bool hasClientId() const { return extraData.value(QStringLiteral("client_id")).isString(); }
};

// The server's queue and history with ComfyUI's exact data-structure behaviour: pending items live in a
// Python heapq array (GET /queue returns it unsorted), one running item, history in completion order where a
// reused prompt id keeps its old position (a dict update), capped at 10000 entries. Entries may be hidden
// until a time (history-delay fault).
class PromptQueue
{
public:
    void put(const QueueItem& item); // heapq.heappush
    std::optional<QueueItem> take(); // heapq.heappop into the running slot
    const QVector<QueueItem>& pending() const { return m_heap; }
    const std::optional<QueueItem>& running() const { return m_running; }
    int remaining() const { return int(m_heap.size()) + (m_running ? 1 : 0); }
    // Returns how many "queue changed" notifications the server sends (deleting the last pending item wipes
    // the queue first, which notifies twice); 0 when nothing matched.
    int deletePending(const QString& promptId);
    void clearPending();

    // task_done: the running item moves to history with these fields (outputs, status, meta).
    void finishRunning(const QJsonObject& historyFields, qint64 visibleAfterMs);
    void dropRunning();
    QByteArray historyJson(std::optional<int> maxItems, int offset, qint64 nowMs) const;
    QByteArray historyJson(const QString& promptId, qint64 nowMs) const;
    QJsonObject historyEntry(const QString& promptId) const; // regardless of visibility; {} when absent
    QStringList historyIds() const { return m_historyOrder; }
    void deleteHistory(const QString& promptId);
    void clearHistory();
    void reset(); // server restart: everything in memory is gone

    int nextNumber() { return m_counter++; }

private:
    QByteArray entryJson(const QString& promptId) const;
    static bool less(const QueueItem& a, const QueueItem& b);
    void siftDown(int startPos, int pos);
    void siftUp(int pos);

    QVector<QueueItem> m_heap;
    std::optional<QueueItem> m_running;
    QStringList m_historyOrder;
    QHash<QString, QJsonObject> m_history;
    QHash<QString, QueueItem> m_historyItems; // the "prompt" tuple, serialised with toPyJson()
    QHash<QString, qint64> m_visibleAfter;
    int m_counter = 0;
};

} // namespace gd::sandbox
