#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QPair>
#include <QString>
#include <QVector>

namespace gd::sandbox {

// Serialises JSON the way Python's json.dumps does (aiohttp json_response and PromptServer.send_json use it):
// ", " / ": " separators, ensure_ascii escapes, Python float repr for non-integral numbers. Qt's JSON model
// turns every integral double into an integer, so a float like 7.0 prints as 7 unless the caller formats it
// with formatFloat() itself (done for "number" and max_upload_size, where clients may look).
class PyJson
{
public:
    static QByteArray dumps(const QJsonValue& value);
    static QByteArray dumps(const QJsonObject& object) { return dumps(QJsonValue(object)); }
    static QByteArray dumps(const QJsonArray& array) { return dumps(QJsonValue(array)); }
    // An object whose key order matters (history is keyed by prompt id in completion order; QJsonObject sorts
    // keys).
    static QByteArray dumpsOrdered(const QVector<QPair<QString, QByteArray>>& preSerialisedMembers);
    // Python repr() of a float: shortest round-trip digits, "1.0", "1e+16", "1e-05".
    static QByteArray formatFloat(double value);
    // Python str() of a scalar JSON value, as used in server messages ("Value 0 smaller than min of 1").
    static QString pyStr(const QJsonValue& value);
    // Python repr() of a JSON value (strings in single quotes, lists as [..]) for "not in ['a', 'b']"
    // details.
    static QString pyRepr(const QJsonValue& value);
    static QByteArray quote(const QString& text);
    static bool isInteger(const QJsonValue& value);
};

} // namespace gd::sandbox
