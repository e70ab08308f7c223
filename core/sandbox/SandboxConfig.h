#pragma once

#include "sandbox/FaultRule.h"

#include <QList>
#include <QSize>
#include <QString>

namespace gd::sandbox {

// Settings of one sandbox ComfyUI server. Directories that are left empty are derived from outputDir by
// SandboxConfig::resolved(): "<parent of outputDir>/input" and "<parent of outputDir>/temp", ComfyUI's own
// layout.
struct SandboxConfig
{
    QString outputDir;
    QString inputDir;
    QString tempDir;
    QSize frameSize{320, 180};
    int stepDelayMs = 10; // per KSampler step (drives the `progress` cadence)
    int nodeDelayMs = 2;  // between two executed nodes
    // Between execution_success and the history write: the real server's race (a GET /history/{id} right
    // after execution_success may still answer {}), made observable.
    int historyWriteDelayMs = 5;
    int maxFrames = 240; // cap on frames one output node writes
    // Benchmarks only: each frame picture (frame n of N at frameSize) is rendered and PNG-encoded once per
    // process and its bytes reused by every prompt of every server, so a scene costs its delays, not CPU (N
    // stand-ins on a few cores would otherwise measure the stand-ins). Frames then differ by number but no
    // longer show their scene (title, seed). Off: every frame is drawn for its scene.
    bool reuseFrames = false;
    bool markerNodeInstalled = true; // false: GemDirectSaveFrames is not in the catalog (unknown class)
    qint64 vramTotalBytes = 24LL * 1024 * 1024 * 1024;
    qint64 vramIdleUsedBytes = 512LL * 1024 * 1024;     // desktop + CUDA context while idle
    qint64 vramRunUsedBytes = 9LL * 1024 * 1024 * 1024; // extra while a prompt runs (models + activations)
    qint64 ramTotalBytes = 64LL * 1024 * 1024 * 1024;
    qint64 ramFreeBytes = 48LL * 1024 * 1024 * 1024;
    QString deviceName = QStringLiteral("cuda:0 NVIDIA GeForce RTX 4090 (sandbox) : cudaMallocAsync");
    qint64 maxUploadBytes = 100LL * 1024 * 1024; // --max-upload-size; every request body above it gets 413
    QList<FaultRule> faults;

    // A copy with inputDir/tempDir filled in and all three made absolute.
    SandboxConfig resolved() const;
};

} // namespace gd::sandbox
