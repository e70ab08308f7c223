// libFuzzer target: a ComfyUI /history answer. GET /history/{id} goes through
// ComfyClient::parseHistoryResponse; every entry (as GET /history?max_items=N lists them) is then read
// the way the pipeline reads one: its output files, and the execution messages of its status.
#include "FuzzInput.h"
#include "comfy/ComfyClient.h"

#include <QJsonArray>
#include <QJsonDocument>

using gd::comfy::ComfyClient;

namespace {

void readEntry(const QJsonObject& entry)
{
    for (const gd::comfy::OutputFile& f :
         ComfyClient::outputFiles(entry.value(QStringLiteral("outputs")).toObject())) {
        gd::fuzz::require(f.key != QLatin1String("animated"), "`animated` flags taken for files");
        gd::fuzz::requireConfined(f.subfolder, f.filename);
    }
    const QJsonObject status = entry.value(QStringLiteral("status")).toObject();
    for (const QJsonValue v : status.value(QStringLiteral("messages")).toArray()) {
        const QJsonArray m = v.toArray();
        if (m.at(0).toString() == QLatin1String("execution_error"))
            gd::fuzz::require(!ComfyClient::executionErrorText(m.at(1).toObject()).isEmpty(),
                              "empty execution error text");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray body = gd::fuzz::bytesOf(data, size);
    // The seeds key their entry "p": the prompt id the client asks for.
    const gd::comfy::HistoryResult r =
        ComfyClient::parseHistoryResponse(body, QStringLiteral("p"), QStringLiteral("GET /history/p"));
    gd::fuzz::require(!(r.found && !r.error.isNull()), "an entry found in a body reported as broken");
    if (!r.error.isNull()) {
        gd::fuzz::require(!r.error.message.isEmpty(), "an error without a message");
        return 0;
    }
    if (r.found)
        readEntry(r.entry);
    const QJsonObject all = QJsonDocument::fromJson(body).object();
    for (auto it = all.begin(); it != all.end(); ++it)
        readEntry(it.value().toObject());
    return 0;
}
