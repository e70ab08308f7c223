#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace gd {

// Runs durable file work (AtomicFile writes, journal syncs) one job at a time in the order it was
// queued, on its own worker thread, and hands each outcome back on the owner's thread: the GUI
// thread never waits in fsync, and writes to one file land in the order they were asked for.
// Inline mode runs every job at once on the calling thread (the command line keeps its exact
// behaviour and ordering).
class DurableWriter : public QObject
{
    Q_OBJECT
public:
    enum class Mode
    {
        Background, // one worker thread, FIFO; completions are queued to this object's thread
        Inline      // the job and its completion run before post() returns
    };
    using Job = std::function<Error()>;
    using Done = std::function<void(const Error&)>;

    explicit DurableWriter(Mode mode, QObject* parent = nullptr);
    // Every job already queued still runs (durability on shutdown); completions not yet delivered
    // are dropped with this object.
    ~DurableWriter() override;
    DurableWriter(const DurableWriter&) = delete;
    DurableWriter& operator=(const DurableWriter&) = delete;

    Mode mode() const { return m_mode; }
    // Queues `job` (it runs on the worker thread: it must not touch objects of other threads).
    // `done`, when set, runs on this object's thread after the job, in queue order, with its Error.
    void post(Job job, Done done = {});
    // As post(), but ahead of every job posted with post() that has not begun (after earlier urgent
    // ones): for work that only makes something already written durable sooner — a journal sync a
    // prompt submission waits for must not queue behind a run's worth of scene.json writes.
    // Its completion then comes before theirs.
    void postUrgent(Job job, Done done = {});
    // AtomicFile::write(path, data) as a queued job; the Error names the path and the OS reason.
    void write(const QString& path, const QByteArray& data, Done done = {});
    // `then` runs on this object's thread once every job queued before it has run and its `done`
    // was called: the flush before a run reports that it finished.
    void whenIdle(std::function<void()> then);
    // Jobs queued or running whose completion has not been delivered yet.
    int pending() const;
    // Blocks until the worker has run every queued job (shutdown and tests only; completions are
    // still delivered by the event loop afterwards).
    void waitForWorker();

private:
    struct Task
    {
        Job job;
        Done done;
    };
    void enqueue(Job job, Done done, bool urgent);
    void runWorker();
    void deliver(const Done& done, const Error& e);

    const Mode m_mode;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_drained;
    std::deque<Task> m_urgent; // postUrgent(), taken first
    std::deque<Task> m_queue;
    bool m_busy = false;
    bool m_stop = false;
    int m_undelivered = 0; // owner thread only
    std::thread m_worker;
};

} // namespace gd
