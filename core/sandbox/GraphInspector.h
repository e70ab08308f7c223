#pragma once

#include "sandbox/NodeCatalog.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <functional>
#include <optional>

namespace gd::sandbox {

// Read-only questions the sandbox's fake executor asks about a validated API-format graph: execution order,
// how many frames an output node receives (traced back through its IMAGE link to the latent/image source),
// sampler steps, the positive prompt text, and the cache signature that decides whether a node is "cached" on
// resubmission.
class GraphInspector
{
public:
    GraphInspector(const QJsonObject& prompt, const NodeCatalog& catalog, QString inputDir = {});

    QString classOf(const QString& nodeId) const;
    QStringList nodeIds() const;                  // every node id, numeric ids in numeric order
    QString titleOf(const QString& nodeId) const; // _meta.title (ignored by the server, kept by exports)
    QJsonObject inputsOf(const QString& nodeId) const;
    // ["<src>", slot] links of a node; nullopt for literals and absent inputs.
    std::optional<QPair<QString, int>> link(const QString& nodeId, const QString& input) const;
    QStringList sourcesOf(const QString& nodeId) const; // linked source ids in declared input order

    // Frames the node's image input carries: VAEDecode -> KSampler.latent_image ->
    // EmptyLatentImage.batch_size, EmptyHunyuanLatentVideo/Wan latents and Wan image-to-video conditionings
    // ((length-1)/4*4+1), SVD video_frames, EmptyImage batch_size, LoadImage 1.
    int frameCount(const QString& nodeId) const;
    int samplerSteps(const QString& nodeId) const; // KSampler steps, 0 for other nodes
    quint32 seed() const;                          // first KSampler's seed (frame colours), 0 when none
    double fps(const QString& outputNodeId) const; // GemDirectSaveFrames.fps, CreateVideo.fps, VHS frame_rate
    QString filenamePrefix(const QString& nodeId) const;
    QStringList filenamePrefixes() const;
    // Text of the CLIPTextEncode feeding KSampler.positive (through string nodes), else the longest string
    // input.
    QString positivePrompt() const;
    // "scene-003" when the prefix names a scene, else the prefix itself.
    static QString titleFromPrefix(const QString& prefix);

    // Cache key of a node: class + literal inputs + upstream signatures. Empty when the node (or anything
    // upstream) always re-runs (GemDirectSaveFrames: IS_CHANGED is NaN).
    QByteArray signature(const QString& nodeId) const;
    // Output nodes first-come in id order, each preceded by its not-cached dependencies (depth first); cached
    // upstream nodes are not staged, exactly like ExecutionList.add_node.
    QStringList executionOrder(const QStringList& outputs,
                               const std::function<bool(const QString&)>& isCached) const;

private:
    int intInput(const QString& nodeId, const QString& name, int fallback) const;
    int traceFrames(const QString& nodeId, int depth) const;
    QString resolveString(const QJsonValue& value, int depth) const;
    QString conditioningText(const QString& nodeId, int depth) const;

    QJsonObject m_prompt;
    const NodeCatalog& m_catalog;
    QString m_inputDir;
    mutable QHash<QString, QByteArray> m_signatures;
};

} // namespace gd::sandbox
