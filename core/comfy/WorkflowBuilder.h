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
        // Storyboard inputs. Image values are the names /upload/image returned ("subfolder/name"), never
        // local paths: the caller uploads first, exactly like keyframeImage.
        QStringList
            characterReferenceImages; // Nth visible character's approved sheet → character_reference_image[N]
        double ipadapterWeight = -1; // < 0: keep the graph's weight
        QString startImage, endImage, styleReferenceImage;
    };

    // Sets every mapped input whose parameter is set (the prompt always, even empty), drops the
    // non-API `widgets_values` keys and leaves everything else as it was. Warnings name what was odd:
    // a link replaced by a literal, a mapped node or input missing from the graph, an empty prompt.
    // Images: start_image takes startImage, else keyframeImage (a single-image shot starts from its
    // keyframe), and keyframe_image takes keyframeImage, else startImage. end_image without an endImage gets
    // the start image (warned: the clip then returns to its first frame). Character slots the shot has no
    // character for repeat the last given reference (one character feeds every slot; the sandbox paints one
    // figure per distinct image); more references than slots, or slots with no reference at all, are warned.
    static QJsonObject build(const WorkflowProfile& profile, const SceneParams& params,
                             QStringList* warnings);
    // Uniform in [0, 2^53): the largest range a JSON number carries exactly to ComfyUI and back.
    static qint64 randomSeed();
    // Swaps GemDirectSaveFrames nodes for core SaveImage nodes with the same `images` link and
    // `filename_prefix`, for servers that lack the node; *markerNodeId gets the (first) swapped id, or empty.
    static QJsonObject replaceMarkerNode(const QJsonObject& graph, QString* markerNodeId);
};

} // namespace gd::comfy
