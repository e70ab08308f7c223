#include "telemetry/Percentiles.h"

#include <algorithm>
#include <cmath>

namespace gd::telemetry {

std::optional<double> Percentiles::nearestRank(QVector<double> values, double percentile)
{
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
                 values.end());
    if (values.isEmpty() || !std::isfinite(percentile))
        return std::nullopt;
    std::sort(values.begin(), values.end());
    const double p = std::clamp(percentile, 0.0, 100.0);
    const auto n = static_cast<double>(values.size());
    // p · n first, then / 100: 95 · 20 / 100 is exactly 19, whereas 0.95 · 20 may land a hair above
    // and ceil would skip a rank. The epsilon absorbs what rounding is left for fractional p.
    const double rank = std::ceil(p * n / 100.0 - 1e-9);
    const auto index = std::clamp<qsizetype>(static_cast<qsizetype>(rank) - 1, 0, values.size() - 1);
    return values.at(index);
}

} // namespace gd::telemetry
