// libFuzzer target: one ComfyUI WebSocket text frame, as ComfyClient receives it, through
// ComfyEvent::fromMessage and the helpers that read an event's data (error text, executed files).
#include "FuzzInput.h"
#include "comfy/ComfyClient.h"
#include "comfy/ComfyEvent.h"

#include <QString>

using gd::comfy::ComfyClient;
using gd::comfy::ComfyEvent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // QWebSocket hands text frames over as QString; the client re-encodes them to UTF-8.
    const QByteArray utf8 = QString::fromUtf8(gd::fuzz::bytesOf(data, size)).toUtf8();
    const std::optional<ComfyEvent> ev = ComfyEvent::fromMessage(utf8);
    if (!ev)
        return 0;
    gd::fuzz::require(!ev->nodeIsNull || ev->type == ComfyEvent::Type::Executing,
                      "node:null is only a completion signal on `executing`");
    gd::fuzz::require(!ev->isCompletionOf(ev->promptId) || ev->nodeIsNull, "completion without node:null");
    switch (ev->type) {
    case ComfyEvent::Type::ExecutionError:
        gd::fuzz::require(!ComfyClient::executionErrorText(ev->data).isEmpty(), "empty execution error text");
        break;
    case ComfyEvent::Type::Executed: {
        const QJsonObject output = ev->data.value(QStringLiteral("output")).toObject();
        for (const gd::comfy::OutputFile& f : ComfyClient::outputFilesOfNode(ev->node, output)) {
            gd::fuzz::require(f.key != QLatin1String("animated"), "`animated` flags taken for files");
            gd::fuzz::requireConfined(f.subfolder, f.filename);
        }
        break;
    }
    default:
        break;
    }
    return 0;
}
