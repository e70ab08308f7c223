#pragma once

#include "gpu/GpuSnapshot.h"

namespace gd::gpu {

// Where GpuMonitor gets its readings: GpuProbe in the app, a scripted source in tests.
// Implementations may block (process runs, driver calls); GpuMonitor calls sample() from one thread
// at a time, normally its worker thread.
class GpuSource
{
public:
    virtual ~GpuSource() = default;
    // One reading of GPU `index`. Never fails: an unavailable GPU is a snapshot with source
    // "missing" and notes saying why.
    virtual GpuSnapshot sample(int index) = 0;
};

} // namespace gd::gpu
