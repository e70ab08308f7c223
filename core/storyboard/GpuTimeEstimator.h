#pragma once

#include "common/Error.h"
#include "storyboard/StoryboardState.h"

#include <QHash>
#include <QString>
#include <QVector>
#include <optional>

namespace gd::store {
class RunStore;
}

namespace gd::storyboard {

// Estimated GPU time of one stage before it starts.
struct StageEstimate
{
    QString stage;   // "references", "keyframes", "video", ...
    QString profile; // workflow profile the stage renders with
    int items = 0;
    int samples = 0; // history durations the estimate rests on
    std::optional<double> secondsPerItem; // median of the history; empty: no history
    std::optional<double> totalSeconds;

    bool known() const { return totalSeconds.has_value(); }
    // "unknown (no history for profile 'x')" or "~3 min 30 s (12 × 17.5 s, median of 40 renders)".
    QString text() const;
};

// Estimates GPU seconds per stage from the recorded durations of the same profile: median per-item
// duration × items. Without history the estimate is "unknown", never a made-up number. History comes
// from the run store (scene durations of runs with that workflow) and from storyboard.json
// (durationMs of rendered candidates and clips, grouped by the version's profile).
class GpuTimeEstimator
{
public:
    // Adds per-item durations (seconds) of a profile; non-finite or negative values are ignored.
    void addDurations(const QString& profile, const QVector<double>& seconds);
    // The store's succeeded scene durations of that workflow profile (newest `limit`).
    Error addFromStore(const store::RunStore& store, const QString& profile, int limit = 200);
    // Every candidate's and clip's durationMs in the storyboard, under its version's profile.
    void addFromState(const StoryboardState& state);

    int sampleCount(const QString& profile) const { return m_seconds.value(profile).size(); }
    StageEstimate estimate(const QString& stage, const QString& profile, int items) const;

    // "45 s", "3 min 30 s", "1 h 05 min".
    static QString formatSeconds(double seconds);

private:
    QHash<QString, QVector<double>> m_seconds;
};

} // namespace gd::storyboard
