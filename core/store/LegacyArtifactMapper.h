#pragma once

#include <QJsonObject>

namespace gd::store {

// Maps an artifact-metadata.json of the earlier (PowerShell/Node) pipeline onto the current shape
// so the store records both the same way. Fields the old pipeline never wrote become null; fields
// only it wrote are kept as they are (they end up in the JSON columns).
class LegacyArtifactMapper
{
public:
    // The earlier pipeline wrote neither AppVersion nor LLMHealthInfo; every gemDirect artifact
    // has both (telemetry-contract.md §3.1).
    static bool isLegacy(const QJsonObject& artifact);
    // The artifact in the current shape. Summary counts are derived from Scenes[] (the earlier
    // pipeline kept them only in its run-summary.txt); percentiles stay null.
    static QJsonObject toCurrent(const QJsonObject& legacy);
};

} // namespace gd::store
