#include "llm/ModelCapabilities.h"

#include <QStringList>
#include <functional>

namespace gd::llm {

namespace {

std::optional<QString> pick(const ServerInfo& info, const QString& configured, Error* why,
                            const std::function<bool(const ModelInfo&)>& fits, const QString& what)
{
    auto fail = [why](const Error& e) -> std::optional<QString> {
        if (why)
            *why = e;
        return std::nullopt;
    };
    if (!info.error.isNull())
        return fail(info.error);
    QVector<ModelInfo> candidates;
    for (const ModelInfo& m : info.models)
        if (fits(m))
            candidates.append(m);
    if (!configured.isEmpty()) {
        for (const ModelInfo& m : candidates)
            if (m.id == configured ||
                (info.flavour == ServerFlavour::Ollama && m.id == configured + QStringLiteral(":latest")))
                return m.id;
    }
    for (const ModelInfo& m : candidates)
        if (m.loaded)
            return m.id;
    const bool jitServer = info.flavour == ServerFlavour::LmStudio || info.flavour == ServerFlavour::Ollama;
    if (jitServer && !candidates.isEmpty())
        return candidates.first().id;
    QStringList listed;
    for (const ModelInfo& m : info.models)
        listed << m.id;
    QString message = configured.isEmpty()
                          ? QStringLiteral("The LLM server lists no %1").arg(what)
                          : QStringLiteral("The LLM server lists no %1 named '%2'").arg(what, configured);
    message += listed.isEmpty() ? QStringLiteral(" (it lists no models at all)")
                                : QStringLiteral(" (listed: %1)").arg(listed.join(QStringLiteral(", ")));
    return fail({QStringLiteral("no_model"), message, {{QStringLiteral("configured"), configured}}});
}

} // namespace

bool ModelCapabilities::isEmbedding(const ModelInfo& model)
{
    return model.type == QLatin1String("embeddings") || model.type == QLatin1String("embedding");
}

bool ModelCapabilities::isVision(const ModelInfo& model)
{
    return !isEmbedding(model) && (model.vision || model.type == QLatin1String("vlm"));
}

std::optional<QString> ModelCapabilities::pickVisionModel(const ServerInfo& info, const QString& configured,
                                                          Error* why)
{
    return pick(info, configured, why, &ModelCapabilities::isVision, QStringLiteral("vision-capable model"));
}

std::optional<QString> ModelCapabilities::pickEmbeddingModel(const ServerInfo& info,
                                                             const QString& configured, Error* why)
{
    return pick(info, configured, why, &ModelCapabilities::isEmbedding, QStringLiteral("embedding model"));
}

} // namespace gd::llm
