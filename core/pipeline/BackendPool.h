#pragma once

#include "pipeline/BackendSpec.h"
#include "pipeline/ComfyBackend.h"

#include <QList>
#include <QObject>
#include <QSet>
#include <QVector>

namespace gd::pipeline {

struct PoolOptions
{
    // Prompts of ours a server may hold besides the running one. With one slot queued the next
    // scene is already on the server when the running one ends (no dispatch gap); the server-side
    // queue stays short so that priorities, cancels and failover stay ours.
    int queuedPerServer = 1;
    // Moves of a scene to another server after its server died: these never spend the scene's
    // retry budget; past this limit the scene fails with the last backend error.
    int infraRetryLimit = 3;
    int probeIntervalMs = 2000;
    // A scene held by the VRAM gate alone is sent anyway (with a warning) after this long: every
    // wait has a bound.
    double vramGateMaxWaitSeconds = 600;
};

// Chooses the ComfyUI server for each submission among several: at most one running plus
// `queuedPerServer` queued prompts of ours per server, the least-loaded healthy server with enough
// free VRAM for the profile's minVramMB, or no server and the reason (back-pressure). Tracks the
// slots; reports a server that died so its scenes can move. Lives on one thread; never blocks.
class BackendPool : public QObject
{
    Q_OBJECT
public:
    BackendPool(const QList<BackendSpec>& specs, PoolOptions options, QObject* parent = nullptr);
    ~BackendPool() override;

    const PoolOptions& options() const { return m_options; }
    void setQueuedPerServer(int n) { m_options.queuedPerServer = qMax(0, n); }
    int size() const { return int(m_backends.size()); }
    ComfyBackend* backend(int i) const { return m_backends.value(i); }
    const QVector<ComfyBackend*>& backends() const { return m_backends; }
    ComfyBackend* backendFor(const comfy::ComfyClient* client) const;
    int slotsPerServer() const { return 1 + m_options.queuedPerServer; }
    int inFlight() const;

    struct Choice
    {
        ComfyBackend* backend = nullptr;
        QString holdReason; // why nothing qualifies (back-pressure), empty when a backend was chosen
        bool vramOnly = false; // held only by the VRAM gate (some server is otherwise free)
        std::optional<double> freeMB; // the chosen server's free VRAM view when chosen
    };
    // The scheduling decision: healthy servers with a free slot and free VRAM ≥ minVramMB (unknown
    // VRAM passes: a gate cannot hold on what it cannot see), least in flight first, then most
    // free VRAM, then configuration order. `exclude` (e.g. the server a scene just lost) is only
    // used when another server qualifies. `ignoreVram` skips the gate (its bound elapsed).
    Choice choose(int minVramMB, const QSet<const ComfyBackend*>& exclude = {}, bool ignoreVram = false) const;
    // True when no healthy server's total VRAM reaches minVramMB: the gate could never pass, so it
    // is not applied (the profile's figure is a hint, a smaller card may still manage).
    bool vramGateImpossible(int minVramMB) const;
    void acquire(ComfyBackend* backend);
    void release(ComfyBackend* backend);
    int healthyCount() const;

    // Probes every server once; `done` runs when all answered.
    void probeAll(std::function<void()> done);
    void startProbing();
    void stopProbing();

Q_SIGNALS:
    // A server went down: the RunController moves the scenes in flight there.
    void backendLost(gd::pipeline::ComfyBackend* backend, const QString& reason);
    // A slot was freed, a server came back or its VRAM view changed: held work may now go.
    void capacityChanged();

private:
    QVector<ComfyBackend*> m_backends;
    PoolOptions m_options;
};

} // namespace gd::pipeline
