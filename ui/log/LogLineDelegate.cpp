#include "log/LogLineDelegate.h"

#include "common/LogModel.h"
#include "common/StatusColor.h"

namespace gd::ui {

void LogLineDelegate::initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const
{
    QStyledItemDelegate::initStyleOption(option, index);
    using log::LogLevel;
    const auto level = LogLevel(index.data(log::LogModel::LevelRole).toInt());
    QColor c;
    switch (level) {
    case LogLevel::Trace:
    case LogLevel::Debug:
        c = option->palette.color(QPalette::PlaceholderText);
        break;
    case LogLevel::Info:
        return;
    case LogLevel::Warning:
        c = StatusColor::color(StatusColor::Status::Warning, option->palette);
        break;
    case LogLevel::Error:
    case LogLevel::Critical:
        c = StatusColor::color(StatusColor::Status::Bad, option->palette);
        option->font.setBold(true);
        break;
    }
    option->palette.setColor(QPalette::Text, c);
}

} // namespace gd::ui
