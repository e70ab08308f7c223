#pragma once

#include "common/LogRecord.h"

#include <QSortFilterProxyModel>

namespace gd::log {

// Filters a LogModel by minimum level and a case-insensitive search text (matched against the whole line).
class LogFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit LogFilterModel(QObject* parent = nullptr);

    void setMinimumLevel(LogLevel level);
    LogLevel minimumLevel() const { return m_minimum; }
    void setSearchText(const QString& text);
    QString searchText() const { return m_search; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    LogLevel m_minimum = LogLevel::Trace;
    QString m_search;
};

} // namespace gd::log
