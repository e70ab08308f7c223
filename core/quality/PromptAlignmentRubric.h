#pragma once

#include "llm/LlmTypes.h"

#include <QJsonObject>
#include <QString>
#include <QVector>

namespace gd::quality {

// The prompt-alignment judge of spec/quality-kpis.md as one reusable path: the fixed rubric, the
// structured answer's schema {scene, action, camera 0-4, reasons}, the request for one image against one
// prompt, and the median-of-calls result {Scene, Action, Camera, Mean, Reasons}. The clip metric (middle
// frame of a scene) and the keyframe metric (selected keyframe of a shot) both go through it, so their
// scores are comparable when the same model judges.
class PromptAlignmentRubric
{
public:
    static constexpr int kRepeats = 3; // median of 3 calls at temperature 0 (spec)

    static QJsonObject schema();
    static QString schemaName() { return QStringLiteral("prompt_alignment_judge"); }
    // `imageDataUrl` is a complete data URL (ModelJudges::frameDataUrl).
    static gd::llm::ChatRequest request(const QString& prompt, const QString& imageDataUrl,
                                        const QString& model);
    // Per aspect the median of the answers, their mean as Mean, and the first answer's reasons. The
    // answers must be schema-checked (JudgeChat::answer); an empty list gives an empty object.
    static QJsonObject aggregate(const QVector<QJsonObject>& answers);
    // Median of a non-empty list (mean of the middle two for even sizes); 0 for an empty one.
    static double median(QVector<double> values);
};

} // namespace gd::quality
