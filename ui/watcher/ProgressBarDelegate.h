#pragma once

#include "watcher/SceneCellDelegate.h"

namespace gd::ui {

// Draws SceneTableModel::ProgressRole (0..1) as the style's progress bar with "NN %".
class ProgressBarDelegate : public SceneCellDelegate
{
    Q_OBJECT
public:
    using SceneCellDelegate::SceneCellDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

} // namespace gd::ui
