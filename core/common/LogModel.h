#pragma once

#include "common/LogRecord.h"

#include <QAbstractListModel>
#include <QVector>
#include <deque>

namespace gd::log {

// The log view's rows: the most recent `capacity` records, oldest first; appending past the capacity drops
// the oldest rows, so a long render night never grows the view without limit.
class LogModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Roles
    {
        LevelRole = Qt::UserRole + 1, // int(LogLevel)
        AreaRole,
        MessageRole,
        SeqRole,
    };

    explicit LogModel(int capacity = 5000, QObject* parent = nullptr);

    int capacity() const { return m_capacity; }
    // Appends in order; records whose seq is not newer than the last one appended are skipped (a snapshot
    // and a later delivery may overlap).
    void append(const QVector<LogRecord>& records);
    void clear();
    const LogRecord& record(int row) const { return m_rows.at(std::size_t(row)); }

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;

private:
    int m_capacity;
    quint64 m_lastSeq = 0;
    std::deque<LogRecord> m_rows;
};

} // namespace gd::log
