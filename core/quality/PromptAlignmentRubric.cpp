#include "quality/PromptAlignmentRubric.h"

#include "quality/JudgeChat.h"

#include <QJsonArray>
#include <algorithm>

namespace gd::quality {

namespace {

const QString kAlignmentRubric = QStringLiteral(
    "You judge whether a video frame matches the scene prompt it was generated from. Score three aspects "
    "from 0 to 4 against this fixed rubric:\n"
    "scene - setting, place, time of day and key objects: 4 all present, 3 most, 2 some, 1 barely, 0 none;\n"
    "action - the characters and what they do: 4 exactly as described, 3 mostly, 2 partly, 1 barely, 0 not "
    "at all;\n"
    "camera - shot size, angle and framing: 4 as described, 3 close, 2 partly, 1 barely, 0 contradicts.\n"
    "Answer with JSON only: {\"scene\": 0..4, \"action\": 0..4, \"camera\": 0..4, \"reasons\": [short "
    "sentences]}.");

QJsonObject intProperty(int lo, int hi)
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("integer")},
                       {QStringLiteral("minimum"), lo},
                       {QStringLiteral("maximum"), hi}};
}

} // namespace

QJsonObject PromptAlignmentRubric::schema()
{
    const QJsonObject reasons{
        {QStringLiteral("type"), QStringLiteral("array")},
        {QStringLiteral("items"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}};
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("properties"), QJsonObject{{QStringLiteral("scene"), intProperty(0, 4)},
                                                   {QStringLiteral("action"), intProperty(0, 4)},
                                                   {QStringLiteral("camera"), intProperty(0, 4)},
                                                   {QStringLiteral("reasons"), reasons}}},
        {QStringLiteral("required"), QJsonArray{QStringLiteral("scene"), QStringLiteral("action"),
                                                QStringLiteral("camera"), QStringLiteral("reasons")}}};
}

gd::llm::ChatRequest PromptAlignmentRubric::request(const QString& prompt, const QString& imageDataUrl,
                                                    const QString& model)
{
    gd::llm::ChatRequest request = JudgeChat::request(
        kAlignmentRubric,
        QStringLiteral("Scene prompt:\n%1\n\nScore how well the attached frame matches this scene prompt.")
            .arg(prompt),
        model);
    request.messages.last().imageDataUrls = {imageDataUrl};
    request.jsonSchema = schema();
    request.schemaName = schemaName();
    return request;
}

double PromptAlignmentRubric::median(QVector<double> values)
{
    if (values.isEmpty())
        return 0.0;
    std::sort(values.begin(), values.end());
    const qsizetype n = values.size();
    return n % 2 ? values.at(n / 2) : (values.at(n / 2 - 1) + values.at(n / 2)) / 2.0;
}

QJsonObject PromptAlignmentRubric::aggregate(const QVector<QJsonObject>& answers)
{
    if (answers.isEmpty())
        return {};
    QJsonObject out;
    double aspects = 0;
    for (const char* aspect : {"scene", "action", "camera"}) {
        QVector<double> values;
        for (const QJsonObject& a : answers)
            values.append(a.value(QLatin1String(aspect)).toDouble());
        const double m = median(values);
        QString field = QString::fromLatin1(aspect);
        field[0] = field.at(0).toUpper();
        out.insert(field, m);
        aspects += m;
    }
    out.insert(QStringLiteral("Mean"), aspects / 3.0);
    out.insert(QStringLiteral("Reasons"), answers.first().value(QStringLiteral("reasons")));
    return out;
}

} // namespace gd::quality
