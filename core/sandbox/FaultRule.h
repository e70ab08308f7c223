#pragma once

#include <QString>
#include <QStringList>
#include <optional>

namespace gd::sandbox {

// What an injected fault does to a matching prompt (see FaultRule::kindNames() for the CLI spellings).
enum class FaultKind
{
    ExecutionError,   // execution_error, exception_type "Exception", raised mid-way through the sampler
    Oom,              // execution_error, exception_type "torch.OutOfMemoryError" with the real tips text
    Interrupt,        // the server interrupts itself mid-run (execution_interrupted)
    WsDrop,           // the owner's socket is closed abruptly mid-run; the prompt keeps running
    WsSilent,         // the owner's routing entry goes dead for the rest of the prompt; the socket stays open
    HistoryDelay,     // history stays {} for param ms after completion
    MissingMarker,    // GemDirectSaveFrames writes its frames but no .done file
    SlowFrames,       // frames are written param ms apart
    ZeroFrames,       // output nodes write no frames
    FewFrames,        // output nodes write only param frames
    HostileFilename,  // UI output / history report filename "../../escape.png"
    HostileSubfolder, // UI output / history report subfolder "/etc" (param 0) or "../.." (param 1)
    TruncatedFrame,   // the middle frame file is cut to half its size
    Restart, // mid-run: drop all connections, stop listening, forget queue/history, listen again after param
             // ms
    Die,     // mid-run: stop listening for good and drop all connections
    // HTTP answers about a matching prompt, as a broken proxy or an overloaded box in front of ComfyUI
    // delivers them (ComfyUI itself never does this; the client must survive it anyway):
    MalformedJson,     // GET /history/{id} answers 200 with the JSON body cut in half (a truncating proxy)
    OversizedResponse, // the history entry carries a param-KB extra_pnginfo workflow (what ComfyUI stores
                       // verbatim from extra_data), so every /history answer about it is that large
    SlowLoris,         // GET /history/{id} answers trickle out 8 bytes every param ms (default 200)
};

// One fault-injection rule: which prompts it hits (match = substring of a filename_prefix of the prompt,
// empty = every prompt), how many of them (times, 0 = all) and a kind-specific parameter (ms or a frame
// count).
struct FaultRule
{
    FaultKind kind = FaultKind::ExecutionError;
    QString match;
    int times = 1;
    int param = 0;

    // CLI syntax "kind[:match[:times[:param]]]", e.g. "oom:scene-002", "slow-frames::0:250",
    // "restart::1:1500".
    static std::optional<FaultRule> parse(const QString& spec, QString* error);
    static QStringList kindNames();
    static QString kindName(FaultKind kind);
    static std::optional<FaultKind> kindFromName(const QString& name);
};

} // namespace gd::sandbox
