#include "common/LogFilterModel.h"

#include "common/LogModel.h"

namespace gd::log {

LogFilterModel::LogFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {}

void LogFilterModel::setMinimumLevel(LogLevel level)
{
    if (level == m_minimum)
        return;
    m_minimum = level;
    invalidateFilter();
}

void LogFilterModel::setSearchText(const QString& text)
{
    if (text == m_search)
        return;
    m_search = text;
    invalidateFilter();
}

bool LogFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const
{
    const QModelIndex idx = sourceModel()->index(sourceRow, 0, sourceParent);
    if (idx.data(LogModel::LevelRole).toInt() < int(m_minimum))
        return false;
    return m_search.isEmpty() || idx.data(Qt::DisplayRole).toString().contains(m_search, Qt::CaseInsensitive);
}

} // namespace gd::log
