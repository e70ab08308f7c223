#include "common/ConnectionIndicators.h"

#include "common/StatusColor.h"
#include "pipeline/ConnectionMonitor.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QPainter>
#include <QPixmap>
#include <QToolButton>

namespace gd::ui {

namespace {
QString title(const QString& component)
{
    if (component == QLatin1String("llm"))
        return QStringLiteral("LLM");
    if (component == QLatin1String("comfyui"))
        return QStringLiteral("ComfyUI");
    return QStringLiteral("GPU");
}

QString meaning(const QString& status)
{
    if (status == QLatin1String("ok"))
        return QStringLiteral("reachable and working");
    if (status == QLatin1String("degraded"))
        return QStringLiteral("reachable, but something needs attention");
    if (status == QLatin1String("down"))
        return QStringLiteral("not reachable");
    if (status == QLatin1String("skipped"))
        return QStringLiteral("not checked");
    return QStringLiteral("not checked yet");
}
} // namespace

ConnectionIndicators::ConnectionIndicators(pipeline::ConnectionMonitor* monitor, QWidget* parent)
    : QWidget(parent), m_monitor(monitor)
{
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto make = [&](const char* name, const QString& component) {
        auto* b = new QToolButton(this);
        b->setObjectName(QLatin1String(name));
        b->setAutoRaise(true);
        b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        b->setText(title(component));
        b->setProperty("component", component);
        b->setAccessibleName(title(component) + QStringLiteral(" connection"));
        connect(b, &QToolButton::clicked, m_monitor, &pipeline::ConnectionMonitor::checkNow);
        layout->addWidget(b);
        return b;
    };
    m_llm = make("indicatorLlm", QStringLiteral("llm"));
    m_comfy = make("indicatorComfy", QStringLiteral("comfyui"));
    m_gpu = make("indicatorGpu", QStringLiteral("gpu"));
    connect(m_monitor, &pipeline::ConnectionMonitor::checkStarted, this, [this] {
        m_checking = true;
        render();
    });
    connect(m_monitor, &pipeline::ConnectionMonitor::updated, this, [this] {
        m_checking = false;
        render();
    });
    render();
}

QToolButton* ConnectionIndicators::indicator(const QString& component) const
{
    if (component == QLatin1String("llm"))
        return m_llm;
    if (component == QLatin1String("comfyui"))
        return m_comfy;
    if (component == QLatin1String("gpu"))
        return m_gpu;
    return nullptr;
}

void ConnectionIndicators::changeEvent(QEvent* event)
{
    // Status colours are chosen per palette: re-render when the theme switches.
    if (event->type() == QEvent::PaletteChange)
        render();
    QWidget::changeEvent(event);
}

void ConnectionIndicators::render()
{
    for (QToolButton* b : {m_llm, m_comfy, m_gpu})
        renderOne(b, m_monitor->latest(b->property("component").toString()));
}

void ConnectionIndicators::renderOne(QToolButton* button, const pipeline::HealthItem& item)
{
    const QColor c = StatusColor::color(StatusColor::fromText(item.status), palette());
    const int size = 12;
    QPixmap dot(size * 2, size * 2);
    dot.setDevicePixelRatio(2.0);
    dot.fill(Qt::transparent);
    {
        QPainter p(&dot);
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(QPen(c.darker(130), 1));
        p.setBrush(c);
        p.drawEllipse(QRectF(1.5, 1.5, size - 3, size - 3));
    }
    button->setIcon(QIcon(dot));
    button->setProperty("status", item.status);
    QString tip = QStringLiteral("<b>%1: %2</b><br>%3").arg(title(item.component), meaning(item.status),
                                                           item.detail.toHtmlEscaped());
    if (m_monitor->lastChecked().isValid())
        tip += QStringLiteral("<br><i>Last checked %1.</i>").arg(m_monitor->lastChecked().toString(QStringLiteral("HH:mm:ss")));
    tip += m_checking ? QStringLiteral("<br>Checking now…") : QStringLiteral("<br>Click to check again now.");
    tip += QStringLiteral("<br><small>Green: working · amber: needs attention · red: unreachable · grey: not checked.</small>");
    button->setToolTip(tip);
}

} // namespace gd::ui
