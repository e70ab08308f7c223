// Resume of a long run: a 100-scene sandbox run is stopped hard after 60 scenes (the controller is
// destroyed mid-attempt, as a crash would leave it: no end block, a prompt in flight), then resumed
// from its run directory. Measured: reading the journal into a plan, and the time from the resume
// call to the first submission of new work (target ≤ 2 s); plus the cost of one journal append.
//   bench_resume [scenes=100] [stopAfter=60]

#include "RunHarness.h"
#include "pipeline/ResumePlanner.h"
#include "pipeline/RunJournal.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <cstdio>

using namespace gd;

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const int scenes = argc > 1 ? QString::fromLocal8Bit(argv[1]).toInt() : 100;
    const int stopAfter = argc > 2 ? QString::fromLocal8Bit(argv[2]).toInt() : 60;

    RunHarness h;
    h.config.stepDelayMs = 1;
    QString error;
    if (!h.startServer(&error)) {
        std::fprintf(stderr, "sandbox: %s\n", qPrintable(error));
        return 1;
    }
    pipeline::RunOptions opt;
    opt.story = makeStory(scenes, 8);
    opt.runsRoot = h.root.filePath(QStringLiteral("runs"));
    opt.comfyUrl = h.host.url();
    opt.comfyOutputDir = h.config.outputDir;
    opt.workflow = QStringLiteral("sandbox");
    opt.policy = testPolicy();

    // 1. The run, stopped hard once `stopAfter` scenes are done and the next one is on the server.
    QElapsedTimer runClock;
    runClock.start();
    auto* first = new pipeline::RunController(opt, nullptr);
    QEventLoop loop;
    int done = 0;
    QObject::connect(first, &pipeline::RunController::sceneFinished,
                     [&](const telemetry::SceneRecord&) { ++done; });
    QObject::connect(first, &pipeline::RunController::attemptState,
                     [&](const QString&, pipeline::SceneAttempt::State s) {
                         if (done >= stopAfter && s == pipeline::SceneAttempt::State::Queued)
                             QTimer::singleShot(0, &loop, &QEventLoop::quit);
                     });
    QObject::connect(first, &pipeline::RunController::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(0, first, &pipeline::RunController::start);
    loop.exec();
    const QString runDir = first->runDir();
    delete first; // no finish: run-summary.txt keeps no end block, the prompt stays on the server
    const double firstSeconds = runClock.elapsed() / 1000.0;

    // 2. Resume: plan from the directory, new controller, until the first new submission.
    QElapsedTimer clock;
    clock.start();
    const auto plan = pipeline::ResumePlanner::plan(runDir, &error);
    if (!plan) {
        std::fprintf(stderr, "plan: %s\n", qPrintable(error));
        return 1;
    }
    const double planMs = clock.nsecsElapsed() / 1e6;
    pipeline::RunOptions resumed;
    if (!pipeline::ResumePlanner::applyTo(*plan, &resumed, &error)) {
        std::fprintf(stderr, "apply: %s\n", qPrintable(error));
        return 1;
    }
    auto* second = new pipeline::RunController(resumed, nullptr);
    double firstSubmitMs = -1;
    double reattachMs = -1;
    int exitCode = -1;
    QObject::connect(second, &pipeline::RunController::attemptState,
                     [&](const QString&, pipeline::SceneAttempt::State s) {
                         if (s == pipeline::SceneAttempt::State::Submitting && firstSubmitMs < 0)
                             firstSubmitMs = clock.nsecsElapsed() / 1e6;
                         if (s == pipeline::SceneAttempt::State::Queued && reattachMs < 0)
                             reattachMs = clock.nsecsElapsed() / 1e6;
                     });
    QEventLoop loop2;
    QObject::connect(second, &pipeline::RunController::finished, &loop2, [&](int code, const QString&) {
        exitCode = code;
        loop2.quit();
    });
    QTimer::singleShot(0, second, &pipeline::RunController::start);
    loop2.exec();
    delete second;
    const int validation = telemetry::RunValidator::validate(runDir).passed() ? 0 : 1;

    // 3. One journal append: plain (reaches the kernel) and synced (reaches the disk).
    pipeline::RunJournal j;
    const QString jdir = h.root.filePath(QStringLiteral("journal"));
    QDir().mkpath(jdir);
    j.open(jdir);
    const QJsonObject fields{
        {QStringLiteral("Attempt"), 1},
        {QStringLiteral("PromptId"), QStringLiteral("0b6c2f0e-8d7e-4b1e-9a43-5b0f3f0d9c11")}};
    QElapsedTimer jc;
    jc.start();
    for (int i = 0; i < 2000; ++i)
        j.append(pipeline::RunJournal::running(), QStringLiteral("scene-001"), fields, false);
    const double plainUs = jc.nsecsElapsed() / 1e3 / 2000;
    jc.restart();
    for (int i = 0; i < 200; ++i)
        j.append(pipeline::RunJournal::submitted(), QStringLiteral("scene-001"), fields, true);
    const double syncUs = jc.nsecsElapsed() / 1e3 / 200;

    QFile jf(QDir(runDir).filePath(pipeline::RunJournal::fileName()));
    std::printf("scenes=%d stoppedAfter=%d firstRun=%.1fs journal=%lld bytes (%lld entries)\n", scenes,
                stopAfter, firstSeconds, jf.size(),
                qlonglong(pipeline::RunJournal::read(runDir).entries.size()));
    std::printf("plan: %s\n", qPrintable(plan->describe()));
    std::printf("resume: plan %.1f ms, re-attach (prompt in flight queued again) %.0f ms, first new "
                "submission %.0f ms "
                "(target <= 2000 ms)\n",
                planMs, reattachMs, firstSubmitMs);
    std::printf("resumed run: exit %d, validation %s\n", exitCode, validation == 0 ? "ok" : "FAILED");
    std::printf("journal append: %.1f us plain, %.1f us with fdatasync\n", plainUs, syncUs);
    return exitCode == 0 && validation == 0 && firstSubmitMs >= 0 ? 0 : 1;
}
