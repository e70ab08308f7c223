#pragma once

#include "gpu/GpuSnapshot.h"

#include <QLibrary>
#include <QString>
#include <optional>

namespace gd::gpu {

// NVIDIA's management library, loaded at run time with QLibrary (never linked), so the app starts
// and works on machines without the NVIDIA driver. Only the handful of NVML C declarations we need
// are written here; no NVIDIA headers are required to build.
//
// Threading: not thread-safe. One instance is used from one thread at a time (the GPU monitor
// thread); GpuMonitor serialises every use of its source. NVML itself is thread-safe, but this
// class's load/init/shutdown state is not.
class NvmlLibrary
{
public:
    NvmlLibrary() = default;
    // Calls nvmlShutdown when init() succeeded, then unloads the library.
    ~NvmlLibrary();
    NvmlLibrary(const NvmlLibrary&) = delete;
    NvmlLibrary& operator=(const NvmlLibrary&) = delete;

    // Loads the library: $GD_NVML_LIBRARY (an explicit path, used by tests) when set, else
    // libnvidia-ml.so.1 then libnvidia-ml.so (nvml.dll on Windows). A library that lacks a required
    // symbol is not usable and `whyNot` names the symbol. Calling it again after success is a no-op.
    bool load(QString* whyNot);
    // nvmlInit_v2. Needs a successful load(). Calling it again after success is a no-op.
    bool init(QString* err);
    // Number of devices NVML sees, or -1 (with `err` set) when not initialised or the call failed.
    int deviceCount(QString* err = nullptr);
    // One reading of device `index` (source "nvml", type "cuda"): name and memory always, utilisation
    // and temperature when the library has those symbols and the device supports them (else empty).
    // nullopt with `err` set when the device or its memory information cannot be read.
    std::optional<GpuSnapshot> sample(int index, QString* err);

    bool isLoaded() const { return m_lib.isLoaded() && m_fns.init != nullptr; }
    bool isInitialized() const { return m_initialized; }
    // The file actually loaded (empty before a successful load()).
    QString libraryPath() const { return m_path; }
    bool hasUtilization() const { return m_fns.getUtilization != nullptr; }
    bool hasTemperature() const { return m_fns.getTemperature != nullptr; }

    // The NVML C types and constants we rely on (ABI-stable since NVML 2.x).
    using Return = int;   // nvmlReturn_t
    using Device = void*; // nvmlDevice_t, an opaque handle
    struct Memory
    {
        unsigned long long total;
        unsigned long long free;
        unsigned long long used;
    };
    struct Utilization
    {
        unsigned int gpu;
        unsigned int memory;
    };
    static constexpr Return Success = 0;               // NVML_SUCCESS
    static constexpr int TemperatureGpu = 0;           // NVML_TEMPERATURE_GPU
    static constexpr unsigned int NameBufferSize = 96; // NVML_DEVICE_NAME_V2_BUFFER_SIZE

private:
    struct Functions
    {
        Return (*init)() = nullptr;
        Return (*shutdown)() = nullptr;
        Return (*getCount)(unsigned int*) = nullptr;
        Return (*getHandleByIndex)(unsigned int, Device*) = nullptr;
        Return (*getName)(Device, char*, unsigned int) = nullptr;
        Return (*getMemoryInfo)(Device, Memory*) = nullptr;
        Return (*getUtilization)(Device, Utilization*) = nullptr;
        Return (*getTemperature)(Device, int, unsigned int*) = nullptr;
        const char* (*errorString)(Return) = nullptr;
    };

    bool resolveSymbols(QString* whyNot);
    // "Driver Not Loaded (code 9)": nvmlErrorString when present, else a built-in table.
    QString describe(Return rc) const;

    QLibrary m_lib;
    Functions m_fns;
    QString m_path;
    bool m_initialized = false;
};

} // namespace gd::gpu
