#include "llm/SseParser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <cstring>

namespace gd::llm {

namespace {

constexpr qsizetype kMalformedEchoChars = 200;

// The message of an error event whose server said nothing about the error.
QString noDetails()
{
    return QStringLiteral("server reported an error without details");
}

QByteArrayView trimmedView(QByteArrayView v)
{
    qsizetype b = 0;
    qsizetype e = v.size();
    while (b < e && (v[b] == ' ' || v[b] == '\t'))
        ++b;
    while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
        --e;
    return v.sliced(b, e - b);
}

} // namespace

QString SseParser::errorText(const QJsonValue& error)
{
    if (error.isString())
        return error.toString();
    if (error.isObject()) {
        const QJsonObject o = error.toObject();
        const QString message = o.value(QStringLiteral("message")).toString();
        if (!message.isEmpty())
            return message;
        const QJsonValue inner = o.value(QStringLiteral("error"));
        if (!inner.isUndefined() && !inner.isNull())
            return errorText(inner);
        return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
    }
    if (error.isArray())
        return QString::fromUtf8(QJsonDocument(error.toArray()).toJson(QJsonDocument::Compact));
    if (error.isBool() || error.isDouble())
        return error.toVariant().toString();
    return {};
}

void SseParser::reset()
{
    m_buffer.clear();
    m_pendingData.clear();
    m_eventName.clear();
    m_atStart = true;
    m_skipping = false;
}

void SseParser::feed(QByteArrayView bytes, QVector<SseEvent>& out)
{
    const char* p = bytes.data();
    const char* const end = p + bytes.size();
    while (p < end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
        if (!nl) {
            if (m_skipping)
                return;
            if (m_buffer.size() + (end - p) > kMaxLineBytes) {
                out.append({SseEvent::Kind::Error,
                            m_eventName,
                            {},
                            QStringLiteral("stream line longer than %1 bytes; skipped").arg(kMaxLineBytes)});
                m_buffer.clear();
                m_skipping = true;
                return;
            }
            m_buffer.append(p, end - p);
            return;
        }
        if (m_skipping) {
            m_skipping = false;
        } else if (m_buffer.isEmpty()) {
            processLine(QByteArrayView(p, nl - p), out);
        } else if (m_buffer.size() + (nl - p) > kMaxLineBytes) {
            out.append({SseEvent::Kind::Error,
                        m_eventName,
                        {},
                        QStringLiteral("stream line longer than %1 bytes; skipped").arg(kMaxLineBytes)});
            m_buffer.clear();
        } else {
            m_buffer.append(p, nl - p);
            processLine(m_buffer, out);
            m_buffer.resize(0); // keeps the capacity for the next split line
        }
        p = nl + 1;
    }
}

void SseParser::finish(QVector<SseEvent>& out)
{
    if (!m_skipping && !m_buffer.isEmpty()) {
        const QByteArray last = m_buffer;
        m_buffer.clear();
        processLine(last, out);
    }
    m_buffer.clear();
    m_skipping = false;
    if (m_mode == Mode::Sse)
        endOfEvent(out);
}

void SseParser::processLine(QByteArrayView line, QVector<SseEvent>& out)
{
    if (!line.isEmpty() && line.back() == '\r')
        line.chop(1);
    if (m_atStart) {
        m_atStart = false;
        if (line.startsWith("\xEF\xBB\xBF"))
            line = line.sliced(3);
    }
    if (m_mode == Mode::Sse)
        processSseLine(line, out);
    else
        processNdjsonLine(line, out);
}

void SseParser::processSseLine(QByteArrayView line, QVector<SseEvent>& out)
{
    if (line.isEmpty()) {
        endOfEvent(out);
        return;
    }
    const char first = line.front();
    if (first == ':') // keep-alive / comment (llama.cpp pings during prompt processing)
        return;
    if (first == '{') {
        // An unframed JSON line: some proxies and old servers write error bodies without `data:`.
        QJsonObject o;
        if (parseObject(line, &o) && !o.value(QStringLiteral("error")).isUndefined()) {
            emitObject(o, out);
            return;
        }
        emitMalformed(line, out);
        return;
    }
    const qsizetype colon = line.indexOf(':');
    const QByteArrayView field = colon < 0 ? line : line.first(colon);
    QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
    if (!value.isEmpty() && value.front() == ' ')
        value = value.sliced(1);

    if (field == "data") {
        dataLine(value, out);
    } else if (field == "event") {
        m_eventName = QString::fromUtf8(trimmedView(value));
    } else if (field == "error") {
        // llama.cpp before PR #16109: `error: {"code":500,"message":"…"}` then `data: [DONE]`.
        QJsonObject o;
        SseEvent ev{SseEvent::Kind::Error, m_eventName, {}, {}};
        if (parseObject(value, &o)) {
            ev.json = o;
            const QJsonValue inner = o.value(QStringLiteral("error"));
            ev.message = errorText(inner.isUndefined() || inner.isNull() ? QJsonValue(o) : inner);
        } else {
            ev.message = QString::fromUtf8(trimmedView(value));
        }
        if (ev.message.isEmpty())
            ev.message = noDetails();
        out.append(ev);
    }
    // Other fields (`id:`, `retry:`, unknown names) carry nothing an LLM client needs (SSE rules: ignore).
}

void SseParser::dataLine(QByteArrayView payload, QVector<SseEvent>& out)
{
    if (!m_pendingData.isEmpty()) {
        // SSE joins the data lines of one event with '\n'; a JSON object split over lines completes here.
        m_pendingData.append('\n');
        m_pendingData.append(payload.data(), payload.size());
        QJsonObject o;
        if (parseObject(m_pendingData, &o)) {
            m_pendingData.clear();
            emitObject(o, out);
        } else if (m_pendingData.size() > kMaxLineBytes) {
            emitMalformed(m_pendingData, out);
            m_pendingData.clear();
        }
        return;
    }
    if (payload == "[DONE]") {
        out.append({SseEvent::Kind::Done, m_eventName, {}, {}});
        return;
    }
    QJsonObject o;
    if (parseObject(payload, &o)) {
        emitObject(o, out);
        return;
    }
    if (m_eventName == QLatin1String("error")) {
        const QString text = QString::fromUtf8(trimmedView(payload));
        out.append({SseEvent::Kind::Error, m_eventName, {}, text.isEmpty() ? noDetails() : text});
        return;
    }
    const QByteArrayView t = trimmedView(payload);
    if (!t.isEmpty() && t.front() == '{') {
        m_pendingData = QByteArray(payload.data(), payload.size()); // may continue on the next data line
        return;
    }
    emitMalformed(payload, out);
}

void SseParser::endOfEvent(QVector<SseEvent>& out)
{
    if (!m_pendingData.isEmpty()) {
        emitMalformed(m_pendingData, out);
        m_pendingData.clear();
    }
    m_eventName.clear();
}

void SseParser::processNdjsonLine(QByteArrayView line, QVector<SseEvent>& out)
{
    if (trimmedView(line).isEmpty())
        return;
    QJsonObject o;
    if (!parseObject(line, &o)) {
        emitMalformed(line, out);
        return;
    }
    emitObject(o, out);
    if (o.value(QStringLiteral("done")).toBool() && out.back().kind == SseEvent::Kind::Data)
        out.append({SseEvent::Kind::Done, {}, {}, {}});
}

bool SseParser::parseObject(QByteArrayView payload, QJsonObject* object)
{
    qsizetype i = 0;
    while (i < payload.size() && (payload[i] == ' ' || payload[i] == '\t'))
        ++i;
    if (i == payload.size() || payload[i] != '{')
        return false;
    QJsonParseError error;
    const QJsonDocument doc =
        QJsonDocument::fromJson(QByteArray::fromRawData(payload.data(), payload.size()), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return false;
    *object = doc.object();
    return true;
}

void SseParser::emitObject(const QJsonObject& object, QVector<SseEvent>& out)
{
    const QJsonValue error = object.value(QStringLiteral("error"));
    const bool isError = (!error.isUndefined() && !error.isNull()) || m_eventName == QLatin1String("error");
    if (!isError) {
        out.append({SseEvent::Kind::Data, m_eventName, object, {}});
        return;
    }
    QString message = errorText(error);
    if (message.isEmpty())
        message = errorText(object.value(QStringLiteral("message")));
    if (message.isEmpty())
        message = errorText(QJsonValue(object));
    // `{"error":""}` or `{"error":{}}` still reports an error; it just says nothing about it.
    if (message.isEmpty())
        message = noDetails();
    out.append({SseEvent::Kind::Error, m_eventName, object, message});
}

void SseParser::emitMalformed(QByteArrayView line, QVector<SseEvent>& out)
{
    QString text = QString::fromUtf8(line.first(std::min(line.size(), kMalformedEchoChars * 4)));
    if (text.size() > kMalformedEchoChars)
        text = text.left(kMalformedEchoChars) + QStringLiteral("…");
    out.append({SseEvent::Kind::Malformed, m_eventName, {}, text});
}

} // namespace gd::llm
