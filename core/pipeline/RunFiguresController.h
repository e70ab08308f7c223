#pragma once

#include "quality/RunFiguresCalculator.h"
#include "telemetry/RunModel.h"

#include <QMetaType>
#include <QObject>
#include <functional>

namespace gd::pipeline {

// Computes the dashboard's run figures (per-scene durations and frames, percentiles, every KPI) off
// the GUI thread, for a live run (its RunRecord after each scene) or a recorded run directory.
// Requests are serialised: while one computes, only the newest further request is kept, and a
// result that a newer request has overtaken is dropped, so figuresReady never shows stale data.
// Threading: lives in the GUI thread; the work runs on the global thread pool with copies only.
class RunFiguresController : public QObject
{
    Q_OBJECT
public:
    explicit RunFiguresController(QObject* parent = nullptr);

    // A copy of the run is taken now; serialising and evaluating happen on the pool.
    void showRecord(const telemetry::RunRecord& run);
    // Reads <runDir>/artifact-metadata.json (the earlier pipeline's shape is mapped first).
    void showRunDir(const QString& runDir);
    bool isBusy() const { return m_running; }
    // The figures last emitted (empty before the first).
    const quality::RunFigures& current() const { return m_current; }

    // The blocking work behind showRunDir(), for tools and tests: an unreadable or corrupt
    // artifact gives figures whose `problem` names the file and the fault.
    static quality::RunFigures loadRunDir(const QString& runDir);

Q_SIGNALS:
    void figuresReady(const gd::quality::RunFigures& figures);
    void busyChanged(bool busy);

private:
    void request(std::function<quality::RunFigures()> job);
    void launch(std::function<quality::RunFigures()> job);

    bool m_running = false;
    std::function<quality::RunFigures()> m_pending;
    quality::RunFigures m_current;
};

} // namespace gd::pipeline

Q_DECLARE_METATYPE(gd::quality::RunFigures)
