#include "storyboard/InputHasher.h"

#include <QCryptographicHash>
#include <QLocale>
#include <QStringList>
#include <algorithm>
#include <cmath>

namespace gd::storyboard {

namespace {

void appendString(QByteArray& out, const QString& s)
{
    out += '"';
    const QByteArray utf8 = s.toUtf8();
    const bool plain = std::none_of(utf8.cbegin(), utf8.cend(), [](char ch) {
        return ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20;
    });
    if (plain) { // the common case: nothing to escape, one append
        out += utf8;
        out += '"';
        return;
    }
    for (const char ch : utf8) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += QByteArray::number(c, 16).rightJustified(2, '0');
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

void appendNumber(QByteArray& out, const QJsonValue& v)
{
    const double d = v.toDouble();
    const qint64 i = v.toInteger();
    // Integers (seeds above 2^53 included) are written exactly; other numbers in the shortest form
    // that reads back to the same double.
    if (static_cast<double>(i) == d) {
        out += QByteArray::number(i);
    } else if (!std::isfinite(d)) {
        out += "null"; // JSON has no NaN/inf; Qt writes null too
    } else {
        out += QByteArray::number(d, 'g', QLocale::FloatingPointShortest);
    }
}

void appendValue(QByteArray& out, const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined: out += "null"; break;
    case QJsonValue::Bool: out += v.toBool() ? "true" : "false"; break;
    case QJsonValue::Double: appendNumber(out, v); break;
    case QJsonValue::String: appendString(out, v.toString()); break;
    case QJsonValue::Array: {
        out += '[';
        const QJsonArray a = v.toArray();
        for (qsizetype k = 0; k < a.size(); ++k) {
            if (k)
                out += ',';
            appendValue(out, a.at(k));
        }
        out += ']';
        break;
    }
    case QJsonValue::Object: {
        // Sorted explicitly (by UTF-16 code units) rather than trusting QJsonObject's storage order.
        const QJsonObject o = v.toObject();
        QStringList keys = o.keys();
        std::sort(keys.begin(), keys.end());
        out += '{';
        bool first = true;
        for (const QString& k : keys) {
            if (!first)
                out += ',';
            first = false;
            appendString(out, k);
            out += ':';
            appendValue(out, o.value(k));
        }
        out += '}';
        break;
    }
    }
}

} // namespace

QByteArray InputHasher::canonicalJson(const QJsonValue& value)
{
    QByteArray out;
    out.reserve(512);
    appendValue(out, value);
    return out;
}

QString InputHasher::sha256Hex(const QByteArray& bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

QString InputHasher::hash(const QJsonObject& inputs)
{
    return sha256Hex(canonicalJson(inputs));
}

QString InputHasher::profileHash(const QJsonObject& graph, const QJsonObject& profile)
{
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(canonicalJson(graph));
    h.addData(QByteArrayView("\n"));
    h.addData(canonicalJson(profile));
    return QString::fromLatin1(h.result().toHex());
}

QJsonObject InputHasher::referenceInputs(const QString& prompt, const QString& negative, qint64 seed,
                                         const QString& styleReferenceSha256, const QString& profileHash,
                                         const QString& model)
{
    return QJsonObject{{QStringLiteral("kind"), QStringLiteral("reference")},
                       {QStringLiteral("prompt"), prompt},
                       {QStringLiteral("negative"), negative},
                       {QStringLiteral("seed"), seed},
                       {QStringLiteral("styleReference"), styleReferenceSha256},
                       {QStringLiteral("profileHash"), profileHash},
                       {QStringLiteral("model"), model}};
}

QJsonObject InputHasher::keyframeInputs(const KeyframeInputSpec& spec)
{
    QJsonArray refs; // QMap iterates in key order: the array is sorted by reference key
    for (auto it = spec.referenceSha256.cbegin(); it != spec.referenceSha256.cend(); ++it)
        refs.append(QJsonObject{{QStringLiteral("key"), it.key()}, {QStringLiteral("sha256"), it.value()}});
    QJsonObject o{{QStringLiteral("kind"), QStringLiteral("keyframe")},
                  {QStringLiteral("prompt"), spec.prompt},
                  {QStringLiteral("negative"), spec.negative},
                  {QStringLiteral("seed"), spec.seed},
                  {QStringLiteral("references"), refs},
                  {QStringLiteral("styleReference"), spec.styleReferenceSha256},
                  {QStringLiteral("profileHash"), spec.profileHash},
                  {QStringLiteral("model"), spec.model}};
    if (spec.textOnly)
        o.insert(QStringLiteral("textOnly"), true);
    if (spec.styleReferenceUnused)
        o.insert(QStringLiteral("styleReferenceUnused"), true);
    return o;
}

QJsonObject InputHasher::clipInputs(const ClipInputSpec& spec)
{
    return QJsonObject{{QStringLiteral("kind"), QStringLiteral("clip")},
                       {QStringLiteral("start"), spec.startSha256},
                       {QStringLiteral("startSource"), spec.startSource},
                       {QStringLiteral("end"), spec.endSha256},
                       {QStringLiteral("prompt"), spec.prompt},
                       {QStringLiteral("seed"), spec.seed},
                       {QStringLiteral("profileHash"), spec.profileHash},
                       {QStringLiteral("model"), spec.model}};
}

} // namespace gd::storyboard
