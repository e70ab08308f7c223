#pragma once

#include <QStyledItemDelegate>

namespace gd::ui {

// Paints a watcher table cell the standard way, over the amber warning tint when the row has a
// warning or fallback note (SceneTableModel::HasWarningRole). Base of the specialised delegates.
class SceneCellDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;

protected:
    // The tint (when the row warns) and the selection/background of the cell, without its text.
    void paintBackground(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const;
};

} // namespace gd::ui
