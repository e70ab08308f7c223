#pragma once

#include "pipeline/HealthProbe.h"

#include <QHash>
#include <QMainWindow>
#include <QPalette>
#include <functional>
#include <memory>

class QActionGroup;
class QDockWidget;
class QMenu;

namespace gd::log {
class LogSink;
}
namespace gd::pipeline {
class ConnectionMonitor;
class Settings;
} // namespace gd::pipeline

namespace gd::ui {
class ConnectionIndicators;
class LogPanel;
} // namespace gd::ui

namespace gd::studio {

// The desktop app's main window. It only assembles: panels go into dock widgets (arrangeable, remembered),
// the View menu lists them, Settings… and Quit, the log dock, the connection indicators in the status bar,
// the theme. Window geometry and dock layout are saved in the settings file on close and restored on start.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    // `logSink` may be null (no log dock content). The window does not own `settings`.
    MainWindow(pipeline::Settings& settings, std::shared_ptr<log::LogSink> logSink, QWidget* parent = nullptr);
    ~MainWindow() override;

    pipeline::Settings& settings() { return m_settings; }
    pipeline::ConnectionMonitor* connectionMonitor() const { return m_monitor; }
    ui::ConnectionIndicators* connectionIndicators() const { return m_indicators; }
    ui::LogPanel* logPanel() const { return m_logPanel; }

    // Wraps `panel` in a QDockWidget named `objectName` (unique: it keys the saved layout), titled `title`,
    // listed in the View menu. Where the saved layout knows the dock it goes back there, else into `area`
    // (as a tab beside `tabifyWith` when given).
    QDockWidget* addPanel(const QString& objectName, const QString& title, QWidget* panel, Qt::DockWidgetArea area,
                          QDockWidget* tabifyWith = nullptr);
    QDockWidget* dock(const QString& objectName) const { return m_docks.value(objectName); }
    QMenu* viewMenu() const { return m_viewMenu; }

    // Asked before the window closes (e.g. "a run is in progress: stop it?"); false keeps the window open.
    void setCloseGuard(std::function<bool()> guard) { m_closeGuard = std::move(guard); }

    // Opens the settings dialog (Ctrl+,); returns whether it was saved.
    bool showSettings();
    // "system" | "light" | "dark": applies the palette app-wide and saves the choice.
    void setTheme(const QString& theme);
    // Saves geometry and dock layout now (also done on close).
    void saveLayout();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    pipeline::HealthOptions healthOptions() const;
    void buildMenus();
    void restoreLayout();

    pipeline::Settings& m_settings;
    pipeline::ConnectionMonitor* m_monitor;
    ui::ConnectionIndicators* m_indicators;
    ui::LogPanel* m_logPanel;
    QMenu* m_viewMenu = nullptr;
    QMenu* m_panelsMenu = nullptr;
    QActionGroup* m_themeGroup = nullptr;
    QHash<QString, QDockWidget*> m_docks;
    QPalette m_systemPalette;
    std::function<bool()> m_closeGuard;
};

} // namespace gd::studio
