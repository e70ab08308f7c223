#include "telemetry/RunValidator.h"

#include "telemetry/ArtifactWriter.h"
#include "telemetry/RunSummaryLog.h"
#include "telemetry/TelemetryFormat.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <cmath>

namespace gd::telemetry {

namespace {

// Values written to 1 dp compare within 0.1; the epsilon absorbs binary rounding of e.g. 12.3 − 12.2.
constexpr double kTolerance = 0.1 + 1e-6;

enum class Type
{
    Number,
    Int,
    Bool,
    String,
    IsoOrNull,
    StringOrNull,
    NumberOrNull,
    IntOrNull,
    Object,
    ObjectOrNull,
    Array,
    StringArray,
};

struct FieldRule
{
    const char* key;
    Type type;
};

// Contract §3.3, in table order.
const FieldRule kTelemetryFields[] = {
    {"DurationSeconds", Type::Number},
    {"QueueStart", Type::String},
    {"QueueEnd", Type::String},
    {"MaxWaitSeconds", Type::Number},
    {"PollIntervalSeconds", Type::Number},
    {"HistoryAttempts", Type::Int},
    {"HistoryAttemptLimit", Type::Int},
    {"HistoryExitReason", Type::String},
    {"ExecutionSuccessDetected", Type::Bool},
    {"ExecutionSuccessAt", Type::IsoOrNull},
    {"PostExecutionTimeoutSeconds", Type::Number},
    {"HistoryPostExecutionTimeoutReached", Type::Bool},
    {"SceneRetryBudget", Type::Int},
    {"CompletionSignal", Type::String},
    {"DoneMarkerDetected", Type::Bool},
    {"DoneMarkerWaitSeconds", Type::Number},
    {"DoneMarkerPath", Type::StringOrNull},
    {"ForcedCopyTriggered", Type::Bool},
    {"ForcedCopyDebugPath", Type::StringOrNull},
    {"GPU", Type::Object},
    {"System", Type::Object},
};

const FieldRule kGpuFields[] = {
    {"Name", Type::String},
    {"Type", Type::String},
    {"Index", Type::IntOrNull},
    {"VramTotal", Type::NumberOrNull},
    {"VramFreeBefore", Type::NumberOrNull},
    {"VramFreeAfter", Type::NumberOrNull},
    {"VramBeforeMB", Type::NumberOrNull},
    {"VramAfterMB", Type::NumberOrNull},
    {"VramDeltaMB", Type::NumberOrNull},
    {"VramPeakUsedMB", Type::NumberOrNull},
    {"Source", Type::String},
};

const FieldRule kSystemFields[] = {
    {"Before", Type::ObjectOrNull},
    {"After", Type::ObjectOrNull},
    {"FallbackNotes", Type::StringArray},
};

// Contract §3.2.
const FieldRule kSceneFields[] = {
    {"SceneId", Type::String},
    {"Title", Type::String},
    {"Prompt", Type::String},
    {"NegativePrompt", Type::String},
    {"FrameFloor", Type::Int},
    {"FrameCount", Type::Int},
    {"DurationSeconds", Type::Number},
    {"FramePrefix", Type::String},
    {"Success", Type::Bool},
    {"MeetsFrameFloor", Type::Bool},
    {"HistoryRetrieved", Type::Bool},
    {"HistoryAttempts", Type::Int},
    {"HistoryErrors", Type::Array},
    {"Warnings", Type::Array},
    {"Errors", Type::Array},
    {"AttemptsRun", Type::Int},
    {"Requeued", Type::Bool},
    {"AttemptSummaries", Type::Array},
    {"GeneratedFramesDir", Type::StringOrNull},
    {"HistoryPath", Type::StringOrNull},
    {"SceneRetryBudget", Type::Int},
    {"HistoryAttemptLimit", Type::Int},
    {"HistoryConfig", Type::Object},
    {"Backend", Type::String},
    {"PromptId", Type::String},
    {"Telemetry", Type::Object},
};

// Contract §3.1.
const FieldRule kTopLevelFields[] = {
    {"RunId", Type::String},      {"Timestamp", Type::IsoOrNull}, {"RunDir", Type::String},
    {"AppVersion", Type::String}, {"QueueConfig", Type::Object},  {"LLMHealthInfo", Type::Object},
    {"Story", Type::Object},      {"Scenes", Type::Array},        {"QualityMetrics", Type::Object},
    {"Feedback", Type::Array},    {"Summary", Type::Object},
};

const FieldRule kQueueConfigFields[] = {
    {"SceneRetryBudget", Type::Int},
    {"HistoryMaxWaitSeconds", Type::Number},
    {"HistoryMaxAttempts", Type::Int},
    {"HistoryPollIntervalSeconds", Type::Number},
    {"PostExecutionTimeoutSeconds", Type::Number},
};

const QStringList kExitReasons{QStringLiteral("success"), QStringLiteral("maxWait"),
                               QStringLiteral("attemptLimit"), QStringLiteral("postExecution"),
                               QStringLiteral("unknown")};
const QStringList kCompletionSignals{QStringLiteral("websocket"), QStringLiteral("history"),
                                     QStringLiteral("none")};
// DoneMarkerSource is an addition (not in §3.3): runs written before it, and the earlier pipeline's
// runs, lack it, so it is checked only when present.
const QStringList kDoneMarkerSources{QStringLiteral("node"), QStringLiteral("sentinel")};
const QStringList kGpuSources{QStringLiteral("nvml"), QStringLiteral("nvidia-smi"),
                              QStringLiteral("system_stats"), QStringLiteral("missing")};

// Telemetry line keys (§4) that are always present; DoneMarkerPath, ForcedCopyDebugPath and
// fallback appear only when set.
const QStringList kLineKeys{
    QStringLiteral("DurationSeconds"),
    QStringLiteral("MaxWaitSeconds"),
    QStringLiteral("PollIntervalSeconds"),
    QStringLiteral("HistoryAttempts"),
    QStringLiteral("pollLimit"),
    QStringLiteral("SceneRetryBudget"),
    QStringLiteral("PostExecutionTimeoutSeconds"),
    QStringLiteral("ExecutionSuccessDetected"),
    QStringLiteral("ExecutionSuccessAt"),
    QStringLiteral("HistoryExitReason"),
    QStringLiteral("VRAMBeforeMB"),
    QStringLiteral("VRAMAfterMB"),
    QStringLiteral("VRAMDeltaMB"),
    QStringLiteral("gpu"),
    QStringLiteral("DoneMarkerWaitSeconds"),
    QStringLiteral("DoneMarkerDetected"),
    QStringLiteral("ForcedCopyTriggered"),
};
const QStringList kOptionalLineKeys{QStringLiteral("DoneMarkerPath"), QStringLiteral("ForcedCopyDebugPath")};

QString typeName(const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("bool");
    case QJsonValue::Double:
        return QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array:
        return QStringLiteral("array");
    case QJsonValue::Object:
        return QStringLiteral("object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("undefined");
}

QString expectedName(Type t)
{
    switch (t) {
    case Type::Number:
        return QStringLiteral("a number");
    case Type::Int:
        return QStringLiteral("an integer");
    case Type::Bool:
        return QStringLiteral("a bool");
    case Type::String:
        return QStringLiteral("a string");
    case Type::IsoOrNull:
        return QStringLiteral("an ISO 8601 time or null");
    case Type::StringOrNull:
        return QStringLiteral("a string or null");
    case Type::NumberOrNull:
        return QStringLiteral("a number or null");
    case Type::IntOrNull:
        return QStringLiteral("an integer or null");
    case Type::Object:
        return QStringLiteral("an object");
    case Type::ObjectOrNull:
        return QStringLiteral("an object or null");
    case Type::Array:
        return QStringLiteral("an array");
    case Type::StringArray:
        return QStringLiteral("an array of strings");
    }
    return {};
}

bool isInt(const QJsonValue& v)
{
    return v.isDouble() && std::isfinite(v.toDouble()) && v.toDouble() == std::floor(v.toDouble());
}

bool isIso(const QJsonValue& v)
{
    return v.isString() && TelemetryFormat::parseIso(v.toString()).isValid();
}

bool matches(const QJsonValue& v, Type t)
{
    switch (t) {
    case Type::Number:
        return v.isDouble();
    case Type::Int:
        return isInt(v);
    case Type::Bool:
        return v.isBool();
    case Type::String:
        return v.isString();
    case Type::IsoOrNull:
        return v.isNull() || isIso(v);
    case Type::StringOrNull:
        return v.isNull() || v.isString();
    case Type::NumberOrNull:
        return v.isNull() || v.isDouble();
    case Type::IntOrNull:
        return v.isNull() || isInt(v);
    case Type::Object:
        return v.isObject();
    case Type::ObjectOrNull:
        return v.isNull() || v.isObject();
    case Type::Array:
        return v.isArray();
    case Type::StringArray: {
        if (!v.isArray())
            return false;
        const QJsonArray a = v.toArray();
        return std::all_of(a.begin(), a.end(), [](const QJsonValue& e) { return e.isString(); });
    }
    }
    return false;
}

QString boolText(bool b)
{
    return b ? QStringLiteral("true") : QStringLiteral("false");
}

// The parsed run-summary.txt: what the checks look up.
struct SummaryLines
{
    QString firstLine;
    QStringList messages;              // timestamped lines without the "[HH:mm:ss] " prefix
    QString queuePolicy;               // the last "Queue policy:" message (a resumed run logs it again)
    QHash<QString, QString> telemetry; // scene id -> fields part of its last Telemetry line
    QHash<QString, int> errorLines;    // scene id -> number of ERROR lines
    std::optional<QString> totalFramesCopied;

    static SummaryLines parse(const QString& text)
    {
        static const QRegularExpression timed(QStringLiteral("^\\[\\d{2}:\\d{2}:\\d{2}\\] (.*)$"));
        static const QRegularExpression telemetryRe(
            QStringLiteral("^\\[Scene ([^\\]]+)\\] Telemetry: (.*)$"));
        static const QRegularExpression errorRe(QStringLiteral("^\\[Scene ([^\\]]+)\\] ERROR: "));
        const QString totalPrefix = QStringLiteral("Total frames copied: ");

        SummaryLines s;
        QStringList lines = text.split(QLatin1Char('\n'));
        for (QString& line : lines) {
            if (line.endsWith(QLatin1Char('\r')))
                line.chop(1);
        }
        if (!lines.isEmpty()) {
            s.firstLine = lines.first();
            if (s.firstLine.startsWith(QChar(0xFEFF)))
                s.firstLine.remove(0, 1);
        }
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QString& line = lines.at(i);
            const QRegularExpressionMatch m = timed.match(line);
            const QString message = m.hasMatch() ? m.captured(1) : line;
            if (message.startsWith(totalPrefix))
                s.totalFramesCopied = message.mid(totalPrefix.size()).trimmed();
            if (!m.hasMatch())
                continue;
            s.messages.append(message);
            if (message.startsWith(QStringLiteral("Queue policy: ")))
                s.queuePolicy = message;
            if (const auto t = telemetryRe.match(message); t.hasMatch())
                s.telemetry.insert(t.captured(1), t.captured(2));
            if (const auto e = errorRe.match(message); e.hasMatch())
                s.errorLines[e.captured(1)] += 1;
        }
        return s;
    }
};

// "k=v | k=v | ... | fallback=a; b" -> key/value pairs. A part without a known key continues the
// previous value (a GPU name could contain " | "); fallback is last and takes the rest of the line.
QHash<QString, QString> parseTelemetryFields(const QString& fields)
{
    QHash<QString, QString> out;
    const QStringList parts = fields.split(QStringLiteral(" | "));
    QString lastKey;
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const QString& part = parts.at(i);
        if (part.startsWith(QStringLiteral("fallback="))) {
            out.insert(QStringLiteral("fallback"),
                       parts.mid(i).join(QStringLiteral(" | ")).mid(QStringLiteral("fallback=").size()));
            break;
        }
        const qsizetype eq = part.indexOf(QLatin1Char('='));
        const QString key = eq > 0 ? part.left(eq) : QString();
        if (kLineKeys.contains(key) || kOptionalLineKeys.contains(key)) {
            out.insert(key, part.mid(eq + 1));
            lastKey = key;
        } else if (!lastKey.isEmpty()) {
            out[lastKey] += QStringLiteral(" | ") + part;
        }
    }
    return out;
}

class Checker
{
public:
    QStringList errors;

    void add(const QString& message) { errors.append(message); }

    // Checks presence and type of each rule's key; `where` prefixes messages ("Scene scene-001: ").
    void checkFields(const QJsonObject& o, const FieldRule* begin, const FieldRule* end, const QString& where,
                     const QString& path)
    {
        for (const FieldRule* r = begin; r != end; ++r) {
            const QString key = QString::fromLatin1(r->key);
            if (!o.contains(key)) {
                add(where + path + key + QStringLiteral(" is missing"));
                continue;
            }
            const QJsonValue v = o.value(key);
            if (!matches(v, r->type)) {
                add(where + path + key + QStringLiteral(" must be ") + expectedName(r->type) +
                    QStringLiteral(" (found ") + typeName(v) +
                    (v.isString() ? QStringLiteral(" \"") + v.toString() + QLatin1Char('"') : QString()) +
                    QLatin1Char(')'));
            }
        }
    }

    void checkEnum(const QJsonObject& o, const QString& key, const QStringList& allowed, const QString& where,
                   const QString& path)
    {
        const QJsonValue v = o.value(key);
        if (v.isString() && !allowed.contains(v.toString())) {
            add(where + path + key + QStringLiteral(" has invalid value \"") + v.toString() +
                QStringLiteral("\" (allowed: ") + allowed.join(QStringLiteral(", ")) + QLatin1Char(')'));
        }
    }

    void checkQueuePolicy(const QJsonObject& root, const SummaryLines& summary)
    {
        const QJsonObject qc = root.value(QStringLiteral("QueueConfig")).toObject();
        if (!root.value(QStringLiteral("QueueConfig")).isObject())
            return; // reported by the top-level check
        if (summary.queuePolicy.isEmpty()) {
            add(QStringLiteral("run-summary.txt has no 'Queue policy:' line"));
            return;
        }
        static const QRegularExpression re(QStringLiteral(
            "^Queue policy: sceneRetries=([^,]*), historyMaxWait=([^,]*), historyPollInterval=([^,]*), "
            "historyMaxAttempts=([^,]*), postExecutionTimeout=(.*)$"));
        const QRegularExpressionMatch m = re.match(summary.queuePolicy);
        if (!m.hasMatch()) {
            add(QStringLiteral("Queue policy line is malformed: ") + summary.queuePolicy);
            return;
        }
        const auto compare = [&](int group, const QString& lineKey, const QString& jsonKey,
                                 const QString& expected) {
            if (!qc.value(jsonKey).isDouble())
                return; // reported by the QueueConfig field check
            if (m.captured(group) != expected) {
                add(QStringLiteral("Queue policy line ") + lineKey + QLatin1Char('=') + m.captured(group) +
                    QStringLiteral(" does not match QueueConfig.") + jsonKey + QStringLiteral(" (expected ") +
                    lineKey + QLatin1Char('=') + expected + QLatin1Char(')'));
            }
        };
        const int maxAttempts = qc.value(QStringLiteral("HistoryMaxAttempts")).toInt();
        compare(1, QStringLiteral("sceneRetries"), QStringLiteral("SceneRetryBudget"),
                QString::number(qc.value(QStringLiteral("SceneRetryBudget")).toInt()));
        compare(2, QStringLiteral("historyMaxWait"), QStringLiteral("HistoryMaxWaitSeconds"),
                TelemetryFormat::knob(qc.value(QStringLiteral("HistoryMaxWaitSeconds")).toDouble()) +
                    QLatin1Char('s'));
        compare(3, QStringLiteral("historyPollInterval"), QStringLiteral("HistoryPollIntervalSeconds"),
                TelemetryFormat::knob(qc.value(QStringLiteral("HistoryPollIntervalSeconds")).toDouble()) +
                    QLatin1Char('s'));
        // 0 ⇔ unbounded, both ways.
        compare(4, QStringLiteral("historyMaxAttempts"), QStringLiteral("HistoryMaxAttempts"),
                maxAttempts == 0 ? QStringLiteral("unbounded") : QString::number(maxAttempts));
        compare(5, QStringLiteral("postExecutionTimeout"), QStringLiteral("PostExecutionTimeoutSeconds"),
                TelemetryFormat::knob(qc.value(QStringLiteral("PostExecutionTimeoutSeconds")).toDouble()) +
                    QLatin1Char('s'));
    }

    void checkTelemetryObject(const QJsonObject& t, const QString& where, int attemptsRun)
    {
        const QString tp = QStringLiteral("Telemetry.");
        checkFields(t, std::begin(kTelemetryFields), std::end(kTelemetryFields), where, tp);
        checkEnum(t, QStringLiteral("HistoryExitReason"), kExitReasons, where, tp);
        checkEnum(t, QStringLiteral("CompletionSignal"), kCompletionSignals, where, tp);
        checkDoneMarkerSource(t, where, tp);

        // A scene that never ran has no queue times yet; once it ran they are real ISO times.
        if (attemptsRun > 0) {
            for (const QString& key : {QStringLiteral("QueueStart"), QStringLiteral("QueueEnd")}) {
                const QJsonValue v = t.value(key);
                if (v.isString() && !isIso(v)) {
                    add(where + tp + key + QStringLiteral(" must be an ISO 8601 time (found \"") +
                        v.toString() + QStringLiteral("\")"));
                }
            }
        }

        if (t.value(QStringLiteral("ExecutionSuccessDetected")).toBool() &&
            !isIso(t.value(QStringLiteral("ExecutionSuccessAt")))) {
            add(where + tp +
                QStringLiteral("ExecutionSuccessAt must be an ISO 8601 time when ExecutionSuccessDetected is "
                               "true (found ") +
                typeName(t.value(QStringLiteral("ExecutionSuccessAt"))) + QLatin1Char(')'));
        }

        if (t.value(QStringLiteral("GPU")).isObject()) {
            const QJsonObject gpu = t.value(QStringLiteral("GPU")).toObject();
            const QString gp = tp + QStringLiteral("GPU.");
            checkFields(gpu, std::begin(kGpuFields), std::end(kGpuFields), where, gp);
            checkEnum(gpu, QStringLiteral("Source"), kGpuSources, where, gp);
            const QJsonValue before = gpu.value(QStringLiteral("VramBeforeMB"));
            const QJsonValue after = gpu.value(QStringLiteral("VramAfterMB"));
            const QJsonValue delta = gpu.value(QStringLiteral("VramDeltaMB"));
            if (before.isDouble() && after.isDouble()) {
                const double expected = after.toDouble() - before.toDouble();
                if (delta.isNull()) {
                    add(where + gp +
                        QStringLiteral("VramDeltaMB is null although VramBeforeMB and VramAfterMB are set"));
                } else if (delta.isDouble() && std::fabs(delta.toDouble() - expected) > kTolerance) {
                    add(where + gp + QStringLiteral("VramDeltaMB=") +
                        TelemetryFormat::knob(delta.toDouble()) +
                        QStringLiteral(" differs from VramAfterMB − VramBeforeMB = ") +
                        TelemetryFormat::knob(TelemetryFormat::round1(expected)) +
                        QStringLiteral(" by more than 0.1"));
                }
            } else if (delta.isDouble()) {
                add(where + gp +
                    QStringLiteral("VramDeltaMB is set although VramBeforeMB or VramAfterMB is null"));
            }
        }
        if (t.value(QStringLiteral("System")).isObject()) {
            checkFields(t.value(QStringLiteral("System")).toObject(), std::begin(kSystemFields),
                        std::end(kSystemFields), where, tp + QStringLiteral("System."));
        }
    }

    void checkDoneMarkerSource(const QJsonObject& t, const QString& where, const QString& tp)
    {
        const QString key = QStringLiteral("DoneMarkerSource");
        if (!t.contains(key))
            return;
        const QJsonValue v = t.value(key);
        if (!matches(v, Type::StringOrNull)) {
            add(where + tp + key + QStringLiteral(" must be ") + expectedName(Type::StringOrNull) +
                QStringLiteral(" (found ") + typeName(v) + QLatin1Char(')'));
            return;
        }
        checkEnum(t, key, kDoneMarkerSources, where, tp);
        const QJsonValue detected = t.value(QStringLiteral("DoneMarkerDetected"));
        if (!detected.isBool())
            return; // reported by the field check
        if (detected.toBool() && v.isNull())
            add(where + tp + key + QStringLiteral(" is null although DoneMarkerDetected is true"));
        else if (!detected.toBool() && v.isString())
            add(where + tp + key + QStringLiteral(" is \"") + v.toString() +
                QStringLiteral("\" although DoneMarkerDetected is false"));
    }

    void checkTelemetryLine(const QJsonObject& t, const QString& sceneId, const QString& fieldsText)
    {
        const QString where = QStringLiteral("Scene ") + sceneId + QStringLiteral(": telemetry line ");
        const QHash<QString, QString> line = parseTelemetryFields(fieldsText);
        for (const QString& key : kLineKeys) {
            if (!line.contains(key))
                add(where + QStringLiteral("lacks ") + key);
        }

        const auto seconds = [&](const QString& key) {
            const QString raw = line.value(key);
            if (!line.contains(key) || !t.value(key).isDouble())
                return;
            bool ok = false;
            const double v = raw.endsWith(QLatin1Char('s')) ? raw.chopped(1).toDouble(&ok) : 0.0;
            if (!ok) {
                add(where + key + QLatin1Char('=') + raw + QStringLiteral(" is not a number of seconds"));
                return;
            }
            if (std::fabs(v - t.value(key).toDouble()) > kTolerance) {
                add(where + key + QLatin1Char('=') + raw + QStringLiteral(" differs from Telemetry.") + key +
                    QLatin1Char('=') + TelemetryFormat::knob(t.value(key).toDouble()) +
                    QStringLiteral(" by more than 0.1 s"));
            }
        };
        const auto exact = [&](const QString& lineKey, const QString& jsonKey, const QString& expected) {
            if (!line.contains(lineKey) || expected.isNull())
                return;
            if (line.value(lineKey) != expected) {
                add(where + lineKey + QLatin1Char('=') + line.value(lineKey) +
                    QStringLiteral(" does not match Telemetry.") + jsonKey + QStringLiteral(" (expected ") +
                    expected + QLatin1Char(')'));
            }
        };
        const auto knobText = [&](const QString& key) {
            return t.value(key).isDouble() ? TelemetryFormat::knob(t.value(key).toDouble()) + QLatin1Char('s')
                                           : QString();
        };
        const auto intText = [&](const QString& key) {
            return isInt(t.value(key)) ? QString::number(t.value(key).toInteger()) : QString();
        };
        const auto boolValue = [&](const QString& key) {
            return t.value(key).isBool() ? boolText(t.value(key).toBool()) : QString();
        };

        seconds(QStringLiteral("DurationSeconds"));
        seconds(QStringLiteral("DoneMarkerWaitSeconds"));
        exact(QStringLiteral("MaxWaitSeconds"), QStringLiteral("MaxWaitSeconds"),
              knobText(QStringLiteral("MaxWaitSeconds")));
        exact(QStringLiteral("PollIntervalSeconds"), QStringLiteral("PollIntervalSeconds"),
              knobText(QStringLiteral("PollIntervalSeconds")));
        exact(QStringLiteral("PostExecutionTimeoutSeconds"), QStringLiteral("PostExecutionTimeoutSeconds"),
              knobText(QStringLiteral("PostExecutionTimeoutSeconds")));
        exact(QStringLiteral("HistoryAttempts"), QStringLiteral("HistoryAttempts"),
              intText(QStringLiteral("HistoryAttempts")));
        const QJsonValue limit = t.value(QStringLiteral("HistoryAttemptLimit"));
        exact(QStringLiteral("pollLimit"), QStringLiteral("HistoryAttemptLimit"),
              !isInt(limit)            ? QString()
              : limit.toInteger() == 0 ? QStringLiteral("unbounded")
                                       : QString::number(limit.toInteger()));
        exact(QStringLiteral("SceneRetryBudget"), QStringLiteral("SceneRetryBudget"),
              intText(QStringLiteral("SceneRetryBudget")));
        for (const QString& key :
             {QStringLiteral("ExecutionSuccessDetected"), QStringLiteral("DoneMarkerDetected"),
              QStringLiteral("ForcedCopyTriggered")})
            exact(key, key, boolValue(key));
        const QJsonValue reason = t.value(QStringLiteral("HistoryExitReason"));
        exact(QStringLiteral("HistoryExitReason"), QStringLiteral("HistoryExitReason"),
              reason.isString() ? reason.toString() : QString());

        for (const QString& key : kOptionalLineKeys) {
            if (t.value(key).isString() && !line.contains(key))
                add(where + QStringLiteral("lacks ") + key + QStringLiteral(" although Telemetry.") + key +
                    QStringLiteral(" is set"));
        }

        const QJsonArray notes =
            t.value(QStringLiteral("System")).toObject().value(QStringLiteral("FallbackNotes")).toArray();
        const QString fallback = line.value(QStringLiteral("fallback"));
        for (const QJsonValue& note : notes) {
            if (note.isString() && !fallback.contains(note.toString())) {
                add(where + QStringLiteral("lacks fallback note \"") + note.toString() +
                    QStringLiteral("\" (Telemetry.System.FallbackNotes)"));
            }
        }
    }

    void checkScene(const QJsonValue& value, qsizetype index, const SummaryLines& summary)
    {
        if (!value.isObject()) {
            add(QStringLiteral("Scenes[%1] must be an object (found %2)").arg(index).arg(typeName(value)));
            return;
        }
        const QJsonObject scene = value.toObject();
        const QString sceneId = scene.value(QStringLiteral("SceneId")).isString()
                                    ? scene.value(QStringLiteral("SceneId")).toString()
                                    : QStringLiteral("Scenes[%1]").arg(index);
        const QString where = QStringLiteral("Scene ") + sceneId + QStringLiteral(": ");
        checkFields(scene, std::begin(kSceneFields), std::end(kSceneFields), where, QString());

        const int attemptsRun = scene.value(QStringLiteral("AttemptsRun")).toInt();
        const QJsonObject telemetry = scene.value(QStringLiteral("Telemetry")).toObject();
        if (scene.value(QStringLiteral("Telemetry")).isObject())
            checkTelemetryObject(telemetry, where, attemptsRun);

        // One Telemetry line per scene that ran; a scene that never started has nothing to report.
        if (summary.telemetry.contains(sceneId))
            checkTelemetryLine(telemetry, sceneId, summary.telemetry.value(sceneId));
        else if (attemptsRun > 0)
            add(where + QStringLiteral("run-summary.txt has no '[Scene ") + sceneId +
                QStringLiteral("] Telemetry:' line"));

        const QJsonValue frames = scene.value(QStringLiteral("FrameCount"));
        const QJsonValue floor = scene.value(QStringLiteral("FrameFloor"));
        if (attemptsRun > 0 && scene.value(QStringLiteral("MeetsFrameFloor")) == QJsonValue(false) &&
            isInt(frames) && isInt(floor)) {
            const QString expected = RunSummaryLog::warning(
                sceneId, RunSummaryLog::belowFloorWarning(frames.toInt(), floor.toInt()));
            if (!summary.messages.contains(expected))
                add(where +
                    QStringLiteral("MeetsFrameFloor is false but run-summary.txt lacks the WARNING line \"") +
                    expected + QLatin1Char('"'));
        }
        if (scene.value(QStringLiteral("Success")) == QJsonValue(false) &&
            summary.errorLines.value(sceneId) == 0)
            add(where + QStringLiteral("Success is false but run-summary.txt has no '[Scene ") + sceneId +
                QStringLiteral("] ERROR:' line"));
    }
};

ValidationResult missing(const QString& message)
{
    return {2, {message}};
}

} // namespace

ValidationResult RunValidator::validate(const QString& runDir)
{
    const QFileInfo dirInfo(runDir);
    if (runDir.isEmpty() || !dirInfo.isDir())
        return missing(QStringLiteral("Run directory not found: ") + runDir);
    const QDir dir(runDir);
    QFile artifactFile(dir.filePath(ArtifactWriter::fileName()));
    QFile summaryFile(dir.filePath(RunSummaryLog::fileName()));
    if (!artifactFile.exists())
        return missing(QStringLiteral("Missing ") + artifactFile.fileName());
    if (!summaryFile.exists())
        return missing(QStringLiteral("Missing ") + summaryFile.fileName());
    if (!artifactFile.open(QIODevice::ReadOnly))
        return missing(QStringLiteral("Cannot read ") + artifactFile.fileName() + QStringLiteral(": ") +
                       artifactFile.errorString());
    if (!summaryFile.open(QIODevice::ReadOnly))
        return missing(QStringLiteral("Cannot read ") + summaryFile.fileName() + QStringLiteral(": ") +
                       summaryFile.errorString());

    Checker c;
    const SummaryLines summary = SummaryLines::parse(QString::fromUtf8(summaryFile.readAll()));

    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(artifactFile.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        c.add(QStringLiteral("artifact-metadata.json is not valid JSON: %1 at offset %2")
                  .arg(parseError.errorString())
                  .arg(parseError.offset));
    } else if (!doc.isObject()) {
        c.add(QStringLiteral("artifact-metadata.json must hold a JSON object"));
    } else {
        const QJsonObject root = doc.object();
        c.checkFields(root, std::begin(kTopLevelFields), std::end(kTopLevelFields), QString(), QString());
        if (root.value(QStringLiteral("QueueConfig")).isObject()) {
            c.checkFields(root.value(QStringLiteral("QueueConfig")).toObject(),
                          std::begin(kQueueConfigFields), std::end(kQueueConfigFields), QString(),
                          QStringLiteral("QueueConfig."));
        }

        const QString runId = root.value(QStringLiteral("RunId")).toString();
        if (summary.firstLine != RunSummaryLog::headerLine(runId)) {
            c.add(QStringLiteral("run-summary.txt first line \"") + summary.firstLine +
                  QStringLiteral("\" must be \"") + RunSummaryLog::headerLine(runId) +
                  QStringLiteral("\" (RunId)"));
        }
        c.checkQueuePolicy(root, summary);

        const QJsonArray scenes = root.value(QStringLiteral("Scenes")).toArray();
        qint64 totalFrames = 0;
        for (qsizetype i = 0; i < scenes.size(); ++i) {
            c.checkScene(scenes.at(i), i, summary);
            totalFrames += scenes.at(i).toObject().value(QStringLiteral("FrameCount")).toInteger();
        }
        if (!summary.totalFramesCopied) {
            c.add(QStringLiteral("run-summary.txt has no 'Total frames copied:' line"));
        } else if (*summary.totalFramesCopied != QString::number(totalFrames)) {
            c.add(QStringLiteral("Total frames copied: ") + *summary.totalFramesCopied +
                  QStringLiteral(" does not match the sum of Scenes[].FrameCount = ") +
                  QString::number(totalFrames));
        }
    }

    ValidationResult result;
    result.errors = c.errors;
    result.exitCode = c.errors.isEmpty() ? 0 : 1;
    return result;
}

int RunValidator::run(const QString& runDir, QTextStream& out)
{
    const ValidationResult result = validate(runDir);
    for (const QString& e : result.errors)
        out << "ERROR: " << e << '\n';
    out << (result.passed() ? "run-summary validation: PASS" : "run-summary validation: FAIL") << '\n';
    out.flush();
    return result.exitCode;
}

} // namespace gd::telemetry
