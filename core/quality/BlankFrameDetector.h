#pragma once

#include "common/Error.h"

#include <QImage>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::quality {

// Blank-frame counts of one scene's frames.
struct BlankFrameCounts
{
    int checked = 0;          // frames decoded
    int blank = 0;            // ... whose luma std-dev is below the threshold
    QStringList unreadable;   // file names that did not decode as images

    std::optional<double> ratio() const
    {
        return checked > 0 ? std::optional<double>(static_cast<double>(blank) / checked) : std::nullopt;
    }
};

// Detects uniform frames (quality-kpis.md "Blank frames": luma std-dev < 2.0 of 255), the symptom
// of missing models that makes ComfyUI emit flat images.
class BlankFrameDetector
{
public:
    static constexpr double kThreshold = 2.0;

    // Population standard deviation of Rec. 601 luma (0.299 R + 0.587 G + 0.114 B) over every
    // pixel, 0..255. Computed in exact integer arithmetic (luma × 1000), so the 2.0 boundary is
    // decided the same way on every machine. std::nullopt for a null image.
    static std::optional<double> lumaStdDev(const QImage& image);
    // True when the std-dev is strictly below kThreshold (exactly 2.0 is not blank).
    static bool isBlank(const QImage& image);
    // Decodes the files in parallel (QtConcurrent, the global pool) and counts blank ones. Blocks
    // the calling thread: call it off the GUI thread.
    static BlankFrameCounts check(const QStringList& filePaths);
    // Per file, in input order: true blank, false not blank, std::nullopt unreadable. Parallel
    // like check(); lets a caller decode the frames of many scenes in one batch.
    // Frames with an up-to-date entry in their folder's cache (writeCache) are not decoded again.
    static QVector<std::optional<bool>> classify(const QStringList& filePaths);
    // Decodes an attempt's frames and stores their luma std-dev (with size and mtime) in
    // <attemptDir>/.frame-luma.json, atomically. The pipeline calls it in the background right
    // after an attempt is collected, so the end-of-run quality step does not decode every frame.
    // Decodes on the calling thread, one frame after another (no pool work).
    static Error writeCache(const QString& attemptDir, const QStringList& fileNames);
    static QString cacheFileName() { return QStringLiteral(".frame-luma.json"); }
};

} // namespace gd::quality
