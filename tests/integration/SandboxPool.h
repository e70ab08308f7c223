#pragma once

// N in-process sandbox ComfyUI servers, each with its own output folder, as the backend pool of a
// run: shared by the pool integration tests and bench_pool.

#include "pipeline/BackendSpec.h"
#include "sandbox/SandboxHost.h"

#include <QList>
#include <QTemporaryDir>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

struct SandboxPool
{
    QTemporaryDir root;
    std::vector<std::unique_ptr<gd::sandbox::SandboxHost>> hosts;
    QList<gd::pipeline::BackendSpec> specs;

    // Starts `n` servers labelled gpu0.. with `stepDelayMs` per sampler step and `nodeDelayMs`
    // between nodes; `tweak` adjusts server i's configuration before it starts. False (with the
    // reason on stderr) when one did not listen.
    bool start(int n, int stepDelayMs, int nodeDelayMs = 1,
               const std::function<void(int, gd::sandbox::SandboxConfig&)>& tweak = {})
    {
        for (int i = 0; i < n; ++i) {
            gd::sandbox::SandboxConfig c;
            c.outputDir = root.filePath(QStringLiteral("comfy%1/output").arg(i));
            c.stepDelayMs = stepDelayMs;
            c.nodeDelayMs = nodeDelayMs;
            if (tweak)
                tweak(i, c);
            auto host = std::make_unique<gd::sandbox::SandboxHost>();
            QString e;
            if (!host->start(c, 0, &e)) {
                std::fprintf(stderr, "sandbox %d: %s\n", i, qPrintable(e));
                return false;
            }
            specs << gd::pipeline::BackendSpec{host->url(), QStringLiteral("gpu%1").arg(i), c.outputDir, {}};
            hosts.push_back(std::move(host));
        }
        return true;
    }

    void stopAll()
    {
        for (auto& h : hosts)
            h->stop();
    }
};
