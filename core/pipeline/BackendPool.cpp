#include "pipeline/BackendPool.h"

#include "comfy/ComfyClient.h"

#include <memory>

namespace gd::pipeline {

BackendPool::BackendPool(const QList<BackendSpec>& specs, PoolOptions options, QObject* parent)
    : QObject(parent), m_options(options)
{
    QList<BackendSpec> labelled = specs;
    BackendSpec::assignLabels(labelled);
    for (const BackendSpec& s : labelled) {
        auto* b = new ComfyBackend(s, this);
        m_backends << b;
        connect(b, &ComfyBackend::lost, this, [this, b](const QString& reason) { Q_EMIT backendLost(b, reason); });
        connect(b, &ComfyBackend::viewChanged, this, &BackendPool::capacityChanged);
    }
}

BackendPool::~BackendPool() = default;

ComfyBackend* BackendPool::backendFor(const comfy::ComfyClient* client) const
{
    for (ComfyBackend* b : m_backends)
        if (b->client() == client)
            return b;
    return nullptr;
}

int BackendPool::inFlight() const
{
    int n = 0;
    for (const ComfyBackend* b : m_backends)
        n += b->inFlight();
    return n;
}

int BackendPool::healthyCount() const
{
    int n = 0;
    for (const ComfyBackend* b : m_backends)
        n += b->isHealthy() ? 1 : 0;
    return n;
}

bool BackendPool::vramGateImpossible(int minVramMB) const
{
    if (minVramMB <= 0)
        return false;
    for (const ComfyBackend* b : m_backends) {
        if (!b->isHealthy())
            continue;
        const auto total = b->vramTotalMB();
        if (!total || *total >= minVramMB)
            return false;
    }
    return true;
}

BackendPool::Choice BackendPool::choose(int minVramMB, const QSet<const ComfyBackend*>& exclude, bool ignoreVram) const
{
    Choice best;
    Choice fallback; // an excluded server that qualifies, used only when nothing else does
    int down = 0;
    int full = 0;
    QStringList short_;
    const bool gate = !ignoreVram && minVramMB > 0 && !vramGateImpossible(minVramMB);
    auto better = [](const ComfyBackend* a, const ComfyBackend* b) {
        // Least loaded first, then the most free VRAM (unknown counts as least), then config order.
        if (!b)
            return true;
        if (a->inFlight() != b->inFlight())
            return a->inFlight() < b->inFlight();
        const double fa = a->vramFreeMB().value_or(-1);
        const double fb = b->vramFreeMB().value_or(-1);
        return fa > fb;
    };
    for (ComfyBackend* b : m_backends) {
        if (!b->isHealthy()) {
            ++down;
            continue;
        }
        if (b->inFlight() >= slotsPerServer()) {
            ++full;
            continue;
        }
        const auto free = b->vramFreeMB();
        if (gate && free && *free < minVramMB) {
            short_ << QStringLiteral("%1 has %2 MB free").arg(b->label()).arg(qRound(*free));
            continue;
        }
        Choice& slot = exclude.contains(b) ? fallback : best;
        if (better(b, slot.backend)) {
            slot.backend = b;
            slot.freeMB = free;
        }
    }
    if (best.backend)
        return best;
    if (fallback.backend)
        return fallback;
    Choice none;
    QStringList parts;
    if (full > 0)
        parts << QStringLiteral("%1 busy (1 running + %2 queued each)").arg(full).arg(m_options.queuedPerServer);
    if (!short_.isEmpty())
        parts << QStringLiteral("VRAM gate: the profile needs %1 MB free, %2").arg(minVramMB).arg(short_.join(QStringLiteral(", ")));
    if (down > 0)
        parts << QStringLiteral("%1 down").arg(down);
    none.holdReason = QStringLiteral("no ComfyUI server can take it: %1 of %2 server(s): %3")
                          .arg(full + short_.size() + down)
                          .arg(m_backends.size())
                          .arg(parts.join(QStringLiteral("; ")));
    none.vramOnly = !short_.isEmpty() && full + down < m_backends.size();
    return none;
}

void BackendPool::acquire(ComfyBackend* backend)
{
    backend->setInFlight(backend->inFlight() + 1);
    backend->countDispatch();
}

void BackendPool::release(ComfyBackend* backend)
{
    if (!backend)
        return;
    backend->setInFlight(qMax(0, backend->inFlight() - 1));
    Q_EMIT capacityChanged();
}

void BackendPool::probeAll(std::function<void()> done)
{
    auto pending = std::make_shared<int>(int(m_backends.size()));
    if (m_backends.isEmpty()) {
        done();
        return;
    }
    for (ComfyBackend* b : m_backends)
        b->probe([pending, done] {
            if (--*pending == 0)
                done();
        });
}

void BackendPool::startProbing()
{
    for (ComfyBackend* b : m_backends)
        b->startProbing(m_options.probeIntervalMs);
}

void BackendPool::stopProbing()
{
    for (ComfyBackend* b : m_backends)
        b->stopProbing();
}

} // namespace gd::pipeline
