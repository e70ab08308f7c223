#pragma once

#include <QString>
#include <QStringList>
#include <optional>

namespace gd::sandbox {

// What an injected fault does to the sandbox LLM's next matching request (CLI spellings:
// LlmFaultRule::kindNames()).
enum class LlmFaultKind
{
    ColdLoad,        // hold the request param ms before any byte is sent (JIT model load)
    Loading503,      // 503 with LM Studio's "model is loading" error body
    MalformedJson,   // content is broken JSON (trailing comma, unclosed brace)
    FencedThink,     // content = "<think>...</think>" + "```json\n" + valid JSON + "\n```"
    ReasoningOnly,   // reasoning_content only, empty content, finish_reason "length"
    Truncated,       // content cut mid-JSON, finish_reason "length"
    StreamError,     // mid-stream "event: error" + data with an error object, then the stream ends
    Stall,           // stop sending mid-stream; keep the socket open until the client goes away
    ContextOverflow, // LM Studio's 400 naming the prompt tokens and the context length
    EofNoDone,       // close the stream without finish_reason or [DONE]
    FewerItems,      // arrays get one item fewer than minItems (schema-invalid)
    NoModel, // no model loaded and JIT off: listings empty of loaded LLMs, chat answers "No models loaded"
    EmbeddingOnly, // only the embedding model is listed/loaded
};

// One fault-injection rule of the sandbox LLM: which kind, how many requests it affects (times, 0 = every
// request) and a kind-specific parameter (milliseconds for cold-load/stall, prompt tokens for
// context-overflow).
struct LlmFaultRule
{
    LlmFaultKind kind = LlmFaultKind::Loading503;
    int times = 1; // 0 = always
    int param = 0;

    // CLI syntax "kind[:times[:param]]", e.g. "loading-503", "cold-load:1:1500", "stall:0".
    static std::optional<LlmFaultRule> parse(const QString& spec, QString* error);
    static QStringList kindNames();
    static QString kindName(LlmFaultKind kind);
    static std::optional<LlmFaultKind> kindFromName(const QString& name);
};

} // namespace gd::sandbox
