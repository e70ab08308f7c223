#include "sandbox/PromptValidator.h"

#include "sandbox/PyJson.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <algorithm>
#include <cmath>

namespace gd::sandbox {

namespace {

// A Python exception raised while validating (KeyError for a dangling link, IndexError for a bad slot, ...).
struct PyException
{
    QString type;
    QString message;
};

struct NodeResult
{
    bool valid = true;
    QJsonArray reasons;
};

QJsonObject makeError(const QString& type, const QString& message, const QString& details,
                      const QJsonObject& extra)
{
    return QJsonObject{{QStringLiteral("type"), type},
                       {QStringLiteral("message"), message},
                       {QStringLiteral("details"), details},
                       {QStringLiteral("extra_info"), extra}};
}

QJsonArray fakeTraceback(const QString& function)
{
    return QJsonArray{QStringLiteral("  File \"/ComfyUI/execution.py\", line 1075, in validate_prompt\n"
                                     "    m = await validate_inputs(prompt_id, prompt, o, validated)\n"),
                      QStringLiteral("  File \"/ComfyUI/execution.py\", line 723, in %1\n"
                                     "    o_class_type = prompt[o_id]['class_type']\n")
                          .arg(function)};
}

bool jsonEqualsPy(const QJsonValue& a, const QJsonValue& b)
{
    if (a.isDouble() && b.isDouble())
        return a.toDouble() == b.toDouble();
    if (a.isBool() && b.isDouble())
        return (a.toBool() ? 1.0 : 0.0) == b.toDouble();
    if (a.isDouble() && b.isBool())
        return (b.toBool() ? 1.0 : 0.0) == a.toDouble();
    return a == b;
}

QString pyTypeName(const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("NoneType");
    case QJsonValue::Bool:
        return QStringLiteral("bool");
    case QJsonValue::Double:
        return PyJson::isInteger(v) ? QStringLiteral("int") : QStringLiteral("float");
    case QJsonValue::String:
        return QStringLiteral("str");
    case QJsonValue::Array:
        return QStringLiteral("list");
    case QJsonValue::Object:
        return QStringLiteral("dict");
    default:
        return QStringLiteral("object");
    }
}

// Python int(val) / float(val); nullopt + message when Python would raise.
std::optional<QJsonValue> coerce(const QString& type, const QJsonValue& val, QString* message)
{
    if (type == QLatin1String("INT")) {
        if (val.isBool())
            return QJsonValue(val.toBool() ? 1 : 0);
        if (val.isDouble()) {
            const double d = val.toDouble();
            if (!std::isfinite(d)) {
                *message = QStringLiteral("cannot convert float %1 to integer")
                               .arg(QString::fromLatin1(PyJson::formatFloat(d)));
                return std::nullopt;
            }
            return PyJson::isInteger(val) ? val : QJsonValue(qint64(std::trunc(d)));
        }
        if (val.isString()) {
            bool ok = false;
            const qint64 n = val.toString().trimmed().replace(QLatin1Char('_'), QString()).toLongLong(&ok);
            if (ok)
                return QJsonValue(n);
            *message = QStringLiteral("invalid literal for int() with base 10: %1").arg(PyJson::pyRepr(val));
            return std::nullopt;
        }
        *message =
            QStringLiteral("int() argument must be a string, a bytes-like object or a real number, not '%1'")
                .arg(pyTypeName(val));
        return std::nullopt;
    }
    if (type == QLatin1String("FLOAT")) {
        if (val.isBool())
            return QJsonValue(val.toBool() ? 1.0 : 0.0);
        if (val.isDouble())
            return QJsonValue(val.toDouble());
        if (val.isString()) {
            bool ok = false;
            const double d = val.toString().trimmed().toDouble(&ok);
            if (ok)
                return QJsonValue(d);
            *message = QStringLiteral("could not convert string to float: %1").arg(PyJson::pyRepr(val));
            return std::nullopt;
        }
        *message = QStringLiteral("float() argument must be a string or a real number, not '%1'")
                       .arg(pyTypeName(val));
        return std::nullopt;
    }
    if (type == QLatin1String("STRING"))
        return QJsonValue(PyJson::pyStr(val));
    if (type == QLatin1String("BOOLEAN")) {
        switch (val.type()) {
        case QJsonValue::Bool:
            return val;
        case QJsonValue::Double:
            return QJsonValue(val.toDouble() != 0.0);
        case QJsonValue::String:
            return QJsonValue(!val.toString().isEmpty());
        case QJsonValue::Array:
            return QJsonValue(!val.toArray().isEmpty());
        case QJsonValue::Object:
            return QJsonValue(!val.toObject().isEmpty());
        default:
            return QJsonValue(false);
        }
    }
    return val;
}

class Run
{
public:
    Run(const NodeCatalog& catalog, const QString& inputDir, QJsonObject& prompt)
        : m_catalog(catalog), m_inputDir(inputDir), m_prompt(prompt)
    {
    }

    QHash<QString, NodeResult> validated;
    QStringList validatedOrder; // Python dicts iterate in insertion order

    void record(const QString& id, const NodeResult& r)
    {
        if (!validated.contains(id))
            validatedOrder.append(id);
        validated.insert(id, r);
    }

    const NodeClassSpec& classOf(const QString& nodeId)
    {
        if (!m_prompt.contains(nodeId))
            throw PyException{QStringLiteral("KeyError"), PyJson::pyRepr(nodeId)};
        const QString cls = m_prompt.value(nodeId).toObject().value(QStringLiteral("class_type")).toString();
        return *m_catalog.find(cls);
    }

    NodeResult validateInputs(const QString& id)
    {
        if (validated.contains(id))
            return validated.value(id);
        QJsonObject node = m_prompt.value(id).toObject();
        if (!node.contains(QStringLiteral("inputs")))
            throw PyException{QStringLiteral("KeyError"), QStringLiteral("'inputs'")};
        QJsonObject inputs = node.value(QStringLiteral("inputs")).toObject();
        const NodeClassSpec& cls = *m_catalog.find(node.value(QStringLiteral("class_type")).toString());
        const bool loadImage = cls.className == QLatin1String("LoadImage");

        QJsonArray errors;
        bool valid = true;
        for (const NodeInputSpec& in : cls.inputs) {
            const QString& x = in.name;
            const QString inputType = in.typeName();
            const QJsonValue info = in.spec;
            if (!inputs.contains(x)) {
                if (in.required)
                    errors.append(makeError(QStringLiteral("required_input_missing"),
                                            QStringLiteral("Required input is missing"), x,
                                            QJsonObject{{QStringLiteral("input_name"), x}}));
                continue;
            }
            QJsonValue val = inputs.value(x);
            if (val.isArray()) {
                const QJsonArray link = val.toArray();
                if (link.size() != 2) {
                    errors.append(makeError(
                        QStringLiteral("bad_linked_input"),
                        QStringLiteral("Bad linked input, must be a length-2 list of [node_id, slot_index]"),
                        x,
                        QJsonObject{{QStringLiteral("input_name"), x},
                                    {QStringLiteral("input_config"), info},
                                    {QStringLiteral("received_value"), val}}));
                    continue;
                }
                // Raised here (outside the try below) the KeyError escapes to whoever validates this node.
                const QJsonValue rawId = link.at(0);
                const QString oId = rawId.isString() ? rawId.toString() : QString();
                if (!rawId.isString())
                    throw PyException{QStringLiteral("KeyError"), PyJson::pyStr(rawId)};
                const NodeClassSpec& source = classOf(oId);
                if (!link.at(1).isDouble())
                    throw PyException{QStringLiteral("TypeError"),
                                      QStringLiteral("tuple indices must be integers or slices, not %1")
                                          .arg(pyTypeName(link.at(1)))};
                const int slot = link.at(1).toInt();
                if (slot < -source.outputTypes.size() || slot >= source.outputTypes.size())
                    throw PyException{QStringLiteral("IndexError"),
                                      QStringLiteral("tuple index out of range")};
                const QString receivedType =
                    source.outputTypes.at(slot < 0 ? slot + source.outputTypes.size() : slot);
                if (!typesMatch(receivedType, in)) {
                    errors.append(makeError(
                        QStringLiteral("return_type_mismatch"),
                        QStringLiteral("Return type mismatch between linked nodes"),
                        QStringLiteral("%1, received_type(%2) mismatch input_type(%3)")
                            .arg(x, receivedType,
                                 in.spec.at(0).isArray() ? PyJson::pyRepr(in.spec.at(0)) : inputType),
                        QJsonObject{{QStringLiteral("input_name"), x},
                                    {QStringLiteral("input_config"), info},
                                    {QStringLiteral("received_type"), receivedType},
                                    {QStringLiteral("linked_node"), val}}));
                    continue;
                }
                try {
                    const NodeResult r = validateInputs(oId);
                    if (!r.valid) {
                        valid = false;
                        continue;
                    }
                } catch (const PyException& ex) {
                    valid = false;
                    QJsonArray reasons{
                        makeError(QStringLiteral("exception_during_inner_validation"),
                                  QStringLiteral("Exception when validating inner node"), ex.message,
                                  QJsonObject{{QStringLiteral("input_name"), x},
                                              {QStringLiteral("input_config"), info},
                                              {QStringLiteral("exception_message"), ex.message},
                                              {QStringLiteral("exception_type"), ex.type},
                                              {QStringLiteral("traceback"),
                                               fakeTraceback(QStringLiteral("validate_inputs"))},
                                              {QStringLiteral("linked_node"), val}})};
                    record(oId, NodeResult{false, reasons});
                    continue;
                }
                continue;
            }
            if (val.isObject() && val.toObject().contains(QStringLiteral("__value__"))) {
                val = val.toObject().value(QStringLiteral("__value__"));
                inputs.insert(x, val);
            }
            QString message;
            const auto coerced = coerce(inputType, val, &message);
            if (!coerced) {
                errors.append(
                    makeError(QStringLiteral("invalid_input_type"),
                              QStringLiteral("Failed to convert an input value to a %1 value").arg(inputType),
                              QStringLiteral("%1, %2, %3").arg(x, PyJson::pyStr(val), message),
                              QJsonObject{{QStringLiteral("input_name"), x},
                                          {QStringLiteral("input_config"), info},
                                          {QStringLiteral("received_value"), val},
                                          {QStringLiteral("exception_message"), message}}));
                continue;
            }
            val = *coerced;
            inputs.insert(x, val);
            // LoadImage.VALIDATE_INPUTS(image) replaces the built-in checks for that input.
            if (loadImage && x == QLatin1String("image")) {
                if (!imageExists(val.toString()))
                    errors.append(
                        makeError(QStringLiteral("custom_validation_failed"),
                                  QStringLiteral("Custom validation failed for node"),
                                  QStringLiteral("%1 - Invalid image file: %2").arg(x, val.toString()),
                                  QJsonObject{{QStringLiteral("input_name"), x},
                                              {QStringLiteral("input_config"), info},
                                              {QStringLiteral("received_value"), val}}));
                continue;
            }
            const QJsonObject extra = in.options();
            if (val.isDouble() && extra.contains(QStringLiteral("min")) &&
                val.toDouble() < extra.value(QStringLiteral("min")).toDouble()) {
                errors.append(
                    makeError(QStringLiteral("value_smaller_than_min"),
                              QStringLiteral("Value %1 smaller than min of %2")
                                  .arg(PyJson::pyStr(val), PyJson::pyStr(extra.value(QStringLiteral("min")))),
                              x,
                              QJsonObject{{QStringLiteral("input_name"), x},
                                          {QStringLiteral("input_config"), info},
                                          {QStringLiteral("received_value"), val}}));
                continue;
            }
            if (val.isDouble() && extra.contains(QStringLiteral("max")) &&
                val.toDouble() > extra.value(QStringLiteral("max")).toDouble()) {
                errors.append(
                    makeError(QStringLiteral("value_bigger_than_max"),
                              QStringLiteral("Value %1 bigger than max of %2")
                                  .arg(PyJson::pyStr(val), PyJson::pyStr(extra.value(QStringLiteral("max")))),
                              x,
                              QJsonObject{{QStringLiteral("input_name"), x},
                                          {QStringLiteral("input_config"), info},
                                          {QStringLiteral("received_value"), val}}));
                continue;
            }
            if (in.isCombo() && !in.anyValue) {
                const QJsonArray options = in.spec.at(0).isArray()
                                               ? in.spec.at(0).toArray()
                                               : extra.value(QStringLiteral("options")).toArray();
                const bool found = std::any_of(options.begin(), options.end(),
                                               [&](const QJsonValue& o) { return jsonEqualsPy(val, o); });
                if (!found) {
                    const bool longList = options.size() > 20;
                    const QString listInfo = longList
                                                 ? QStringLiteral("(list of length %1)").arg(options.size())
                                                 : PyJson::pyRepr(options);
                    errors.append(makeError(
                        QStringLiteral("value_not_in_list"), QStringLiteral("Value not in list"),
                        QStringLiteral("%1: '%2' not in %3").arg(x, PyJson::pyStr(val), listInfo),
                        QJsonObject{{QStringLiteral("input_name"), x},
                                    {QStringLiteral("input_config"), longList ? QJsonValue() : info},
                                    {QStringLiteral("received_value"), val}}));
                    continue;
                }
            }
        }
        node.insert(QStringLiteral("inputs"), inputs);
        m_prompt.insert(id, node);
        NodeResult result{errors.isEmpty() && valid, errors};
        record(id, result);
        return result;
    }

private:
    static bool typesMatch(const QString& received, const NodeInputSpec& in)
    {
        // comfy_execution.validation.validate_node_input: exact match, else overlap of comma-separated
        // unions. A combo input (V1 list) never matches a linked string type; "*" is not a wildcard.
        if (in.spec.isEmpty() || in.spec.at(0).isArray())
            return false;
        const QString inputType = in.spec.at(0).toString();
        if (received == inputType)
            return true;
        QSet<QString> a;
        for (const QString& t : received.split(QLatin1Char(',')))
            a.insert(t.trimmed());
        for (const QString& t : inputType.split(QLatin1Char(',')))
            if (a.contains(t.trimmed()))
                return true;
        return false;
    }

    bool imageExists(const QString& value) const
    {
        QString name = value;
        QString base = m_inputDir;
        // Annotated names ("x.png [output]") point at other folders; the sandbox only knows its input folder
        // for LoadImage, so those are accepted when a file of that name exists there.
        for (const QString& suffix :
             {QStringLiteral(" [input]"), QStringLiteral(" [output]"), QStringLiteral(" [temp]")})
            if (name.endsWith(suffix))
                name.chop(suffix.size());
        if (name.isEmpty() || name.contains(QStringLiteral("..")) || QDir::isAbsolutePath(name))
            return false;
        return QFileInfo(QDir(base).filePath(name)).isFile();
    }

    const NodeCatalog& m_catalog;
    const QString& m_inputDir;
    QJsonObject& m_prompt;
};

} // namespace

PromptValidator::PromptValidator(const NodeCatalog& catalog, QString inputDir)
    : m_catalog(catalog), m_inputDir(std::move(inputDir))
{
}

bool PromptValidator::nodeIdLess(const QString& a, const QString& b)
{
    bool okA = false;
    bool okB = false;
    const qint64 na = a.toLongLong(&okA);
    const qint64 nb = b.toLongLong(&okB);
    if (okA && okB)
        return na < nb;
    if (okA != okB)
        return okA;
    return a < b;
}

PromptValidation PromptValidator::validate(const QJsonObject& promptIn,
                                           const std::optional<QStringList>& partialTargets) const
{
    PromptValidation out;
    out.prompt = promptIn;
    QStringList outputs;
    QStringList ids = promptIn.keys();
    std::sort(ids.begin(), ids.end(), nodeIdLess);
    for (const QString& id : ids) {
        const QJsonObject node = promptIn.value(id).toObject();
        if (!node.contains(QStringLiteral("class_type"))) {
            out.error =
                makeError(QStringLiteral("invalid_prompt"),
                          QStringLiteral("Cannot execute because a node is missing the class_type property."),
                          QStringLiteral("Node ID '#%1'").arg(id), {});
            return out;
        }
        const QString cls = node.value(QStringLiteral("class_type")).toString();
        const NodeClassSpec* spec = m_catalog.find(cls);
        if (!spec) {
            out.error = makeError(QStringLiteral("invalid_prompt"),
                                  QStringLiteral("Cannot execute because node %1 does not exist.").arg(cls),
                                  QStringLiteral("Node ID '#%1'").arg(id), {});
            return out;
        }
        if (spec->outputNode && (!partialTargets || partialTargets->contains(id)))
            outputs.append(id);
    }
    if (outputs.isEmpty()) {
        out.error = makeError(QStringLiteral("prompt_no_outputs"), QStringLiteral("Prompt has no outputs"),
                              QString(), {});
        return out;
    }

    Run run(m_catalog, m_inputDir, out.prompt);
    QStringList failureLines;
    for (const QString& o : outputs) {
        NodeResult result;
        try {
            result = run.validateInputs(o);
        } catch (const PyException& ex) {
            result.valid = false;
            result.reasons =
                QJsonArray{makeError(QStringLiteral("exception_during_validation"),
                                     QStringLiteral("Exception when validating node"), ex.message,
                                     QJsonObject{{QStringLiteral("exception_type"), ex.type},
                                                 {QStringLiteral("traceback"),
                                                  fakeTraceback(QStringLiteral("validate_inputs"))}})};
            run.record(o, result);
        }
        if (result.valid) {
            out.goodOutputs.append(o);
            continue;
        }
        // Like the server, every failed node validated so far (not only this output's ancestors) gains `o` as
        // a dependent output; nodes that only failed because of something upstream carry no reasons and are
        // skipped.
        for (const QString& nodeId : std::as_const(run.validatedOrder)) {
            const NodeResult& r = run.validated[nodeId];
            if (r.valid || r.reasons.isEmpty())
                continue;
            QJsonObject entry = out.nodeErrors.value(nodeId).toObject();
            if (entry.isEmpty()) {
                entry.insert(QStringLiteral("errors"), r.reasons);
                entry.insert(QStringLiteral("dependent_outputs"), QJsonArray());
                entry.insert(
                    QStringLiteral("class_type"),
                    promptIn.value(nodeId).toObject().value(QStringLiteral("class_type")).toString());
                for (const QJsonValue& reason : r.reasons) {
                    const QJsonObject e = reason.toObject();
                    failureLines.append(e.value(QStringLiteral("message")).toString() + QStringLiteral(": ") +
                                        e.value(QStringLiteral("details")).toString());
                }
            }
            QJsonArray deps = entry.value(QStringLiteral("dependent_outputs")).toArray();
            deps.append(o);
            entry.insert(QStringLiteral("dependent_outputs"), deps);
            out.nodeErrors.insert(nodeId, entry);
        }
    }
    if (out.goodOutputs.isEmpty()) {
        out.error = makeError(QStringLiteral("prompt_outputs_failed_validation"),
                              QStringLiteral("Prompt outputs failed validation"),
                              failureLines.join(QLatin1Char('\n')), {});
        return out;
    }
    out.ok = true;
    return out;
}

} // namespace gd::sandbox
