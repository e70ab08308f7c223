#pragma once

#include <QByteArray>
#include <QString>
#include <QVector>
#include <optional>

namespace gd::sandbox {

// One part of a multipart/form-data body.
struct MultipartPart
{
    QString name;
    QString fileName;
    bool hasFileName = false; // a file part (Content-Disposition carried filename=, possibly empty)
    QByteArray contentType;
    QByteArray data;
};

// Parses multipart/form-data bodies (RFC 7578) for POST /upload/image.
class MultipartFormData
{
public:
    // contentTypeHeader must carry boundary=...; nullopt + error when the body is not well-formed.
    static std::optional<QVector<MultipartPart>> parse(const QByteArray& contentTypeHeader,
                                                       const QByteArray& body, QString* error);
};

} // namespace gd::sandbox
