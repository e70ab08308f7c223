#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>

namespace gd {

// An error as a value: kind (machine-readable), message (for people), detail (HTTP status,
// server body, node id, ...). Errors end up verbatim in telemetry and the UI.
struct Error
{
    QString kind;
    QString message;
    QJsonObject detail;

    bool isNull() const { return kind.isEmpty() && message.isEmpty(); }
    // "message (kind)" plus the most useful detail, on one line, for logs and run-summary lines.
    QString toString() const;
    QJsonObject toJson() const;
};

} // namespace gd

Q_DECLARE_METATYPE(gd::Error)
