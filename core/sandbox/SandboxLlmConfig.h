#pragma once

#include "sandbox/LlmFaultRule.h"

#include <QList>
#include <QString>

namespace gd::sandbox {

// Settings of one sandbox LLM server (spec/llm-api.md §7). flavour picks whose wire behaviour is emulated:
// "lmstudio" (default, complete), "ollama" or "llamacpp" (discovery routes plus their OpenAI-compatible
// surface).
struct SandboxLlmConfig
{
    QString flavour = QStringLiteral("lmstudio");
    QString modelId = QStringLiteral("sandbox-story-7b-instruct");
    bool modelLoaded =
        true; // false: the LLM is listed as not-loaded and is JIT-loaded by the first chat request
    QString embeddingModelId = QStringLiteral("text-embedding-nomic-embed-text-v1.5");
    int contextLength = 8192;
    int tokenDelayMs = 1;      // between two streamed content chunks
    int firstTokenDelayMs = 0; // before the first content chunk (prompt processing)
    QString apiKey;            // non-empty: requests need "Authorization: Bearer <apiKey>"
    QList<LlmFaultRule> faults;

    // Extras beyond the agreed interface.
    bool jitLoading =
        true; // LM Studio "Just-in-Time model loading": unloaded models listed and loaded on use
    int jitLoadDelayMs = 0;           // how long a JIT load holds the request (no bytes sent meanwhile)
    bool embeddingModelLoaded = true; // the embedding model's initial state
    int maxContextLength = 32768;     // the model's trained context (api/v0 max_context_length)
    // Older LM Studio builds answer unknown endpoints with 200 ("Returning 200 anyway"), spec §1.7.
    bool legacyUnknownEndpoint200 = true;
    // LM Studio ≥ 0.4 native API (/api/v1/models, /api/v1/models/load|unload). false: a 0.3.x build,
    // where those are unknown endpoints and /api/v0 (no unload) is the native API.
    bool lmStudioApiV1 = true;
    QString version = QStringLiteral("0.12.3"); // reported by the ollama flavour's /api/version
    // A vision-language model listed next to the story model (lmstudio flavour: v0 `type: "vlm"`, v1
    // `capabilities.vision`), answering image requests with SandboxVision. Off by default so the existing
    // two-model listings stay as they are; the quality judges' tests and sandbox sessions that want
    // model-based metrics switch it on.
    bool visionModel = false;
    QString visionModelId = QStringLiteral("sandbox-vision-2b");
};

} // namespace gd::sandbox
