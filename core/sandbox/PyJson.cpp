#include "sandbox/PyJson.h"

#include <QVariant>
#include <cmath>

namespace gd::sandbox {

bool PyJson::isInteger(const QJsonValue& value)
{
    if (!value.isDouble())
        return false;
    const int type = value.toVariant().typeId();
    return type == QMetaType::LongLong || type == QMetaType::Int || type == QMetaType::ULongLong;
}

QByteArray PyJson::formatFloat(double value)
{
    if (std::isnan(value))
        return QByteArrayLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QByteArrayLiteral("Infinity") : QByteArrayLiteral("-Infinity");
    if (value == 0.0)
        return std::signbit(value) ? QByteArrayLiteral("-0.0") : QByteArrayLiteral("0.0");
    // Shortest round-trip digits in scientific form "d.ddde+XX", then re-laid out by Python's repr rules:
    // positional when -4 <= exponent < 16, else scientific with at least two exponent digits.
    const QByteArray sci = QByteArray::number(value, 'e', QLocale::FloatingPointShortest);
    const int ePos = sci.indexOf('e');
    QByteArray mantissa = sci.left(ePos);
    const int exponent = sci.mid(ePos + 1).toInt();
    const bool negative = mantissa.startsWith('-');
    if (negative)
        mantissa.remove(0, 1);
    QByteArray digits = mantissa;
    digits.replace(".", "");
    QByteArray out;
    if (exponent >= -4 && exponent < 16) {
        if (exponent >= 0) {
            if (digits.size() <= exponent + 1) {
                out = digits + QByteArray(exponent + 1 - digits.size(), '0') + ".0";
            } else {
                out = digits.left(exponent + 1) + '.' + digits.mid(exponent + 1);
            }
        } else {
            out = "0." + QByteArray(-exponent - 1, '0') + digits;
        }
    } else {
        out = digits.left(1);
        if (digits.size() > 1)
            out += '.' + digits.mid(1);
        out += 'e';
        out += exponent < 0 ? '-' : '+';
        QByteArray e = QByteArray::number(std::abs(exponent));
        if (e.size() < 2)
            e.prepend('0');
        out += e;
    }
    return negative ? '-' + out : out;
}

QByteArray PyJson::quote(const QString& text)
{
    QByteArray out;
    out.reserve(text.size() + 2);
    out += '"';
    for (const QChar c : text) {
        const ushort u = c.unicode();
        switch (u) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (u < 0x20 || u > 0x7e) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out += buf;
            } else {
                out += char(u);
            }
        }
    }
    out += '"';
    return out;
}

QByteArray PyJson::dumps(const QJsonValue& value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return QByteArrayLiteral("null");
    case QJsonValue::Bool:
        return value.toBool() ? QByteArrayLiteral("true") : QByteArrayLiteral("false");
    case QJsonValue::Double:
        if (isInteger(value))
            return QByteArray::number(value.toInteger());
        return formatFloat(value.toDouble());
    case QJsonValue::String:
        return quote(value.toString());
    case QJsonValue::Array: {
        const QJsonArray a = value.toArray();
        QByteArray out = "[";
        for (qsizetype i = 0; i < a.size(); ++i) {
            if (i)
                out += ", ";
            out += dumps(a.at(i));
        }
        return out + ']';
    }
    case QJsonValue::Object: {
        const QJsonObject o = value.toObject();
        QByteArray out = "{";
        bool first = true;
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (!first)
                out += ", ";
            first = false;
            out += quote(it.key()) + ": " + dumps(it.value());
        }
        return out + '}';
    }
    }
    return QByteArrayLiteral("null");
}

QByteArray PyJson::dumpsOrdered(const QVector<QPair<QString, QByteArray>>& members)
{
    QByteArray out = "{";
    for (qsizetype i = 0; i < members.size(); ++i) {
        if (i)
            out += ", ";
        out += quote(members.at(i).first) + ": " + members.at(i).second;
    }
    return out + '}';
}

QString PyJson::pyStr(const QJsonValue& value)
{
    switch (value.type()) {
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("True") : QStringLiteral("False");
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return QStringLiteral("None");
    case QJsonValue::Double:
        return QString::fromLatin1(dumps(value));
    default:
        return pyRepr(value);
    }
}

QString PyJson::pyRepr(const QJsonValue& value)
{
    switch (value.type()) {
    case QJsonValue::String: {
        QString s = value.toString();
        s.replace(QLatin1Char('\\'), QStringLiteral("\\\\"))
            .replace(QLatin1Char('\''), QStringLiteral("\\'"));
        return QLatin1Char('\'') + s + QLatin1Char('\'');
    }
    case QJsonValue::Array: {
        QStringList parts;
        for (const QJsonValue& v : value.toArray())
            parts << pyRepr(v);
        return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
    }
    case QJsonValue::Object: {
        QStringList parts;
        const QJsonObject o = value.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            parts << pyRepr(it.key()) + QStringLiteral(": ") + pyRepr(it.value());
        return QLatin1Char('{') + parts.join(QStringLiteral(", ")) + QLatin1Char('}');
    }
    default:
        return pyStr(value);
    }
}

} // namespace gd::sandbox
