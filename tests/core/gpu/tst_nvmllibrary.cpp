#include "gpu/NvmlLibrary.h"

#include <QLibrary>
#include <QTest>

using gd::gpu::GpuSnapshot;
using gd::gpu::NvmlLibrary;

namespace {
const QByteArray FakeVars[] = {"FAKE_NVML_INIT_FAIL", "FAKE_NVML_DEVICES", "FAKE_NVML_NAME",
                               "FAKE_NVML_TOTAL_MB",  "FAKE_NVML_USED_MB", "FAKE_NVML_MEMORY_FAIL",
                               "FAKE_NVML_UTIL",      "FAKE_NVML_TEMP_C",  "FAKE_NVML_UTIL_UNSUPPORTED"};
constexpr qint64 MiB = 1024 * 1024;

// The fake's test hook: nvmlInit_v2 calls not yet matched by nvmlShutdown.
int activeInits()
{
    using Fn = int (*)();
    auto fn =
        reinterpret_cast<Fn>(QLibrary::resolve(QStringLiteral(GD_FAKE_NVML_PATH), "fakeNvmlActiveInits"));
    return fn ? fn() : -1;
}
} // namespace

// NvmlLibrary against the fake NVML variants, loaded through GD_NVML_LIBRARY like a real driver.
class TestNvmlLibrary : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init()
    {
        for (const QByteArray& v : FakeVars)
            qunsetenv(v.constData());
        qputenv("GD_NVML_LIBRARY", GD_FAKE_NVML_PATH);
    }
    void cleanup() { qunsetenv("GD_NVML_LIBRARY"); }

    void readsAllMetricsFromTheFake()
    {
        qputenv("FAKE_NVML_NAME", "NVIDIA GeForce RTX 3090");
        qputenv("FAKE_NVML_TOTAL_MB", "24576");
        qputenv("FAKE_NVML_USED_MB", "3000");
        qputenv("FAKE_NVML_UTIL", "87");
        qputenv("FAKE_NVML_TEMP_C", "66");
        NvmlLibrary nvml;
        QString err;
        QVERIFY2(nvml.load(&err), qPrintable(err));
        QVERIFY2(nvml.init(&err), qPrintable(err));
        QCOMPARE(nvml.libraryPath(), QStringLiteral(GD_FAKE_NVML_PATH));
        QCOMPARE(nvml.deviceCount(), 1);
        const std::optional<GpuSnapshot> s = nvml.sample(0, &err);
        QVERIFY2(s, qPrintable(err));
        QCOMPARE(s->source, QStringLiteral("nvml"));
        QCOMPARE(s->type, QStringLiteral("cuda"));
        QCOMPARE(s->name, QStringLiteral("NVIDIA GeForce RTX 3090"));
        QCOMPARE(s->index, std::optional<int>(0));
        QCOMPARE(s->vramTotalBytes, std::optional<qint64>(24576 * MiB));
        QCOMPARE(s->vramUsedBytes, std::optional<qint64>(3000 * MiB));
        QCOMPARE(s->vramFreeBytes, std::optional<qint64>((24576 - 3000) * MiB));
        QCOMPARE(s->utilizationPercent, std::optional<int>(87));
        QCOMPARE(s->temperatureC, std::optional<int>(66));
        QVERIFY(s->takenAt.isValid());
    }

    void secondDeviceAndOutOfRangeIndex()
    {
        qputenv("FAKE_NVML_DEVICES", "2");
        NvmlLibrary nvml;
        QString err;
        QVERIFY(nvml.load(&err) && nvml.init(&err));
        QCOMPARE(nvml.deviceCount(), 2);
        const auto second = nvml.sample(1, &err);
        QVERIFY2(second, qPrintable(err));
        QCOMPARE(second->index, std::optional<int>(1));
        QVERIFY(!nvml.sample(2, &err));
        QVERIFY2(err.contains(QStringLiteral("Invalid Argument")), qPrintable(err));
    }

    void initFailureNamesTheDriverError()
    {
        qputenv("FAKE_NVML_INIT_FAIL", "1");
        NvmlLibrary nvml;
        QString err;
        QVERIFY(nvml.load(&err));
        QVERIFY(!nvml.init(&err));
        QVERIFY2(err.contains(QStringLiteral("nvmlInit_v2 failed")), qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("Driver Not Loaded")), qPrintable(err));
        QCOMPARE(nvml.deviceCount(), -1);
        QVERIFY(!nvml.sample(0, &err));
    }

    void sampleBeforeInitIsAnError()
    {
        NvmlLibrary nvml;
        QString err;
        QVERIFY(nvml.load(&err));
        QVERIFY(!nvml.sample(0, &err));
        QVERIFY2(err.contains(QStringLiteral("not initialised")), qPrintable(err));
    }

    void memoryFailureIsAnError()
    {
        qputenv("FAKE_NVML_MEMORY_FAIL", "1");
        NvmlLibrary nvml;
        QString err;
        QVERIFY(nvml.load(&err) && nvml.init(&err));
        QVERIFY(!nvml.sample(0, &err));
        QVERIFY2(err.contains(QStringLiteral("nvmlDeviceGetMemoryInfo")), qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("GPU is lost")), qPrintable(err));
    }

    void unsupportedUtilizationStaysUnavailable()
    {
        qputenv("FAKE_NVML_UTIL_UNSUPPORTED", "1");
        NvmlLibrary nvml;
        QString err;
        QVERIFY(nvml.load(&err) && nvml.init(&err));
        const auto s = nvml.sample(0, &err);
        QVERIFY2(s, qPrintable(err));
        QVERIFY(!s->utilizationPercent.has_value()); // unavailable, not 0
        QCOMPARE(s->temperatureC, std::optional<int>(55));
    }

    void minimalLibraryKeepsMemoryOnly()
    {
        qputenv("GD_NVML_LIBRARY", GD_FAKE_NVML_MINIMAL_PATH);
        NvmlLibrary nvml;
        QString err;
        QVERIFY2(nvml.load(&err), qPrintable(err));
        QVERIFY(!nvml.hasUtilization());
        QVERIFY(!nvml.hasTemperature());
        QVERIFY2(nvml.init(&err), qPrintable(err));
        const auto s = nvml.sample(0, &err);
        QVERIFY2(s, qPrintable(err));
        QCOMPARE(s->vramTotalBytes, std::optional<qint64>(24576 * MiB));
        QCOMPARE(s->vramFreeBytes, std::optional<qint64>((24576 - 1024) * MiB));
        QVERIFY(!s->utilizationPercent.has_value());
        QVERIFY(!s->temperatureC.has_value());
    }

    void minimalLibraryStillDescribesErrors()
    {
        // Without nvmlErrorString the built-in table names the code.
        qputenv("GD_NVML_LIBRARY", GD_FAKE_NVML_MINIMAL_PATH);
        qputenv("FAKE_NVML_INIT_FAIL", "1");
        NvmlLibrary nvml;
        QString err;
        QVERIFY(nvml.load(&err));
        QVERIFY(!nvml.init(&err));
        QVERIFY2(err.contains(QStringLiteral("Driver Not Loaded (code 9)")), qPrintable(err));
    }

    void brokenLibraryNamesTheMissingSymbol()
    {
        qputenv("GD_NVML_LIBRARY", GD_FAKE_NVML_BROKEN_PATH);
        NvmlLibrary nvml;
        QString why;
        QVERIFY(!nvml.load(&why));
        QVERIFY(!nvml.isLoaded());
        QVERIFY2(why.contains(QStringLiteral("nvmlDeviceGetMemoryInfo")), qPrintable(why));
        QVERIFY(!nvml.init(&why));
    }

    void nonexistentPathGivesAClearReason()
    {
        const QString path = QStringLiteral("/nonexistent/dir/libnvidia-ml.so.1");
        qputenv("GD_NVML_LIBRARY", path.toUtf8());
        NvmlLibrary nvml;
        QString why;
        QVERIFY(!nvml.load(&why));
        QVERIFY2(why.contains(path), qPrintable(why));
        QVERIFY2(why.contains(QStringLiteral("not found")), qPrintable(why));
    }

    void fileThatIsNotALibraryGivesAClearReason()
    {
        const QString path = QStringLiteral(GD_TEST_DATA_DIR "/gpu/system_stats_h200.json");
        qputenv("GD_NVML_LIBRARY", path.toUtf8());
        NvmlLibrary nvml;
        QString why;
        QVERIFY(!nvml.load(&why));
        QVERIFY2(why.contains(QStringLiteral("could not be loaded")), qPrintable(why));
    }

    void destructorShutsNvmlDown()
    {
        QLibrary keepLoaded(QStringLiteral(GD_FAKE_NVML_PATH)); // keeps the fake's counter alive
        QVERIFY(keepLoaded.load());
        const int before = activeInits();
        {
            NvmlLibrary nvml;
            QString err;
            QVERIFY(nvml.load(&err) && nvml.init(&err));
            QVERIFY(nvml.init(&err)); // a second init() does not init NVML twice
            QCOMPARE(activeInits(), before + 1);
        }
        QCOMPARE(activeInits(), before);
    }
};

QTEST_GUILESS_MAIN(TestNvmlLibrary)
#include "tst_nvmllibrary.moc"
