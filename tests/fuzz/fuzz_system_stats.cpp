// libFuzzer target: ComfyUI's GET /system_stats body through SystemStatsParser. Properties: either a
// snapshot or an error; VRAM figures are never negative and used = total - free when both are known.
#include "FuzzInput.h"
#include "gpu/SystemStatsParser.h"

#include <QJsonDocument>

using gd::gpu::SystemStatsParser;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray body = gd::fuzz::bytesOf(data, size);
    QString error;
    const auto s = SystemStatsParser::parse(body, &error);
    gd::fuzz::require(s.has_value() == error.isEmpty(), "snapshot and error disagree");
    if (s) {
        gd::fuzz::require(s->source == QLatin1String("system_stats"), "wrong source");
        for (const auto& bytes : {s->vramTotalBytes, s->vramUsedBytes, s->vramFreeBytes})
            gd::fuzz::require(!bytes || *bytes >= 0, "negative VRAM bytes");
        if (s->vramUsedBytes)
            gd::fuzz::require(*s->vramUsedBytes == *s->vramTotalBytes - *s->vramFreeBytes,
                              "used != total - free");
        gd::fuzz::require(!s->index || (*s->index >= 0 && *s->index <= 1024), "index out of range");
    }
    (void)SystemStatsParser::systemBlock(QJsonDocument::fromJson(body).object());
    return 0;
}
