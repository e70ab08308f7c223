#include "common/DurableWriter.h"

#include "common/AtomicFile.h"

#include <QMetaObject>

namespace gd {

DurableWriter::DurableWriter(Mode mode, QObject* parent) : QObject(parent), m_mode(mode)
{
    if (m_mode == Mode::Background)
        m_worker = std::thread([this] { runWorker(); });
}

DurableWriter::~DurableWriter()
{
    if (!m_worker.joinable())
        return;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_worker.join();
}

void DurableWriter::post(Job job, Done done)
{
    enqueue(std::move(job), std::move(done), false);
}

void DurableWriter::postUrgent(Job job, Done done)
{
    enqueue(std::move(job), std::move(done), true);
}

void DurableWriter::enqueue(Job job, Done done, bool urgent)
{
    if (m_mode == Mode::Inline) {
        const Error e = job();
        if (done)
            done(e);
        return;
    }
    ++m_undelivered;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        (urgent ? m_urgent : m_queue).push_back({std::move(job), std::move(done)});
    }
    m_wake.notify_one();
}

void DurableWriter::write(const QString& path, const QByteArray& data, Done done)
{
    post([path, data] { return AtomicFile::write(path, data); }, std::move(done));
}

void DurableWriter::whenIdle(std::function<void()> then)
{
    // An empty job: its completion is queued behind every earlier one (same receiver, same order).
    post([] { return Error(); }, [then = std::move(then)](const Error&) { then(); });
}

int DurableWriter::pending() const
{
    return m_undelivered;
}

void DurableWriter::waitForWorker()
{
    if (m_mode == Mode::Inline)
        return;
    std::unique_lock<std::mutex> lock(m_mutex);
    m_drained.wait(lock, [this] { return m_urgent.empty() && m_queue.empty() && !m_busy; });
}

void DurableWriter::deliver(const Done& done, const Error& e)
{
    --m_undelivered;
    if (done)
        done(e);
}

void DurableWriter::runWorker()
{
    for (;;) {
        Task task;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stop || !m_urgent.empty() || !m_queue.empty(); });
            std::deque<Task>& from = !m_urgent.empty() ? m_urgent : m_queue;
            if (from.empty()) // stopping, and everything queued has run
                return;
            task = std::move(from.front());
            from.pop_front();
            m_busy = true;
        }
        const Error e = task.job();
        // Queued to this object: Qt drops the call if the writer is gone by then, and calls to one
        // receiver are delivered in the order they were posted.
        QMetaObject::invokeMethod(
            this, [this, done = std::move(task.done), e] { deliver(done, e); }, Qt::QueuedConnection);
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_busy = false;
            if (m_urgent.empty() && m_queue.empty())
                m_drained.notify_all();
        }
    }
}

} // namespace gd
