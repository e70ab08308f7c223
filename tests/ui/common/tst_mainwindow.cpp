#include "MainWindow.h"

#include "common/Log.h"
#include "common/LogSink.h"
#include "log/LogPanel.h"
#include "pipeline/Settings.h"

#include <QAbstractItemView>
#include <QAction>
#include <QDockWidget>
#include <QLabel>
#include <QMenu>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using gd::pipeline::Settings;
using gd::studio::MainWindow;

class TestMainWindow : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    static QStringList viewMenuEntries(MainWindow& w)
    {
        QStringList out;
        for (QAction* a : w.findChildren<QAction*>()) {
            if (a->objectName().startsWith(QLatin1String("actionShow_")))
                out << a->text();
        }
        out.sort();
        return out;
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void panelsAreDocksListedInTheViewMenu()
    {
        Settings settings(m_dir.filePath(QStringLiteral("panels.ini")));
        MainWindow w(settings, nullptr);
        QDockWidget* dock = w.addPanel(QStringLiteral("storyDock"), QStringLiteral("Story"), new QLabel(QStringLiteral("story")),
                                       Qt::LeftDockWidgetArea);
        QCOMPARE(dock->objectName(), QStringLiteral("storyDock"));
        QCOMPARE(w.dockWidgetArea(dock), Qt::LeftDockWidgetArea);
        QCOMPARE(w.dock(QStringLiteral("storyDock")), dock);
        QCOMPARE(viewMenuEntries(w), (QStringList{QStringLiteral("Log"), QStringLiteral("Story")}));
        QCOMPARE(&w.settings(), &settings);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(!dock->isHidden());
        w.findChild<QAction*>(QStringLiteral("actionShow_storyDock"))->trigger();
        QVERIFY(dock->isHidden());
    }

    void layoutIsRestoredByTheNextInstance()
    {
        const QString file = m_dir.filePath(QStringLiteral("layout.ini"));
        {
            Settings settings(file);
            MainWindow w(settings, nullptr);
            w.addPanel(QStringLiteral("storyDock"), QStringLiteral("Story"), new QLabel, Qt::LeftDockWidgetArea);
            QDockWidget* watcher = w.addPanel(QStringLiteral("watcherDock"), QStringLiteral("Scenes"), new QLabel,
                                              Qt::LeftDockWidgetArea);
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            // The operator moves the scenes panel to the right and closes the story panel.
            w.addDockWidget(Qt::RightDockWidgetArea, watcher);
            w.dock(QStringLiteral("storyDock"))->close();
            w.resize(1111, 777);
            QVERIFY(w.close());
        }
        Settings settings(file);
        MainWindow w(settings, nullptr);
        QDockWidget* story = w.addPanel(QStringLiteral("storyDock"), QStringLiteral("Story"), new QLabel, Qt::LeftDockWidgetArea);
        QDockWidget* watcher =
            w.addPanel(QStringLiteral("watcherDock"), QStringLiteral("Scenes"), new QLabel, Qt::LeftDockWidgetArea);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QCOMPARE(w.dockWidgetArea(watcher), Qt::RightDockWidgetArea);
        QVERIFY(story->isHidden());
        QVERIFY(!watcher->isHidden());
        QCOMPARE(w.size(), QSize(1111, 777));
    }

    void themeChoiceIsSavedAndApplied()
    {
        const QString file = m_dir.filePath(QStringLiteral("theme.ini"));
        {
            Settings settings(file);
            MainWindow w(settings, nullptr);
            w.findChild<QAction*>(QStringLiteral("actionTheme_dark"))->trigger();
            QVERIFY(QApplication::palette().color(QPalette::Window).lightnessF() < 0.5);
            w.findChild<QAction*>(QStringLiteral("actionTheme_light"))->trigger();
            QVERIFY(QApplication::palette().color(QPalette::Window).lightnessF() > 0.5);
            w.findChild<QAction*>(QStringLiteral("actionTheme_dark"))->trigger();
        }
        Settings settings(file);
        QCOMPARE(settings.string(Settings::Key::Theme), QStringLiteral("dark"));
        MainWindow w(settings, nullptr);
        QVERIFY(w.findChild<QAction*>(QStringLiteral("actionTheme_dark"))->isChecked());
    }

    void logDockShowsTheSinksRecords()
    {
        auto sink = std::make_shared<gd::log::LogSink>(100);
        gd::log::addSink(sink);
        auto logger = gd::log::get("app");
        logger->set_level(spdlog::level::info);
        logger->warn("before the window");
        Settings settings(m_dir.filePath(QStringLiteral("log.ini")));
        MainWindow w(settings, sink);
        QVERIFY(w.dock(QStringLiteral("logDock")));
        logger->warn("after the window");
        auto* model = w.logPanel()->findChild<QAbstractItemView*>(QStringLiteral("logView"))->model();
        auto lines = [model] {
            QStringList out;
            for (int r = 0; r < model->rowCount(); ++r)
                out << model->index(r, 0).data().toString();
            return out.join(QLatin1Char('\n'));
        };
        QTRY_VERIFY(lines().contains(QLatin1String("after the window")));
        QVERIFY(lines().contains(QLatin1String("before the window")));
        gd::log::removeSink(sink);
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
