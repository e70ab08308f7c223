#include "telemetry/OpenMetricsWriter.h"

#include <QTest>
#include <limits>

using gd::telemetry::OpenMetricsWriter;

// The OpenMetrics text format details a strict scraper (Prometheus with the OpenMetrics parser) rejects
// a whole scrape for: metadata order, escaping, number and bucket formats, the # EOF terminator.
class TestOpenMetricsWriter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void familyMetadataPrecedesSamples()
    {
        OpenMetricsWriter w;
        w.family(QStringLiteral("gd_vram_used_bytes"), QStringLiteral("gauge"), QStringLiteral("VRAM in use."),
                 QStringLiteral("bytes"));
        w.sample({}, {{QStringLiteral("gpu"), QStringLiteral("0")}}, 1073741824.0);
        QCOMPARE(w.finish(), QByteArray("# TYPE gd_vram_used_bytes gauge\n"
                                        "# UNIT gd_vram_used_bytes bytes\n"
                                        "# HELP gd_vram_used_bytes VRAM in use.\n"
                                        "gd_vram_used_bytes{gpu=\"0\"} 1073741824\n"
                                        "# EOF\n"));
    }

    void emptyExpositionIsJustEof() { QCOMPARE(OpenMetricsWriter().finish(), QByteArray("# EOF\n")); }

    void counterSamplesCarryTheSuffix()
    {
        OpenMetricsWriter w;
        w.family(QStringLiteral("gd_attempts"), QStringLiteral("counter"), QStringLiteral("Attempts."));
        w.sample(QStringLiteral("_total"), {{QStringLiteral("status"), QStringLiteral("failed")}}, 2);
        QVERIFY(w.finish().contains("\ngd_attempts_total{status=\"failed\"} 2\n"));
    }

    void escaping_data()
    {
        QTest::addColumn<QString>("raw");
        QTest::addColumn<QString>("escaped");
        QTest::newRow("plain") << QStringLiteral("scene-001") << QStringLiteral("scene-001");
        QTest::newRow("quote") << QStringLiteral("a \"b\"") << QStringLiteral("a \\\"b\\\"");
        QTest::newRow("backslash") << QStringLiteral("C:\\runs") << QStringLiteral("C:\\\\runs");
        QTest::newRow("newline") << QStringLiteral("one\ntwo") << QStringLiteral("one\\ntwo");
        QTest::newRow("unicode kept") << QStringLiteral("Leuchtturm – Nebel") << QStringLiteral("Leuchtturm – Nebel");
    }
    void escaping()
    {
        QFETCH(QString, raw);
        QFETCH(QString, escaped);
        QCOMPARE(OpenMetricsWriter::escape(raw), escaped);
        OpenMetricsWriter w;
        w.family(QStringLiteral("gd_x"), QStringLiteral("gauge"), raw);
        w.sample({}, {{QStringLiteral("l"), raw}}, 1);
        const QByteArray text = w.finish();
        QVERIFY(text.contains(QByteArray("# HELP gd_x " + escaped.toUtf8() + '\n')));
        QVERIFY(text.contains(QByteArray("gd_x{l=\"" + escaped.toUtf8() + "\"} 1\n")));
    }

    void values_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("zero") << 0.0 << QByteArray("0");
        QTest::newRow("integer") << 25.0 << QByteArray("25");
        QTest::newRow("negative") << -3.0 << QByteArray("-3");
        QTest::newRow("fraction") << 0.42 << QByteArray("0.42");
        QTest::newRow("24 GiB") << 25769803776.0 << QByteArray("25769803776");
        QTest::newRow("nan") << std::numeric_limits<double>::quiet_NaN() << QByteArray("NaN");
        QTest::newRow("+inf") << std::numeric_limits<double>::infinity() << QByteArray("+Inf");
        QTest::newRow("-inf") << -std::numeric_limits<double>::infinity() << QByteArray("-Inf");
    }
    void values()
    {
        QFETCH(double, value);
        QFETCH(QByteArray, text);
        QCOMPARE(OpenMetricsWriter::formatValue(value), text);
    }

    void bucketBoundsAreCanonical_data()
    {
        QTest::addColumn<double>("bound");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("60") << 60.0 << QByteArray("60.0");
        QTest::newRow("120") << 120.0 << QByteArray("120.0");
        QTest::newRow("half") << 0.5 << QByteArray("0.5");
        QTest::newRow("inf") << std::numeric_limits<double>::infinity() << QByteArray("+Inf");
    }
    void bucketBoundsAreCanonical()
    {
        QFETCH(double, bound);
        QFETCH(QByteArray, text);
        QCOMPARE(OpenMetricsWriter::formatBound(bound), text);
    }

    void histogramHasBucketsInfCountAndSum()
    {
        OpenMetricsWriter w;
        w.family(QStringLiteral("gd_dur_seconds"), QStringLiteral("histogram"), QStringLiteral("Durations."),
                 QStringLiteral("seconds"));
        w.histogram({}, {60, 120}, {1, 2}, 3, 250.5);
        QCOMPARE(w.finish(), QByteArray("# TYPE gd_dur_seconds histogram\n"
                                        "# UNIT gd_dur_seconds seconds\n"
                                        "# HELP gd_dur_seconds Durations.\n"
                                        "gd_dur_seconds_bucket{le=\"60.0\"} 1\n"
                                        "gd_dur_seconds_bucket{le=\"120.0\"} 2\n"
                                        "gd_dur_seconds_bucket{le=\"+Inf\"} 3\n"
                                        "gd_dur_seconds_count 3\n"
                                        "gd_dur_seconds_sum 250.5\n"
                                        "# EOF\n"));
    }

    void contentTypeIsOpenMetrics()
    {
        QCOMPARE(OpenMetricsWriter::contentType(),
                 QByteArray("application/openmetrics-text; version=1.0.0; charset=utf-8"));
    }
};

QTEST_GUILESS_MAIN(TestOpenMetricsWriter)
#include "tst_openmetricswriter.moc"
