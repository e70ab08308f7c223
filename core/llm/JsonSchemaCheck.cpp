#include "llm/JsonSchemaCheck.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>

namespace gd::llm {

namespace {

// Long enum lists and values are shortened so one bad answer cannot flood a retry message.
constexpr int kMaxShownChars = 60;

QString typeOf(const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("boolean");
    case QJsonValue::Double:
        return QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array:
        return QStringLiteral("array");
    case QJsonValue::Object:
        return QStringLiteral("object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("nothing");
}

bool matchesType(const QJsonValue& v, const QString& type)
{
    if (type == QLatin1String("integer")) {
        if (!v.isDouble())
            return false;
        const double d = v.toDouble();
        return std::isfinite(d) && d == std::floor(d);
    }
    if (type == QLatin1String("number"))
        return v.isDouble();
    return typeOf(v) == type;
}

QString shown(const QJsonValue& v)
{
    QString s;
    if (v.isString())
        s = QLatin1Char('\'') + v.toString() + QLatin1Char('\'');
    else if (v.isArray() || v.isObject())
        s = QString::fromUtf8(QJsonDocument(v.isArray() ? QJsonDocument(v.toArray()) : QJsonDocument(v.toObject()))
                                  .toJson(QJsonDocument::Compact));
    else if (v.isDouble())
        s = QString::number(v.toDouble());
    else if (v.isBool())
        s = v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    else
        s = QStringLiteral("null");
    if (s.size() > kMaxShownChars)
        s = s.left(kMaxShownChars) + QStringLiteral("…");
    return s;
}

QString join(const QString& path, const QString& key)
{
    return path.isEmpty() ? key : path + QLatin1Char('.') + key;
}

QString shownPath(const QString& path)
{
    return path.isEmpty() ? QStringLiteral("(root)") : path;
}

} // namespace

QStringList JsonSchemaCheck::check(const QJsonValue& value, const QJsonObject& schema)
{
    QStringList problems;
    checkValue(value, schema, QString(), &problems);
    return problems;
}

void JsonSchemaCheck::checkValue(const QJsonValue& value, const QJsonObject& schema, const QString& path,
                                 QStringList* problems)
{
    const QString where = shownPath(path);
    const QJsonValue typeValue = schema.value(QStringLiteral("type"));
    if (!typeValue.isUndefined()) {
        QStringList types;
        if (typeValue.isArray()) {
            for (const QJsonValue& t : typeValue.toArray())
                types << t.toString();
        } else {
            types << typeValue.toString();
        }
        bool any = false;
        for (const QString& t : std::as_const(types))
            any = any || matchesType(value, t);
        if (!any) {
            problems->append(QStringLiteral("%1: expected %2, got %3")
                                 .arg(where, types.join(QStringLiteral(" or ")), typeOf(value)));
            return; // the rest of the keywords assume the right type
        }
    }

    if (schema.contains(QStringLiteral("enum"))) {
        const QJsonArray options = schema.value(QStringLiteral("enum")).toArray();
        if (!options.contains(value)) {
            QStringList names;
            for (const QJsonValue& o : options)
                names << (o.isString() ? o.toString() : shown(o));
            problems->append(QStringLiteral("%1: %2 is not one of %3").arg(where, shown(value), names.join(QStringLiteral(", "))));
        }
    }

    if (value.isString()) {
        const qsizetype len = value.toString().size();
        const QJsonValue minL = schema.value(QStringLiteral("minLength"));
        const QJsonValue maxL = schema.value(QStringLiteral("maxLength"));
        if (minL.isDouble() && len < minL.toInteger())
            problems->append(QStringLiteral("%1: %2 characters, at least %3 required").arg(where).arg(len).arg(minL.toInteger()));
        if (maxL.isDouble() && len > maxL.toInteger())
            problems->append(QStringLiteral("%1: %2 characters, at most %3 allowed").arg(where).arg(len).arg(maxL.toInteger()));
    }

    if (value.isDouble()) {
        const double d = value.toDouble();
        const QJsonValue minV = schema.value(QStringLiteral("minimum"));
        const QJsonValue maxV = schema.value(QStringLiteral("maximum"));
        if (minV.isDouble() && d < minV.toDouble())
            problems->append(QStringLiteral("%1: %2 is less than the minimum %3").arg(where).arg(d).arg(minV.toDouble()));
        if (maxV.isDouble() && d > maxV.toDouble())
            problems->append(QStringLiteral("%1: %2 is more than the maximum %3").arg(where).arg(d).arg(maxV.toDouble()));
    }

    if (value.isArray()) {
        const QJsonArray a = value.toArray();
        const QJsonValue minI = schema.value(QStringLiteral("minItems"));
        const QJsonValue maxI = schema.value(QStringLiteral("maxItems"));
        if (minI.isDouble() && a.size() < minI.toInteger())
            problems->append(QStringLiteral("%1: %2 items, at least %3 required").arg(where).arg(a.size()).arg(minI.toInteger()));
        if (maxI.isDouble() && a.size() > maxI.toInteger())
            problems->append(QStringLiteral("%1: %2 items, at most %3 allowed").arg(where).arg(a.size()).arg(maxI.toInteger()));
        const QJsonValue items = schema.value(QStringLiteral("items"));
        if (items.isObject()) {
            for (int i = 0; i < a.size(); ++i)
                checkValue(a.at(i), items.toObject(), QStringLiteral("%1[%2]").arg(path).arg(i), problems);
        }
    }

    if (value.isObject()) {
        const QJsonObject o = value.toObject();
        for (const QJsonValue& r : schema.value(QStringLiteral("required")).toArray()) {
            const QString key = r.toString();
            if (!o.contains(key))
                problems->append(QStringLiteral("%1: required").arg(join(path, key)));
        }
        const QJsonObject props = schema.value(QStringLiteral("properties")).toObject();
        for (auto it = props.begin(); it != props.end(); ++it) {
            if (o.contains(it.key()) && it.value().isObject())
                checkValue(o.value(it.key()), it.value().toObject(), join(path, it.key()), problems);
        }
        if (schema.value(QStringLiteral("additionalProperties")) == QJsonValue(false)) {
            for (auto it = o.begin(); it != o.end(); ++it)
                if (!props.contains(it.key()))
                    problems->append(QStringLiteral("%1: not allowed here").arg(join(path, it.key())));
        }
    }
}

} // namespace gd::llm
