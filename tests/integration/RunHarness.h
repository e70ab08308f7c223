#pragma once

// Drives a RunController against a SandboxHost in one process, for integration tests.

#include "pipeline/RunController.h"
#include "sandbox/SandboxComfyServer.h"
#include "sandbox/SandboxHost.h"
#include "story/StoryLoader.h"
#include "telemetry/RunValidator.h"

#include <QDir>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <functional>

struct RunOutcome
{
    int exitCode = -1;
    QString message;
    QString runDir;
    gd::telemetry::RunRecord record;
    QStringList warnings;
    double seconds = 0;
};

// A story of `scenes` scenes with `frames` expected frames each.
inline gd::story::Story makeStory(int scenes, int frames)
{
    QJsonArray arr;
    for (int i = 1; i <= scenes; ++i)
        arr.append(
            QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-%1").arg(i, 3, 10, QLatin1Char('0'))},
                        {QStringLiteral("title"), QStringLiteral("Scene %1").arg(i)},
                        {QStringLiteral("prompt"), QStringLiteral("a lighthouse in fog, shot %1").arg(i)},
                        {QStringLiteral("expectedFrames"), frames}});
    QStringList problems;
    auto s = gd::story::StoryLoader::fromObject(
        QJsonObject{{QStringLiteral("storyId"), QStringLiteral("story-test")},
                    {QStringLiteral("logline"), QStringLiteral("A test story.")},
                    {QStringLiteral("directorsVision"), QStringLiteral("Plain.")},
                    {QStringLiteral("scenes"), arr}},
        &problems);
    return *s;
}

// Fast knobs for tests: short waits so fault paths finish in seconds.
inline gd::pipeline::QueuePolicy testPolicy()
{
    gd::pipeline::QueuePolicy p = gd::pipeline::QueuePolicy::fastIteration();
    p.maxWaitSeconds = 20;
    p.pollIntervalSeconds = 0.2;
    p.postExecutionTimeoutSeconds = 3;
    p.doneMarkerTimeoutSeconds = 1;
    p.stabilityWindowSeconds = 0.3;
    p.stabilityRetries = 2;
    p.socketSilenceSeconds = 1;
    p.requeuePauseSeconds = 0.1;
    return p;
}

class RunHarness
{
public:
    QTemporaryDir root;
    gd::sandbox::SandboxHost host;
    gd::sandbox::SandboxConfig config;
    bool remote = false; // collect over /view instead of the shared output directory
    bool backgroundWrites = false; // RunOptions::backgroundWrites (the desktop app's writer thread)

    RunHarness()
    {
        config.outputDir = root.filePath(QStringLiteral("comfy/output"));
        config.stepDelayMs = 2;
        config.nodeDelayMs = 1;
    }

    bool startServer(QString* error = nullptr)
    {
        QString e;
        const bool ok = host.start(config, 0, &e);
        if (error)
            *error = e;
        return ok;
    }

    RunOutcome run(const gd::story::Story& story, gd::pipeline::QueuePolicy policy = testPolicy(),
                   const QString& workflow = QStringLiteral("sandbox"), QUrl url = {}, int timeoutMs = 120000,
                   std::function<void(gd::pipeline::RunController*)> hook = {},
                   std::function<void(gd::pipeline::RunOptions&)> tweak = {})
    {
        gd::pipeline::RunOptions opt;
        opt.story = story;
        opt.runsRoot = root.filePath(QStringLiteral("runs"));
        opt.comfyUrl = url.isEmpty() ? host.url() : url;
        opt.comfyOutputDir = remote ? QString() : config.outputDir;
        opt.workflow = workflow;
        opt.policy = policy;
        opt.reconnectWaitSeconds = 5;
        opt.backgroundWrites = backgroundWrites;
        if (tweak)
            tweak(opt);
        gd::pipeline::RunController c(opt, nullptr);
        RunOutcome out;
        QEventLoop loop;
        QObject::connect(&c, &gd::pipeline::RunController::warning,
                         [&](const QString& w) { out.warnings << w; });
        QObject::connect(&c, &gd::pipeline::RunController::finished, &loop,
                         [&](int code, const QString& msg) {
                             out.exitCode = code;
                             out.message = msg;
                             loop.quit();
                         });
        if (hook)
            hook(&c);
        QElapsedTimer clock;
        clock.start();
        QTimer::singleShot(0, &c, &gd::pipeline::RunController::start);
        QTimer::singleShot(timeoutMs, &loop, [&] {
            out.message = QStringLiteral("TEST TIMEOUT");
            loop.quit();
        });
        loop.exec();
        out.seconds = clock.elapsed() / 1000.0;
        out.runDir = c.runDir();
        out.record = c.record();
        return out;
    }
};
