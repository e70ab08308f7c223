// libFuzzer target: nvidia-smi's CSV answer through NvidiaSmiSource::parse. Properties: either GPUs
// or an error; every reading is in range (no negative bytes, utilisation and temperature plausible).
#include "FuzzInput.h"
#include "gpu/NvidiaSmiSource.h"

using gd::gpu::GpuSnapshot;
using gd::gpu::NvidiaSmiSource;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    QString error;
    const QVector<GpuSnapshot> gpus =
        NvidiaSmiSource::parse(QString::fromUtf8(gd::fuzz::bytesOf(data, size)), &error);
    gd::fuzz::require(gpus.isEmpty() != error.isEmpty(), "GPUs and error disagree");
    for (const GpuSnapshot& g : gpus) {
        gd::fuzz::require(g.index && *g.index >= 0, "a GPU without a valid index");
        for (const auto& bytes : {g.vramTotalBytes, g.vramUsedBytes, g.vramFreeBytes})
            gd::fuzz::require(!bytes || *bytes >= 0, "negative VRAM bytes");
        gd::fuzz::require(!g.utilizationPercent ||
                              (*g.utilizationPercent >= 0 && *g.utilizationPercent <= 100),
                          "utilisation outside 0..100 %");
        gd::fuzz::require(!g.temperatureC || *g.temperatureC >= 0, "negative temperature");
    }
    return 0;
}
