#include "feedback/StarRating.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QStyleOptionFocusRect>
#include <QStylePainter>
#include <QtMath>

namespace gd::ui {

namespace {

QPainterPath starPath(const QRectF& box)
{
    QPainterPath path;
    const QPointF c = box.center();
    const double outer = box.width() / 2.0;
    const double inner = outer * 0.45;
    for (int i = 0; i < 10; ++i) {
        const double r = i % 2 == 0 ? outer : inner;
        const double a = -M_PI / 2 + i * M_PI / 5;
        const QPointF p(c.x() + r * std::cos(a), c.y() + r * std::sin(a));
        i == 0 ? path.moveTo(p) : path.lineTo(p);
    }
    path.closeSubpath();
    return path;
}

} // namespace

StarRating::StarRating(QWidget* parent) : QWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    updateAccessibleText();
}

int StarRating::starSize() const
{
    return std::max(20, fontMetrics().height() + 8);
}

QSize StarRating::sizeHint() const
{
    const int s = starSize();
    return QSize(kStars * (s + 4) + 8, s + 8);
}

QSize StarRating::minimumSizeHint() const
{
    return sizeHint();
}

QRect StarRating::starRect(int star) const
{
    const int s = starSize();
    return QRect(4 + (star - 1) * (s + 4), 4, s, s);
}

int StarRating::starAt(const QPoint& pos) const
{
    for (int star = 1; star <= kStars; ++star)
        if (starRect(star).adjusted(-2, -4, 2, 4).contains(pos))
            return star;
    return 0;
}

void StarRating::setValue(int value)
{
    value = std::clamp(value, 0, kStars);
    if (value == m_value)
        return;
    m_value = value;
    updateAccessibleText();
    update();
    Q_EMIT valueChanged(value);
}

void StarRating::setClearable(bool clearable)
{
    m_clearable = clearable;
    updateAccessibleText();
}

void StarRating::setDescription(const QString& description)
{
    m_description = description;
    setAccessibleName(description);
    updateAccessibleText();
}

void StarRating::updateAccessibleText()
{
    const QString text = m_value == 0 ? QStringLiteral("not rated")
                                      : QStringLiteral("%1 of %2 stars").arg(m_value).arg(kStars);
    setAccessibleDescription(text);
    const QString how = QStringLiteral("Click a star or press 1–5%1")
                            .arg(m_clearable ? QStringLiteral("; click it again or press 0 to clear") : QString());
    setToolTip(m_description.isEmpty() ? QString(how + QStringLiteral("\nNow: ") + text)
                                       : QString(m_description + QStringLiteral("\n") + how +
                                                 QStringLiteral("\nNow: ") + text));
}

void StarRating::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const int shown = m_hover > 0 ? m_hover : m_value;
    // Gold fill reads on light and dark palettes; the outline follows the palette's text colour.
    const QColor gold(0xf5, 0xa6, 0x23);
    QColor outline = palette().color(isEnabled() ? QPalette::Active : QPalette::Disabled, QPalette::WindowText);
    for (int star = 1; star <= kStars; ++star) {
        const QPainterPath path = starPath(QRectF(starRect(star)));
        if (star <= shown)
            p.fillPath(path, m_hover > 0 && star > m_value ? gold.lighter(130) : gold);
        p.setPen(QPen(star <= shown ? gold.darker(140) : outline, 1.2));
        p.drawPath(path);
    }
    if (hasFocus()) {
        QStyleOptionFocusRect focus;
        focus.initFrom(this);
        focus.rect = rect().adjusted(1, 1, -1, -1);
        style()->drawPrimitive(QStyle::PE_FrameFocusRect, &focus, &p, this);
    }
}

void StarRating::mousePressEvent(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton) {
        QWidget::mousePressEvent(event);
        return;
    }
    const int star = starAt(event->position().toPoint());
    if (star == 0)
        return;
    setValue(m_clearable && star == m_value ? 0 : star);
}

void StarRating::mouseMoveEvent(QMouseEvent* event)
{
    const int star = starAt(event->position().toPoint());
    if (star != m_hover) {
        m_hover = star;
        update();
    }
}

void StarRating::leaveEvent(QEvent*)
{
    m_hover = 0;
    update();
}

void StarRating::keyPressEvent(QKeyEvent* event)
{
    const int key = event->key();
    if (key >= Qt::Key_1 && key <= Qt::Key_5) {
        setValue(key - Qt::Key_0);
    } else if (key == Qt::Key_Right || key == Qt::Key_Up || key == Qt::Key_Plus) {
        setValue(std::max(1, m_value + 1));
    } else if (key == Qt::Key_Left || key == Qt::Key_Down || key == Qt::Key_Minus) {
        setValue(std::max(m_clearable ? 0 : 1, m_value - 1));
    } else if (key == Qt::Key_Home) {
        setValue(1);
    } else if (key == Qt::Key_End) {
        setValue(kStars);
    } else if (m_clearable && (key == Qt::Key_0 || key == Qt::Key_Backspace || key == Qt::Key_Delete)) {
        setValue(0);
    } else {
        QWidget::keyPressEvent(event);
        return;
    }
    event->accept();
}

} // namespace gd::ui
