#pragma once

#include "common/StatusColor.h"

#include <QLabel>

namespace gd::ui {

// A small rounded label filled with a status colour (green/amber/red/grey, readable on light and
// dark palettes) whose tooltip explains what it means; hidden while it has no text.
class StatusBadge : public QLabel
{
    Q_OBJECT
public:
    explicit StatusBadge(const QString& objectName, QWidget* parent = nullptr);

    // Shows `text` on the colour of `status` with `toolTip`; an empty text hides the badge.
    void set(const QString& text, StatusColor::Status status, const QString& toolTip);
    StatusColor::Status status() const { return m_status; }

    // The badge level of a storyboard freshness name: fresh → Ok, stale → Warning, blocked → Bad,
    // missing → Unknown.
    static StatusColor::Status freshnessStatus(const QString& freshness);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    StatusColor::Status m_status = StatusColor::Status::Unknown;
};

} // namespace gd::ui
