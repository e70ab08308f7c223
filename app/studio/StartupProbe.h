#pragma once

#include <QElapsedTimer>
#include <QObject>

class QWidget;

namespace gd::studio {

// Start-up timing for the desktop benchmark (tests/bench/bench_studio): with GD_STARTUP_PROBE set, the app
// prints one line once the main window was exposed, painted and the event loop then ran idle (a zero timer
// fired after the first paint), and quits with exit 0. Times are milliseconds since main() was entered:
//   startup: exposed_ms=<t> painted_ms=<t> idle_ms=<t>
class StartupProbe : public QObject
{
    Q_OBJECT
public:
    static bool requested();

    // `sinceMain` was started at the top of main(). Construct before `window` is shown.
    StartupProbe(QWidget* window, const QElapsedTimer& sinceMain, QObject* parent = nullptr);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void onIdle();

    QElapsedTimer m_sinceMain;
    qint64 m_exposedMs = -1;
    qint64 m_paintedMs = -1;
};

} // namespace gd::studio
