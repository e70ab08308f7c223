#include "sandbox/LlmFaultRule.h"

#include <array>
#include <utility>

namespace gd::sandbox {

namespace {
using KindEntry = std::pair<LlmFaultKind, const char*>;
const std::array<KindEntry, 13>& kindTable()
{
    static const std::array<KindEntry, 13> table{{
        {LlmFaultKind::ColdLoad, "cold-load"},
        {LlmFaultKind::Loading503, "loading-503"},
        {LlmFaultKind::MalformedJson, "malformed-json"},
        {LlmFaultKind::FencedThink, "fenced-think"},
        {LlmFaultKind::ReasoningOnly, "reasoning-only"},
        {LlmFaultKind::Truncated, "truncated"},
        {LlmFaultKind::StreamError, "stream-error"},
        {LlmFaultKind::Stall, "stall"},
        {LlmFaultKind::ContextOverflow, "context-overflow"},
        {LlmFaultKind::EofNoDone, "eof-no-done"},
        {LlmFaultKind::FewerItems, "fewer-items"},
        {LlmFaultKind::NoModel, "no-model"},
        {LlmFaultKind::EmbeddingOnly, "embedding-only"},
    }};
    return table;
}
} // namespace

QStringList LlmFaultRule::kindNames()
{
    QStringList names;
    for (const auto& entry : kindTable())
        names << QString::fromLatin1(entry.second);
    return names;
}

QString LlmFaultRule::kindName(LlmFaultKind kind)
{
    for (const auto& entry : kindTable())
        if (entry.first == kind)
            return QString::fromLatin1(entry.second);
    return {};
}

std::optional<LlmFaultKind> LlmFaultRule::kindFromName(const QString& name)
{
    for (const auto& entry : kindTable())
        if (name.trimmed().compare(QLatin1String(entry.second), Qt::CaseInsensitive) == 0)
            return entry.first;
    return std::nullopt;
}

std::optional<LlmFaultRule> LlmFaultRule::parse(const QString& spec, QString* error)
{
    const QStringList parts = spec.trimmed().split(QLatin1Char(':'));
    auto fail = [error](const QString& message) -> std::optional<LlmFaultRule> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    if (parts.size() > 3)
        return fail(QStringLiteral("llm fault '%1': expected kind[:times[:param]], got %2 fields")
                        .arg(spec)
                        .arg(parts.size()));
    const auto kind = kindFromName(parts.at(0));
    if (!kind)
        return fail(QStringLiteral("llm fault '%1': unknown kind '%2' (known: %3)")
                        .arg(spec, parts.at(0), kindNames().join(QStringLiteral(", "))));
    LlmFaultRule rule;
    rule.kind = *kind;
    if (parts.size() > 1 && !parts.at(1).isEmpty()) {
        bool ok = false;
        rule.times = parts.at(1).toInt(&ok);
        if (!ok || rule.times < 0)
            return fail(QStringLiteral(
                            "llm fault '%1': times must be a whole number >= 0 (0 = every request), got '%2'")
                            .arg(spec, parts.at(1)));
    }
    if (parts.size() > 2 && !parts.at(2).isEmpty()) {
        bool ok = false;
        rule.param = parts.at(2).toInt(&ok);
        if (!ok || rule.param < 0)
            return fail(QStringLiteral("llm fault '%1': param must be a whole number >= 0, got '%2'")
                            .arg(spec, parts.at(2)));
    }
    if (error)
        error->clear();
    return rule;
}

} // namespace gd::sandbox
