#include "MainWindow.h"

#include "common/ConnectionIndicators.h"
#include "common/ThemePalette.h"
#include "log/LogPanel.h"
#include "pipeline/ConnectionMonitor.h"
#include "pipeline/Settings.h"
#include "settings/SettingsDialog.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
#include <QSettings>
#include <QStatusBar>

namespace gd::studio {

namespace {
// The layout lives in the same file as the settings, in a group of its own; bump when dock names change
// incompatibly so an old layout is ignored rather than half-applied.
constexpr int kLayoutVersion = 1;
const char* const kGeometryKey = "window/geometry";
const char* const kStateKey = "window/state";
} // namespace

MainWindow::MainWindow(pipeline::Settings& settings, std::shared_ptr<log::LogSink> logSink, QWidget* parent)
    : QMainWindow(parent),
      m_settings(settings),
      m_monitor(new pipeline::ConnectionMonitor(this)),
      m_indicators(nullptr),
      m_logPanel(new ui::LogPanel(this)),
      m_systemPalette(QApplication::palette())
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(QStringLiteral("gemDirect Studio"));
    setDockNestingEnabled(true);
    resize(1280, 800);

    m_monitor->setOptions(healthOptions());
    m_indicators = new ui::ConnectionIndicators(m_monitor, this);
    m_indicators->setObjectName(QStringLiteral("connectionIndicators"));
    statusBar()->addPermanentWidget(m_indicators);
    // A changed URL, token or workflow is checked at once (debounced by the monitor).
    connect(&m_settings, &pipeline::Settings::changed, this, [this](pipeline::Settings::Key key) {
        if (key == pipeline::Settings::Key::Theme) {
            ui::ThemePalette::apply(m_settings.string(key), m_systemPalette);
            return;
        }
        m_monitor->setOptions(healthOptions());
    });

    buildMenus();
    if (logSink)
        m_logPanel->attach(std::move(logSink));
    addPanel(QStringLiteral("logDock"), QStringLiteral("Log"), m_logPanel, Qt::BottomDockWidgetArea);
    restoreLayout();
    ui::ThemePalette::apply(m_settings.string(pipeline::Settings::Key::Theme), m_systemPalette);
    m_monitor->start();
}

MainWindow::~MainWindow() = default;

pipeline::HealthOptions MainWindow::healthOptions() const
{
    pipeline::HealthOptions o = m_settings.healthOptions();
    o.timeoutMs = 8000; // a status-bar check answers within seconds or counts as down
    return o;
}

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(QStringLiteral("&File"));
    QAction* settingsAction = file->addAction(QStringLiteral("&Settings…"));
    settingsAction->setObjectName(QStringLiteral("actionSettings"));
    settingsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    settingsAction->setMenuRole(QAction::PreferencesRole);
    connect(settingsAction, &QAction::triggered, this, &MainWindow::showSettings);
    file->addSeparator();
    QAction* quit = file->addAction(QStringLiteral("&Quit"));
    quit->setObjectName(QStringLiteral("actionQuit"));
    quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    quit->setMenuRole(QAction::QuitRole);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    m_viewMenu = menuBar()->addMenu(QStringLiteral("&View"));
    m_viewMenu->setObjectName(QStringLiteral("viewMenu"));
    m_panelsMenu = m_viewMenu->addMenu(QStringLiteral("&Panels"));
    QMenu* theme = m_viewMenu->addMenu(QStringLiteral("&Theme"));
    m_themeGroup = new QActionGroup(this);
    const QString current = m_settings.string(pipeline::Settings::Key::Theme);
    for (const QString& t : pipeline::Settings::choices(pipeline::Settings::Key::Theme)) {
        QAction* a = theme->addAction(t.left(1).toUpper() + t.mid(1));
        a->setObjectName(QStringLiteral("actionTheme_") + t);
        a->setCheckable(true);
        a->setChecked(t == current);
        a->setData(t);
        m_themeGroup->addAction(a);
        connect(a, &QAction::triggered, this, [this, t] { setTheme(t); });
    }
    m_viewMenu->addSeparator();
    QAction* check = m_viewMenu->addAction(QStringLiteral("Check &connections now"));
    check->setObjectName(QStringLiteral("actionCheckConnections"));
    check->setShortcut(QKeySequence(Qt::Key_F5));
    connect(check, &QAction::triggered, m_monitor, &pipeline::ConnectionMonitor::checkNow);
}

QDockWidget* MainWindow::addPanel(const QString& objectName, const QString& title, QWidget* panel, Qt::DockWidgetArea area,
                                  QDockWidget* tabifyWith)
{
    auto* dockWidget = new QDockWidget(title, this);
    dockWidget->setObjectName(objectName);
    dockWidget->setWidget(panel);
    dockWidget->setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable |
                            QDockWidget::DockWidgetFloatable);
    // Panels added after the layout was restored take their saved place when it knows them.
    if (!restoreDockWidget(dockWidget)) {
        addDockWidget(area, dockWidget);
        if (tabifyWith) {
            tabifyDockWidget(tabifyWith, dockWidget);
            dockWidget->raise();
        }
    }
    QAction* toggle = dockWidget->toggleViewAction();
    toggle->setObjectName(QStringLiteral("actionShow_") + objectName);
    m_panelsMenu->addAction(toggle);
    m_docks.insert(objectName, dockWidget);
    return dockWidget;
}

bool MainWindow::showSettings()
{
    ui::SettingsDialog dialog(m_settings, this);
    return dialog.exec() == QDialog::Accepted;
}

void MainWindow::setTheme(const QString& theme)
{
    m_settings.set(pipeline::Settings::Key::Theme, theme); // changed() applies the palette
    for (QAction* a : m_themeGroup->actions())
        a->setChecked(a->data().toString() == theme);
    ui::ThemePalette::apply(theme, m_systemPalette);
}

void MainWindow::restoreLayout()
{
    QSettings store(m_settings.filePath(), QSettings::IniFormat);
    const QByteArray geometry = store.value(QLatin1String(kGeometryKey)).toByteArray();
    if (!geometry.isEmpty())
        restoreGeometry(geometry);
    const QByteArray state = store.value(QLatin1String(kStateKey)).toByteArray();
    if (!state.isEmpty())
        restoreState(state, kLayoutVersion);
}

void MainWindow::saveLayout()
{
    QSettings store(m_settings.filePath(), QSettings::IniFormat);
    store.setValue(QLatin1String(kGeometryKey), saveGeometry());
    store.setValue(QLatin1String(kStateKey), saveState(kLayoutVersion));
    store.sync();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (m_closeGuard && !m_closeGuard()) {
        event->ignore();
        return;
    }
    saveLayout();
    m_monitor->stop();
    event->accept();
}

} // namespace gd::studio
