#pragma once

#include "watcher/SceneCellDelegate.h"

namespace gd::ui {

// Draws a cell's text as a rounded badge filled with the status colour of its
// SceneTableModel::BadgeLevelRole (plain text for Neutral). The tooltip comes from the model.
class BadgeDelegate : public SceneCellDelegate
{
    Q_OBJECT
public:
    using SceneCellDelegate::SceneCellDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

} // namespace gd::ui
