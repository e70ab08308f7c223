#include "storyboard/StatusBadge.h"

#include <QPainter>

namespace gd::ui {

StatusBadge::StatusBadge(const QString& objectName, QWidget* parent) : QLabel(parent)
{
    setObjectName(objectName);
    setTextFormat(Qt::PlainText);
    setAlignment(Qt::AlignCenter);
    hide();
}

void StatusBadge::set(const QString& text, StatusColor::Status status, const QString& toolTip)
{
    // Painted, not style-sheeted: a style sheet per badge re-polishes it, tens of ms over a grid.
    if (status != m_status) {
        m_status = status;
        update();
    }
    if (text != this->text())
        setText(text);
    if (toolTip != this->toolTip())
        setToolTip(toolTip);
    setVisible(!text.isEmpty());
}

QSize StatusBadge::sizeHint() const
{
    const QFontMetrics fm = fontMetrics();
    return {fm.horizontalAdvance(text()) + 12, fm.height() + 2};
}

QSize StatusBadge::minimumSizeHint() const
{
    return sizeHint();
}

void StatusBadge::paintEvent(QPaintEvent*)
{
    // Fixed fills with black or white text: the same contrast on every palette.
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QColor fill = StatusColor::fill(m_status);
    p.setPen(Qt::NoPen);
    p.setBrush(fill);
    p.drawRoundedRect(QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4);
    p.setPen(StatusColor::textOn(fill));
    p.drawText(rect(), Qt::AlignCenter, text());
}

StatusColor::Status StatusBadge::freshnessStatus(const QString& freshness)
{
    if (freshness == QLatin1String("fresh"))
        return StatusColor::Status::Ok;
    if (freshness == QLatin1String("stale"))
        return StatusColor::Status::Warning;
    if (freshness == QLatin1String("blocked"))
        return StatusColor::Status::Bad;
    return StatusColor::Status::Unknown;
}

} // namespace gd::ui
