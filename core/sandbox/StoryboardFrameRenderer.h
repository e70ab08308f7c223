#pragma once

#include "sandbox/FrameRenderer.h"
#include "sandbox/GraphInspector.h"

#include <QColor>
#include <QImage>
#include <QSize>
#include <QString>
#include <QStringList>
#include <QVector>

namespace gd::sandbox {

// Recognises the storyboard image graphs in a prompt and renders frames that carry their inputs visibly, so
// the storyboard flow can be tested without a GPU (issue 8):
// - ReferenceSheet: a text-only still (no LoadImage, a SaveImage output) whose prompt or a node title says
//   "reference sheet": three figures (front, side, back) in a colour derived from the prompt alone, so every
//   candidate of one character+look shares it, on a grey ground;
// - Keyframe: LoadImage images reaching the sampler through ReferenceLatent (VAEEncode) or IP-Adapter nodes:
//   one figure per distinct uploaded image, painted in that image's dominant colour (read from the input
//   folder), on a desaturated background from the prompt; or a text-only still (no LoadImage) whose node
//   titles say "keyframe" (sandbox-keyframe-text): the background alone, no figures. Titles decide between
//   keyframe and sheet before the prompt does, so a text keyframe is never taken for a reference sheet;
// - ImageToVideo: WanFirstLastFrameToVideo / WanImageToVideo with a LoadImage start_image: frames cross-fade
// from
//   the start image to the end image, or drift (slow zoom and pan) from the start image when there is no
//   distinct end image.
// The seed moves figures and the drift direction, so best-of-N candidates differ visibly. Every other graph
// is Kind::None and keeps FrameRenderer's frames.
class StoryboardFrameRenderer
{
public:
    enum class Kind
    {
        None,
        ReferenceSheet,
        Keyframe,
        ImageToVideo,
    };

    // Reads the graph and the images its LoadImage nodes name (from inputDir, once; names that leave the
    // folder or do not decode give grey figures / fall back to Kind::None for image-to-video).
    StoryboardFrameRenderer(const GraphInspector& graph, const QString& inputDir);

    Kind kind() const { return m_kind; }
    static QString kindName(Kind kind);
    // Colours of the keyframe figures, one per distinct reference image, in graph order.
    QVector<QColor> figureColours() const { return m_figures; }
    // The frame for label (its seed, frameNumber and frameCount); only meaningful when kind() != None.
    QImage render(const FrameLabel& label, const QSize& size) const;

    // The colour a reference sheet for this prompt is painted in (stable across seeds).
    static QColor sheetColour(const QString& prompt);

private:
    QImage renderSheet(const FrameLabel& label, int w, int h) const;
    QImage renderKeyframe(const FrameLabel& label, int w, int h) const;
    QImage renderClip(const FrameLabel& label, int w, int h) const;
    QImage readInput(const QString& name) const;

    QString m_inputDir;
    Kind m_kind = Kind::None;
    QString m_prompt;
    QVector<QColor> m_figures;
    QImage m_start, m_end; // m_end null: drift from m_start
};

} // namespace gd::sandbox
