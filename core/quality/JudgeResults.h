#pragma once

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace gd::quality {

// What the model-based metrics (coherence judge, prompt-alignment judge, caption-embedding
// alignment) produced for one run, ready to merge into QualityMetrics (spec/quality-kpis.md).
// Field names inside the objects are exactly the artifact's.
struct JudgeResults
{
    QJsonObject run;                    // e.g. CoherenceJudgeScore, CoherenceJudgeModel, PromptAlignmentJudgeMean, SemanticAlignmentMean, ...Margin, ...RetrievalTop1, ...EmbeddingModel
    QHash<QString, QJsonObject> scenes; // SceneId -> e.g. {PromptAlignmentJudge: {Scene, Action, Camera, Mean}, SemanticAlignmentScore}
    QStringList unmeasured;             // "<Metric>: <reason>" for every metric that could not be measured honestly
};

} // namespace gd::quality
