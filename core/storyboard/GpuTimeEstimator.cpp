#include "storyboard/GpuTimeEstimator.h"

#include "store/RunStore.h"
#include "telemetry/Percentiles.h"

#include <cmath>

namespace gd::storyboard {

QString StageEstimate::text() const
{
    if (!known())
        return QStringLiteral("unknown (no history for profile '%1')").arg(profile);
    return QStringLiteral("~%1 (%2 × %3, median of %4 renders)")
        .arg(GpuTimeEstimator::formatSeconds(*totalSeconds))
        .arg(items)
        .arg(GpuTimeEstimator::formatSeconds(*secondsPerItem))
        .arg(samples);
}

void GpuTimeEstimator::addDurations(const QString& profile, const QVector<double>& seconds)
{
    QVector<double>& list = m_seconds[profile];
    for (const double s : seconds)
        if (std::isfinite(s) && s >= 0)
            list.append(s);
}

Error GpuTimeEstimator::addFromStore(const store::RunStore& store, const QString& profile, int limit)
{
    QVector<double> durations;
    if (Error e = store.sceneDurationsOfWorkflow(profile, limit, durations); !e.isNull())
        return e;
    addDurations(profile, durations);
    return {};
}

void GpuTimeEstimator::addFromState(const StoryboardState& state)
{
    const auto addImages = [this](const ImageTrack& track) {
        for (const ImageVersion& v : track.versions) {
            if (v.profile.isEmpty())
                continue;
            QVector<double> seconds;
            for (const Candidate& c : v.candidates)
                if (c.durationMs)
                    seconds.append(double(*c.durationMs) / 1000.0);
            addDurations(v.profile, seconds);
        }
    };
    for (const ReferenceEntry& r : state.references())
        addImages(r.track);
    for (const ShotEntry& s : state.shots()) {
        addImages(s.keyframe);
        for (const ClipVersion& v : s.clip.versions)
            if (!v.profile.isEmpty() && v.durationMs)
                addDurations(v.profile, {double(*v.durationMs) / 1000.0});
    }
}

StageEstimate GpuTimeEstimator::estimate(const QString& stage, const QString& profile, int items) const
{
    StageEstimate e;
    e.stage = stage;
    e.profile = profile;
    e.items = items;
    const QVector<double> history = m_seconds.value(profile);
    e.samples = history.size();
    // Nearest-rank median (telemetry's percentile rule): an actually measured duration, robust to
    // the first render of a session that also loaded the model.
    e.secondsPerItem = telemetry::Percentiles::nearestRank(history, 50);
    if (e.secondsPerItem)
        e.totalSeconds = *e.secondsPerItem * items;
    return e;
}

QString GpuTimeEstimator::formatSeconds(double seconds)
{
    if (seconds < 60)
        return QStringLiteral("%1 s").arg(seconds < 10 ? QString::number(seconds, 'f', 1) : QString::number(qRound(seconds)));
    const qint64 s = qRound64(seconds);
    if (s < 3600)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
}

} // namespace gd::storyboard
