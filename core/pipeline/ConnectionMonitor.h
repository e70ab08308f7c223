#pragma once

#include "pipeline/HealthProbe.h"

#include <QDateTime>
#include <QObject>
#include <QThread>
#include <QTimer>
#include <QVector>

namespace gd::pipeline {

// Keeps the LLM / ComfyUI / GPU health current for the status bar: runs a HealthProbe periodically (and on
// demand) on a worker thread of its own, so probing never blocks the GUI thread, and reports each result.
// One probe at a time: a request while one runs is served by one more probe right after it.
class ConnectionMonitor : public QObject
{
    Q_OBJECT
public:
    explicit ConnectionMonitor(QObject* parent = nullptr);
    ~ConnectionMonitor() override;

    // Used by the next probe; a change triggers a check shortly after (several quick changes, one check).
    void setOptions(const HealthOptions& options);
    HealthOptions options() const { return m_options; }
    void setIntervalMs(int ms);
    int intervalMs() const { return m_timer.interval(); }

    // Periodic checks from now on, starting with one at once.
    void start();
    void stop();
    // A check now (or right after the one in flight).
    void checkNow();
    bool isChecking() const { return m_inFlight; }

    // The latest result per component ("llm", "comfyui", "gpu", "disk"); status "unknown" before the first.
    HealthItem latest(const QString& component) const;
    QDateTime lastChecked() const { return m_lastChecked; }

Q_SIGNALS:
    void checkStarted();
    void updated(const QVector<gd::pipeline::HealthItem>& items);

private:
    void onFinished(const QVector<gd::pipeline::HealthItem>& items);

    HealthOptions m_options;
    QThread m_thread;
    QObject* m_worker = nullptr; // lives on m_thread; parent of the probe in flight
    QTimer m_timer;
    QTimer m_debounce;
    bool m_inFlight = false;
    bool m_again = false;
    QVector<HealthItem> m_latest;
    QDateTime m_lastChecked;
};

} // namespace gd::pipeline
