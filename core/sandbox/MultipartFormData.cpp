#include "sandbox/MultipartFormData.h"

namespace gd::sandbox {

namespace {
// Value of a parameter in a header such as `form-data; name="image"; filename="a.png"`.
std::optional<QByteArray> headerParam(const QByteArray& header, const QByteArray& param)
{
    int pos = 0;
    while (pos < header.size()) {
        int semi = header.indexOf(';', pos);
        // quoted values may contain ';'
        int quote = header.indexOf('"', pos);
        if (quote >= 0 && (semi < 0 || quote < semi)) {
            const int close = header.indexOf('"', quote + 1);
            semi = close < 0 ? -1 : header.indexOf(';', close);
        }
        const QByteArray item = header.mid(pos, semi < 0 ? -1 : semi - pos).trimmed();
        const int eq = item.indexOf('=');
        if (eq > 0 && item.left(eq).trimmed().compare(param, Qt::CaseInsensitive) == 0) {
            QByteArray value = item.mid(eq + 1).trimmed();
            if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"')) {
                value = value.mid(1, value.size() - 2);
                value.replace("\\\"", "\"").replace("\\\\", "\\");
            }
            return value;
        }
        if (semi < 0)
            break;
        pos = semi + 1;
    }
    return std::nullopt;
}
} // namespace

std::optional<QVector<MultipartPart>> MultipartFormData::parse(const QByteArray& contentTypeHeader,
                                                               const QByteArray& body, QString* error)
{
    auto fail = [error](const QString& message) -> std::optional<QVector<MultipartPart>> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    if (!contentTypeHeader.trimmed().toLower().startsWith("multipart/form-data"))
        return fail(QStringLiteral("Content-Type is not multipart/form-data"));
    const auto boundary = headerParam(contentTypeHeader, "boundary");
    if (!boundary || boundary->isEmpty())
        return fail(QStringLiteral("multipart boundary missing"));
    const QByteArray delimiter = "--" + *boundary;
    QVector<MultipartPart> parts;
    int pos = body.indexOf(delimiter);
    if (pos < 0)
        return fail(QStringLiteral("multipart body has no boundary line"));
    while (true) {
        pos += delimiter.size();
        if (body.mid(pos, 2) == "--")
            break; // closing delimiter
        if (body.mid(pos, 2) != "\r\n")
            return fail(QStringLiteral("malformed multipart boundary line"));
        pos += 2;
        const int headerEnd = body.indexOf("\r\n\r\n", pos);
        if (headerEnd < 0)
            return fail(QStringLiteral("multipart part without header terminator"));
        MultipartPart part;
        for (const QByteArray& line : body.mid(pos, headerEnd - pos).split('\n')) {
            const QByteArray l = line.trimmed();
            const int colon = l.indexOf(':');
            if (colon <= 0)
                continue;
            const QByteArray name = l.left(colon).trimmed();
            const QByteArray value = l.mid(colon + 1).trimmed();
            if (name.compare("Content-Disposition", Qt::CaseInsensitive) == 0) {
                part.name = QString::fromUtf8(headerParam(value, "name").value_or(QByteArray()));
                if (const auto fn = headerParam(value, "filename")) {
                    part.hasFileName = true;
                    part.fileName = QString::fromUtf8(*fn);
                }
            } else if (name.compare("Content-Type", Qt::CaseInsensitive) == 0) {
                part.contentType = value;
            }
        }
        const int dataStart = headerEnd + 4;
        const QByteArray terminator = "\r\n" + delimiter;
        const int next = body.indexOf(terminator, dataStart);
        if (next < 0)
            return fail(QStringLiteral("multipart part is not terminated by a boundary"));
        part.data = body.mid(dataStart, next - dataStart);
        parts.append(part);
        pos = next + 2;
    }
    return parts;
}

} // namespace gd::sandbox
