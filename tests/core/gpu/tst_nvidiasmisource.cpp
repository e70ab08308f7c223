#include "gpu/NvidiaSmiSource.h"

#include <QTest>

using gd::gpu::GpuSnapshot;
using gd::gpu::NvidiaSmiSource;

namespace {
constexpr qint64 MiB = 1024 * 1024;
const QString DriverFailure = QStringLiteral(
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the "
    "latest NVIDIA driver is installed and running.\n\n");
// -1 in the expectation columns means "unavailable" (empty optional).
std::optional<qint64> mib(qint64 v)
{
    return v < 0 ? std::nullopt : std::optional<qint64>(v * MiB);
}
std::optional<int> opt(int v)
{
    return v < 0 ? std::nullopt : std::optional<int>(v);
}
} // namespace

// nvidia-smi CSV parsing, and running the program through the fake script (timeouts, failures).
class TestNvidiaSmiSource : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("count");     // 0: parse fails
        QTest::addColumn<QString>("error"); // substring of the error when it fails
        QTest::addColumn<int>("index");
        QTest::addColumn<QString>("name");
        QTest::addColumn<qint64>("totalMiB");
        QTest::addColumn<qint64>("usedMiB");
        QTest::addColumn<qint64>("freeMiB");
        QTest::addColumn<int>("util");
        QTest::addColumn<int>("temp");

        QTest::newRow("one gpu") << QStringLiteral("0, NVIDIA GeForce RTX 3090, 24576, 1024, 23201, 37, 61\n")
                                 << 1 << QString() << 0 << QStringLiteral("NVIDIA GeForce RTX 3090")
                                 << 24576LL << 1024LL << 23201LL << 37 << 61;
        QTest::newRow("two gpus, first row")
            << QStringLiteral("0, NVIDIA H200, 143771, 500, 143271, 0, 30\n1, NVIDIA H200, 143771, 9000, "
                              "134771, 99, 70\n")
            << 2 << QString() << 0 << QStringLiteral("NVIDIA H200") << 143771LL << 500LL << 143271LL << 0
            << 30;
        QTest::newRow("bracketed N/A and Not Supported")
            << QStringLiteral("0, NVIDIA GeForce RTX 3090, 24576, 1024, 23201, [N/A], [Not Supported]\n") << 1
            << QString() << 0 << QStringLiteral("NVIDIA GeForce RTX 3090") << 24576LL << 1024LL << 23201LL
            << -1 << -1;
        QTest::newRow("bare N/A memory, free derived")
            << QStringLiteral("0, Tesla T4, 15360, 2000, N/A, N/A, 40\n") << 1 << QString() << 0
            << QStringLiteral("Tesla T4") << 15360LL << 2000LL << 13360LL << -1 << 40;
        QTest::newRow("all memory unavailable")
            << QStringLiteral("0, NVIDIA GB10, [N/A], [N/A], [N/A], 5, 45\n") << 1 << QString() << 0
            << QStringLiteral("NVIDIA GB10") << -1LL << -1LL << -1LL << 5 << 45;
        QTest::newRow("CRLF and extra spaces")
            << QStringLiteral("  0 ,  NVIDIA GeForce RTX 4090 ,  24564 , 100 , 24000 , 3 , 35  \r\n\r\n") << 1
            << QString() << 0 << QStringLiteral("NVIDIA GeForce RTX 4090") << 24564LL << 100LL << 24000LL << 3
            << 35;
        QTest::newRow("name with a comma")
            << QStringLiteral("3, NVIDIA RTX A6000, Rev. 2, 49140, 30000, 18720, 99, 80\n") << 1 << QString()
            << 3 << QStringLiteral("NVIDIA RTX A6000, Rev. 2") << 49140LL << 30000LL << 18720LL << 99 << 80;
        QTest::newRow("driver failure")
            << DriverFailure << 0 << QStringLiteral("NVIDIA-SMI has failed because it couldn't communicate")
            << 0 << QString() << 0LL << 0LL << 0LL << 0 << 0;
        QTest::newRow("no devices") << QStringLiteral("No devices were found\n") << 0
                                    << QStringLiteral("No devices were found") << 0 << QString() << 0LL << 0LL
                                    << 0LL << 0 << 0;
        QTest::newRow("garbage") << QStringLiteral("hello, world") << 0 << QStringLiteral("hello, world") << 0
                                 << QString() << 0LL << 0LL << 0LL << 0 << 0;
        QTest::newRow("non-numeric memory")
            << QStringLiteral("0, NVIDIA GeForce RTX 3090, lots, 1024, 23201, 37, 61\n") << 0
            << QStringLiteral("memory.total") << 0 << QString() << 0LL << 0LL << 0LL << 0 << 0;
        QTest::newRow("bad index") << QStringLiteral(
                                          "x, NVIDIA GeForce RTX 3090, 24576, 1024, 23201, 37, 61\n")
                                   << 0 << QStringLiteral("bad index") << 0 << QString() << 0LL << 0LL << 0LL
                                   << 0 << 0;
        QTest::newRow("good row then junk")
            << QStringLiteral(
                   "0, NVIDIA GeForce RTX 3090, 24576, 1024, 23201, 37, 61\nFailed to initialize NVML\n")
            << 0 << QStringLiteral("Failed to initialize NVML") << 0 << QString() << 0LL << 0LL << 0LL << 0
            << 0;
        // Fuzzing regressions (docs/RELIABILITY.md, Fuzzing): a shifted or corrupt row must be refused,
        // not turned into 2000 % utilisation or an undefined float-to-integer conversion.
        QTest::newRow("utilisation above 100 %")
            << QStringLiteral("0, NVIDIA GeForce RTX 3090, 24576, 1024, 23201, 2000, 40\n") << 0
            << QStringLiteral("bad utilization.gpu") << 0 << QString() << 0LL << 0LL << 0LL << 0 << 0;
        QTest::newRow("memory beyond any GPU")
            << QStringLiteral("0, NVIDIA GeForce RTX 3090, 1e300, 1024, 23201, 37, 61\n") << 0
            << QStringLiteral("bad memory.total") << 0 << QString() << 0LL << 0LL << 0LL << 0 << 0;
        QTest::newRow("infinite temperature")
            << QStringLiteral("0, NVIDIA GeForce RTX 3090, 24576, 1024, 23201, 37, inf\n") << 0
            << QStringLiteral("bad temperature.gpu") << 0 << QString() << 0LL << 0LL << 0LL << 0 << 0;
        QTest::newRow("not-a-number memory")
            << QStringLiteral("0, NVIDIA GeForce RTX 3090, 24576, nan, 23201, 37, 61\n") << 0
            << QStringLiteral("bad memory.used") << 0 << QString() << 0LL << 0LL << 0LL << 0 << 0;
        QTest::newRow("empty") << QStringLiteral("\r\n") << 0 << QStringLiteral("no GPUs") << 0 << QString()
                               << 0LL << 0LL << 0LL << 0 << 0;
    }

    void parse()
    {
        QFETCH(QString, text);
        QFETCH(int, count);
        QFETCH(QString, error);
        QString err;
        const QVector<GpuSnapshot> gpus = NvidiaSmiSource::parse(text, &err);
        QCOMPARE(gpus.size(), count);
        if (count == 0) {
            QVERIFY2(err.contains(error), qPrintable(err));
            return;
        }
        QFETCH(int, index);
        QFETCH(QString, name);
        QFETCH(qint64, totalMiB);
        QFETCH(qint64, usedMiB);
        QFETCH(qint64, freeMiB);
        QFETCH(int, util);
        QFETCH(int, temp);
        const GpuSnapshot& g = gpus.front();
        QCOMPARE(g.source, QStringLiteral("nvidia-smi"));
        QCOMPARE(g.type, QStringLiteral("cuda"));
        QCOMPARE(g.index, std::optional<int>(index));
        QCOMPARE(g.name, name);
        QCOMPARE(g.vramTotalBytes, mib(totalMiB));
        QCOMPARE(g.vramUsedBytes, mib(usedMiB));
        QCOMPARE(g.vramFreeBytes, mib(freeMiB));
        QCOMPARE(g.utilizationPercent, opt(util));
        QCOMPARE(g.temperatureC, opt(temp));
    }

    void parseKeepsEveryGpu()
    {
        QString err;
        const auto gpus = NvidiaSmiSource::parse(
            QStringLiteral(
                "0, NVIDIA H200, 143771, 500, 143271, 0, 30\n1, NVIDIA L40S, 46068, 9000, 37068, 99, 70\n"),
            &err);
        QCOMPARE(gpus.size(), 2);
        QCOMPARE(gpus.at(1).index, std::optional<int>(1));
        QCOMPARE(gpus.at(1).name, QStringLiteral("NVIDIA L40S"));
        QCOMPARE(gpus.at(1).vramUsedBytes, mib(9000));
    }

    void process_data()
    {
        QTest::addColumn<QByteArray>("mode");
        QTest::addColumn<int>("index");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("expect"); // the name on success, an error substring otherwise

        QTest::newRow("ok") << QByteArray("ok") << 0 << true << QStringLiteral("NVIDIA GeForce RTX 3090");
        QTest::newRow("second of two")
            << QByteArray("two-gpus") << 1 << true << QStringLiteral("NVIDIA RTX A6000");
        QTest::newRow("index not listed")
            << QByteArray("ok") << 3 << false << QStringLiteral("no GPU with index 3");
        QTest::newRow("na values") << QByteArray("na-values") << 0 << true
                                   << QStringLiteral("NVIDIA GeForce RTX 3090");
        QTest::newRow("driver failure, exit 9")
            << QByteArray("driver-fail") << 0 << false
            << QStringLiteral("exited with code 9: NVIDIA-SMI has failed because it couldn't communicate");
    }

    void process()
    {
#ifdef Q_OS_WIN
        QSKIP("the fake nvidia-smi is a POSIX shell script");
#endif
        QFETCH(QByteArray, mode);
        QFETCH(int, index);
        QFETCH(bool, ok);
        QFETCH(QString, expect);
        qputenv("FAKE_SMI_MODE", mode);
        NvidiaSmiSource smi(QStringLiteral(GD_FAKE_NVIDIA_SMI_PATH));
        QString err;
        const auto s = smi.sample(index, &err);
        qunsetenv("FAKE_SMI_MODE");
        QCOMPARE(s.has_value(), ok);
        if (ok) {
            QCOMPARE(s->name, expect);
            QCOMPARE(s->index, std::optional<int>(index));
            QCOMPARE(s->source, QStringLiteral("nvidia-smi"));
        } else {
            QVERIFY2(err.contains(expect), qPrintable(err));
        }
    }

    void naValuesStayUnavailableThroughTheProcess()
    {
#ifdef Q_OS_WIN
        QSKIP("the fake nvidia-smi is a POSIX shell script");
#endif
        qputenv("FAKE_SMI_MODE", "na-values");
        NvidiaSmiSource smi(QStringLiteral(GD_FAKE_NVIDIA_SMI_PATH));
        QString err;
        const auto s = smi.sample(0, &err);
        qunsetenv("FAKE_SMI_MODE");
        QVERIFY2(s, qPrintable(err));
        QVERIFY(!s->utilizationPercent.has_value());
        QVERIFY(!s->temperatureC.has_value());
        QCOMPARE(s->vramFreeBytes, mib(23201));
    }

    void hangingProcessIsKilledAtTheTimeout()
    {
#ifdef Q_OS_WIN
        QSKIP("the fake nvidia-smi is a POSIX shell script");
#endif
        qputenv("FAKE_SMI_MODE", "hang");
        NvidiaSmiSource smi(QStringLiteral(GD_FAKE_NVIDIA_SMI_PATH), 500);
        QString err;
        const auto gpus = smi.query(&err);
        qunsetenv("FAKE_SMI_MODE");
        QVERIFY(gpus.isEmpty());
        QCOMPARE(err, QStringLiteral("nvidia-smi did not answer within 0.5 s"));
    }

    void missingProgramIsAnError()
    {
        NvidiaSmiSource smi(QStringLiteral("/nonexistent/bin/nvidia-smi"));
        QString err;
        QVERIFY(!smi.sample(0, &err));
        QVERIFY2(err.contains(QStringLiteral("could not be started")), qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("/nonexistent/bin/nvidia-smi")), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TestNvidiaSmiSource)
#include "tst_nvidiasmisource.moc"
