#include "pipeline/FrameVerifier.h"

#include <QFile>
#include <QImageReader>

namespace gd::pipeline {

namespace {
quint32 le32(const char* p)
{
    return quint32(quint8(p[0])) | (quint32(quint8(p[1])) << 8) | (quint32(quint8(p[2])) << 16) |
           (quint32(quint8(p[3])) << 24);
}
} // namespace

bool FrameVerifier::isImageName(const QString& fileName)
{
    const QString n = fileName.toLower();
    return n.endsWith(QLatin1String(".png")) || n.endsWith(QLatin1String(".jpg")) ||
           n.endsWith(QLatin1String(".jpeg")) || n.endsWith(QLatin1String(".webp"));
}

bool FrameVerifier::isVideoName(const QString& fileName)
{
    const QString n = fileName.toLower();
    return n.endsWith(QLatin1String(".mp4")) || n.endsWith(QLatin1String(".webm")) ||
           n.endsWith(QLatin1String(".mov")) || n.endsWith(QLatin1String(".mkv")) ||
           n.endsWith(QLatin1String(".gif"));
}

FrameVerifier::Result FrameVerifier::verify(const QString& path)
{
    Result r;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        r.reason = QStringLiteral("cannot open: %1").arg(f.errorString());
        return r;
    }
    const qint64 size = f.size();
    if (size == 0) {
        r.reason = QStringLiteral("zero-byte file");
        return r;
    }
    const QByteArray head = f.read(16);
    const qint64 tailLen = std::min<qint64>(size, 16);
    f.seek(size - tailLen);
    const QByteArray tail = f.read(tailLen);
    if (head.startsWith("\x89PNG\r\n\x1a\n")) {
        // The IEND chunk is 12 bytes: length 0, "IEND", CRC AE 42 60 82.
        if (!tail.endsWith(QByteArray::fromHex("0000000049454e44ae426082"))) {
            r.reason = QStringLiteral("truncated PNG (no IEND chunk at the end)");
            return r;
        }
    } else if (head.startsWith("\xff\xd8")) {
        if (!tail.endsWith("\xff\xd9")) {
            r.reason = QStringLiteral("truncated JPEG (no end-of-image marker)");
            return r;
        }
    } else if (head.startsWith("RIFF") && head.mid(8, 4) == "WEBP") {
        const quint32 riffSize = le32(head.constData() + 4);
        if (qint64(riffSize) + 8 > size) {
            r.reason = QStringLiteral("truncated WebP (%1 of %2 bytes)").arg(size).arg(qint64(riffSize) + 8);
            return r;
        }
    } else {
        r.reason = QStringLiteral("not a PNG, JPEG or WebP image");
        return r;
    }
    f.close();
    QImageReader reader(path);
    const QSize s = reader.size();
    if (!reader.canRead() || !s.isValid()) {
        r.reason = QStringLiteral("unreadable image: %1").arg(reader.errorString());
        return r;
    }
    r.ok = true;
    r.width = s.width();
    r.height = s.height();
    return r;
}

} // namespace gd::pipeline
