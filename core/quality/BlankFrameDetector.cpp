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
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>

#include <cstring>

#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>

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

// ---- Verdict from as few PNG rows as decide it ----
//
// Law of total variance: n·Var(all pixels) ≥ k·Var(first k pixels), because the overall mean is
// no better a centre for the first k pixels than their own mean. So once the rows read so far
// give k·Var_k ≥ 4.0·n (std-dev 2.0, in the same exact integers as isBlank), the whole frame is
// not blank, and the rest of it need not be inflated. A blank frame still reads every row. Only
// plain 8-bit grey/RGB/RGBA PNGs that are structurally complete (every chunk's CRC right, IEND
// present) take this path; anything else, and any libpng error, goes to the full Qt decode.

struct PngLayout
{
    quint32 width = 0;
    quint32 height = 0;
    int bitDepth = 0;
    int colorType = -1;
    int interlace = 0;
    bool transparency = false; // tRNS: Qt decodes such files through other conversions
};

quint32 bigEndian32(const uchar* p)
{
    return (quint32(p[0]) << 24) | (quint32(p[1]) << 16) | (quint32(p[2]) << 8) | quint32(p[3]);
}

// Walks the chunks: signature, IHDR first, every CRC right, IEND reached within the file.
std::optional<PngLayout> completePng(const QByteArray& bytes)
{
    static const uchar signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const auto* data = reinterpret_cast<const uchar*>(bytes.constData());
    const qint64 size = bytes.size();
    if (size < 8 || std::memcmp(data, signature, 8) != 0)
        return std::nullopt;
    PngLayout layout;
    qint64 pos = 8;
    bool first = true;
    while (pos + 12 <= size) {
        const quint32 length = bigEndian32(data + pos);
        if (length > 0x7fffffffU || pos + 12 + qint64(length) > size)
            return std::nullopt;
        const uchar* type = data + pos + 4;
        const uLong crc = crc32(crc32(0L, Z_NULL, 0), type, 4 + length);
        if (crc != bigEndian32(type + 4 + length))
            return std::nullopt;
        if (first) {
            if (std::memcmp(type, "IHDR", 4) != 0 || length != 13)
                return std::nullopt;
            layout.width = bigEndian32(type + 4);
            layout.height = bigEndian32(type + 8);
            layout.bitDepth = type[12];
            layout.colorType = type[13];
            layout.interlace = type[16];
            first = false;
        } else if (std::memcmp(type, "tRNS", 4) == 0) {
            layout.transparency = true;
        } else if (std::memcmp(type, "IEND", 4) == 0) {
            return layout;
        }
        pos += 12 + qint64(length);
    }
    return std::nullopt;
}

struct MemoryReader
{
    const uchar* data;
    size_t size;
    size_t pos;
};

void readFromMemory(png_structp png, png_bytep out, png_size_t length)
{
    auto* reader = static_cast<MemoryReader*>(png_get_io_ptr(png));
    if (reader->size - reader->pos < length)
        png_error(png, "read past the end");
    std::memcpy(out, reader->data + reader->pos, length);
    reader->pos += length;
}

void quietWarning(png_structp, png_const_charp) {}

// std::nullopt: not for this path (the caller decodes with Qt).
std::optional<bool> blankFromRows(const QByteArray& bytes, const PngLayout& layout)
{
    const int channels = layout.colorType == PNG_COLOR_TYPE_GRAY ? 1 : layout.colorType == PNG_COLOR_TYPE_RGB ? 3 : 4;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, quietWarning);
    if (!png)
        return std::nullopt;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        return std::nullopt;
    }
    MemoryReader reader{reinterpret_cast<const uchar*>(bytes.constData()), size_t(bytes.size()), 0};
    QByteArray row(qsizetype(layout.width) * channels, Qt::Uninitialized);
    const Int128 n = Int128(layout.width) * layout.height;
    Int128 sum = 0;
    Int128 sumSquares = 0;
    std::optional<bool> verdict;
    // Nothing with a destructor is created between setjmp and the calls that may longjmp.
    if (setjmp(png_jmpbuf(png)) == 0) {
        png_set_read_fn(png, &reader, readFromMemory);
        png_read_info(png, info);
        if (png_get_rowbytes(png, info) == size_t(row.size())) {
            auto* line = reinterpret_cast<png_bytep>(row.data());
            const int width = int(layout.width);
            verdict = true;
            for (quint32 y = 0; y < layout.height; ++y) {
                png_read_row(png, line, nullptr);
                qint64 rowSum = 0;
                qint64 rowSquares = 0; // libpng refuses rows over 10⁶ pixels: 10⁶ × 6.5·10¹⁰ fits in 64 bits
                for (int x = 0; x < width; ++x) {
                    const uchar* p = line + qsizetype(x) * channels;
                    const qint64 luma = channels == 1 ? 1000 * qint64(p[0]) : 299 * qint64(p[0]) + 587 * qint64(p[1]) + 114 * qint64(p[2]);
                    rowSum += luma;
                    rowSquares += luma * luma;
                }
                sum += rowSum;
                sumSquares += rowSquares;
                const Int128 k = Int128(y + 1) * layout.width;
                // k·Var_k ≥ 4·10⁶·n (luma × 1000)  ⇔  k·Σy² − (Σy)² ≥ 4·10⁶·n·k
                if (k * sumSquares - sum * sum >= Int128(4000000) * n * k) {
                    verdict = false;
                    break;
                }
            }
            if (*verdict)
                verdict = n * sumSquares - sum * sum < Int128(4000000) * n * n;
        }
    } else {
        verdict.reset();
    }
    png_destroy_read_struct(&png, &info, nullptr);
    return verdict;
}

// The verdict without a QImage where the file allows it (see above); std::nullopt otherwise.
std::optional<FrameVerdict> judgeByRows(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly) || file.size() > 512LL * 1024 * 1024)
        return std::nullopt;
    const QByteArray bytes = file.readAll();
    const std::optional<PngLayout> layout = completePng(bytes);
    if (!layout || layout->bitDepth != 8 || layout->interlace != 0 || layout->transparency || layout->width == 0 ||
        layout->height == 0 ||
        (layout->colorType != PNG_COLOR_TYPE_GRAY && layout->colorType != PNG_COLOR_TYPE_RGB &&
         layout->colorType != PNG_COLOR_TYPE_RGB_ALPHA))
        return std::nullopt;
    const std::optional<bool> blank = blankFromRows(bytes, *layout);
    if (!blank)
        return std::nullopt;
    FrameVerdict v;
    v.readable = true;
    v.blank = *blank;
    return v;
}

FrameVerdict judge(const QString& path)
{
    if (const std::optional<FrameVerdict> fast = judgeByRows(path))
        return *fast;
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

// QtConcurrent::blockingMapped on the global pool, safe when the caller is itself a global-pool task
// (the run's background frame statistics of each finished scene, the end-of-run quality job): while
// it waits, the caller hands its pool slot back (QThreadPool::releaseThread), so the map work always
// gets a thread. Without that, as many such callers as pool threads (two scenes finishing together
// on a 2-core machine) wait forever for map work that no thread is free to start, and every later
// pool task waits behind them — frame collection included, so the whole run hung.
template <typename Fn> auto mappedOnGlobalPool(const QStringList& paths, Fn fn)
{
    QThreadPool* pool = QThreadPool::globalInstance();
    pool->releaseThread();
    auto results = QtConcurrent::blockingMapped(paths, fn);
    pool->reserveThread();
    return results;
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
    const QList<FrameVerdict> verdicts = mappedOnGlobalPool(toDecode, judge);
    for (int k = 0; k < verdicts.size(); ++k)
        out[decodeIndex[k]] = verdicts[k].readable ? std::optional<bool>(verdicts[k].blank) : std::nullopt;
    return out;
}

Error BlankFrameDetector::writeCache(const QString& attemptDir, const QStringList& fileNames)
{
    QStringList paths;
    for (const QString& n : fileNames)
        paths << QDir(attemptDir).filePath(n);
    // One frame after the other on the calling thread: this is the run's background work (an idle-
    // priority thread of its own), which must not fan out over the cores the run itself needs.
    QList<std::optional<double>> stats;
    stats.reserve(paths.size());
    for (const QString& path : std::as_const(paths))
        stats << decodeStdDev(path);
    QJsonObject frames;
    for (int i = 0; i < paths.size(); ++i) {
        const QFileInfo fi(paths[i]);
        frames.insert(fileNames[i], QJsonObject{{QStringLiteral("size"), double(fi.size())},
                                                {QStringLiteral("mtimeMs"), double(fi.lastModified().toMSecsSinceEpoch())},
                                                {QStringLiteral("lumaStdDev"), stats[i] ? QJsonValue(*stats[i]) : QJsonValue()}});
    }
    // A cache: lost after a power cut, it is computed again; a sync per scene would only compete with
    // the run's durable writes for the disk.
    return AtomicFile::write(QDir(attemptDir).filePath(cacheFileName()),
                             QJsonDocument(QJsonObject{{QStringLiteral("version"), 1}, {QStringLiteral("frames"), frames}})
                                 .toJson(QJsonDocument::Compact),
                             AtomicFile::Sync::None);
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
