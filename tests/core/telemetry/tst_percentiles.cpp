#include "telemetry/Percentiles.h"

#include <QTest>
#include <limits>

using gd::telemetry::Percentiles;

// Nearest-rank percentiles (contract §6): the P50/P95/P99 a sweep report prints.
class TestPercentiles : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nearestRank_data();
    void nearestRank();
    void emptyInputHasNoPercentile();
    void nonFiniteValuesAreIgnored();
};

void TestPercentiles::nearestRank_data()
{
    QTest::addColumn<QVector<double>>("values");
    QTest::addColumn<double>("percentile");
    QTest::addColumn<double>("expected");

    QVector<double> twenty;
    for (int i = 20; i >= 1; --i) // unsorted on purpose: the function sorts
        twenty.append(i);

    QTest::newRow("n=1 p50") << QVector<double>{7.5} << 50.0 << 7.5;
    QTest::newRow("n=1 p95") << QVector<double>{7.5} << 95.0 << 7.5;
    QTest::newRow("n=1 p99") << QVector<double>{7.5} << 99.0 << 7.5;
    // n=20: ceil(0.5·20)−1 = 9 -> 10; ceil(0.95·20)−1 = 18 -> 19; ceil(0.99·20)−1 = 19 -> 20.
    QTest::newRow("n=20 p50") << twenty << 50.0 << 10.0;
    QTest::newRow("n=20 p95") << twenty << 95.0 << 19.0;
    QTest::newRow("n=20 p99") << twenty << 99.0 << 20.0;
    QTest::newRow("n=20 p100") << twenty << 100.0 << 20.0;
    QTest::newRow("n=20 p0 clamps to min") << twenty << 0.0 << 1.0;
    // n=3: p50 -> ceil(1.5)−1 = 1 (the middle); p95 -> ceil(2.85)−1 = 2.
    QTest::newRow("n=3 p50") << QVector<double>{30, 10, 20} << 50.0 << 20.0;
    QTest::newRow("n=3 p95") << QVector<double>{30, 10, 20} << 95.0 << 30.0;
    // n=4: p50 -> ceil(2)−1 = 1: nearest rank does not average the two middle values.
    QTest::newRow("n=4 p50 no interpolation") << QVector<double>{1, 2, 3, 4} << 50.0 << 2.0;
    QTest::newRow("duplicates") << QVector<double>{5, 5, 5, 9} << 95.0 << 9.0;
    QTest::newRow("above 100 clamps") << QVector<double>{1, 2} << 150.0 << 2.0;
}

void TestPercentiles::nearestRank()
{
    QFETCH(QVector<double>, values);
    QFETCH(double, percentile);
    QFETCH(double, expected);
    const std::optional<double> p = Percentiles::nearestRank(values, percentile);
    QVERIFY(p.has_value());
    QCOMPARE(*p, expected);
}

void TestPercentiles::emptyInputHasNoPercentile()
{
    QVERIFY(!Percentiles::nearestRank({}, 50).has_value());
    QVERIFY(!Percentiles::nearestRank({}, 95).has_value());
}

void TestPercentiles::nonFiniteValuesAreIgnored()
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    QCOMPARE(Percentiles::nearestRank({nan, 3, inf, 1, 2}, 99).value(), 3.0);
    QVERIFY(!Percentiles::nearestRank({nan}, 50).has_value());
}

QTEST_GUILESS_MAIN(TestPercentiles)
#include "tst_percentiles.moc"
