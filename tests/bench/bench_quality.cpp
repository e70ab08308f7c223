// Quality metrics of a 10-scene run, LLM judges excluded (target ≤ 50 ms, docs/PERFORMANCE.md).
// Usage: bench_quality [RUN_DIR] [--print]   (without an argument a synthetic 10-scene run of 25 frames of
// 320×180 per scene — the sandbox's frame size, gradients with mild noise — is generated in a
// temporary directory). For the figure of real frames, pass a sandbox run:
//   gemdirect run --idea "..." --scenes 10 --sandbox --fast --quiet --runs-root /tmp/qb
//   bench_quality /tmp/qb/<RunId>

#include "quality/QualityCalculator.h"
#include "telemetry/ArtifactWriter.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>

namespace {

using namespace gd::telemetry;

void makeRun(const QString& runDir)
{
    RunRecord r;
    r.runId = QStringLiteral("bench");
    r.runDir = runDir;
    r.timestamp = QDateTime::currentDateTimeUtc();
    QJsonArray storyScenes;
    QRandomGenerator rng(3);
    for (int s = 1; s <= 10; ++s) {
        SceneRecord scene;
        scene.sceneId = QStringLiteral("scene-%1").arg(s, 3, 10, QLatin1Char('0'));
        scene.prompt = QStringLiteral("Mara Voss climbs the lighthouse stair as the storm arrives, she holds the lamp ").repeated(8);
        AttemptRecord a;
        a.frameCount = 25;
        a.success = true;
        a.framesDir = scene.sceneId + QStringLiteral("/attempt-1");
        a.telemetry.durationSeconds = 10 + s;
        QDir().mkpath(QDir(runDir).filePath(a.framesDir));
        QImage img(320, 180, QImage::Format_RGB32);
        for (int f = 1; f <= 25; ++f) {
            for (int y = 0; y < img.height(); ++y)
                for (int x = 0; x < img.width(); ++x)
                    img.setPixel(x, y, qRgb((x + f) % 256, (y * s) % 256, 96 + rng.bounded(8)));
            img.save(QDir(runDir).filePath(a.framesDir + QStringLiteral("/f_%1_.png").arg(f, 5, 10, QLatin1Char('0'))));
        }
        scene.attempts = {a};
        scene.keptAttempt = 0;
        r.scenes.append(scene);
        storyScenes.append(QJsonObject{{QStringLiteral("id"), scene.sceneId},
                                       {QStringLiteral("summary"), QStringLiteral("Mara Voss and Ilya Brand argue; he leaves.")},
                                       {QStringLiteral("prompt"), scene.prompt},
                                       {QStringLiteral("themes"), QJsonArray{QStringLiteral("drama"), QStringLiteral("action")}}});
    }
    ArtifactWriter::write(r);
    QDir().mkpath(QDir(runDir).filePath(QStringLiteral("story")));
    QFile f(QDir(runDir).filePath(QStringLiteral("story/story.json")));
    f.open(QIODevice::WriteOnly);
    f.write(QJsonDocument(QJsonObject{
                              {QStringLiteral("storyId"), QStringLiteral("bench")},
                              {QStringLiteral("logline"), QStringLiteral("Bench.")},
                              {QStringLiteral("bible"),
                               QJsonObject{{QStringLiteral("characters"),
                                            QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("Mara Voss")}},
                                                       QJsonObject{{QStringLiteral("name"), QStringLiteral("Ilya Brand")}}}}}},
                              {QStringLiteral("scenes"), storyScenes}})
                .toJson());
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QTextStream out(stdout);
    QTemporaryDir tmp;
    QStringList args = app.arguments().mid(1);
    const bool print = args.removeAll(QStringLiteral("--print")) > 0;
    QString runDir = args.value(0);
    if (runDir.isEmpty()) {
        runDir = tmp.filePath(QStringLiteral("run"));
        makeRun(runDir);
    }
    QVector<double> ms;
    gd::quality::QualityComputation c;
    for (int i = 0; i < 7; ++i) {
        QElapsedTimer t;
        t.start();
        c = gd::quality::QualityCalculator::compute(runDir);
        ms.append(t.nsecsElapsed() / 1e6);
    }
    if (!c.error.isNull()) {
        out << "error: " << c.error.toString() << Qt::endl;
        return 1;
    }
    std::sort(ms.begin(), ms.end());
    if (print)
        out << QJsonDocument(c.qualityMetrics).toJson(QJsonDocument::Indented);
    out << "quality metrics (no LLM judges) of " << c.sceneMetrics.size() << " scenes, "
        << c.qualityMetrics.value(QStringLiteral("FramesChecked")).toInt() << " frames: median "
        << QString::number(ms.at(ms.size() / 2), 'f', 1) << " ms, min " << QString::number(ms.first(), 'f', 1)
        << " ms, max " << QString::number(ms.last(), 'f', 1) << " ms (7 runs; target <= 50 ms)" << Qt::endl;
    return 0;
}
