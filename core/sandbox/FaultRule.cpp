#include "sandbox/FaultRule.h"

#include <array>
#include <utility>

namespace gd::sandbox {

namespace {
const std::array<std::pair<FaultKind, const char*>, 18>& kindTable()
{
    static const std::array<std::pair<FaultKind, const char*>, 18> table{{
        {FaultKind::ExecutionError, "execution-error"},
        {FaultKind::Oom, "oom"},
        {FaultKind::Interrupt, "interrupt"},
        {FaultKind::WsDrop, "ws-drop"},
        {FaultKind::WsSilent, "ws-silent"},
        {FaultKind::HistoryDelay, "history-delay"},
        {FaultKind::MissingMarker, "missing-marker"},
        {FaultKind::SlowFrames, "slow-frames"},
        {FaultKind::ZeroFrames, "zero-frames"},
        {FaultKind::FewFrames, "few-frames"},
        {FaultKind::HostileFilename, "hostile-filename"},
        {FaultKind::HostileSubfolder, "hostile-subfolder"},
        {FaultKind::TruncatedFrame, "truncated-frame"},
        {FaultKind::Restart, "restart"},
        {FaultKind::Die, "die"},
        {FaultKind::MalformedJson, "malformed-json"},
        {FaultKind::OversizedResponse, "oversized-response"},
        {FaultKind::SlowLoris, "slow-loris"},
    }};
    return table;
}
} // namespace

QStringList FaultRule::kindNames()
{
    QStringList names;
    for (const auto& entry : kindTable())
        names << QString::fromLatin1(entry.second);
    return names;
}

QString FaultRule::kindName(FaultKind kind)
{
    for (const auto& entry : kindTable())
        if (entry.first == kind)
            return QString::fromLatin1(entry.second);
    return {};
}

std::optional<FaultKind> FaultRule::kindFromName(const QString& name)
{
    for (const auto& entry : kindTable())
        if (name.compare(QLatin1String(entry.second), Qt::CaseInsensitive) == 0)
            return entry.first;
    return std::nullopt;
}

std::optional<FaultRule> FaultRule::parse(const QString& spec, QString* error)
{
    const QStringList parts = spec.trimmed().split(QLatin1Char(':'));
    auto fail = [error](const QString& message) -> std::optional<FaultRule> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    if (parts.size() > 4)
        return fail(QStringLiteral("fault '%1': expected kind[:match[:times[:param]]], got %2 fields")
                        .arg(spec)
                        .arg(parts.size()));
    const auto kind = kindFromName(parts.at(0));
    if (!kind)
        return fail(QStringLiteral("fault '%1': unknown kind '%2' (known: %3)")
                        .arg(spec, parts.at(0), kindNames().join(QStringLiteral(", "))));
    FaultRule rule;
    rule.kind = *kind;
    if (parts.size() > 1)
        rule.match = parts.at(1);
    if (parts.size() > 2 && !parts.at(2).isEmpty()) {
        bool ok = false;
        rule.times = parts.at(2).toInt(&ok);
        if (!ok || rule.times < 0)
            return fail(
                QStringLiteral(
                    "fault '%1': times must be a whole number >= 0 (0 = every matching prompt), got '%2'")
                    .arg(spec, parts.at(2)));
    }
    if (parts.size() > 3 && !parts.at(3).isEmpty()) {
        bool ok = false;
        rule.param = parts.at(3).toInt(&ok);
        if (!ok || rule.param < 0)
            return fail(
                QStringLiteral("fault '%1': param must be a whole number >= 0 (ms or frames), got '%2'")
                    .arg(spec, parts.at(3)));
    }
    if (error)
        error->clear();
    return rule;
}

} // namespace gd::sandbox
