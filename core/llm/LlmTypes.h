#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace gd::llm {

// Which server answered (spec/llm-api.md §6.2); decides request shape and quirks.
enum class ServerFlavour { Unknown, LmStudio, Ollama, LlamaCpp, OpenAiGeneric };

QString flavourName(ServerFlavour flavour); // "lmstudio" | "ollama" | "llamacpp" | "openai" | "unknown"

struct ModelInfo
{
    QString id;
    QString type = QStringLiteral("llm"); // llm | vlm | embeddings
    bool loaded = false;
    int contextLength = 0;                 // 0 = unknown
    bool vision = false;
};

struct ServerInfo
{
    Error error;                 // kind "unreachable" when nothing listens; "protocol" for garbage
    ServerFlavour flavour = ServerFlavour::Unknown;
    QString version;
    QVector<ModelInfo> models;
};

struct ChatMessage
{
    QString role; // system | user | assistant
    QString content;
    // Images for a vision model (spec/llm-api.md §5), each a complete `data:image/png;base64,...` or
    // `data:image/jpeg;base64,...` URL (LM Studio takes base64 data URLs only, and some builds reject webp).
    // When non-empty the message is sent as OpenAI content parts: the text first, then one image_url part
    // per image.
    QStringList imageDataUrls;
};

// One chat completion request. An empty jsonSchema means free text.
struct ChatRequest
{
    QVector<ChatMessage> messages;
    QString model;
    double temperature = 0.7;
    double topP = 0.9;
    int maxTokens = 2048;
    std::optional<qint64> seed;
    QJsonObject jsonSchema;
    QString schemaName = QStringLiteral("response");
};

// Outcome and measurements of one chat completion (feeds Story.LLM of the telemetry contract).
struct ChatResult
{
    Error error;                 // null on success; kinds: unreachable, http, timeout, stream, cancelled, context_overflow, no_model
    QString content;             // story text only (reasoning never mixed in; inline <think> removed)
    QString reasoning;
    QString finishReason;        // stop | length | ... ; empty when the stream ended without one
    bool truncated = false;      // finishReason "length" or EOF without a terminal marker
    QString model;
    QString requestFormat;       // json_schema | ollama-format | text
    int promptTokens = 0;
    int completionTokens = 0;
    QString tokenCountSource = QStringLiteral("estimate"); // usage | estimate
    std::optional<double> timeToFirstTokenMs;
    std::optional<double> tokensPerSecond;
    int retries = 0;
    QDateTime startedAt;
    QDateTime completedAt;
    qint64 durationMs = 0;
};

// Outcome of one POST /v1/embeddings (spec/llm-api.md §1.5): one vector per input, in input order.
struct EmbeddingsResult
{
    Error error;                    // null on success; kinds: unreachable, http, timeout, no_model, protocol
    QVector<QVector<double>> vectors;
    QString model;                  // as the server names it (may carry an "@quant" suffix)
    qint64 durationMs = 0;
};

} // namespace gd::llm

Q_DECLARE_METATYPE(gd::llm::ChatResult)
Q_DECLARE_METATYPE(gd::llm::EmbeddingsResult)
