#include "gpu/SystemStatsParser.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using gd::gpu::GpuSnapshot;
using gd::gpu::SystemStatsParser;

namespace {
QJsonObject load(const QString& name)
{
    QFile f(QStringLiteral(GD_TEST_DATA_DIR "/gpu/") + name);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}
} // namespace

// ComfyUI /system_stats → the torch device's GPU reading and the `system` block for telemetry.
class TestSystemStatsParser : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void specExample()
    {
        const QJsonObject stats = load(QStringLiteral("system_stats_h200.json"));
        QVERIFY(!stats.isEmpty());
        QString err;
        const std::optional<GpuSnapshot> s = SystemStatsParser::parse(stats, &err);
        QVERIFY2(s, qPrintable(err));
        QCOMPARE(s->source, QStringLiteral("system_stats"));
        QCOMPARE(s->name, QStringLiteral("NVIDIA H200"));
        QCOMPARE(s->type, QStringLiteral("cuda"));
        QCOMPARE(s->index, std::optional<int>(0));
        QCOMPARE(s->vramTotalBytes, std::optional<qint64>(150754820096LL));
        QCOMPARE(s->vramFreeBytes, std::optional<qint64>(149638479872LL));
        QCOMPARE(s->vramUsedBytes, std::optional<qint64>(150754820096LL - 149638479872LL));
        QVERIFY(!s->utilizationPercent.has_value());
        QVERIFY(!s->temperatureC.has_value());
        QVERIFY(s->takenAt.isValid());
    }

    void systemBlockIsReturnedVerbatim()
    {
        const QJsonObject stats = load(QStringLiteral("system_stats_h200.json"));
        const QJsonValue system = SystemStatsParser::systemBlock(stats);
        QVERIFY(system.isObject());
        QCOMPARE(system.toObject(), stats.value(QStringLiteral("system")).toObject());
        QCOMPARE(system.toObject().value(QStringLiteral("argv")).toArray().size(), 5);
    }

    void systemBlockMissingIsNull()
    {
        QJsonObject stats = load(QStringLiteral("system_stats_h200.json"));
        stats.remove(QStringLiteral("system"));
        QVERIFY(SystemStatsParser::systemBlock(stats).isNull());
        stats.insert(QStringLiteral("system"), QStringLiteral("oops"));
        QVERIFY(SystemStatsParser::systemBlock(stats).isNull());
    }

    void nullIndex()
    {
        QJsonObject stats = load(QStringLiteral("system_stats_h200.json"));
        QJsonArray devices = stats.value(QStringLiteral("devices")).toArray();
        QJsonObject d = devices.first().toObject();
        d.insert(QStringLiteral("index"), QJsonValue::Null);
        devices.replace(0, d);
        stats.insert(QStringLiteral("devices"), devices);
        QString err;
        const auto s = SystemStatsParser::parse(stats, &err);
        QVERIFY2(s, qPrintable(err));
        QVERIFY(!s->index.has_value());
        QCOMPARE(s->name, QStringLiteral("NVIDIA H200"));
    }

    void cpuDevice()
    {
        QString err;
        const auto s = SystemStatsParser::parse(load(QStringLiteral("system_stats_cpu.json")), &err);
        QVERIFY2(s, qPrintable(err));
        QCOMPARE(s->type, QStringLiteral("cpu"));
        QCOMPARE(s->name, QStringLiteral("cpu"));
        QVERIFY(!s->index.has_value());
        QCOMPARE(s->vramFreeBytes, std::optional<qint64>(17179869184LL));
    }

    void cleanDeviceName_data()
    {
        QTest::addColumn<QString>("raw");
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("clean");
        QTest::newRow("cuda") << QStringLiteral("cuda:0 NVIDIA H200 : cudaMallocAsync")
                              << QStringLiteral("cuda") << QStringLiteral("NVIDIA H200");
        QTest::newRow("cuda native allocator")
            << QStringLiteral("cuda:1 NVIDIA GeForce RTX 3090 : native") << QStringLiteral("cuda")
            << QStringLiteral("NVIDIA GeForce RTX 3090");
        QTest::newRow("cpu") << QStringLiteral("cpu") << QStringLiteral("cpu") << QStringLiteral("cpu");
        QTest::newRow("mps") << QStringLiteral("mps") << QStringLiteral("mps") << QStringLiteral("mps");
        QTest::newRow("xpu") << QStringLiteral("xpu:0 Intel(R) Arc(TM) A770 Graphics : native")
                             << QStringLiteral("xpu") << QStringLiteral("Intel(R) Arc(TM) A770 Graphics");
        QTest::newRow("plain name kept")
            << QStringLiteral("NVIDIA H200") << QStringLiteral("cuda") << QStringLiteral("NVIDIA H200");
    }

    void cleanDeviceName()
    {
        QFETCH(QString, raw);
        QFETCH(QString, type);
        QFETCH(QString, clean);
        QCOMPARE(SystemStatsParser::cleanDeviceName(raw, type), clean);
    }

    void typeDerivedFromNameWhenAbsent()
    {
        const QJsonObject stats{
            {QStringLiteral("devices"),
             QJsonArray{QJsonObject{
                 {QStringLiteral("name"), QStringLiteral("cuda:0 NVIDIA L4 : cudaMallocAsync")}}}}};
        QString err;
        const auto s = SystemStatsParser::parse(stats, &err);
        QVERIFY2(s, qPrintable(err));
        QCOMPARE(s->type, QStringLiteral("cuda"));
        QCOMPARE(s->name, QStringLiteral("NVIDIA L4"));
        QVERIFY(!s->hasVram()); // no vram fields: unavailable, not 0
        QVERIFY(!s->vramTotalBytes.has_value());
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("error");
        QTest::newRow("not json") << QByteArray("<html>502 Bad Gateway</html>")
                                  << QStringLiteral("not valid JSON");
        QTest::newRow("array") << QByteArray("[1,2]") << QStringLiteral("not a JSON object");
        QTest::newRow("no devices") << QByteArray(R"({"system":{}})") << QStringLiteral("no \"devices\"");
        QTest::newRow("devices not array")
            << QByteArray(R"({"devices":{"name":"cuda:0"}})") << QStringLiteral("not an array");
        QTest::newRow("devices empty") << QByteArray(R"({"devices":[]})") << QStringLiteral("no devices");
        QTest::newRow("device not object")
            << QByteArray(R"({"devices":["cuda:0"]})") << QStringLiteral("not an object");
    }

    void malformed()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, error);
        QString err;
        QVERIFY(!SystemStatsParser::parse(body, &err));
        QVERIFY2(err.contains(error), qPrintable(err));
    }

    void wrongTypedValuesAreUnavailable()
    {
        QString err;
        const auto s = SystemStatsParser::parse(
            QByteArray(R"({"devices":[{"name":"cuda:0 X : native","type":"cuda","index":"0",)"
                       R"("vram_total":"big","vram_free":-5}]})"),
            &err);
        QVERIFY2(s, qPrintable(err));
        QVERIFY(!s->index.has_value());
        QVERIFY(!s->vramTotalBytes.has_value());
        QVERIFY(!s->vramFreeBytes.has_value());
        QVERIFY(!s->vramUsedBytes.has_value());
    }
};

QTEST_GUILESS_MAIN(TestSystemStatsParser)
#include "tst_systemstatsparser.moc"
