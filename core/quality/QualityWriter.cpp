#include "quality/QualityWriter.h"

#include "common/AtomicFile.h"
#include "telemetry/ArtifactWriter.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>

namespace gd::quality {

Error QualityWriter::write(const QString& runDir, const QualityComputation& computation)
{
    if (!computation.error.isNull())
        return {QStringLiteral("invalidInput"),
                QStringLiteral("Quality metrics were not computed: ") + computation.error.message,
                computation.error.toJson()};
    QJsonObject artifact;
    if (Error e = QualityCalculator::readArtifact(runDir, &artifact); !e.isNull())
        return e;

    // Set keys only: the artifact's other fields (including ones this build does not know) are
    // carried over untouched, because operators' tooling parses them.
    artifact.insert(QStringLiteral("QualityMetrics"), computation.qualityMetrics);
    QJsonArray scenes = artifact.value(QStringLiteral("Scenes")).toArray();
    for (qsizetype i = 0; i < scenes.size(); ++i) {
        QJsonObject scene = scenes.at(i).toObject();
        const QString id = scene.value(QStringLiteral("SceneId")).toString();
        if (!scenes.at(i).isObject() || !computation.sceneMetrics.contains(id))
            continue;
        scene.insert(QStringLiteral("QualityMetrics"), computation.sceneMetrics.value(id));
        scenes.replace(i, scene);
    }
    if (artifact.contains(QStringLiteral("Scenes")))
        artifact.insert(QStringLiteral("Scenes"), scenes);

    const QString path = QDir(runDir).filePath(telemetry::ArtifactWriter::fileName());
    return AtomicFile::write(path, QJsonDocument(artifact).toJson(QJsonDocument::Indented));
}

} // namespace gd::quality
