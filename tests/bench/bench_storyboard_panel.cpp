// bench_storyboard_panel: the storyboard panel stays interactive while a storyboard renders (issue 8,
// "Performance"). In this process: the sandbox stand-ins (ComfyUI on its own thread, the LLM with its
// vision model judging every keyframe), a StoryboardController over a story of 10 scenes × 3 shots
// (three characters, one per shot), the StoryboardPanel shown at 1600×1000 following it. Sheets are
// rendered and auto-approved first; then the keyframe pass renders 3 candidates per shot (90) which
// are imported, judged and shown on the tiles (thumbnails decoded off the GUI thread). A 5 ms
// PreciseTimer on the GUI thread records how late each tick fires during the keyframe pass.
// Target: GUI stall (max lateness) ≤ 50 ms. Also prints the cost of one grid refresh (30 rows).
// Usage: bench_storyboard_panel [--scenes N=10] [--candidates N=3]. Offscreen unless QT_QPA_PLATFORM is set.

#include "pipeline/QueuePolicy.h"
#include "sandbox/SandboxStandIns.h"
#include "story/StoryLoader.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardGridModel.h"
#include "storyboard/StoryboardPanel.h"
#include "storyboard/StoryboardTile.h"
#include "telemetry/Percentiles.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QLabel>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <functional>

using namespace gd;

namespace {

constexpr int kTickMs = 5;

story::Story benchStory(int scenes)
{
    const QStringList names{QStringLiteral("Mara Voss"), QStringLiteral("Tom Reed"), QStringLiteral("Ines Calder")};
    QJsonArray characters;
    for (const QString& n : names)
        characters.append(QJsonObject{{QStringLiteral("name"), n},
                                      {QStringLiteral("visualDescriptor"), QString(QStringLiteral("a person called ") + n)},
                                      {QStringLiteral("referencePrompt"),
                                       QStringLiteral("character reference sheet, %1, front and side view").arg(n)}});
    QJsonArray sceneArray;
    for (int s = 1; s <= scenes; ++s) {
        QJsonArray shots;
        for (int k = 1; k <= 3; ++k) {
            const QString who = names.at((s + k) % names.size());
            shots.append(QJsonObject{
                {QStringLiteral("id"), QStringLiteral("shot-%1").arg(k, 2, 10, QLatin1Char('0'))},
                {QStringLiteral("description"), QStringLiteral("%1 in scene %2, shot %3").arg(who).arg(s).arg(k)},
                {QStringLiteral("firstFrame"), QStringLiteral("%1 stands at the harbour wall, scene %2 shot %3").arg(who).arg(s).arg(k)},
                {QStringLiteral("visibleCharacters"), QJsonArray{QJsonObject{{QStringLiteral("name"), who}}}}});
        }
        sceneArray.append(QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-%1").arg(s, 3, 10, QLatin1Char('0'))},
                                      {QStringLiteral("title"), QStringLiteral("Scene %1").arg(s)},
                                      {QStringLiteral("prompt"), QStringLiteral("a harbour at dusk, scene %1").arg(s)},
                                      {QStringLiteral("shots"), shots}});
    }
    QStringList problems;
    auto story = story::StoryLoader::fromObject(
        QJsonObject{{QStringLiteral("storyId"), QStringLiteral("bench-storyboard-panel")},
                    {QStringLiteral("logline"), QStringLiteral("Three people and a harbour.")},
                    {QStringLiteral("directorsVision"), QStringLiteral("Plain.")},
                    {QStringLiteral("bible"), QJsonObject{{QStringLiteral("characters"), characters}}},
                    {QStringLiteral("scenes"), sceneArray}},
        &problems);
    if (!story) {
        for (const QString& p : problems)
            std::printf("story problem: %s\n", qPrintable(p));
        return {};
    }
    return *story;
}

bool waitFor(const std::function<bool()>& done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QEventLoop loop;
        QTimer::singleShot(2, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    int scenes = 10;
    int candidates = 3;
    const QStringList args = app.arguments();
    for (int i = 1; i + 1 < args.size(); ++i) {
        if (args.at(i) == QLatin1String("--scenes"))
            scenes = std::max(1, args.at(i + 1).toInt());
        else if (args.at(i) == QLatin1String("--candidates"))
            candidates = std::max(1, args.at(i + 1).toInt());
    }

    QTemporaryDir tmp;
    sandbox::SandboxStandIns standIns;
    sandbox::SandboxLlmConfig llm;
    llm.visionModel = true;
    QString error;
    if (!standIns.start(tmp.path(), sandbox::SandboxConfig{}, llm, &error)) {
        std::printf("sandbox: %s\n", qPrintable(error));
        return 3;
    }

    storyboard::StoryboardControllerOptions o;
    o.render.comfyUrl = standIns.comfyUrl();
    o.render.comfyOutputDir = standIns.comfyOutputDir();
    o.render.policy = pipeline::QueuePolicy::fastIteration();
    o.render.backgroundWrites = true; // as the desktop app runs it
    o.sheetProfile = QStringLiteral("sandbox-reference-sheet");
    o.keyframeProfile = QStringLiteral("sandbox-keyframe");
    o.textKeyframeProfile = QStringLiteral("sandbox-keyframe-text");
    o.videoProfile = QStringLiteral("sandbox-i2v");
    o.candidates = candidates;
    o.autoApprove = true; // sheets approved as they arrive; keyframes keep the judge's pick
    o.llmUrl = standIns.llmUrl();
    storyboard::StoryboardController controller(o, nullptr);
    // What the panel's views cost per stateChanged: a slot connected before the panel's and one after.
    QElapsedTimer viewClock;
    QVector<double> viewMs;
    QObject::connect(&controller, &storyboard::StoryboardController::stateChanged, &app, [&] { viewClock.start(); });
    ui::StoryboardPanel panel;
    panel.resize(1600, 1000);
    panel.show();
    panel.attach(&controller);
    QObject::connect(&controller, &storyboard::StoryboardController::stateChanged, &app,
                     [&] { viewMs << double(viewClock.nsecsElapsed()) / 1e6; });
    const story::Story story = benchStory(scenes);
    if (story.scenes.isEmpty())
        return 2;
    const gd::Error created = controller.create(tmp.filePath(QStringLiteral("board")), story);
    if (!created.isNull()) {
        std::printf("create: %s\n", qPrintable(created.message));
        return 2;
    }

    int finished = 0;
    int lastExit = -1;
    QString lastText;
    int stateChanges = 0;
    int judged = 0;
    QObject::connect(&controller, &storyboard::StoryboardController::stageFinished, &app,
                     [&](storyboard::StoryboardStage, int exitCode, const QString& text) {
                         ++finished;
                         lastExit = exitCode;
                         lastText = text;
                     });
    controller.start(storyboard::StoryboardStage::References);
    if (!waitFor([&] { return finished == 1; }, 300000) || lastExit != 0) {
        std::printf("references stage failed (exit %d): %s\n", lastExit, qPrintable(lastText));
        return 1;
    }

    // The keyframe pass under the probe.
    QObject::connect(&controller, &storyboard::StoryboardController::stateChanged, &app, [&] { ++stateChanges; });
    QObject::connect(&controller, &storyboard::StoryboardController::candidateJudged, &app, [&] { ++judged; });
    QVector<double> late;
    QElapsedTimer clock;
    qint64 last = 0;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(kTickMs);
    QObject::connect(&probe, &QTimer::timeout, &app, [&] {
        const qint64 now = clock.nsecsElapsed();
        late << std::max(0.0, double(now - last) / 1e6 - kTickMs);
        last = now;
    });
    clock.start();
    probe.start();
    controller.start(storyboard::StoryboardStage::Keyframes);
    const bool done = waitFor([&] { return finished == 2; }, 600000);
    // Until every tile shows its thumbnail (decoded on the thread pool).
    const bool thumbs = waitFor(
        [&] {
            for (ui::StoryboardTile* tile : panel.findChildren<ui::StoryboardTile*>())
                if (!tile->data().imageFile.isEmpty())
                    if (auto* image = tile->findChild<QLabel*>(QStringLiteral("tileThumbnail")); image && image->pixmap().isNull())
                        return false;
            return true;
        },
        30000);
    probe.stop();
    const double seconds = double(clock.elapsed()) / 1000.0;
    if (!done || lastExit != 0) {
        std::printf("keyframes stage failed (exit %d): %s\n", lastExit, qPrintable(lastText));
        return 1;
    }

    int withKeyframe = 0;
    int candidatesShown = 0;
    for (int r = 0; r < panel.gridModel()->rowCount(); ++r) {
        const QModelIndex i = panel.gridModel()->index(r, 0);
        withKeyframe += !i.data(storyboard::StoryboardGridModel::KeyframeFileRole).toString().isEmpty();
        candidatesShown += i.data(storyboard::StoryboardGridModel::CandidateFilesRole).toStringList().size();
    }
    // One refresh of the grid from the controller (what each stateChanged costs the GUI thread).
    QElapsedTimer refresh;
    refresh.start();
    constexpr int kRefreshes = 50;
    for (int i = 0; i < kRefreshes; ++i)
        panel.gridModel()->refreshFromController();
    const double refreshMs = double(refresh.nsecsElapsed()) / 1e6 / kRefreshes;

    // The toolbar's four stage estimates (each plans its stage), also per stateChanged.
    QElapsedTimer estimates;
    estimates.start();
    for (int i = 0; i < 10; ++i)
        for (storyboard::StoryboardStage stage :
             {storyboard::StoryboardStage::References, storyboard::StoryboardStage::Keyframes,
              storyboard::StoryboardStage::Video, storyboard::StoryboardStage::UpdateStale})
            controller.estimate(stage);
    const double estimateMs = double(estimates.nsecsElapsed()) / 1e6 / 10;

    const double p50 = telemetry::Percentiles::nearestRank(late, 50).value_or(0);
    const double p99 = telemetry::Percentiles::nearestRank(late, 99).value_or(0);
    const double max = late.isEmpty() ? 0 : *std::max_element(late.begin(), late.end());
    std::printf("storyboard panel, %d scenes x 3 shots x %d candidates, window 1600x1000 (offscreen):\n", scenes,
                candidates);
    std::printf("  keyframe pass: %.1f s, %d/%d shots with a keyframe, %d candidates on the tiles, %d judged, "
                "%d stateChanged, thumbnails %s\n",
                seconds, withKeyframe, panel.gridModel()->rowCount(), candidatesShown, judged, stateChanges,
                thumbs ? "all shown" : "NOT all shown");
    std::printf("  GUI-thread stall (5 ms probe, %lld ticks): P50 %.2f ms, P99 %.2f ms, max %.1f ms  (target max <= 50 ms: %s)\n",
                static_cast<long long>(late.size()), p50, p99, max, max <= 50 ? "met" : "MISSED");
    std::printf("  panel update per stateChanged (models + tiles + toolbar estimates): max %.1f ms over %lld\n",
                viewMs.isEmpty() ? 0.0 : *std::max_element(viewMs.begin(), viewMs.end()),
                static_cast<long long>(viewMs.size()));
    std::printf("  grid refresh from the controller (%d rows): %.2f ms; the four stage estimates: %.2f ms\n",
                panel.gridModel()->rowCount(), refreshMs, estimateMs);
    standIns.stop();
    return max <= 50 && thumbs ? 0 : 1;
}
