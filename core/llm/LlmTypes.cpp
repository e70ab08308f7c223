#include "llm/LlmTypes.h"

namespace gd::llm {

QString flavourName(ServerFlavour flavour)
{
    switch (flavour) {
    case ServerFlavour::LmStudio:
        return QStringLiteral("lmstudio");
    case ServerFlavour::Ollama:
        return QStringLiteral("ollama");
    case ServerFlavour::LlamaCpp:
        return QStringLiteral("llamacpp");
    case ServerFlavour::OpenAiGeneric:
        return QStringLiteral("openai");
    case ServerFlavour::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

} // namespace gd::llm
