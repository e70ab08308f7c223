#include "common/Log.h"
#include "common/LogSink.h"
#include "log/LogPanel.h"

#include <QComboBox>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QTest>
#include <QToolButton>
#include <thread>

using gd::ui::LogPanel;

class TestLogPanel : public QObject
{
    Q_OBJECT
private:
    static QStringList visibleLines(LogPanel& panel)
    {
        QStringList out;
        auto* model = panel.view()->model();
        for (int r = 0; r < model->rowCount(); ++r)
            out << model->index(r, 0).data().toString();
        return out;
    }

private Q_SLOTS:
    void showsRecordsLoggedOnAnotherThreadAndFilters()
    {
        auto sink = std::make_shared<gd::log::LogSink>(1000);
        gd::log::addSink(sink);
        auto comfy = gd::log::get("comfy");
        comfy->set_level(spdlog::level::debug);
        LogPanel panel;
        panel.attach(sink);
        panel.show();
        std::thread worker([comfy] {
            comfy->debug("websocket frame parsed");
            comfy->info("prompt abc queued");
            comfy->warn("history still empty for abc");
            comfy->error("ComfyUI answered 500");
        });
        worker.join();
        // Default filter: INFO and above.
        QTRY_COMPARE(visibleLines(panel).size(), 3);
        QVERIFY(visibleLines(panel).at(0).contains(QLatin1String("[comfy] prompt abc queued")));

        auto* level = panel.findChild<QComboBox*>(QStringLiteral("levelFilter"));
        QVERIFY(level);
        level->setCurrentIndex(level->findData(int(gd::log::LogLevel::Debug)));
        QCOMPARE(visibleLines(panel).size(), 4);
        level->setCurrentIndex(level->findData(int(gd::log::LogLevel::Error)));
        QCOMPARE(visibleLines(panel).size(), 1);
        QVERIFY(visibleLines(panel).at(0).contains(QLatin1String("500")));

        level->setCurrentIndex(level->findData(int(gd::log::LogLevel::Trace)));
        auto* search = panel.findChild<QLineEdit*>(QStringLiteral("searchBox"));
        QTest::keyClicks(search, QStringLiteral("HISTORY"));
        QCOMPARE(visibleLines(panel).size(), 1);
        QVERIFY(visibleLines(panel).at(0).contains(QLatin1String("history still empty")));
        search->clear();

        // Pause holds new lines; resume shows them.
        auto* pause = panel.findChild<QToolButton*>(QStringLiteral("pauseButton"));
        QTest::mouseClick(pause, Qt::LeftButton);
        comfy->info("arrived while paused");
        QTest::qWait(50);
        QCOMPARE(visibleLines(panel).size(), 4);
        QTest::mouseClick(pause, Qt::LeftButton);
        QCOMPARE(visibleLines(panel).size(), 5);
        QVERIFY(visibleLines(panel).last().contains(QLatin1String("arrived while paused")));

        QTest::mouseClick(panel.findChild<QPushButton*>(QStringLiteral("clearButton")), Qt::LeftButton);
        QCOMPARE(visibleLines(panel).size(), 0);
        gd::log::removeSink(sink);
    }

    void keepsAtMostItsCapacity()
    {
        auto sink = std::make_shared<gd::log::LogSink>(100000);
        gd::log::addSink(sink);
        auto app = gd::log::get("app");
        app->set_level(spdlog::level::info);
        LogPanel panel;
        panel.attach(sink);
        const int total = panel.capacity() + 500;
        std::thread worker([app, total] {
            for (int i = 0; i < total; ++i)
                app->info("line {}", i);
        });
        worker.join();
        const QString last = QStringLiteral("line %1").arg(total - 1);
        QTRY_VERIFY(!visibleLines(panel).isEmpty() && visibleLines(panel).last().endsWith(last));
        QCOMPARE(visibleLines(panel).size(), panel.capacity());
        QVERIFY(visibleLines(panel).first().endsWith(QStringLiteral("line %1").arg(total - panel.capacity())));
        gd::log::removeSink(sink);
    }
};

QTEST_MAIN(TestLogPanel)
#include "tst_logpanel.moc"
