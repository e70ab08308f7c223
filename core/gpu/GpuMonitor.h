#pragma once

#include "gpu/GpuSnapshot.h"
#include "gpu/GpuSource.h"
#include "gpu/RingBuffer.h"

#include <QFuture>
#include <QList>
#include <QMap>
#include <QObject>
#include <QVector>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

class QThread;
class QTimer;

namespace gd::gpu {

// Samples a GpuSource at a fixed interval on its own worker thread, so NVML calls and nvidia-smi
// runs never block the GUI; keeps the latest reading, a bounded history and per-attempt peak windows.
//
// Threading: the object lives in its owner's thread; start()/stop()/setters are called from there.
// latest(), history(), beginPeakWindow() and endPeakWindow() are safe from any thread. `sampled` is
// emitted from the worker thread, so receivers in other threads get it queued.
class GpuMonitor : public QObject
{
    Q_OBJECT
public:
    static constexpr int DefaultIntervalMs = 1000;
    static constexpr qsizetype DefaultHistoryCapacity = 3600;

    // Samples the local GPU through GpuProbe (NVML → nvidia-smi → missing).
    explicit GpuMonitor(QObject* parent = nullptr);
    // Samples `source`, which the monitor owns and uses from one thread at a time.
    explicit GpuMonitor(std::unique_ptr<GpuSource> source, qsizetype historyCapacity = DefaultHistoryCapacity,
                        QObject* parent = nullptr);
    // Stops (joins) the worker thread.
    ~GpuMonitor() override;

    void setIntervalMs(int intervalMs);
    int intervalMs() const { return m_intervalMs.load(); }
    // Which GPU to read (NVML / nvidia-smi index); takes effect with the next sample.
    void setDeviceIndex(int index) { m_deviceIndex.store(index); }
    int deviceIndex() const { return m_deviceIndex.load(); }

    // Starts the worker thread; the first sample is taken at once, then one per interval.
    void start();
    // Stops sampling and joins the worker thread (waits for a sample in progress, which is bounded
    // by the source's own timeouts). Safe to call when not running; start() may be called again.
    void stop();
    bool isRunning() const;

    // The most recent reading (source "missing" with no metrics before the first one).
    GpuSnapshot latest() const;
    // Recent readings, oldest first, at most the history capacity.
    QVector<GpuSnapshot> history() const;
    qsizetype historyCapacity() const;

    // One extra reading now, for an attempt's before/after state (call from the owner's thread).
    // Runs on the monitor thread while it is running, otherwise on the shared thread pool (the
    // source is never used concurrently; the destructor waits for such pool runs).
    // The reading also updates latest(), history(), open peak windows and emits `sampled`.
    // The future always ends with one snapshot: if the monitor stops before the queued reading ran,
    // it is a "missing" snapshot noting "GPU monitor stopped before the reading was taken".
    QFuture<GpuSnapshot> sampleNow();

    // Peak tracking for one attempt: open a window before submitting, close it after collecting.
    int beginPeakWindow();
    // Highest used VRAM in MB (MiB, 1024²) over the readings taken while the window was open,
    // including sampleNow() readings; nullopt when none of them had VRAM or the id is unknown.
    std::optional<double> endPeakWindow(int windowId);

Q_SIGNALS:
    void sampled(const gd::gpu::GpuSnapshot& snapshot);

private:
    // Runs on the worker thread (or the pool for sampleNow() while stopped).
    GpuSnapshot takeSample();
    void record(const GpuSnapshot& snapshot);

    std::unique_ptr<GpuSource> m_source;
    std::mutex m_sourceMutex; // serialises every m_source->sample()

    mutable std::mutex m_dataMutex; // guards everything below up to m_nextWindowId
    GpuSnapshot m_latest;
    RingBuffer<GpuSnapshot> m_history;
    QMap<int, std::optional<qint64>> m_peakWindows; // window id → highest used bytes so far
    int m_nextWindowId = 1;

    std::atomic<int> m_intervalMs{DefaultIntervalMs};
    std::atomic<int> m_deviceIndex{0};
    QThread* m_thread = nullptr;            // owned; created by start(), deleted by stop()
    QTimer* m_timer = nullptr;              // lives in m_thread; deleted there when the thread finishes
    QList<QFuture<GpuSnapshot>> m_poolRuns; // sampleNow() runs while stopped; owner thread only
};

} // namespace gd::gpu
