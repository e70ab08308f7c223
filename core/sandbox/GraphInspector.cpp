#include "sandbox/GraphInspector.h"

#include "sandbox/PromptValidator.h"
#include "sandbox/PyJson.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>
#include <algorithm>

namespace gd::sandbox {

namespace {
constexpr int kMaxDepth = 64;
const QString kNeverCached = QStringLiteral("GemDirectSaveFrames");

int videoFrames(int length)
{
    // Video latents hold (length-1)//4 + 1 temporal slices; decoding gives 4 frames per slice after the
    // first.
    return length < 1 ? 1 : ((length - 1) / 4) * 4 + 1;
}
} // namespace

GraphInspector::GraphInspector(const QJsonObject& prompt, const NodeCatalog& catalog, QString inputDir)
    : m_prompt(prompt), m_catalog(catalog), m_inputDir(std::move(inputDir))
{
}

QString GraphInspector::classOf(const QString& nodeId) const
{
    return m_prompt.value(nodeId).toObject().value(QStringLiteral("class_type")).toString();
}

QStringList GraphInspector::nodeIds() const
{
    QStringList ids = m_prompt.keys();
    std::sort(ids.begin(), ids.end(), PromptValidator::nodeIdLess);
    return ids;
}

QString GraphInspector::titleOf(const QString& nodeId) const
{
    return m_prompt.value(nodeId)
        .toObject()
        .value(QStringLiteral("_meta"))
        .toObject()
        .value(QStringLiteral("title"))
        .toString();
}

QJsonObject GraphInspector::inputsOf(const QString& nodeId) const
{
    return m_prompt.value(nodeId).toObject().value(QStringLiteral("inputs")).toObject();
}

std::optional<QPair<QString, int>> GraphInspector::link(const QString& nodeId, const QString& input) const
{
    const QJsonValue v = inputsOf(nodeId).value(input);
    if (!v.isArray())
        return std::nullopt;
    const QJsonArray a = v.toArray();
    if (a.size() != 2 || !a.at(0).isString() || !m_prompt.contains(a.at(0).toString()))
        return std::nullopt;
    return QPair<QString, int>(a.at(0).toString(), a.at(1).toInt());
}

QStringList GraphInspector::sourcesOf(const QString& nodeId) const
{
    QStringList out;
    QStringList names;
    if (const NodeClassSpec* spec = m_catalog.find(classOf(nodeId)))
        for (const NodeInputSpec& in : spec->inputs)
            names << in.name;
    // Undeclared inputs are ignored by the server, so only declared ones create dependencies.
    for (const QString& name : std::as_const(names))
        if (const auto l = link(nodeId, name))
            if (!out.contains(l->first))
                out << l->first;
    return out;
}

int GraphInspector::intInput(const QString& nodeId, const QString& name, int fallback) const
{
    const QJsonValue v = inputsOf(nodeId).value(name);
    if (v.isDouble())
        return int(v.toDouble());
    if (v.isString()) {
        bool ok = false;
        const int n = v.toString().toInt(&ok);
        return ok ? n : fallback;
    }
    if (const auto l = link(nodeId, name)) {
        // a primitive feeding the widget
        const QJsonObject in = inputsOf(l->first);
        for (const QString& key : {QStringLiteral("value"), QStringLiteral("int"), QStringLiteral("number")})
            if (in.value(key).isDouble())
                return int(in.value(key).toDouble());
    }
    return fallback;
}

int GraphInspector::traceFrames(const QString& nodeId, int depth) const
{
    if (depth > kMaxDepth || !m_prompt.contains(nodeId))
        return 1;
    const QString cls = classOf(nodeId);
    if (cls == QLatin1String("EmptyLatentImage") || cls == QLatin1String("EmptySD3LatentImage") ||
        cls == QLatin1String("EmptyImage"))
        return intInput(nodeId, QStringLiteral("batch_size"), 1);
    if (cls == QLatin1String("EmptyHunyuanLatentVideo") || cls == QLatin1String("Wan22ImageToVideoLatent") ||
        cls == QLatin1String("WanFunInpaintToVideo") || cls == QLatin1String("WanFirstLastFrameToVideo") ||
        cls == QLatin1String("WanImageToVideo"))
        return videoFrames(intInput(nodeId, QStringLiteral("length"), 1));
    if (cls == QLatin1String("SVD_img2vid_Conditioning"))
        return intInput(nodeId, QStringLiteral("video_frames"), 1);
    if (cls == QLatin1String("LoadImage"))
        return 1;
    for (const QString& name : {QStringLiteral("latent_image"), QStringLiteral("samples"),
                                QStringLiteral("images"), QStringLiteral("image"), QStringLiteral("video"),
                                QStringLiteral("latent"), QStringLiteral("pixels")})
        if (const auto l = link(nodeId, name))
            return traceFrames(l->first, depth + 1);
    const QStringList sources = sourcesOf(nodeId);
    return sources.isEmpty() ? 1 : traceFrames(sources.first(), depth + 1);
}

int GraphInspector::frameCount(const QString& nodeId) const
{
    for (const QString& name : {QStringLiteral("images"), QStringLiteral("video"), QStringLiteral("image")})
        if (const auto l = link(nodeId, name))
            return qMax(0, traceFrames(l->first, 0));
    return 1;
}

int GraphInspector::samplerSteps(const QString& nodeId) const
{
    if (classOf(nodeId) != QLatin1String("KSampler"))
        return 0;
    return qMax(1, intInput(nodeId, QStringLiteral("steps"), 20));
}

quint32 GraphInspector::seed() const
{
    QStringList ids = m_prompt.keys();
    std::sort(ids.begin(), ids.end(), PromptValidator::nodeIdLess);
    for (const QString& id : ids)
        if (classOf(id) == QLatin1String("KSampler"))
            return quint32(quint64(inputsOf(id).value(QStringLiteral("seed")).toDouble()) & 0xffffffffu);
    return 0;
}

double GraphInspector::fps(const QString& outputNodeId) const
{
    const QString cls = classOf(outputNodeId);
    const QJsonObject in = inputsOf(outputNodeId);
    if (cls == QLatin1String("VHS_VideoCombine"))
        return in.value(QStringLiteral("frame_rate")).toDouble(8.0);
    if (cls == QLatin1String("SaveVideo")) {
        if (const auto l = link(outputNodeId, QStringLiteral("video")))
            return inputsOf(l->first).value(QStringLiteral("fps")).toDouble(30.0);
        return 30.0;
    }
    return in.value(QStringLiteral("fps")).toDouble(24.0);
}

QString GraphInspector::filenamePrefix(const QString& nodeId) const
{
    const QJsonValue v = inputsOf(nodeId).value(QStringLiteral("filename_prefix"));
    if (v.isString())
        return v.toString();
    return resolveString(v, 0);
}

QStringList GraphInspector::filenamePrefixes() const
{
    QStringList out;
    for (auto it = m_prompt.begin(); it != m_prompt.end(); ++it)
        if (inputsOf(it.key()).contains(QStringLiteral("filename_prefix")))
            out << filenamePrefix(it.key());
    return out;
}

QString GraphInspector::titleFromPrefix(const QString& prefix)
{
    static const QRegularExpression scene(QStringLiteral("scene-\\d+"));
    const QRegularExpressionMatch m = scene.match(prefix);
    return m.hasMatch() ? m.captured(0) : prefix;
}

QString GraphInspector::resolveString(const QJsonValue& value, int depth) const
{
    if (value.isString())
        return value.toString();
    if (!value.isArray() || depth > kMaxDepth)
        return {};
    const QJsonArray a = value.toArray();
    if (a.size() != 2 || !m_prompt.contains(a.at(0).toString()))
        return {};
    const QString src = a.at(0).toString();
    const QString cls = classOf(src);
    const QJsonObject in = inputsOf(src);
    if (cls == QLatin1String("StringConcatenate"))
        return resolveString(in.value(QStringLiteral("string_a")), depth + 1) +
               in.value(QStringLiteral("delimiter")).toString() +
               resolveString(in.value(QStringLiteral("string_b")), depth + 1);
    for (const QString& key : {QStringLiteral("value"), QStringLiteral("string"), QStringLiteral("text")})
        if (in.contains(key))
            return resolveString(in.value(key), depth + 1);
    return {};
}

QString GraphInspector::conditioningText(const QString& nodeId, int depth) const
{
    if (depth > kMaxDepth || !m_prompt.contains(nodeId))
        return {};
    const QJsonObject in = inputsOf(nodeId);
    if (in.contains(QStringLiteral("text")))
        return resolveString(in.value(QStringLiteral("text")), 0);
    if (const auto l = link(nodeId, QStringLiteral("positive")))
        return conditioningText(l->first, depth + 1);
    for (const QString& src : sourcesOf(nodeId)) {
        const QString t = conditioningText(src, depth + 1);
        if (!t.isEmpty())
            return t;
    }
    return {};
}

QString GraphInspector::positivePrompt() const
{
    QStringList ids = m_prompt.keys();
    std::sort(ids.begin(), ids.end(), PromptValidator::nodeIdLess);
    for (const QString& id : ids) {
        if (classOf(id) != QLatin1String("KSampler"))
            continue;
        if (const auto l = link(id, QStringLiteral("positive"))) {
            const QString t = conditioningText(l->first, 0);
            if (!t.isEmpty())
                return t;
        }
    }
    QString longest;
    for (const QString& id : ids) {
        const QJsonObject in = inputsOf(id);
        for (auto it = in.begin(); it != in.end(); ++it)
            if (it.key() != QLatin1String("filename_prefix") && it.value().isString() &&
                it.value().toString().size() > longest.size())
                longest = it.value().toString();
    }
    return longest;
}

QByteArray GraphInspector::signature(const QString& nodeId) const
{
    if (m_signatures.contains(nodeId))
        return m_signatures.value(nodeId);
    m_signatures.insert(nodeId, QByteArray()); // cycle guard
    const QString cls = classOf(nodeId);
    if (cls == kNeverCached)
        return {};
    QByteArray sig = cls.toUtf8() + '(';
    const QJsonObject in = inputsOf(nodeId);
    const NodeClassSpec* spec = m_catalog.find(cls);
    QStringList names;
    if (spec)
        for (const NodeInputSpec& i : spec->inputs)
            names << i.name;
    std::sort(names.begin(), names.end());
    for (const QString& name : std::as_const(names)) {
        if (!in.contains(name))
            continue;
        sig += name.toUtf8() + '=';
        if (const auto l = link(nodeId, name)) {
            const QByteArray up = signature(l->first);
            if (up.isEmpty())
                return {};
            sig += '<' + up + '#' + QByteArray::number(l->second) + '>';
        } else {
            sig += PyJson::dumps(in.value(name));
        }
        sig += ';';
    }
    // LoadImage.IS_CHANGED hashes the file, so replacing the input image re-runs the graph.
    if (cls == QLatin1String("LoadImage")) {
        QFile f(QDir(m_inputDir).filePath(in.value(QStringLiteral("image")).toString()));
        if (f.open(QIODevice::ReadOnly))
            sig += QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex();
    }
    sig += ')';
    const QByteArray digest = QCryptographicHash::hash(sig, QCryptographicHash::Sha256).toHex();
    m_signatures.insert(nodeId, digest);
    return digest;
}

QStringList GraphInspector::executionOrder(const QStringList& outputs,
                                           const std::function<bool(const QString&)>& isCached) const
{
    QStringList order;
    QSet<QString> visited;
    std::function<void(const QString&, int)> visit = [&](const QString& id, int depth) {
        if (visited.contains(id) || depth > kMaxDepth * 4)
            return;
        visited.insert(id);
        for (const QString& src : sourcesOf(id))
            if (!isCached(src))
                visit(src, depth + 1);
        order << id;
    };
    QStringList sorted = outputs;
    std::sort(sorted.begin(), sorted.end(), PromptValidator::nodeIdLess);
    for (const QString& o : std::as_const(sorted))
        visit(o, 0);
    return order;
}

} // namespace gd::sandbox
