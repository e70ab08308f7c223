#include "comfy/WorkflowProfileLoader.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QRegularExpression>
#include <QSet>
#include <algorithm>

namespace gd::comfy {

namespace {

// Exported graphs are a few kB to a few hundred kB; anything far larger is not a workflow.
constexpr qint64 kMaxFileBytes = 32 * 1024 * 1024;

const QLatin1String kClassType("class_type");
const QLatin1String kInputs("inputs");

QString profilePathFor(const QString& graphPath)
{
    if (graphPath.endsWith(QLatin1String(".json")))
        return graphPath.left(graphPath.size() - 5) + QStringLiteral(".profile.json");
    return graphPath + QStringLiteral(".profile.json");
}

std::optional<QByteArray> readFileBytes(const QString& path, QStringList* errors)
{
    QFile file(path);
    if (!file.exists()) {
        errors->append(QStringLiteral("%1: file not found").arg(path));
        return std::nullopt;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        errors->append(QStringLiteral("%1: cannot open: %2").arg(path, file.errorString()));
        return std::nullopt;
    }
    if (file.size() > kMaxFileBytes) {
        errors->append(QStringLiteral("%1: %2 bytes is larger than the %3 MiB limit for a workflow file")
                           .arg(path)
                           .arg(file.size())
                           .arg(kMaxFileBytes / (1024 * 1024)));
        return std::nullopt;
    }
    return file.readAll();
}

std::optional<QJsonDocument> parseJson(const QByteArray& bytes, const QString& label, QStringList* errors)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        errors->append(QStringLiteral("%1: not valid JSON at offset %2: %3")
                           .arg(label)
                           .arg(parseError.offset)
                           .arg(parseError.errorString()));
        return std::nullopt;
    }
    return doc;
}

QString nodeClass(const QJsonObject& graph, const QString& id)
{
    return graph.value(id).toObject().value(kClassType).toString();
}

QJsonObject nodeInputs(const QJsonObject& graph, const QString& id)
{
    return graph.value(id).toObject().value(kInputs).toObject();
}

QString nodeTitle(const QJsonObject& graph, const QString& id)
{
    return graph.value(id)
        .toObject()
        .value(QLatin1String("_meta"))
        .toObject()
        .value(QLatin1String("title"))
        .toString();
}

// "26:7 (CLIPTextEncode)" — how notes and errors name a node.
QString describeNode(const QJsonObject& graph, const QString& id)
{
    const QString type = nodeClass(graph, id);
    return type.isEmpty() ? id : QStringLiteral("%1 (%2)").arg(id, type);
}

struct LinkTarget
{
    QString nodeId;
    int outputIndex = 0;
};

std::optional<LinkTarget> linkOf(const QJsonValue& value)
{
    if (!WorkflowProfile::isLink(value))
        return std::nullopt;
    const QJsonArray array = value.toArray();
    return LinkTarget{array.at(0).toString(), array.at(1).toInt()};
}

// The legacy pipeline wrote placeholders such as __KEYFRAME_IMAGE__ into literals and substituted text.
bool isLegacyToken(const QString& text)
{
    static const QRegularExpression token(QStringLiteral("^__[A-Z0-9_]+__$"));
    return token.match(text).hasMatch();
}

enum class Polarity
{
    Positive,
    Negative,
};

QString polarityName(Polarity p)
{
    return p == Polarity::Positive ? QStringLiteral("prompt") : QStringLiteral("negative_prompt");
}

// Inputs of a text encoder that hold the prompt text itself (all of them get the prompt: SDXL's
// text_g/text_l and Flux's clip_l/t5xxl take the same sentence).
QStringList encoderTextInputs(Polarity p)
{
    QStringList names{QStringLiteral("text"),   QStringLiteral("prompt"), QStringLiteral("text_g"),
                      QStringLiteral("text_l"), QStringLiteral("clip_l"), QStringLiteral("t5xxl")};
    names.append(p == Polarity::Positive ? QStringLiteral("positive_prompt")
                                         : QStringLiteral("negative_prompt"));
    return names;
}

// Inputs of string utility nodes (PrimitiveStringMultiline, StringConcatenate, ...) that carry text.
const QStringList& stringInputs()
{
    static const QStringList names{QStringLiteral("value"),    QStringLiteral("string"),
                                   QStringLiteral("text"),     QStringLiteral("string_a"),
                                   QStringLiteral("string_b"), QStringLiteral("string_c"),
                                   QStringLiteral("string_d")};
    return names;
}

struct TextCandidate
{
    QString nodeId;
    QString inputName;
    int order = 0;
};

struct TextResult
{
    QVector<MappedInput> inputs;
    QString note;
};

class GraphInference
{
public:
    GraphInference(const QJsonObject& graph, QStringList* notes) : m_graph(graph), m_notes(notes) {}

    WorkflowProfile run(const QString& name);

private:
    QStringList samplerIds() const;
    std::optional<TextResult> resolveText(const LinkTarget& start, Polarity p, QStringList* why);
    void collectStringSources(const QString& nodeId, int depth, QVector<TextCandidate>* out,
                              QSet<QString>* seen);
    int candidateScore(const TextCandidate& c, Polarity p) const;
    void note(const QString& text) { m_notes->append(text); }

    const QJsonObject& m_graph;
    QStringList* m_notes;
};

QStringList GraphInference::samplerIds() const
{
    QStringList ids;
    for (auto it = m_graph.constBegin(); it != m_graph.constEnd(); ++it) {
        const QJsonObject node = it.value().toObject();
        const QString type = node.value(kClassType).toString();
        const QJsonObject inputs = node.value(kInputs).toObject();
        if (!type.contains(QLatin1String("Sampler"), Qt::CaseInsensitive))
            continue;
        if (inputs.contains(QLatin1String("positive")) || inputs.contains(QLatin1String("guider")) ||
            inputs.contains(QLatin1String("text_embeds")) || inputs.contains(QLatin1String("seed")) ||
            inputs.contains(QLatin1String("noise_seed")))
            ids.append(it.key());
    }
    return ids;
}

int GraphInference::candidateScore(const TextCandidate& c, Polarity p) const
{
    const QString title = nodeTitle(m_graph, c.nodeId).toLower();
    int score = 0;
    // Exported string chains prepend a "System prompt" to the user's prompt; the title is the only
    // reliable hint which literal is the user's.
    if (title.contains(QLatin1String("system")))
        score -= 4;
    if (p == Polarity::Positive && title.contains(QLatin1String("prompt")) &&
        !title.contains(QLatin1String("negative")))
        score += 4;
    if (p == Polarity::Negative && title.contains(QLatin1String("negative")))
        score += 4;
    return score;
}

void GraphInference::collectStringSources(const QString& nodeId, int depth, QVector<TextCandidate>* out,
                                          QSet<QString>* seen)
{
    if (depth > 16 || seen->contains(nodeId) || !m_graph.contains(nodeId))
        return;
    seen->insert(nodeId);
    const QJsonObject inputs = nodeInputs(m_graph, nodeId);
    for (const QString& name : stringInputs()) {
        const QJsonValue value = inputs.value(name);
        if (value.isString())
            out->append({nodeId, name, int(out->size())});
        else if (const auto link = linkOf(value))
            collectStringSources(link->nodeId, depth + 1, out, seen);
    }
}

std::optional<TextResult> GraphInference::resolveText(const LinkTarget& start, Polarity p, QStringList* why)
{
    LinkTarget at = start;
    QSet<QString> visited;
    while (!visited.contains(at.nodeId)) {
        visited.insert(at.nodeId);
        if (!m_graph.contains(at.nodeId)) {
            why->append(
                QStringLiteral("the link leads to node %1, which is not in the graph").arg(at.nodeId));
            return std::nullopt;
        }
        const QJsonObject inputs = nodeInputs(m_graph, at.nodeId);

        // A text encoder: map its literal text inputs, or follow a linked one into string nodes.
        TextResult result;
        QVector<TextCandidate> chain;
        QSet<QString> seen;
        bool sawTextInput = false;
        for (const QString& name : encoderTextInputs(p)) {
            const QJsonValue value = inputs.value(name);
            if (value.isString()) {
                sawTextInput = true;
                result.inputs.append(
                    {at.nodeId, name, p == Polarity::Positive ? Role::Prompt : Role::NegativePrompt});
            } else if (const auto link = linkOf(value)) {
                sawTextInput = true;
                collectStringSources(link->nodeId, 0, &chain, &seen);
            }
        }
        if (!result.inputs.isEmpty()) {
            QStringList keys;
            for (const MappedInput& m : result.inputs)
                keys.append(m.key());
            result.note =
                QStringLiteral("%1: mapped to %2 of node %3")
                    .arg(polarityName(p), keys.join(QStringLiteral(", ")), describeNode(m_graph, at.nodeId));
            return result;
        }
        if (sawTextInput) {
            if (chain.isEmpty()) {
                why->append(
                    QStringLiteral("node %1 takes its text from a link that ends in no literal string")
                        .arg(describeNode(m_graph, at.nodeId)));
                return std::nullopt;
            }
            // Ties go to the later literal: concatenations put the fixed preamble first.
            const TextCandidate* best = &chain.first();
            for (const TextCandidate& c : chain) {
                if (candidateScore(c, p) >= candidateScore(*best, p))
                    best = &c;
            }
            result.inputs.append({best->nodeId, best->inputName,
                                  p == Polarity::Positive ? Role::Prompt : Role::NegativePrompt});
            const QString title = nodeTitle(m_graph, best->nodeId);
            result.note = QStringLiteral("%1: node %2 takes its text from a link; mapped to %3:%4 (%5%6), "
                                         "one of %7 literal strings feeding it")
                              .arg(polarityName(p), describeNode(m_graph, at.nodeId), best->nodeId,
                                   best->inputName, nodeClass(m_graph, best->nodeId),
                                   title.isEmpty() ? QString() : QStringLiteral(" \"%1\"").arg(title))
                              .arg(chain.size());
            return result;
        }

        // Conditioning that passes through (SVD/Wan image-to-video conditioning, ControlNet apply, ...):
        // output 0 carries the positive, output 1 the negative conditioning.
        if (at.outputIndex <= 1 && inputs.contains(QLatin1String("positive")) &&
            inputs.contains(QLatin1String("negative"))) {
            const auto next = linkOf(
                inputs.value(at.outputIndex == 0 ? QLatin1String("positive") : QLatin1String("negative")));
            if (next) {
                at = *next;
                continue;
            }
        }
        bool followed = false;
        for (const char* name : {"conditioning", "conditioning_to", "conditioning_1"}) {
            if (const auto next = linkOf(inputs.value(QLatin1String(name)))) {
                at = *next;
                followed = true;
                break;
            }
        }
        if (followed)
            continue;
        why->append(QStringLiteral("the conditioning comes from node %1, which takes no text")
                        .arg(describeNode(m_graph, at.nodeId)));
        return std::nullopt;
    }
    why->append(QStringLiteral("the conditioning links form a cycle at node %1").arg(at.nodeId));
    return std::nullopt;
}

WorkflowProfile GraphInference::run(const QString& name)
{
    WorkflowProfile profile;
    profile.name = name;
    profile.description = QStringLiteral("Inferred from an exported ComfyUI graph");
    profile.graph = m_graph;

    QSet<QString> mappedKeys;
    auto add = [&](const MappedInput& m) {
        if (mappedKeys.contains(m.key()))
            return;
        mappedKeys.insert(m.key());
        profile.mapping.append(m);
    };

    const QStringList samplers = samplerIds();
    if (samplers.isEmpty())
        note(QStringLiteral("no sampler node found: prompt, seed and frame count cannot be inferred"));
    else if (samplers.size() > 1)
        note(QStringLiteral("%1 sampler nodes (%2): using the first that resolves")
                 .arg(samplers.size())
                 .arg(samplers.join(QStringLiteral(", "))));

    // Prompt and negative prompt: follow the sampler's conditioning links back to the text.
    for (const Polarity p : {Polarity::Positive, Polarity::Negative}) {
        QStringList why;
        bool done = false;
        for (const QString& samplerId : samplers) {
            QJsonObject inputs = nodeInputs(m_graph, samplerId);
            std::optional<LinkTarget> start;
            if (const auto guider = linkOf(inputs.value(QLatin1String("guider")))) {
                // SamplerCustomAdvanced: the guider (CFGGuider/BasicGuider) holds the conditioning.
                inputs = nodeInputs(m_graph, guider->nodeId);
                if (p == Polarity::Positive && !inputs.contains(QLatin1String("positive")))
                    start = linkOf(inputs.value(QLatin1String("conditioning")));
            }
            if (!start)
                start = linkOf(inputs.value(p == Polarity::Positive ? QLatin1String("positive")
                                                                    : QLatin1String("negative")));
            if (!start) {
                // WanVideoWrapper samplers take one text_embeds link holding both prompts.
                if (const auto embeds = linkOf(inputs.value(QLatin1String("text_embeds"))))
                    start = LinkTarget{embeds->nodeId, 0};
            }
            if (!start) {
                why.append(QStringLiteral("sampler %1 has no %2 conditioning link")
                               .arg(describeNode(m_graph, samplerId), p == Polarity::Positive
                                                                          ? QStringLiteral("positive")
                                                                          : QStringLiteral("negative")));
                continue;
            }
            if (const auto text = resolveText(*start, p, &why)) {
                bool clash = false;
                for (const MappedInput& m : text->inputs)
                    clash = clash || mappedKeys.contains(m.key());
                if (clash) {
                    why.append(QStringLiteral("it resolves to the same input as the prompt"));
                    continue;
                }
                for (const MappedInput& m : text->inputs)
                    add(m);
                note(text->note);
                done = true;
                break;
            }
        }
        if (!done && !samplers.isEmpty())
            note(QStringLiteral("%1: not mapped: %2").arg(polarityName(p), why.join(QStringLiteral("; "))));
    }

    // Seed, frame count and size come from the first sampler and the node feeding its latent.
    if (!samplers.isEmpty()) {
        const QString samplerId = samplers.first();
        const QJsonObject inputs = nodeInputs(m_graph, samplerId);
        bool seedMapped = false;
        for (const char* key : {"seed", "noise_seed"}) {
            const QJsonValue value = inputs.value(QLatin1String(key));
            if (value.isDouble()) {
                add({samplerId, QLatin1String(key), Role::Seed});
                seedMapped = true;
                break;
            }
        }
        if (!seedMapped) {
            if (const auto noise = linkOf(inputs.value(QLatin1String("noise")))) {
                if (nodeInputs(m_graph, noise->nodeId).value(QLatin1String("noise_seed")).isDouble()) {
                    add({noise->nodeId, QStringLiteral("noise_seed"), Role::Seed});
                    seedMapped = true;
                }
            }
        }
        if (!seedMapped)
            note(QStringLiteral("seed: sampler %1 has no literal seed/noise_seed; not mapped")
                     .arg(describeNode(m_graph, samplerId)));

        std::optional<LinkTarget> latent = linkOf(inputs.value(QLatin1String("latent_image")));
        if (!latent)
            latent = linkOf(inputs.value(QLatin1String("image_embeds")));
        if (latent && m_graph.contains(latent->nodeId)) {
            const QJsonObject latentInputs = nodeInputs(m_graph, latent->nodeId);
            bool counted = false;
            // Video latents carry frames in length/video_frames/num_frames, and batch_size is then the
            // number of videos; for image latents the batch is the frame sequence.
            for (const char* key : {"length", "video_frames", "num_frames", "batch_size"}) {
                if (latentInputs.value(QLatin1String(key)).isDouble()) {
                    add({latent->nodeId, QLatin1String(key), Role::FrameCount});
                    counted = true;
                    break;
                }
            }
            if (!counted)
                note(QStringLiteral("frame_count: the latent comes from node %1, which has no literal "
                                    "batch_size/length/video_frames; not mapped")
                         .arg(describeNode(m_graph, latent->nodeId)));
            if (latentInputs.value(QLatin1String("width")).isDouble())
                add({latent->nodeId, QStringLiteral("width"), Role::Width});
            if (latentInputs.value(QLatin1String("height")).isDouble())
                add({latent->nodeId, QStringLiteral("height"), Role::Height});
        } else {
            note(QStringLiteral("frame_count: sampler %1 has no latent_image link; not mapped")
                     .arg(describeNode(m_graph, samplerId)));
        }
    }

    // Output: the marker node first, then plain frames, then video files; previews write to temp.
    const QStringList priority{WorkflowProfile::markerClass(),   QStringLiteral("SaveImage"),
                               QStringLiteral("SaveVideo"),      QStringLiteral("VHS_VideoCombine"),
                               QStringLiteral("SaveWEBM"),       QStringLiteral("SaveAnimatedWEBP"),
                               QStringLiteral("SaveAnimatedPNG")};
    QString outputId;
    for (const QString& cls : priority) {
        for (auto it = m_graph.constBegin(); it != m_graph.constEnd() && outputId.isEmpty(); ++it) {
            const QJsonObject node = it.value().toObject();
            if (node.value(kClassType).toString() == cls &&
                node.value(kInputs).toObject().value(QLatin1String("filename_prefix")).isString())
                outputId = it.key();
        }
        if (!outputId.isEmpty())
            break;
    }
    const QStringList outputs = profile.outputNodeIds();
    if (outputId.isEmpty()) {
        if (outputs.isEmpty())
            note(QStringLiteral("filename_prefix: the graph has no save node (%1); add a SaveImage or "
                                "GemDirectSaveFrames node")
                     .arg(WorkflowProfile::outputClasses().join(QStringLiteral(", "))));
        else
            note(QStringLiteral(
                     "filename_prefix: output node %1 takes no literal filename_prefix (PreviewImage "
                     "writes to the temp folder); add a SaveImage or GemDirectSaveFrames node")
                     .arg(describeNode(m_graph, outputs.first())));
    } else {
        add({outputId, QStringLiteral("filename_prefix"), Role::FilenamePrefix});
        const QString cls = nodeClass(m_graph, outputId);
        if (cls == QLatin1String("SaveVideo") || cls == QLatin1String("SaveWEBM") ||
            cls == QLatin1String("VHS_VideoCombine"))
            profile.outputKind = OutputKind::Video;
        note(QStringLiteral("filename_prefix: mapped to %1:filename_prefix (%2); outputKind %3")
                 .arg(outputId, cls, outputKindName(profile.outputKind)));
        for (const QString& other : outputs) {
            if (other != outputId)
                note(QStringLiteral("output node %1 keeps its own filename_prefix")
                         .arg(describeNode(m_graph, other)));
        }
        if (cls == WorkflowProfile::markerClass() &&
            nodeInputs(m_graph, outputId).contains(QLatin1String("job_id")))
            add({outputId, QStringLiteral("job_id"), Role::JobId});
    }

    // Keyframe: one LoadImage, or the one holding the legacy __KEYFRAME_IMAGE__ token.
    QStringList loadImages;
    QString tokenImage;
    for (auto it = m_graph.constBegin(); it != m_graph.constEnd(); ++it) {
        const QJsonObject node = it.value().toObject();
        if (node.value(kClassType).toString() != QLatin1String("LoadImage"))
            continue;
        const QJsonValue image = node.value(kInputs).toObject().value(QLatin1String("image"));
        if (!image.isString())
            continue;
        loadImages.append(it.key());
        if (image.toString() == QLatin1String("__KEYFRAME_IMAGE__"))
            tokenImage = it.key();
    }
    if (!tokenImage.isEmpty()) {
        add({tokenImage, QStringLiteral("image"), Role::KeyframeImage});
        note(QStringLiteral("keyframe_image: node %1 input image holds the legacy token __KEYFRAME_IMAGE__; "
                            "mapped to %2:image")
                 .arg(describeNode(m_graph, tokenImage), tokenImage));
    } else if (loadImages.size() == 1) {
        add({loadImages.first(), QStringLiteral("image"), Role::KeyframeImage});
        note(QStringLiteral("keyframe_image: mapped to %1:image (the only LoadImage)")
                 .arg(loadImages.first()));
    } else if (loadImages.size() > 1) {
        note(QStringLiteral("keyframe_image: not mapped: %1 LoadImage nodes (%2); map the one that should "
                            "receive the keyframe by hand")
                 .arg(loadImages.size())
                 .arg(loadImages.join(QStringLiteral(", "))));
    }

    // Frame rate wherever it is a literal: video assembly, SVD conditioning, marker metadata.
    for (auto it = m_graph.constBegin(); it != m_graph.constEnd(); ++it) {
        const QJsonObject node = it.value().toObject();
        const QString cls = node.value(kClassType).toString();
        const QJsonObject inputs = node.value(kInputs).toObject();
        const QLatin1String key =
            cls == QLatin1String("VHS_VideoCombine") ? QLatin1String("frame_rate") : QLatin1String("fps");
        const bool fpsNode =
            cls == QLatin1String("CreateVideo") || cls == QLatin1String("SVD_img2vid_Conditioning") ||
            cls == QLatin1String("VHS_VideoCombine") || cls == WorkflowProfile::markerClass() ||
            cls == QLatin1String("SaveWEBM") || cls == QLatin1String("SaveAnimatedWEBP") ||
            cls == QLatin1String("SaveAnimatedPNG");
        if (fpsNode && inputs.value(key).isDouble())
            add({it.key(), key, Role::Fps});
    }

    // Things the operator should know before the first render.
    for (auto it = m_graph.constBegin(); it != m_graph.constEnd(); ++it) {
        const QJsonObject node = it.value().toObject();
        const QString cls = node.value(kClassType).toString();
        if (cls.startsWith(QLatin1String("WriteDoneMarker")))
            note(QStringLiteral(
                     "node %1 uses class %2, which no installed package provides: ComfyUI will refuse "
                     "the graph until it is removed; use GemDirectSaveFrames for done markers")
                     .arg(it.key(), cls));
        const QJsonObject inputs = node.value(kInputs).toObject();
        for (auto in = inputs.constBegin(); in != inputs.constEnd(); ++in) {
            if (!in.value().isString() || !isLegacyToken(in.value().toString()))
                continue;
            const QString key = it.key() + QLatin1Char(':') + in.key();
            if (in.value().toString() == QLatin1String("__KEYFRAME_IMAGE__") && mappedKeys.contains(key))
                continue;
            note(QStringLiteral(
                     "node %1 input %2 holds the legacy token %3: gemDirect never substitutes text, %4")
                     .arg(describeNode(m_graph, it.key()), in.key(), in.value().toString(),
                          mappedKeys.contains(key) ? QStringLiteral("the mapping sets this input")
                                                   : QStringLiteral("the token is sent as is")));
        }
        if (node.contains(QLatin1String("widgets_values")))
            note(
                QStringLiteral("node %1 carries widgets_values, which ComfyUI ignores; they are dropped when "
                               "the graph is built")
                    .arg(it.key()));
    }
    return profile;
}

} // namespace

QStringList WorkflowProfileLoader::applyProfileJson(const QJsonObject& json, const QString& fileLabel,
                                                    WorkflowProfile* profile)
{
    QStringList errors;
    const QJsonValue name = json.value(QLatin1String("name"));
    if (name.isString() && !name.toString().isEmpty())
        profile->name = name.toString();
    else if (!name.isUndefined())
        errors.append(QStringLiteral("%1: \"name\" must be a non-empty string").arg(fileLabel));
    const QJsonValue description = json.value(QLatin1String("description"));
    if (description.isString())
        profile->description = description.toString();
    else if (!description.isUndefined())
        errors.append(QStringLiteral("%1: \"description\" must be a string").arg(fileLabel));
    const QJsonValue vram = json.value(QLatin1String("minVramMB"));
    if (vram.isDouble() && vram.toDouble() >= 0 && vram.toDouble() <= 16.0 * 1024 * 1024)
        profile->minVramMB = vram.toInt();
    else if (!vram.isUndefined())
        errors.append(
            QStringLiteral("%1: \"minVramMB\" must be a non-negative number of MiB").arg(fileLabel));
    const QJsonValue kind = json.value(QLatin1String("outputKind"));
    if (const auto parsed = outputKindFromName(kind.toString()); parsed && kind.isString())
        profile->outputKind = *parsed;
    else
        errors.append(
            QStringLiteral("%1: outputKind %2 is not frames|video")
                .arg(fileLabel, kind.isUndefined()
                                    ? QStringLiteral("(missing)")
                                    : QStringLiteral("\"%1\"").arg(
                                          kind.isString() ? kind.toString() : QStringLiteral("non-string"))));
    // Absent means "video": every profile written before the storyboard stages is one.
    const QJsonValue purpose = json.value(QLatin1String("purpose"));
    if (purpose.isUndefined())
        profile->purpose = Purpose::Video;
    else if (const auto parsed = purposeFromName(purpose.toString()); parsed && purpose.isString())
        profile->purpose = *parsed;
    else
        errors.append(QStringLiteral("%1: purpose %2 is not video|reference_sheet|keyframe")
                          .arg(fileLabel, purpose.isString()
                                              ? QStringLiteral("\"%1\"").arg(purpose.toString())
                                              : QStringLiteral("(non-string)")));
    const QJsonValue mapping = json.value(QLatin1String("mapping"));
    if (!mapping.isObject()) {
        errors.append(QStringLiteral("%1: \"mapping\" must be an object of \"<nodeId>:<input>\": \"<role>\"")
                          .arg(fileLabel));
        return errors;
    }
    profile->mapping.clear();
    const QJsonObject map = mapping.toObject();
    for (auto it = map.constBegin(); it != map.constEnd(); ++it) {
        // Node ids may themselves contain ':' (group nodes export "26:7"); input names never do.
        const QString key = it.key();
        const qsizetype colon = key.lastIndexOf(QLatin1Char(':'));
        if (colon <= 0 || colon == key.size() - 1) {
            errors.append(
                QStringLiteral("%1: mapping key \"%2\" is not \"<nodeId>:<input>\"").arg(fileLabel, key));
            continue;
        }
        int index = 0;
        const auto role = roleFromName(it.value().toString(), &index);
        if (!it.value().isString() || !role) {
            errors.append(QStringLiteral("%1: mapping %2: unknown role \"%3\" (known: %4; N is 0..%5)")
                              .arg(fileLabel, key, it.value().toVariant().toString(),
                                   knownRoleNames().join(QStringLiteral(", ")))
                              .arg(kMaxCharacterReferences - 1));
            continue;
        }
        profile->mapping.append({key.left(colon), key.mid(colon + 1), *role, index});
    }
    return errors;
}

QStringList WorkflowProfileLoader::validate(const WorkflowProfile& profile)
{
    QStringList errors;
    const QString graphFile = profile.sourcePath.isEmpty()
                                  ? QStringLiteral("workflow \"%1\"").arg(profile.name)
                                  : profile.sourcePath;
    const QString profileFile = !profile.profilePath.isEmpty() ? profile.profilePath
                                : profile.sourcePath.isEmpty()
                                    ? QStringLiteral("profile \"%1\"").arg(profile.name)
                                    : profilePathFor(profile.sourcePath);
    const QJsonObject& graph = profile.graph;

    if (graph.value(QLatin1String("nodes")).isArray() || graph.value(QLatin1String("links")).isArray()) {
        errors.append(
            QStringLiteral("%1: the graph is the UI format (top-level \"nodes\"/\"links\" arrays); in "
                           "ComfyUI use Export (API)")
                .arg(graphFile));
        return errors;
    }
    if (graph.isEmpty())
        errors.append(QStringLiteral("%1: the graph has no nodes").arg(graphFile));

    for (auto it = graph.constBegin(); it != graph.constEnd(); ++it) {
        if (!it.value().isObject()) {
            errors.append(QStringLiteral("%1: node %2 is not an object").arg(graphFile, it.key()));
            continue;
        }
        const QJsonObject node = it.value().toObject();
        const QString cls = node.value(kClassType).toString();
        if (cls.isEmpty())
            errors.append(QStringLiteral("%1: node %2 has no class_type").arg(graphFile, it.key()));
        if (!node.value(kInputs).isObject()) {
            errors.append(QStringLiteral("%1: node %2 has no inputs object")
                              .arg(graphFile, describeNode(graph, it.key())));
            continue;
        }
        const QJsonObject inputs = node.value(kInputs).toObject();
        for (auto in = inputs.constBegin(); in != inputs.constEnd(); ++in) {
            if (const auto link = linkOf(in.value()); link && !graph.contains(link->nodeId))
                errors.append(
                    QStringLiteral("%1: node %2 input '%3' links to node %4, which is not in the graph")
                        .arg(graphFile, describeNode(graph, it.key()), in.key(), link->nodeId));
        }
    }

    for (const MappedInput& m : profile.mapping) {
        if (m.nodeId.isEmpty() || m.inputName.isEmpty()) {
            errors.append(QStringLiteral("%1: mapping key \"%2\" is not \"<nodeId>:<input>\"")
                              .arg(profileFile, m.key()));
            continue;
        }
        if (!graph.value(m.nodeId).isObject()) {
            errors.append(
                QStringLiteral("%1: mapping %2: node %3 not in graph").arg(profileFile, m.key(), m.nodeId));
            continue;
        }
        if (!nodeInputs(graph, m.nodeId).contains(m.inputName))
            errors.append(QStringLiteral("%1: mapping %2: node %3 (%4) has no input '%5'")
                              .arg(profileFile, m.key(), m.nodeId, nodeClass(graph, m.nodeId), m.inputName));
        if (m.role == Role::CharacterReferenceImage && (m.index < 0 || m.index >= kMaxCharacterReferences))
            errors.append(QStringLiteral("%1: mapping %2: character reference slot %3 is outside 0..%4")
                              .arg(profileFile, m.key())
                              .arg(m.index)
                              .arg(kMaxCharacterReferences - 1));
        if (roleName(m.role, m.index).isEmpty())
            errors.append(QStringLiteral("%1: mapping %2: unknown role").arg(profileFile, m.key()));
    }
    for (const Role required : {Role::Prompt, Role::FilenamePrefix}) {
        if (!profile.hasRole(required))
            errors.append(
                QStringLiteral("%1: required role %2 is not mapped").arg(profileFile, roleName(required)));
    }
    if (profile.outputKind != OutputKind::Frames && profile.outputKind != OutputKind::Video)
        errors.append(QStringLiteral("%1: outputKind is not frames|video").arg(profileFile));
    // Sheets and keyframes are stills that the storyboard stores as PNG candidates.
    if (profile.purpose != Purpose::Video && profile.outputKind != OutputKind::Frames)
        errors.append(
            QStringLiteral("%1: a %2 profile must have outputKind \"frames\" (it renders still images)")
                .arg(profileFile, purposeName(profile.purpose)));
    // References fill slots from 0 in the order the shot lists its characters; a gap would leave a slot
    // without an image while a later one has one.
    for (int i = 0; i < profile.characterReferenceSlots(); ++i) {
        if (profile.inputsFor(Role::CharacterReferenceImage, i).isEmpty())
            errors.append(
                QStringLiteral("%1: %2 is mapped but %3 is not: character references fill slots from 0 "
                               "without gaps")
                    .arg(profileFile,
                         roleName(Role::CharacterReferenceImage, profile.characterReferenceSlots() - 1),
                         roleName(Role::CharacterReferenceImage, i)));
    }
    if (!graph.isEmpty() && profile.outputNodeIds().isEmpty())
        errors.append(QStringLiteral("%1: no output node (one of %2) in the graph")
                          .arg(graphFile, WorkflowProfile::outputClasses().join(QStringLiteral(", "))));
    return errors;
}

std::optional<WorkflowProfile> WorkflowProfileLoader::load(const QString& graphPath,
                                                           const QString& profilePath, QStringList* errors)
{
    QStringList problems;
    const auto graphBytes = readFileBytes(graphPath, &problems);
    const auto profileBytes = readFileBytes(profilePath, &problems);
    if (!graphBytes || !profileBytes) {
        // Still report what is wrong with the file that could be read, so one attempt shows every problem.
        if (graphBytes)
            parseJson(*graphBytes, graphPath, &problems);
        if (profileBytes)
            parseJson(*profileBytes, profilePath, &problems);
        if (errors)
            *errors += problems;
        return std::nullopt;
    }
    return fromJson(*graphBytes, *profileBytes, graphPath, profilePath, errors);
}

std::optional<WorkflowProfile>
WorkflowProfileLoader::fromJson(const QByteArray& graphJson, const QByteArray& profileJson,
                                const QString& graphPath, const QString& profilePath, QStringList* errors)
{
    QStringList problems;
    const auto graphDoc = parseJson(graphJson, graphPath, &problems);
    const auto profileDoc = parseJson(profileJson, profilePath, &problems);
    if (graphDoc && !graphDoc->isObject())
        problems.append(QStringLiteral("%1: the graph is not a JSON object").arg(graphPath));
    if (profileDoc && !profileDoc->isObject())
        problems.append(QStringLiteral("%1: the profile is not a JSON object").arg(profilePath));

    std::optional<WorkflowProfile> result;
    if (problems.isEmpty()) {
        WorkflowProfile profile;
        profile.name = QFileInfo(graphPath).completeBaseName();
        profile.graph = graphDoc->object();
        profile.sourcePath = graphPath;
        profile.profilePath = profilePath;
        problems += applyProfileJson(profileDoc->object(), profilePath, &profile);
        problems += validate(profile);
        if (problems.isEmpty())
            result = profile;
    }
    if (errors)
        *errors += problems;
    return result;
}

std::optional<WorkflowProfile>
WorkflowProfileLoader::resolve(const QString& nameOrPath, const QStringList& searchDirs, QStringList* errors)
{
    const QString profileSuffix = QStringLiteral(".profile.json");
    const QString jsonSuffix = QStringLiteral(".json");
    if (nameOrPath.endsWith(profileSuffix)) {
        const QString base = nameOrPath.left(nameOrPath.size() - profileSuffix.size());
        return load(base + jsonSuffix, nameOrPath, errors);
    }
    if (nameOrPath.endsWith(jsonSuffix)) {
        const QString base = nameOrPath.left(nameOrPath.size() - jsonSuffix.size());
        return load(nameOrPath, base + profileSuffix, errors);
    }
    if (nameOrPath.isEmpty() || nameOrPath.contains(QLatin1Char('/')) ||
        nameOrPath.contains(QLatin1Char('\\')) || nameOrPath.startsWith(QLatin1Char('.'))) {
        if (errors)
            errors->append(QStringLiteral("workflow \"%1\": give a profile name or a path to <name>.json")
                               .arg(nameOrPath));
        return std::nullopt;
    }
    for (const QString& dir : searchDirs) {
        const QString graphPath = QDir(dir).filePath(nameOrPath + jsonSuffix);
        const QString profilePath = QDir(dir).filePath(nameOrPath + profileSuffix);
        if (QFileInfo::exists(graphPath) && QFileInfo::exists(profilePath))
            return load(graphPath, profilePath, errors);
    }
    const QString builtinGraph = QStringLiteral(":/workflows/") + nameOrPath + jsonSuffix;
    const QString builtinProfile = QStringLiteral(":/workflows/") + nameOrPath + profileSuffix;
    if (QFileInfo::exists(builtinGraph) && QFileInfo::exists(builtinProfile))
        return load(builtinGraph, builtinProfile, errors);
    if (errors)
        errors->append(
            QStringLiteral("workflow \"%1\" not found: no %1.json + %1.profile.json in %2, and no built-in "
                           "of that name (built-ins: %3)")
                .arg(nameOrPath,
                     searchDirs.isEmpty() ? QStringLiteral("(no search folders)")
                                          : searchDirs.join(QStringLiteral(", ")),
                     builtinNames().join(QStringLiteral(", "))));
    return std::nullopt;
}

QStringList WorkflowProfileLoader::builtinNames()
{
    const QString suffix = QStringLiteral(".profile.json");
    QStringList names;
    const QStringList files =
        QDir(QStringLiteral(":/workflows")).entryList({QStringLiteral("*.profile.json")}, QDir::Files);
    for (const QString& file : files) {
        const QString name = file.left(file.size() - suffix.size());
        if (QFileInfo::exists(QStringLiteral(":/workflows/") + name + QStringLiteral(".json")))
            names.append(name);
    }
    names.sort();
    return names;
}

WorkflowProfile WorkflowProfileLoader::fromGraph(const QString& name, const QJsonObject& graph,
                                                 QStringList* notes)
{
    QStringList local;
    GraphInference inference(graph, notes ? notes : &local);
    return inference.run(name);
}

} // namespace gd::comfy
