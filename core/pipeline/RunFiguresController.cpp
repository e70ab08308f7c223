#include "pipeline/RunFiguresController.h"

#include "store/LegacyArtifactMapper.h"
#include "store/RunStore.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

namespace gd::pipeline {

RunFiguresController::RunFiguresController(QObject* parent) : QObject(parent)
{
}

quality::RunFigures RunFiguresController::loadRunDir(const QString& runDir)
{
    QJsonObject artifact;
    if (const Error e = store::RunStore::readArtifact(runDir, artifact); !e.isNull())
        return quality::RunFiguresCalculator::unavailable(runDir, e.message);
    if (store::LegacyArtifactMapper::isLegacy(artifact))
        artifact = store::LegacyArtifactMapper::toCurrent(artifact);
    quality::RunFigures f = quality::RunFiguresCalculator::fromArtifact(artifact);
    // The directory it was opened from, even when the artifact was moved with its RunDir unchanged.
    f.runDir = runDir;
    return f;
}

void RunFiguresController::showRecord(const telemetry::RunRecord& run)
{
    request([run] { return quality::RunFiguresCalculator::fromRecord(run); });
}

void RunFiguresController::showRunDir(const QString& runDir)
{
    request([runDir] { return loadRunDir(runDir); });
}

void RunFiguresController::request(std::function<quality::RunFigures()> job)
{
    if (m_running) {
        m_pending = std::move(job);
        return;
    }
    launch(std::move(job));
}

void RunFiguresController::launch(std::function<quality::RunFigures()> job)
{
    const bool wasRunning = m_running;
    m_running = true;
    auto* watcher = new QFutureWatcher<quality::RunFigures>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        watcher->deleteLater();
        if (m_pending) {
            // Overtaken while computing: the newer request decides what is shown.
            launch(std::exchange(m_pending, {}));
            return;
        }
        m_running = false;
        m_current = watcher->result();
        Q_EMIT figuresReady(m_current);
        Q_EMIT busyChanged(false);
    });
    watcher->setFuture(QtConcurrent::run(std::move(job)));
    if (!wasRunning)
        Q_EMIT busyChanged(true);
}

} // namespace gd::pipeline
