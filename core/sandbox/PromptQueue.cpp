#include "sandbox/PromptQueue.h"

#include "sandbox/PyJson.h"

namespace gd::sandbox {

namespace {
constexpr int kMaxHistory = 10000;
}

QJsonArray QueueItem::toJson() const
{
    QJsonArray outs;
    for (const QString& o : outputs)
        outs.append(o);
    return QJsonArray{number, promptId, prompt, extraData, outs};
}

QByteArray QueueItem::numberText() const
{
    return numberIsFloat ? PyJson::formatFloat(number.toDouble()) : PyJson::dumps(number);
}

QByteArray QueueItem::toPyJson() const
{
    QJsonArray outs;
    for (const QString& o : outputs)
        outs.append(o);
    return '[' + numberText() + ", " + PyJson::quote(promptId) + ", " + PyJson::dumps(prompt) + ", " +
           PyJson::dumps(extraData) + ", " + PyJson::dumps(outs) + ']';
}

bool PromptQueue::less(const QueueItem& a, const QueueItem& b)
{
    const double na = a.number.toDouble();
    const double nb = b.number.toDouble();
    if (na != nb)
        return na < nb;
    return a.promptId < b.promptId;
}

// heapq._siftdown: move the item at pos up towards startPos.
void PromptQueue::siftDown(int startPos, int pos)
{
    QueueItem item = m_heap[pos];
    while (pos > startPos) {
        const int parentPos = (pos - 1) >> 1;
        if (less(item, m_heap[parentPos])) {
            m_heap[pos] = m_heap[parentPos];
            pos = parentPos;
            continue;
        }
        break;
    }
    m_heap[pos] = item;
}

// heapq._siftup: bubble the smaller child up until a leaf, then _siftdown.
void PromptQueue::siftUp(int pos)
{
    const int endPos = int(m_heap.size());
    const int startPos = pos;
    QueueItem item = m_heap[pos];
    int childPos = 2 * pos + 1;
    while (childPos < endPos) {
        const int rightPos = childPos + 1;
        if (rightPos < endPos && !less(m_heap[childPos], m_heap[rightPos]))
            childPos = rightPos;
        m_heap[pos] = m_heap[childPos];
        pos = childPos;
        childPos = 2 * pos + 1;
    }
    m_heap[pos] = item;
    siftDown(startPos, pos);
}

void PromptQueue::put(const QueueItem& item)
{
    m_heap.append(item);
    siftDown(0, int(m_heap.size()) - 1);
}

std::optional<QueueItem> PromptQueue::take()
{
    if (m_heap.isEmpty() || m_running)
        return std::nullopt;
    QueueItem last = m_heap.takeLast();
    QueueItem result = last;
    if (!m_heap.isEmpty()) {
        result = m_heap[0];
        m_heap[0] = last;
        siftUp(0);
    }
    m_running = result;
    return result;
}

int PromptQueue::deletePending(const QString& promptId)
{
    for (int i = 0; i < m_heap.size(); ++i) {
        if (m_heap[i].promptId != promptId)
            continue;
        if (m_heap.size() == 1) {
            clearPending();
            return 2; // wipe_queue() notifies, then delete_queue_item notifies again
        }
        m_heap.removeAt(i);
        for (int k = int(m_heap.size()) / 2 - 1; k >= 0; --k)
            siftUp(k);
        return 1;
    }
    return 0;
}

void PromptQueue::clearPending()
{
    m_heap.clear();
}

void PromptQueue::finishRunning(const QJsonObject& historyFields, qint64 visibleAfterMs)
{
    if (!m_running)
        return;
    const QueueItem item = *m_running;
    m_running.reset();
    if (m_historyOrder.size() > kMaxHistory) {
        const QString oldest = m_historyOrder.takeFirst();
        m_history.remove(oldest);
        m_historyItems.remove(oldest);
        m_visibleAfter.remove(oldest);
    }
    QJsonObject entry{{QStringLiteral("prompt"), item.toJson()}, {QStringLiteral("outputs"), QJsonObject()}};
    for (auto it = historyFields.begin(); it != historyFields.end(); ++it)
        entry.insert(it.key(), it.value());
    if (!m_history.contains(item.promptId))
        m_historyOrder.append(item.promptId);
    m_history.insert(item.promptId, entry);
    m_historyItems.insert(item.promptId, item);
    m_visibleAfter.insert(item.promptId, visibleAfterMs);
}

void PromptQueue::dropRunning()
{
    m_running.reset();
}

QByteArray PromptQueue::historyJson(std::optional<int> maxItems, int offset, qint64 nowMs) const
{
    QStringList visible;
    for (const QString& id : m_historyOrder)
        if (m_visibleAfter.value(id) <= nowMs)
            visible << id;
    if (offset < 0 && maxItems)
        offset = int(visible.size()) - *maxItems;
    QVector<QPair<QString, QByteArray>> members;
    int i = 0;
    for (const QString& id : std::as_const(visible)) {
        if (i >= offset) {
            members.append({id, entryJson(id)});
            if (maxItems && members.size() >= *maxItems)
                break;
        }
        ++i;
    }
    return PyJson::dumpsOrdered(members);
}

QByteArray PromptQueue::historyJson(const QString& promptId, qint64 nowMs) const
{
    if (!m_history.contains(promptId) || m_visibleAfter.value(promptId) > nowMs)
        return QByteArrayLiteral("{}");
    return PyJson::dumpsOrdered({{promptId, entryJson(promptId)}});
}

QByteArray PromptQueue::entryJson(const QString& promptId) const
{
    // Key order of the real entry: prompt, outputs, status, meta.
    const QJsonObject entry = m_history.value(promptId);
    QVector<QPair<QString, QByteArray>> members{
        {QStringLiteral("prompt"), m_historyItems.value(promptId).toPyJson()}};
    for (const QString& key : {QStringLiteral("outputs"), QStringLiteral("status"), QStringLiteral("meta")})
        if (entry.contains(key))
            members.append({key, PyJson::dumps(entry.value(key))});
    for (auto it = entry.begin(); it != entry.end(); ++it)
        if (it.key() != QLatin1String("prompt") && it.key() != QLatin1String("outputs") &&
            it.key() != QLatin1String("status") && it.key() != QLatin1String("meta"))
            members.append({it.key(), PyJson::dumps(it.value())});
    return PyJson::dumpsOrdered(members);
}

QJsonObject PromptQueue::historyEntry(const QString& promptId) const
{
    return m_history.value(promptId);
}

void PromptQueue::deleteHistory(const QString& promptId)
{
    m_history.remove(promptId);
    m_historyItems.remove(promptId);
    m_visibleAfter.remove(promptId);
    m_historyOrder.removeAll(promptId);
}

void PromptQueue::clearHistory()
{
    m_history.clear();
    m_historyItems.clear();
    m_visibleAfter.clear();
    m_historyOrder.clear();
}

void PromptQueue::reset()
{
    m_heap.clear();
    m_running.reset();
    clearHistory();
    m_counter = 0;
}

} // namespace gd::sandbox
