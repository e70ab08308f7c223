#pragma once

#include "common/Error.h"
#include "llm/LlmTypes.h"

#include <QString>
#include <optional>

namespace gd::llm {

// What a listed model can do, from the detection result (spec/llm-api.md §5, §6.3): embedding models
// (LM Studio `type` embeddings/embedding, id heuristics for servers that do not say) and vision models
// (LM Studio v0 `type: "vlm"`, v1 `capabilities.vision`), and picking one of each for the quality judges.
class ModelCapabilities
{
public:
    static bool isEmbedding(const ModelInfo& model);
    static bool isVision(const ModelInfo& model);

    // The configured id when it is listed and of the right kind, else the first loaded one of that kind,
    // else (JIT servers list unloaded models and load them on first use) the first listed one. nullopt
    // with `why` (kind "no_model", or the detection error) when the server lists none.
    static std::optional<QString> pickVisionModel(const ServerInfo& info, const QString& configured,
                                                  Error* why);
    static std::optional<QString> pickEmbeddingModel(const ServerInfo& info, const QString& configured,
                                                     Error* why);
};

} // namespace gd::llm
