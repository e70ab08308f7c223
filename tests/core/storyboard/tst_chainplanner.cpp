#include "StoryboardTestStory.h"
#include "storyboard/ChainPlanner.h"

#include <QTest>

using namespace gd::storyboard;

class TestChainPlanner : public QObject
{
    Q_OBJECT

private:
    // One scene of `n` shots; continues[i] is shot i+1's continuesFrom ("" = none).
    static gd::story::Story storyOf(const QStringList& continues)
    {
        gd::story::Story story;
        gd::story::StoryScene scene;
        scene.id = QStringLiteral("scene-001");
        for (int i = 0; i < continues.size(); ++i)
            scene.shots.append(sbtest::shot(QStringLiteral("shot-%1").arg(i + 1, 2, 10, QLatin1Char('0')),
                                            QStringLiteral("frame"), {}, continues.at(i)));
        story.scenes = {scene};
        return story;
    }

    static QString describe(const QVector<ChainLink>& links)
    {
        QStringList parts;
        for (const ChainLink& l : links)
            parts << (l.source == FirstFrameSource::Keyframe ? QStringLiteral("K") : QStringLiteral("L%1").arg(l.depth));
        return parts.join(u' ');
    }

private Q_SLOTS:
    void capRestartsTheChain_data()
    {
        QTest::addColumn<QStringList>("continues");
        QTest::addColumn<int>("cap");
        QTest::addColumn<QString>("expected");
        const QStringList straight{QString(), QStringLiteral("shot-01"), QStringLiteral("shot-02"),
                                   QStringLiteral("shot-03"), QStringLiteral("shot-04"), QStringLiteral("shot-05"),
                                   QStringLiteral("shot-06")};
        QTest::newRow("cap 3") << straight << 3 << QStringLiteral("K L1 L2 L3 K L1 L2");
        QTest::newRow("cap 1") << straight << 1 << QStringLiteral("K L1 K L1 K L1 K");
        QTest::newRow("cap 0 never chains") << straight << 0 << QStringLiteral("K K K K K K K");
        QTest::newRow("no continuesFrom") << QStringList{QString(), QString(), QString()} << 3 << QStringLiteral("K K K");
        QTest::newRow("branches share a parent")
            << QStringList{QString(), QStringLiteral("shot-01"), QStringLiteral("shot-01"), QStringLiteral("shot-03")} << 3
            << QStringLiteral("K L1 L1 L2");
    }

    void capRestartsTheChain()
    {
        QFETCH(QStringList, continues);
        QFETCH(int, cap);
        QFETCH(QString, expected);
        const gd::story::Story story = storyOf(continues);
        const QVector<ChainLink> links = ChainPlanner::plan(ShotList(story), cap);
        QCOMPARE(describe(links), expected);
    }

    void restartSaysWhyAndLinksNameTheirSource()
    {
        const gd::story::Story story = storyOf({QString(), QStringLiteral("shot-01"), QStringLiteral("shot-02"),
                                                QStringLiteral("shot-03"), QStringLiteral("shot-04")});
        const QVector<ChainLink> links = ChainPlanner::plan(ShotList(story));
        QCOMPARE(links.at(1).previousKey, QStringLiteral("scene-001/shot-01"));
        QVERIFY(links.at(1).reason.isEmpty());
        QCOMPARE(links.at(4).source, FirstFrameSource::Keyframe);
        QCOMPARE(links.at(4).reason, QStringLiteral("chain cap 3 reached"));
        QVERIFY(links.at(4).previousKey.isEmpty());
    }

    void continuesFromMustNameAnEarlierShot()
    {
        gd::story::Story story = storyOf({QStringLiteral("shot-02"), QString(), QStringLiteral("shot-09")});
        gd::story::StoryScene two;
        two.id = QStringLiteral("scene-002");
        two.shots = {sbtest::shot(QStringLiteral("shot-01"), QStringLiteral("f"), {}, QStringLiteral("scene-001/shot-02"))};
        story.scenes.append(two);
        const QVector<ChainLink> links = ChainPlanner::plan(ShotList(story));
        QCOMPARE(links.at(0).source, FirstFrameSource::Keyframe);
        QCOMPARE(links.at(0).reason, QStringLiteral("continuesFrom 'shot-02' is not an earlier shot"));
        QCOMPARE(links.at(2).reason, QStringLiteral("continuesFrom 'shot-09' is not an earlier shot"));
        // Across scenes by full key.
        QCOMPARE(links.at(3).source, FirstFrameSource::PreviousLastFrame);
        QCOMPARE(links.at(3).previousKey, QStringLiteral("scene-001/shot-02"));
    }
};

QTEST_GUILESS_MAIN(TestChainPlanner)
#include "tst_chainplanner.moc"
