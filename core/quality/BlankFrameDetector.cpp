#include "quality/BlankFrameDetector.h"

#include "common/AtomicFile.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QImageReader>
#include <QtConcurrent/QtConcurrentMap>

#include <algorithm>
#include <cmath>

namespace gd::quality {

namespace {

// GCC/Clang extension; __extension__ keeps -Wpedantic quiet. 64 bits would overflow n·Σy² for
// frames above a few megapixels.
__extension__ using Int128 = __int128;

// n·Σy² − (Σy)² for luma scaled by 1000: the variance times n² × 10⁶, exact in 128 bits.
struct LumaMoments
{
    Int128 n = 0;
    Int128 scaledSpread = 0;
};

std::optional<LumaMoments> moments(const QImage& source)
{
    if (source.isNull() || source.width() <= 0 || source.height() <= 0)
        return std::nullopt;
    const QImage image = source.format() == QImage::Format_RGB32 || source.format() == QImage::Format_ARGB32
                             ? source
                             : source.convertToFormat(QImage::Format_RGB32);
    Int128 sum = 0;
    Int128 sumSquares = 0;
    const int width = image.width();
    const int height = image.height();
    for (int y = 0; y < height; ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(image.constScanLine(y));
        // Chunks of ≤ 2²⁰ pixels: Σ luma² ≤ 2²⁰ · 6.5·10¹⁰ stays inside 64 bits; the chunks are
        // added up in 128 bits, so no frame size can overflow.
        for (int start = 0; start < width; start += 1 << 20) {
            const int end = std::min(width, start + (1 << 20));
            qint64 chunkSum = 0;
            qint64 chunkSquares = 0;
            for (int x = start; x < end; ++x) {
                const QRgb p = line[x];
                const qint64 luma = 299 * ((p >> 16) & 0xff) + 587 * ((p >> 8) & 0xff) + 114 * (p & 0xff);
                chunkSum += luma;
                chunkSquares += luma * luma;
            }
            sum += chunkSum;
            sumSquares += chunkSquares;
        }
    }
    LumaMoments m;
    m.n = static_cast<Int128>(image.width()) * image.height();
    m.scaledSpread = m.n * sumSquares - sum * sum;
    return m;
}

struct FrameVerdict
{
    bool readable = false;
    bool blank = false;
};

FrameVerdict judge(const QString& path)
{
    FrameVerdict v;
    QImageReader reader(path);
    QImage image;
    if (!reader.read(&image))
        return v;
    v.readable = !image.isNull();
    v.blank = v.readable && BlankFrameDetector::isBlank(image);
    return v;
}

} // namespace

std::optional<double> BlankFrameDetector::lumaStdDev(const QImage& image)
{
    const auto m = moments(image);
    if (!m)
        return std::nullopt;
    const long double variance =
        static_cast<long double>(m->scaledSpread) / (static_cast<long double>(m->n) * static_cast<long double>(m->n));
    return static_cast<double>(std::sqrt(variance) / 1000.0L);
}

bool BlankFrameDetector::isBlank(const QImage& image)
{
    const auto m = moments(image);
    if (!m)
        return false;
    // std < 2.0  ⇔  spread / n² < (2.0 · 1000)²  ⇔  spread < 4·10⁶ · n²  (all integers, exact)
    return m->scaledSpread < static_cast<Int128>(4000000) * m->n * m->n;
}

namespace {

// One cached verdict: valid while the file keeps its size and modification time.
struct CachedVerdict
{
    qint64 size = -1;
    qint64 mtimeMs = -1;
    std::optional<double> stdDev; // nullopt = unreadable
};

QHash<QString, CachedVerdict> loadCache(const QString& dir)
{
    QHash<QString, CachedVerdict> out;
    QFile f(QDir(dir).filePath(BlankFrameDetector::cacheFileName()));
    if (!f.open(QIODevice::ReadOnly) || f.size() > 16 * 1024 * 1024)
        return out;
    const QJsonObject frames = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("frames")).toObject();
    for (auto it = frames.begin(); it != frames.end(); ++it) {
        const QJsonObject o = it.value().toObject();
        CachedVerdict c;
        c.size = qint64(o.value(QStringLiteral("size")).toDouble(-1));
        c.mtimeMs = qint64(o.value(QStringLiteral("mtimeMs")).toDouble(-1));
        if (o.value(QStringLiteral("lumaStdDev")).isDouble())
            c.stdDev = o.value(QStringLiteral("lumaStdDev")).toDouble();
        out.insert(it.key(), c);
    }
    return out;
}

std::optional<double> decodeStdDev(const QString& path)
{
    QImageReader reader(path);
    QImage image;
    if (!reader.read(&image) || image.isNull())
        return std::nullopt;
    return BlankFrameDetector::lumaStdDev(image);
}

} // namespace

QVector<std::optional<bool>> BlankFrameDetector::classify(const QStringList& filePaths)
{
    // Frames whose statistics the pipeline already computed during the run (cache beside them,
    // same size and mtime) are not decoded again; PNG decoding is what this costs.
    QHash<QString, QHash<QString, CachedVerdict>> caches;
    QVector<std::optional<bool>> out(filePaths.size());
    QStringList toDecode;
    QVector<int> decodeIndex;
    for (int i = 0; i < filePaths.size(); ++i) {
        const QFileInfo fi(filePaths[i]);
        const QString dir = fi.absolutePath();
        if (!caches.contains(dir))
            caches.insert(dir, loadCache(dir));
        const auto& cache = caches[dir];
        const auto it = cache.constFind(fi.fileName());
        if (it != cache.cend() && it->size == fi.size() && it->mtimeMs == fi.lastModified().toMSecsSinceEpoch()) {
            out[i] = it->stdDev ? std::optional<bool>(*it->stdDev < kThreshold) : std::nullopt;
            continue;
        }
        toDecode << filePaths[i];
        decodeIndex << i;
    }
    const QList<FrameVerdict> verdicts = QtConcurrent::blockingMapped(toDecode, judge);
    for (int k = 0; k < verdicts.size(); ++k)
        out[decodeIndex[k]] = verdicts[k].readable ? std::optional<bool>(verdicts[k].blank) : std::nullopt;
    return out;
}

Error BlankFrameDetector::writeCache(const QString& attemptDir, const QStringList& fileNames)
{
    QStringList paths;
    for (const QString& n : fileNames)
        paths << QDir(attemptDir).filePath(n);
    const QList<std::optional<double>> stats = QtConcurrent::blockingMapped(paths, decodeStdDev);
    QJsonObject frames;
    for (int i = 0; i < paths.size(); ++i) {
        const QFileInfo fi(paths[i]);
        frames.insert(fileNames[i], QJsonObject{{QStringLiteral("size"), double(fi.size())},
                                                {QStringLiteral("mtimeMs"), double(fi.lastModified().toMSecsSinceEpoch())},
                                                {QStringLiteral("lumaStdDev"), stats[i] ? QJsonValue(*stats[i]) : QJsonValue()}});
    }
    return AtomicFile::write(QDir(attemptDir).filePath(cacheFileName()),
                             QJsonDocument(QJsonObject{{QStringLiteral("version"), 1}, {QStringLiteral("frames"), frames}})
                                 .toJson(QJsonDocument::Compact));
}

BlankFrameCounts BlankFrameDetector::check(const QStringList& filePaths)
{
    const QVector<std::optional<bool>> verdicts = classify(filePaths);
    BlankFrameCounts counts;
    for (qsizetype i = 0; i < verdicts.size(); ++i) {
        if (!verdicts.at(i)) {
            counts.unreadable.append(QFileInfo(filePaths.at(i)).fileName());
            continue;
        }
        ++counts.checked;
        if (*verdicts.at(i))
            ++counts.blank;
    }
    return counts;
}

} // namespace gd::quality
