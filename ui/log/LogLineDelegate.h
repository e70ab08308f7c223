#pragma once

#include <QStyledItemDelegate>

namespace gd::ui {

// Colours log lines by level (errors red and bold, warnings amber, debug/trace muted), with colours taken
// from the view's palette so both light and dark themes stay readable.
class LogLineDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override;
};

} // namespace gd::ui
