#include "gpu/NvmlLibrary.h"

#include "common/Log.h"

#include <QByteArray>
#include <QFileInfo>
#include <type_traits>

namespace gd::gpu {

namespace {

struct Candidate
{
    QString name;
    int version; // -1: unversioned
    QString display;
};

QList<Candidate> systemCandidates()
{
#ifdef Q_OS_WIN
    return {{QStringLiteral("nvml"), -1, QStringLiteral("nvml.dll")}};
#else
    return {{QStringLiteral("nvidia-ml"), 1, QStringLiteral("libnvidia-ml.so.1")},
            {QStringLiteral("nvidia-ml"), -1, QStringLiteral("libnvidia-ml.so")}};
#endif
}

// Used only when the library has no nvmlErrorString (very old or stripped builds, and our minimal fake).
QString builtinErrorName(int rc)
{
    switch (rc) {
    case 1:
        return QStringLiteral("Uninitialized");
    case 2:
        return QStringLiteral("Invalid Argument");
    case 3:
        return QStringLiteral("Not Supported");
    case 4:
        return QStringLiteral("Insufficient Permissions");
    case 6:
        return QStringLiteral("Not Found");
    case 9:
        return QStringLiteral("Driver Not Loaded");
    case 12:
        return QStringLiteral("Library Not Found");
    case 15:
        return QStringLiteral("GPU is lost");
    case 18:
        return QStringLiteral("Driver/library version mismatch");
    default:
        return QStringLiteral("NVML error");
    }
}

void setText(QString* out, const QString& text)
{
    if (out)
        *out = text;
}

} // namespace

NvmlLibrary::~NvmlLibrary()
{
    if (m_initialized && m_fns.shutdown)
        m_fns.shutdown();
    m_initialized = false;
    if (m_lib.isLoaded())
        m_lib.unload();
}

bool NvmlLibrary::load(QString* whyNot)
{
    if (isLoaded())
        return true;
    auto log = gd::log::get("gpu");

    const QString explicitPath = qEnvironmentVariable("GD_NVML_LIBRARY");
    if (!explicitPath.isEmpty()) {
        if (!QFileInfo::exists(explicitPath)) {
            setText(whyNot, explicitPath + QStringLiteral(" not found (set by GD_NVML_LIBRARY)"));
            return false;
        }
        m_lib.setFileName(explicitPath);
        if (!m_lib.load()) {
            setText(whyNot, explicitPath + QStringLiteral(" could not be loaded: ") + m_lib.errorString());
            return false;
        }
        m_path = explicitPath;
    } else {
        const QList<Candidate> candidates = systemCandidates();
        for (const Candidate& c : candidates) {
            if (c.version >= 0)
                m_lib.setFileNameAndVersion(c.name, c.version);
            else
                m_lib.setFileName(c.name);
            if (m_lib.load()) {
                m_path = m_lib.fileName();
                break;
            }
            // Expected on machines without the NVIDIA driver; the reason is kept at debug level only.
            log->debug("NVML candidate {} not loadable: {}", c.display.toStdString(),
                       m_lib.errorString().toStdString());
        }
        if (m_path.isEmpty()) {
            setText(whyNot, candidates.front().display + QStringLiteral(" not found"));
            return false;
        }
    }

    if (!resolveSymbols(whyNot)) {
        m_lib.unload();
        m_fns = Functions{};
        m_path.clear();
        return false;
    }
    log->debug("NVML loaded from {}", m_path.toStdString());
    return true;
}

bool NvmlLibrary::resolveSymbols(QString* whyNot)
{
    Functions f;
    // Required: without these there is no useful reading at all.
    const auto required = [&](auto& slot, const char* symbol) {
        slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(m_lib.resolve(symbol));
        if (!slot)
            setText(whyNot, m_path + QStringLiteral(" lacks required symbol ") + QLatin1String(symbol));
        return slot != nullptr;
    };
    if (!required(f.init, "nvmlInit_v2") || !required(f.shutdown, "nvmlShutdown") ||
        !required(f.getCount, "nvmlDeviceGetCount_v2") ||
        !required(f.getHandleByIndex, "nvmlDeviceGetHandleByIndex_v2") ||
        !required(f.getName, "nvmlDeviceGetName") || !required(f.getMemoryInfo, "nvmlDeviceGetMemoryInfo"))
        return false;
    // Optional: a missing symbol only means that metric stays unavailable.
    f.getUtilization =
        reinterpret_cast<decltype(f.getUtilization)>(m_lib.resolve("nvmlDeviceGetUtilizationRates"));
    f.getTemperature =
        reinterpret_cast<decltype(f.getTemperature)>(m_lib.resolve("nvmlDeviceGetTemperature"));
    f.errorString = reinterpret_cast<decltype(f.errorString)>(m_lib.resolve("nvmlErrorString"));
    m_fns = f;
    return true;
}

QString NvmlLibrary::describe(Return rc) const
{
    QString text;
    if (m_fns.errorString) {
        if (const char* s = m_fns.errorString(rc))
            text = QString::fromUtf8(s);
    }
    if (text.isEmpty())
        text = builtinErrorName(rc);
    return text + QStringLiteral(" (code ") + QString::number(rc) + QLatin1Char(')');
}

bool NvmlLibrary::init(QString* err)
{
    if (m_initialized)
        return true;
    if (!isLoaded()) {
        setText(err, QStringLiteral("NVML library is not loaded"));
        return false;
    }
    const Return rc = m_fns.init();
    if (rc != Success) {
        setText(err, QStringLiteral("nvmlInit_v2 failed: ") + describe(rc));
        return false;
    }
    m_initialized = true;
    return true;
}

int NvmlLibrary::deviceCount(QString* err)
{
    if (!m_initialized) {
        setText(err, QStringLiteral("NVML is not initialised"));
        return -1;
    }
    unsigned int count = 0;
    const Return rc = m_fns.getCount(&count);
    if (rc != Success) {
        setText(err, QStringLiteral("nvmlDeviceGetCount_v2 failed: ") + describe(rc));
        return -1;
    }
    return static_cast<int>(count);
}

std::optional<GpuSnapshot> NvmlLibrary::sample(int index, QString* err)
{
    if (!m_initialized) {
        setText(err, QStringLiteral("NVML is not initialised"));
        return std::nullopt;
    }
    if (index < 0) {
        setText(err, QStringLiteral("invalid GPU index ") + QString::number(index));
        return std::nullopt;
    }
    Device device = nullptr;
    Return rc = m_fns.getHandleByIndex(static_cast<unsigned int>(index), &device);
    if (rc != Success) {
        setText(err, QStringLiteral("nvmlDeviceGetHandleByIndex_v2(") + QString::number(index) +
                         QStringLiteral(") failed: ") + describe(rc));
        return std::nullopt;
    }
    Memory memory{};
    rc = m_fns.getMemoryInfo(device, &memory);
    if (rc != Success) {
        setText(err, QStringLiteral("nvmlDeviceGetMemoryInfo failed: ") + describe(rc));
        return std::nullopt;
    }

    GpuSnapshot s;
    s.source = QStringLiteral("nvml");
    s.type = QStringLiteral("cuda");
    s.index = index;
    s.takenAt = QDateTime::currentDateTimeUtc();
    s.vramTotalBytes = static_cast<qint64>(memory.total);
    s.vramFreeBytes = static_cast<qint64>(memory.free);
    s.vramUsedBytes = static_cast<qint64>(memory.used);

    char name[NameBufferSize] = {};
    // A name we cannot read leaves the name empty; the memory reading is still worth having.
    if (m_fns.getName(device, name, NameBufferSize) == Success) {
        name[NameBufferSize - 1] = '\0';
        s.name = QString::fromUtf8(name).trimmed();
    }
    if (m_fns.getUtilization) {
        Utilization u{};
        if (m_fns.getUtilization(device, &u) == Success)
            s.utilizationPercent = static_cast<int>(u.gpu);
    }
    if (m_fns.getTemperature) {
        unsigned int celsius = 0;
        if (m_fns.getTemperature(device, TemperatureGpu, &celsius) == Success)
            s.temperatureC = static_cast<int>(celsius);
    }
    return s;
}

} // namespace gd::gpu
