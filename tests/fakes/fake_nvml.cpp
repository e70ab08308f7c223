// A stand-in for NVIDIA's libnvidia-ml, exporting the NVML C symbols that gd::gpu::NvmlLibrary
// loads at run time. Behaviour comes from environment variables read at call time, so one loaded
// copy serves every test case:
//   FAKE_NVML_INIT_FAIL=1             nvmlInit_v2 returns NVML_ERROR_DRIVER_NOT_LOADED
//   FAKE_NVML_DEVICES=n               device count (default 1)
//   FAKE_NVML_NAME=text               device name (default "Fake NVIDIA GPU")
//   FAKE_NVML_TOTAL_MB / _USED_MB     memory in MiB (default 24576 / 1024); free = total - used
//   FAKE_NVML_MEMORY_FAIL=1           nvmlDeviceGetMemoryInfo returns NVML_ERROR_GPU_IS_LOST
//   FAKE_NVML_UTIL=n, FAKE_NVML_TEMP_C=n   utilisation % and temperature (default 42 and 55)
//   FAKE_NVML_UTIL_UNSUPPORTED=1      utilisation returns NVML_ERROR_NOT_SUPPORTED
// Build variants: GD_FAKE_NVML_MINIMAL omits the optional symbols (utilisation, temperature,
// nvmlErrorString); GD_FAKE_NVML_BROKEN omits the required nvmlDeviceGetMemoryInfo.

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(_WIN32)
#define FAKE_NVML_EXPORT extern "C" __declspec(dllexport)
#else
#define FAKE_NVML_EXPORT extern "C" __attribute__((visibility("default")))
#endif

namespace {

using nvmlReturn_t = int;
using nvmlDevice_t = void*;
struct nvmlMemory_t
{
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};
struct nvmlUtilization_t
{
    unsigned int gpu;
    unsigned int memory;
};

constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlReturn_t NVML_ERROR_UNINITIALIZED = 1;
constexpr nvmlReturn_t NVML_ERROR_INVALID_ARGUMENT = 2;
constexpr nvmlReturn_t NVML_ERROR_NOT_SUPPORTED = 3;
constexpr nvmlReturn_t NVML_ERROR_INSUFFICIENT_SIZE = 7;
constexpr nvmlReturn_t NVML_ERROR_DRIVER_NOT_LOADED = 9;
constexpr nvmlReturn_t NVML_ERROR_GPU_IS_LOST = 15;
constexpr unsigned long long MiB = 1024ULL * 1024ULL;

int g_initCount = 0;

bool flag(const char* name)
{
    const char* v = std::getenv(name);
    return v && std::strcmp(v, "1") == 0;
}

unsigned long long number(const char* name, unsigned long long fallback)
{
    const char* v = std::getenv(name);
    if (!v || !*v)
        return fallback;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    return (end && *end == '\0') ? n : fallback;
}

unsigned int deviceCount()
{
    return static_cast<unsigned int>(number("FAKE_NVML_DEVICES", 1));
}

// Handles are 1-based device numbers disguised as pointers; 0 would look like a null handle.
bool validHandle(nvmlDevice_t device)
{
    const auto n = reinterpret_cast<std::uintptr_t>(device);
    return n >= 1 && n <= deviceCount();
}

} // namespace

FAKE_NVML_EXPORT nvmlReturn_t nvmlInit_v2()
{
    if (flag("FAKE_NVML_INIT_FAIL"))
        return NVML_ERROR_DRIVER_NOT_LOADED;
    ++g_initCount;
    return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlShutdown()
{
    if (g_initCount == 0)
        return NVML_ERROR_UNINITIALIZED;
    --g_initCount;
    return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count)
{
    if (g_initCount == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = deviceCount();
    return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device)
{
    if (g_initCount == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!device || index >= deviceCount())
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = reinterpret_cast<nvmlDevice_t>(static_cast<std::uintptr_t>(index) + 1);
    return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length)
{
    if (!validHandle(device) || !name)
        return NVML_ERROR_INVALID_ARGUMENT;
    const char* configured = std::getenv("FAKE_NVML_NAME");
    const char* value = (configured && *configured) ? configured : "Fake NVIDIA GPU";
    if (std::strlen(value) + 1 > length)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    std::strcpy(name, value);
    return NVML_SUCCESS;
}

#ifndef GD_FAKE_NVML_BROKEN
FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory)
{
    if (!validHandle(device) || !memory)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (flag("FAKE_NVML_MEMORY_FAIL"))
        return NVML_ERROR_GPU_IS_LOST;
    const unsigned long long total = number("FAKE_NVML_TOTAL_MB", 24576);
    unsigned long long used = number("FAKE_NVML_USED_MB", 1024);
    if (used > total)
        used = total;
    memory->total = total * MiB;
    memory->used = used * MiB;
    memory->free = (total - used) * MiB;
    return NVML_SUCCESS;
}
#endif

#ifndef GD_FAKE_NVML_MINIMAL
FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
                                                            nvmlUtilization_t* utilization)
{
    if (!validHandle(device) || !utilization)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (flag("FAKE_NVML_UTIL_UNSUPPORTED"))
        return NVML_ERROR_NOT_SUPPORTED;
    utilization->gpu = static_cast<unsigned int>(number("FAKE_NVML_UTIL", 42));
    utilization->memory = 10;
    return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int* temp)
{
    if (!validHandle(device) || !temp || sensor != 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    *temp = static_cast<unsigned int>(number("FAKE_NVML_TEMP_C", 55));
    return NVML_SUCCESS;
}

FAKE_NVML_EXPORT const char* nvmlErrorString(nvmlReturn_t result)
{
    switch (result) {
    case NVML_SUCCESS:
        return "Success";
    case NVML_ERROR_UNINITIALIZED:
        return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
        return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
        return "Not Supported";
    case NVML_ERROR_INSUFFICIENT_SIZE:
        return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED:
        return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST:
        return "GPU is lost";
    default:
        return "Unknown Error";
    }
}
#endif

// Test hook, not an NVML symbol: how many nvmlInit_v2 calls are not yet matched by nvmlShutdown.
FAKE_NVML_EXPORT int fakeNvmlActiveInits()
{
    return g_initCount;
}
