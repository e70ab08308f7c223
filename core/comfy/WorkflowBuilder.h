#pragma once

#include "comfy/WorkflowProfile.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace gd::comfy {

// Turns a profile plus one scene's parameters into the API-format graph sent to POST /prompt.
// Pure: no I/O, no server; values are set as JSON values, never by text substitution.
class WorkflowBuilder
{
public:
    struct SceneParams
    {
        QString prompt, negativePrompt;
        qint64 seed = -1; // < 0: keep the graph's seed
        int frameCount = 0;
        double fps = 0;
        int width = 0, height = 0;
        QString filenamePrefix, keyframeImage, jobId;
    };

    // Sets every mapped input whose parameter is set (the prompt always, even empty), drops the
    // non-API `widgets_values` keys and leaves everything else as it was. Warnings name what was odd:
    // a link replaced by a literal, a mapped node or input missing from the graph, an empty prompt.
    static QJsonObject build(const WorkflowProfile& profile, const SceneParams& params,
                             QStringList* warnings);
    // Uniform in [0, 2^53): the largest range a JSON number carries exactly to ComfyUI and back.
    static qint64 randomSeed();
    // Swaps GemDirectSaveFrames nodes for core SaveImage nodes with the same `images` link and
    // `filename_prefix`, for servers that lack the node; *markerNodeId gets the (first) swapped id, or empty.
    static QJsonObject replaceMarkerNode(const QJsonObject& graph, QString* markerNodeId);
};

} // namespace gd::comfy
