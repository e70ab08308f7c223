#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

namespace gd::llm {

// Checks a value against the subset of JSON Schema the generator sends (type, required,
// properties, enum, minItems/maxItems, minLength/maxLength, minimum/maximum, items). Servers
// do not reliably enforce `strict`, so every structured answer is re-checked here.
class JsonSchemaCheck
{
public:
    // Every problem as "<path>: <reason>", e.g. "scenes[2].themes[0]: 'joy' is not one of action,
    // romance, ..."; the root's path is "(root)". Empty = valid.
    static QStringList check(const QJsonValue& value, const QJsonObject& schema);

private:
    static void checkValue(const QJsonValue& value, const QJsonObject& schema, const QString& path,
                           QStringList* problems);
};

} // namespace gd::llm
