#pragma once

#include <QVector>
#include <optional>

namespace gd::telemetry {

// Nearest-rank percentiles as the contract defines them (§6): sort, index = ceil(p/100 · n) − 1.
class Percentiles
{
public:
    // The p-th percentile (0..100, clamped) of the values; std::nullopt for an empty input.
    // Non-finite values (NaN, ±inf) are ignored: a broken measurement must not decide a P95.
    static std::optional<double> nearestRank(QVector<double> values, double percentile);
};

} // namespace gd::telemetry
