// libFuzzer target: an LLM stream through SseParser. The first byte picks the mode (bit 7: NDJSON)
// and a chunk size (low 4 bits + 1); the rest is the stream. Property: the events do not depend on
// how the network splits the bytes — one feed and a feed in small chunks give the same events.
#include "FuzzInput.h"
#include "llm/SseParser.h"

#include <QVector>

using gd::llm::SseEvent;
using gd::llm::SseParser;

namespace {

QVector<SseEvent> parseInChunks(SseParser::Mode mode, const QByteArray& stream, qsizetype chunk)
{
    SseParser parser(mode);
    QVector<SseEvent> events;
    for (qsizetype at = 0; at < stream.size(); at += chunk)
        parser.feed(QByteArrayView(stream).sliced(at, std::min(chunk, stream.size() - at)), events);
    parser.finish(events);
    gd::fuzz::require(parser.bufferedBytes() == 0, "bytes left buffered after finish()");
    return events;
}

bool sameEvents(const QVector<SseEvent>& a, const QVector<SseEvent>& b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i].kind != b[i].kind || a[i].eventName != b[i].eventName || a[i].json != b[i].json ||
            a[i].message != b[i].message)
            return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
        return 0;
    const SseParser::Mode mode = (data[0] & 0x80) ? SseParser::Mode::Ndjson : SseParser::Mode::Sse;
    const qsizetype chunk = (data[0] & 0x0f) + 1;
    const QByteArray stream = gd::fuzz::bytesOf(data + 1, size - 1);
    const QVector<SseEvent> whole = parseInChunks(mode, stream, std::max<qsizetype>(stream.size(), 1));
    const QVector<SseEvent> pieces = parseInChunks(mode, stream, chunk);
    gd::fuzz::require(sameEvents(whole, pieces), "events depend on how the stream was split");
    for (const SseEvent& e : whole) {
        if (e.kind == SseEvent::Kind::Error)
            gd::fuzz::require(!e.message.isEmpty(), "an error event without a message");
    }
    return 0;
}
