#pragma once

#include "llm/LlmTypes.h"

#include <QJsonValue>
#include <QString>
#include <QStringList>

namespace gd::llm {

// Outcome of pulling JSON out of a model's answer: the value, or what failed, plus the repairs
// that were needed (so telemetry can show how clean the model's output was).
struct JsonExtraction
{
    bool ok = false;
    QJsonValue value;
    QString error;       // for people and for the corrective retry message; empty when ok
    QStringList repairs; // e.g. "removed trailing commas"; empty when the JSON parsed as it came
    QString json;        // the JSON text that was parsed (after stripping and repairs)
};

// The robust JSON pipeline of spec/llm-api.md §6.12: strip BOM, <think> blocks, Markdown fences
// and surrounding prose, find the first balanced {…}/[…] with a string-aware scanner, parse, and
// apply minimal repairs only when parsing fails. Answers cut off by the token limit never count.
class JsonExtractor
{
public:
    // From a finished chat: refuses finish_reason "length", truncated streams, and answers that
    // carry only reasoning (empty content), before looking at the text at all.
    static JsonExtraction fromResult(const ChatResult& result);
    // From plain answer text. A finishReason of "length" is refused.
    static JsonExtraction extract(const QString& content, const QString& finishReason = QString());

    // Steps of the pipeline, public for tests and for other callers that need one of them.
    static QString stripThink(const QString& text);
    static QString stripFences(const QString& text);
    // Index one past the bracket that closes the one at `start` ('{' or '['), or -1 when the
    // brackets never balance or are mismatched. Brackets inside JSON strings do not count.
    static qsizetype matchingBracket(const QString& text, qsizetype start);
    // Minimal repairs: `//` and `/* */` comments, NaN/Infinity → null, raw control characters
    // inside strings escaped, trailing commas removed. Appends what it changed to `repairs`.
    static QString repair(const QString& json, QStringList* repairs);
};

} // namespace gd::llm
