#include "common/LogModel.h"

namespace gd::log {

LogModel::LogModel(int capacity, QObject* parent) : QAbstractListModel(parent), m_capacity(std::max(1, capacity))
{
}

void LogModel::append(const QVector<LogRecord>& records)
{
    QVector<LogRecord> fresh;
    for (const LogRecord& r : records) {
        if (r.seq != 0 && r.seq <= m_lastSeq)
            continue;
        fresh.push_back(r);
        if (r.seq != 0)
            m_lastSeq = r.seq;
    }
    if (fresh.size() > m_capacity)
        fresh.remove(0, fresh.size() - m_capacity);
    if (fresh.isEmpty())
        return;
    const int overflow = int(m_rows.size()) + int(fresh.size()) - m_capacity;
    if (overflow > 0) {
        beginRemoveRows({}, 0, overflow - 1);
        m_rows.erase(m_rows.begin(), m_rows.begin() + overflow);
        endRemoveRows();
    }
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(fresh.size()) - 1);
    m_rows.insert(m_rows.end(), fresh.begin(), fresh.end());
    endInsertRows();
}

void LogModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

int LogModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant LogModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const LogRecord& r = m_rows.at(std::size_t(index.row()));
    switch (role) {
    case Qt::DisplayRole:
        return r.line();
    case Qt::ToolTipRole:
        return QString(r.time.toString(Qt::ISODateWithMs) + QLatin1Char('\n') + r.message);
    case LevelRole:
        return int(r.level);
    case AreaRole:
        return r.area;
    case MessageRole:
        return r.message;
    case SeqRole:
        return r.seq;
    default:
        return {};
    }
}

} // namespace gd::log
