#include "gpu/GpuProbe.h"

#include <QTest>

using gd::gpu::GpuProbe;
using gd::gpu::GpuSnapshot;

namespace {
const QString MissingNvml = QStringLiteral("/nonexistent/lib/libnvidia-ml.so.1");
const QString MissingSmi = QStringLiteral("/nonexistent/bin/nvidia-smi");
const QString FakeSmi = QStringLiteral(GD_FAKE_NVIDIA_SMI_PATH);
} // namespace

// The local source chain NVML → nvidia-smi → missing, and the notes that explain each fallback.
class TestGpuProbe : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init()
    {
        for (const char* v :
             {"FAKE_NVML_INIT_FAIL", "FAKE_NVML_DEVICES", "FAKE_NVML_MEMORY_FAIL", "FAKE_SMI_MODE"})
            qunsetenv(v);
        qputenv("GD_NVML_LIBRARY", GD_FAKE_NVML_PATH);
    }
    void cleanup()
    {
        qunsetenv("GD_NVML_LIBRARY");
        qunsetenv("FAKE_SMI_MODE");
    }

    void nvmlFirst()
    {
        GpuProbe probe(FakeSmi);
        const GpuSnapshot s = probe.sampleLocal(0);
        QCOMPARE(s.source, QStringLiteral("nvml"));
        QVERIFY(s.notes.isEmpty());
        QVERIFY(s.hasVram());
        // Later readings keep using the NVML loaded by the first one.
        QCOMPARE(probe.sampleLocal(0).source, QStringLiteral("nvml"));
    }

    void nvmlMissingFallsBackToNvidiaSmi()
    {
#ifdef Q_OS_WIN
        QSKIP("the fake nvidia-smi is a POSIX shell script");
#endif
        qputenv("GD_NVML_LIBRARY", MissingNvml.toUtf8());
        GpuProbe probe(FakeSmi);
        const GpuSnapshot s = probe.sampleLocal(0);
        QCOMPARE(s.source, QStringLiteral("nvidia-smi"));
        QCOMPARE(s.name, QStringLiteral("NVIDIA GeForce RTX 3090"));
        QCOMPARE(s.notes.size(), 1);
        QVERIFY2(s.notes.at(0).startsWith(QStringLiteral("NVML unavailable: ")), qPrintable(s.notes.at(0)));
        QVERIFY2(s.notes.at(0).contains(MissingNvml), qPrintable(s.notes.at(0)));
        QCOMPARE(probe.nvmlUnavailableReason(), s.notes.at(0).mid(int(qstrlen("NVML unavailable: "))));
    }

    void nvmlInitFailureFallsBackWithReason()
    {
#ifdef Q_OS_WIN
        QSKIP("the fake nvidia-smi is a POSIX shell script");
#endif
        qputenv("FAKE_NVML_INIT_FAIL", "1");
        GpuProbe probe(FakeSmi);
        const GpuSnapshot s = probe.sampleLocal(0);
        QCOMPARE(s.source, QStringLiteral("nvidia-smi"));
        QCOMPARE(s.notes, QStringList{QStringLiteral(
                              "NVML unavailable: nvmlInit_v2 failed: Driver Not Loaded (code 9)")});
    }

    void brokenNvmlNoteNamesTheSymbol()
    {
        qputenv("GD_NVML_LIBRARY", GD_FAKE_NVML_BROKEN_PATH);
        GpuProbe probe(MissingSmi);
        const GpuSnapshot s = probe.sampleLocal(0);
        QCOMPARE(s.source, QStringLiteral("missing"));
        QVERIFY(!s.notes.isEmpty());
        QVERIFY2(s.notes.at(0).contains(QStringLiteral("nvmlDeviceGetMemoryInfo")),
                 qPrintable(s.notes.at(0)));
    }

    void nvmlWithoutThatDeviceFallsBackToNvidiaSmi()
    {
#ifdef Q_OS_WIN
        QSKIP("the fake nvidia-smi is a POSIX shell script");
#endif
        qputenv("FAKE_NVML_DEVICES", "1");
        qputenv("FAKE_SMI_MODE", "two-gpus");
        GpuProbe probe(FakeSmi);
        const GpuSnapshot s = probe.sampleLocal(1);
        QCOMPARE(s.source, QStringLiteral("nvidia-smi"));
        QCOMPARE(s.index, std::optional<int>(1));
        QCOMPARE(s.notes.size(), 1);
        QVERIFY2(s.notes.at(0).startsWith(QStringLiteral("NVML reading failed: ")),
                 qPrintable(s.notes.at(0)));
    }

    void bothMissing()
    {
        qputenv("GD_NVML_LIBRARY", MissingNvml.toUtf8());
        GpuProbe probe(MissingSmi);
        const GpuSnapshot s = probe.sampleLocal(0);
        QCOMPARE(s.source, QStringLiteral("missing"));
        QCOMPARE(s.index, std::optional<int>(0));
        QVERIFY(!s.hasVram()); // unavailable, never 0
        QVERIFY(!s.vramTotalBytes.has_value());
        QVERIFY(s.takenAt.isValid());
        QCOMPARE(s.notes.size(), 2);
        QVERIFY2(s.notes.at(0).startsWith(QStringLiteral("NVML unavailable: ")), qPrintable(s.notes.at(0)));
        QVERIFY2(s.notes.at(1).startsWith(QStringLiteral("nvidia-smi unavailable: ")),
                 qPrintable(s.notes.at(1)));
        QVERIFY2(s.notes.at(1).contains(MissingSmi), qPrintable(s.notes.at(1)));
    }

    void driverFailureTextReachesTheNote()
    {
#ifdef Q_OS_WIN
        QSKIP("the fake nvidia-smi is a POSIX shell script");
#endif
        qputenv("GD_NVML_LIBRARY", MissingNvml.toUtf8());
        qputenv("FAKE_SMI_MODE", "driver-fail");
        GpuProbe probe(FakeSmi);
        const GpuSnapshot s = probe.sampleLocal(0);
        QCOMPARE(s.source, QStringLiteral("missing"));
        QCOMPARE(s.notes.size(), 2);
        QVERIFY2(s.notes.at(1).contains(QStringLiteral("NVIDIA-SMI has failed")), qPrintable(s.notes.at(1)));
    }
};

QTEST_GUILESS_MAIN(TestGpuProbe)
#include "tst_gpuprobe.moc"
