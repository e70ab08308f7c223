#include "watcher/BadgeDelegate.h"

#include "pipeline/SceneTableModel.h"
#include "common/StatusColor.h"

#include <QPainter>
#include <QPainterPath>

namespace gd::ui {

void BadgeDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    using L = pipeline::SceneTableModel::BadgeLevel;
    const auto level = static_cast<L>(index.data(pipeline::SceneTableModel::BadgeLevelRole).toInt());
    const QString text = index.data(Qt::DisplayRole).toString();
    if (level == L::Neutral || text.isEmpty()) {
        SceneCellDelegate::paint(painter, option, index);
        return;
    }
    paintBackground(painter, option, index);
    const QColor fill = StatusColor::fill(level == L::Good     ? StatusColor::Status::Ok
                                          : level == L::Notice ? StatusColor::Status::Warning
                                          : level == L::Bad    ? StatusColor::Status::Bad
                                                               : StatusColor::Status::Unknown);
    const QFontMetrics fm(option.font);
    const int w = std::min(option.rect.width() - 6, fm.horizontalAdvance(text) + 14);
    const int h = std::min(option.rect.height() - 4, fm.height() + 6);
    const QRect badge(option.rect.left() + 3, option.rect.center().y() - h / 2, w, h);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    QPainterPath path;
    path.addRoundedRect(badge, h / 2.0, h / 2.0);
    painter->fillPath(path, fill);
    painter->setPen(StatusColor::textOn(fill));
    painter->setFont(option.font);
    painter->drawText(badge, Qt::AlignCenter, fm.elidedText(text, Qt::ElideRight, badge.width() - 8));
    painter->restore();
}

QSize BadgeDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    QSize s = SceneCellDelegate::sizeHint(option, index);
    s.setWidth(s.width() + 20);
    return s;
}

} // namespace gd::ui
