#include "StartupProbe.h"

#include <QCoreApplication>
#include <QEvent>
#include <QTimer>
#include <QWindow>
#include <QWidget>
#include <cstdio>

namespace gd::studio {

bool StartupProbe::requested()
{
    return !qEnvironmentVariableIsEmpty("GD_STARTUP_PROBE");
}

StartupProbe::StartupProbe(QWidget* window, const QElapsedTimer& sinceMain, QObject* parent)
    : QObject(parent), m_sinceMain(sinceMain)
{
    // Expose goes to the native window, paint to the widget: watch both. The native window is created
    // here, before show(), so its first expose cannot be missed.
    window->createWinId();
    if (window->windowHandle())
        window->windowHandle()->installEventFilter(this);
    window->installEventFilter(this);
}

bool StartupProbe::eventFilter(QObject* watched, QEvent* event)
{
    if (event->type() == QEvent::Expose && m_exposedMs < 0)
        m_exposedMs = m_sinceMain.elapsed();
    if (event->type() == QEvent::Paint && m_paintedMs < 0) {
        m_paintedMs = m_sinceMain.elapsed();
        // Queued behind whatever the first paint left in the event queue: when it fires, the loop is idle.
        QTimer::singleShot(0, this, &StartupProbe::onIdle);
    }
    return QObject::eventFilter(watched, event);
}

void StartupProbe::onIdle()
{
    std::printf("startup: exposed_ms=%lld painted_ms=%lld idle_ms=%lld\n", static_cast<long long>(m_exposedMs),
                static_cast<long long>(m_paintedMs), static_cast<long long>(m_sinceMain.elapsed()));
    std::fflush(stdout);
    QCoreApplication::exit(0);
}

} // namespace gd::studio
