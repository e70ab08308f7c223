#include "quality/EntityLinkage.h"

#include <QTest>

using gd::quality::EntityLinkage;

// Hand-computed examples of the entity-linkage rule (quality-kpis.md).
class TstEntityLinkage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void score_data()
    {
        QTest::addColumn<QStringList>("bible");
        QTest::addColumn<QStringList>("others");
        QTest::addColumn<QStringList>("scenes");
        QTest::addColumn<int>("numerator");
        QTest::addColumn<int>("denominator");
        QTest::addColumn<int>("scenesCounted");

        const QStringList bible{QStringLiteral("Mara Voss"), QStringLiteral("Ilya Brand")};
        // Full name counts once; first name case-insensitively; surname alone is no mention.
        QTest::newRow("full and first names") << bible << QStringList{}
                                              << QStringList{QStringLiteral("Mara Voss climbs. mara rests. Voss sleeps.")}
                                              << 2 << 2 << 1;
        // "She" after Mara in the same scene is linked; "they" before any name is not.
        QTest::newRow("pronoun after name") << bible << QStringList{}
                                            << QStringList{QStringLiteral("They wait. Mara climbs and she falls.")}
                                            << 2 << 3 << 1;
        // A pronoun in scene 2 is linked by a bible character of scene 1 (the previous scene)...
        QTest::newRow("previous scene") << bible << QStringList{}
                                        << QStringList{QStringLiteral("Ilya waits."), QStringLiteral("He runs.")}
                                        << 2 << 2 << 2;
        // ...but not by one two scenes back; the empty middle scene does not count.
        QTest::newRow("two scenes back") << bible << QStringList{}
                                         << QStringList{QStringLiteral("Ilya waits."), QStringLiteral("Fog rolls."),
                                                        QStringLiteral("He runs.")}
                                         << 1 << 2 << 2;
        // A character that is not in the bible is a mention that does not match, and does not link.
        QTest::newRow("non-bible character") << bible << QStringList{QStringLiteral("Tomas Kell")}
                                             << QStringList{QStringLiteral("Tomas shouts at him; Mara's lamp dies.")}
                                             << 1 << 3 << 1;
        // Possessive pronouns and "Mara's" count; words inside other words do not ("there", "Maraschino").
        QTest::newRow("word boundaries") << bible << QStringList{}
                                         << QStringList{QStringLiteral("Maraschino there. Mara's coat, her lamp, their boat.")}
                                         << 3 << 3 << 1;
        QTest::newRow("no mentions at all") << bible << QStringList{}
                                            << QStringList{QStringLiteral("Fog over water."), QStringLiteral("Waves.")}
                                            << 0 << 0 << 0;
    }

    void score()
    {
        QFETCH(QStringList, bible);
        QFETCH(QStringList, others);
        QFETCH(QStringList, scenes);
        QFETCH(int, numerator);
        QFETCH(int, denominator);
        QFETCH(int, scenesCounted);
        const auto c = EntityLinkage::compute(bible, others, scenes);
        QCOMPARE(c.numerator(), numerator);
        QCOMPARE(c.denominator(), denominator);
        QCOMPARE(c.scenesCounted, scenesCounted);
        if (denominator == 0)
            QVERIFY(!c.score().has_value());
        else
            QCOMPARE(*c.score(), double(numerator) / denominator);
    }

    void perSceneCounts()
    {
        QVector<gd::quality::EntityLinkageCounts> per;
        EntityLinkage::compute({QStringLiteral("Mara Voss")}, {},
                               {QStringLiteral("Mara waits."), QStringLiteral("Nothing."), QStringLiteral("She runs.")}, &per);
        QCOMPARE(per.size(), 3);
        QCOMPARE(per.at(0).numerator(), 1);
        QCOMPARE(per.at(1).denominator(), 0);
        QCOMPARE(per.at(2).denominator(), 1);
        QCOMPARE(per.at(2).numerator(), 0); // Mara is two scenes back
    }
};

QTEST_GUILESS_MAIN(TstEntityLinkage)
#include "tst_entitylinkage.moc"
