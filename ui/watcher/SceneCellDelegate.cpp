#include "watcher/SceneCellDelegate.h"

#include "pipeline/SceneTableModel.h"
#include "common/StatusColor.h"

#include <QApplication>
#include <QPainter>

namespace gd::ui {

void SceneCellDelegate::paintBackground(QPainter* painter, const QStyleOptionViewItem& option,
                                        const QModelIndex& index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    opt.text.clear();
    opt.icon = QIcon();
    const QWidget* widget = option.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();
    style->drawPrimitive(QStyle::PE_PanelItemViewItem, &opt, painter, widget);
    if (index.data(pipeline::SceneTableModel::HasWarningRole).toBool() &&
        !(option.state & QStyle::State_Selected))
        painter->fillRect(option.rect, StatusColor::warningTint());
}

void SceneCellDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    if (index.data(pipeline::SceneTableModel::HasWarningRole).toBool() &&
        !(option.state & QStyle::State_Selected))
        painter->fillRect(option.rect, StatusColor::warningTint());
    QStyledItemDelegate::paint(painter, option, index);
}

} // namespace gd::ui
