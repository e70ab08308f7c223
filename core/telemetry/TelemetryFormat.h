#pragma once

#include <QDateTime>
#include <QString>
#include <optional>

namespace gd::telemetry {

// The number, time and path formats shared by the artifact writer, the run-summary log and the
// validator: the validator compares with the very functions the writers used, so a value can never
// pass or fail on formatting alone.
class TelemetryFormat
{
public:
    // ISO 8601 in UTC with milliseconds and 'Z' ("2025-11-12T12:00:00.000Z"); empty when invalid.
    static QString isoUtc(const QDateTime& time);
    // Parses what isoUtc() writes (also without milliseconds or with an offset); invalid on failure.
    static QDateTime parseIso(const QString& text);
    // Rounded to one decimal place (contract: durations and MB values are written to 1 dp).
    static double round1(double value);
    // Durations in run-summary lines: always one decimal ("12.3", "10.0").
    static QString duration(double seconds);
    // Knob values in run-summary lines: integers without decimals ("600", "2"), fractions with the
    // fewest digits that round-trip ("0.5", "0.25").
    static QString knob(double value);
    // Bytes to MB (MiB, as nvidia-smi and the legacy tooling count them), rounded to 1 dp.
    static std::optional<double> bytesToMB(std::optional<qint64> bytes);
    // A path for the artifact: relative to runDir when it lies inside it, forward slashes always.
    // Paths outside the run directory (a ComfyUI output folder) stay absolute.
    static QString relativePath(const QString& runDir, const QString& path);
};

} // namespace gd::telemetry
