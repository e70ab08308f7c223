#include "quality/SceneDiversity.h"

#include <QTest>

#include <cmath>

using gd::quality::SceneDiversity;

class TstSceneDiversity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void figures_data()
    {
        QTest::addColumn<QVector<QStringList>>("tags");
        QTest::addColumn<double>("entropy");
        QTest::addColumn<double>("maxPossible");
        QTest::addColumn<double>("normalized"); // -1 = null
        QTest::addColumn<double>("repetition");

        const QString a = QStringLiteral("action");
        const QString b = QStringLiteral("drama");
        QTest::newRow("a,a,b,b") << QVector<QStringList>{{a, a}, {b, b}} << 1.0 << 2.0 << 0.5 << 0.5;
        QTest::newRow("four distinct") << QVector<QStringList>{{a, b}, {QStringLiteral("horror"), QStringLiteral("wonder")}}
                                       << 2.0 << 2.0 << 1.0 << 0.25;
        // 3 tags: MaxPossible = log2(3); a,a,b → H = 0.9183
        QTest::newRow("a,a,b") << QVector<QStringList>{{a}, {a, b}} << (-(2.0 / 3) * std::log2(2.0 / 3) - (1.0 / 3) * std::log2(1.0 / 3))
                               << std::log2(3.0) << (-(2.0 / 3) * std::log2(2.0 / 3) - (1.0 / 3) * std::log2(1.0 / 3)) / std::log2(3.0)
                               << 2.0 / 3;
        // Case and whitespace do not matter; unknown tags stay out of the multiset.
        QTest::newRow("normalised and unknown") << QVector<QStringList>{{QStringLiteral(" Action "), QStringLiteral("noir")}, {b}}
                                                << 1.0 << 1.0 << 1.0 << 0.5;
        QTest::newRow("single tag") << QVector<QStringList>{{a}} << 0.0 << 0.0 << -1.0 << 1.0;
        // 13 tags: MaxPossible is capped at log2(12).
        QVector<QStringList> many;
        for (const QString& t : SceneDiversity::vocabulary())
            many.append({t});
        many.append({a});
        QTest::newRow("capped at 12") << many << (-(2.0 / 13) * std::log2(2.0 / 13) - 11 * (1.0 / 13) * std::log2(1.0 / 13))
                                      << std::log2(12.0)
                                      << (-(2.0 / 13) * std::log2(2.0 / 13) - 11 * (1.0 / 13) * std::log2(1.0 / 13)) / std::log2(12.0)
                                      << 2.0 / 13;
    }

    void figures()
    {
        QFETCH(QVector<QStringList>, tags);
        QFETCH(double, entropy);
        QFETCH(double, maxPossible);
        QFETCH(double, normalized);
        QFETCH(double, repetition);
        const auto r = SceneDiversity::compute(tags);
        QVERIFY(r.entropyBits.has_value());
        QVERIFY(std::fabs(*r.entropyBits - entropy) < 1e-12);
        QVERIFY(std::fabs(*r.maxPossibleBits - maxPossible) < 1e-12);
        if (normalized < 0)
            QVERIFY(!r.normalized.has_value());
        else
            QVERIFY(std::fabs(*r.normalized - normalized) < 1e-12);
        QVERIFY(std::fabs(*r.maxRepetitionRatio - repetition) < 1e-12);
    }

    void noTagsIsUnmeasured()
    {
        const auto r = SceneDiversity::compute({{}, {QStringLiteral("noir")}});
        QCOMPARE(r.tagCount, 0);
        QVERIFY(!r.entropyBits && !r.maxPossibleBits && !r.normalized && !r.maxRepetitionRatio);
        QCOMPARE(r.ignoredTags, QStringList{QStringLiteral("noir")});
    }
};

QTEST_GUILESS_MAIN(TstSceneDiversity)
#include "tst_scenediversity.moc"
