#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QVector>

namespace gd::llm {

// One unit of an LLM stream, as SseParser hands it out.
struct SseEvent
{
    enum class Kind
    {
        Data,  // a JSON chunk (OpenAI chunk, or one Ollama NDJSON object)
        Done,  // terminal marker: `data: [DONE]` (SSE) or after a `done:true` object (NDJSON)
        Error, // server-reported error: `event: error`, legacy `error:` line, or JSON with top-level `error`
        Malformed, // a line that is neither; the stream may still continue
    };
    Kind kind = Kind::Data;
    QString eventName; // the SSE `event:` in force for this data ("" for plain data)
    QJsonObject json;  // Data: the object; Error: the error body when it was JSON
    QString message;   // Error: readable text (error.message ?? error); Malformed: the line (capped)
};

// Incremental, allocation-light parser for LLM streams: bytes in (in whatever pieces the network
// delivers), events out. Splits on \n (and \r\n), decodes per complete line only so a multibyte
// character split across reads comes out whole. SSE mode follows spec/llm-api.md §6.8 (comments,
// `data:` with or without a space, `event:` remembered until the blank line that ends the event,
// legacy `error:` lines, `[DONE]`); NDJSON mode reads Ollama's native stream (one object a line,
// `done:true` ends it). A line longer than kMaxLineBytes is reported once and skipped, so an
// untrusted server cannot make us buffer without bound.
class SseParser
{
public:
    enum class Mode
    {
        Sse,
        Ndjson
    };
    static constexpr qsizetype kMaxLineBytes = 16 * 1024 * 1024;

    explicit SseParser(Mode mode = Mode::Sse) : m_mode(mode) {}

    Mode mode() const { return m_mode; }
    void setMode(Mode mode) { m_mode = mode; }

    // Appends an event for every complete line now available to `out`.
    void feed(QByteArrayView bytes, QVector<SseEvent>& out);
    // End of stream: parses a last line that had no newline and flushes a pending multi-line event.
    void finish(QVector<SseEvent>& out);
    void reset();
    qsizetype bufferedBytes() const { return m_buffer.size() + m_pendingData.size(); }

    // Readable text of an `error` value: error.message, else the string, else compact JSON.
    static QString errorText(const QJsonValue& error);

private:
    void processLine(QByteArrayView line, QVector<SseEvent>& out);
    void processSseLine(QByteArrayView line, QVector<SseEvent>& out);
    void processNdjsonLine(QByteArrayView line, QVector<SseEvent>& out);
    void dataLine(QByteArrayView payload, QVector<SseEvent>& out);
    void endOfEvent(QVector<SseEvent>& out);
    // Parses `payload` as a JSON object; false when it is not one.
    static bool parseObject(QByteArrayView payload, QJsonObject* object);
    void emitObject(const QJsonObject& object, QVector<SseEvent>& out);
    void emitMalformed(QByteArrayView line, QVector<SseEvent>& out);

    Mode m_mode;
    QByteArray m_buffer;      // an incomplete line carried over from the previous feed
    QByteArray m_pendingData; // data lines of an event whose JSON is not complete yet
    QString m_eventName;
    bool m_atStart = true;   // a UTF-8 BOM may precede the first line
    bool m_skipping = false; // inside an over-long line: drop bytes until its newline
};

} // namespace gd::llm
