#pragma once

#include "sandbox/NodeCatalog.h"

#include <QJsonObject>
#include <QStringList>
#include <optional>

namespace gd::sandbox {

// Outcome of validating one API-format graph (execution.validate_prompt of ComfyUI 0.3.64).
struct PromptValidation
{
    bool ok = false;
    QJsonObject error;       // {type, message, details, extra_info} when !ok
    QJsonObject nodeErrors;  // {node_id: {errors, dependent_outputs, class_type}}; may be non-empty when ok
    QStringList goodOutputs; // output node ids that will be executed
    QJsonObject prompt;      // the graph with literal values coerced in place ("20" -> 20 for INT)
};

// Validates a prompt against the node catalog with the real server's rules and error shapes (comfyui-api.md
// §2.2/2.4): invalid_prompt, prompt_no_outputs, per-input errors, partial success, KeyError-as-exception for
// dangling links. inputDir is consulted for LoadImage's VALIDATE_INPUTS ("Invalid image file: ...").
class PromptValidator
{
public:
    PromptValidator(const NodeCatalog& catalog, QString inputDir);

    PromptValidation validate(const QJsonObject& prompt,
                              const std::optional<QStringList>& partialTargets) const;

    // Numeric-aware ordering of node ids ("2" < "10"); used wherever the server iterates a set of ids.
    static bool nodeIdLess(const QString& a, const QString& b);

private:
    const NodeCatalog& m_catalog;
    QString m_inputDir;
};

} // namespace gd::sandbox
