#pragma once

#include <QWidget>

namespace gd::ui {

// A 1–5 star rating: click a star (or press 1–5, arrows, Home/End) to set it; 0 means "not rated".
// When clearable, clicking the current star again (or 0 / Backspace / Delete) clears it, for
// optional scores. Focusable, with the value in its accessible description.
class StarRating : public QWidget
{
    Q_OBJECT
    Q_PROPERTY(int value READ value WRITE setValue NOTIFY valueChanged USER true)
public:
    static constexpr int kStars = 5;

    explicit StarRating(QWidget* parent = nullptr);

    int value() const { return m_value; }
    void setValue(int value);
    void setClearable(bool clearable);
    // What the rating means ("Overall quality of the scene"); the tooltip adds the current value.
    void setDescription(const QString& description);
    bool isClearable() const { return m_clearable; }
    // Where star `star` (1..5) is drawn, in widget coordinates.
    QRect starRect(int star) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void valueChanged(int value);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    int starAt(const QPoint& pos) const;
    void updateAccessibleText();
    int starSize() const;

    int m_value = 0;
    int m_hover = 0;
    bool m_clearable = false;
    QString m_description;
};

} // namespace gd::ui
