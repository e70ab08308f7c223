#include "watcher/ProgressBarDelegate.h"

#include "pipeline/SceneTableModel.h"

#include <QApplication>
#include <QStyleOptionProgressBar>

namespace gd::ui {

void ProgressBarDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    paintBackground(painter, option, index);
    const double fraction = index.data(pipeline::SceneTableModel::ProgressRole).toDouble();
    QStyleOptionProgressBar bar;
    bar.rect = option.rect.adjusted(4, option.rect.height() / 2 - 9, -4, -(option.rect.height() / 2 - 9));
    bar.minimum = 0;
    bar.maximum = 1000;
    bar.progress = qRound(fraction * 1000);
    bar.text = QStringLiteral("%1 %").arg(qRound(fraction * 100));
    bar.textVisible = true;
    bar.textAlignment = Qt::AlignCenter;
    bar.state = option.state | QStyle::State_Horizontal;
    bar.palette = option.palette;
    bar.fontMetrics = option.fontMetrics;
    const QWidget* widget = option.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ProgressBar, &bar, painter, widget);
}

QSize ProgressBarDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    QSize s = SceneCellDelegate::sizeHint(option, index);
    s.setWidth(std::max(s.width(), 110));
    return s;
}

} // namespace gd::ui
