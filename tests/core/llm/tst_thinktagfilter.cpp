#include "llm/ThinkTagFilter.h"

#include <QtTest>

using gd::llm::ThinkTagFilter;

// ThinkTagFilter: inline reasoning never reaches story text, however the deltas are cut.
class TstThinkTagFilter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void split_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("reasoning");
        QTest::newRow("no think") << QStringLiteral("Once upon a <b>time</b> < 3")
                                  << QStringLiteral("Once upon a <b>time</b> < 3") << QString();
        QTest::newRow("leading think")
            << QStringLiteral("<think>plan the plot</think>\n\nOnce upon a time")
            << QStringLiteral("Once upon a time") << QStringLiteral("plan the plot");
        QTest::newRow("think in the middle")
            << QStringLiteral("A<think>x</think>B") << QStringLiteral("AB") << QStringLiteral("x");
        QTest::newRow("unterminated think")
            << QStringLiteral("<think>still thinking <") << QString() << QStringLiteral("still thinking <");
        QTest::newRow("text ending in tag prefix")
            << QStringLiteral("The end <thi") << QStringLiteral("The end <thi") << QString();
        QTest::newRow("json after think") << QStringLiteral("<think>{}</think>{\"title\":\"x\"}")
                                          << QStringLiteral("{\"title\":\"x\"}") << QStringLiteral("{}");
    }

    void split()
    {
        QFETCH(QString, text);
        QFETCH(QString, content);
        QFETCH(QString, reasoning);
        for (int chunk : {0, 1, 2, 3, 5}) {
            ThinkTagFilter filter;
            QString gotContent;
            QString gotReasoning;
            const int step = chunk == 0 ? int(text.size()) + 1 : chunk;
            for (qsizetype i = 0; i < text.size(); i += step) {
                const auto out = filter.feed(text.mid(i, step));
                gotContent += out.content;
                gotReasoning += out.reasoning;
                QVERIFY2(!out.content.contains(QStringLiteral("<think")), qPrintable(out.content));
            }
            const auto tail = filter.flush();
            gotContent += tail.content;
            gotReasoning += tail.reasoning;
            QCOMPARE(gotContent, content);
            QCOMPARE(gotReasoning, reasoning);
        }
    }
};

QTEST_GUILESS_MAIN(TstThinkTagFilter)
#include "tst_thinktagfilter.moc"
