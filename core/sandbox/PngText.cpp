#include "sandbox/PngText.h"

#include <QtEndian>
#include <array>

namespace gd::sandbox {

namespace {

const QByteArray kSignature("\x89PNG\r\n\x1a\n", 8);

quint32 crc32(const QByteArray& bytes)
{
    static const std::array<quint32, 256> table = [] {
        std::array<quint32, 256> t{};
        for (quint32 n = 0; n < 256; ++n) {
            quint32 c = n;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    quint32 c = 0xffffffffu;
    for (const char b : bytes)
        c = table[(c ^ quint8(b)) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

QByteArray be32(quint32 v)
{
    QByteArray out(4, Qt::Uninitialized);
    qToBigEndian(v, out.data());
    return out;
}

} // namespace

QByteArray PngText::withText(const QByteArray& png, const QByteArray& key, const QByteArray& value)
{
    // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 crc).
    constexpr int kAfterIhdr = 8 + 25;
    if (!png.startsWith(kSignature) || png.size() < kAfterIhdr || png.mid(12, 4) != "IHDR" || key.isEmpty() ||
        key.size() > 79 || key.contains('\0'))
        return png;
    const QByteArray typeAndData = QByteArray("tEXt") + key + '\0' + value;
    const QByteArray chunk = be32(quint32(typeAndData.size() - 4)) + typeAndData + be32(crc32(typeAndData));
    QByteArray out = png;
    out.insert(kAfterIhdr, chunk);
    return out;
}

std::optional<QByteArray> PngText::readText(const QByteArray& png, const QByteArray& key)
{
    if (!png.startsWith(kSignature))
        return std::nullopt;
    qsizetype at = 8;
    while (at + 12 <= png.size()) {
        const quint32 length = qFromBigEndian<quint32>(png.constData() + at);
        const QByteArray type = png.mid(at + 4, 4);
        if (qint64(length) > png.size() - at - 12)
            return std::nullopt; // damaged: the chunk claims more bytes than there are
        if (type == "tEXt") {
            const QByteArray data = png.mid(at + 8, length);
            const qsizetype zero = data.indexOf('\0');
            if (zero > 0 && data.left(zero) == key)
                return data.mid(zero + 1);
        }
        if (type == "IEND")
            break;
        at += 12 + qsizetype(length);
    }
    return std::nullopt;
}

QByteArray PngText::asciiJson(const QByteArray& utf8Json)
{
    const QString text = QString::fromUtf8(utf8Json);
    QByteArray out;
    out.reserve(utf8Json.size());
    for (const QChar c : text) {
        if (c.unicode() < 0x80)
            out.append(char(c.unicode()));
        else
            out.append(QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0')).toLatin1());
    }
    return out;
}

} // namespace gd::sandbox
