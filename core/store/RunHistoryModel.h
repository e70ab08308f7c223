#pragma once

#include "store/StoreTypes.h"

#include <QAbstractTableModel>
#include <QStringList>
#include <QVector>

namespace gd::store {

// The dashboard's run history list: runs of the history database matching a RunFilter, newest
// first, plus the genres and models to filter by. Every query runs on the global thread pool with
// its own database connection; the newest request wins, so a slow query never overwrites the
// answer to a later filter.
// Threading: lives in the GUI thread; only copies cross to the pool.
class RunHistoryModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        StartedColumn,
        TitleColumn,
        GenreColumn,
        ModelColumn,
        ScenesColumn,
        FramesColumn,
        DurationP95Column,
        ColumnCount
    };
    enum Role
    {
        RunDirRole = Qt::UserRole + 1,
        RunIdRole,
        HasFailuresRole, // bool; absent (invalid) when the run recorded no scene counts
    };

    explicit RunHistoryModel(QString databasePath, QObject* parent = nullptr);

    QString databasePath() const { return m_databasePath; }
    RunFilter filter() const { return m_filter; }
    // Replaces the filter and reloads.
    void setFilter(const RunFilter& filter);
    // Queries again with the current filter (e.g. after a run was recorded).
    void reload();
    bool isLoading() const { return m_loading; }
    // The error of the last query ("" when it succeeded).
    QString lastError() const { return m_lastError; }
    RunRow runAt(int row) const;
    // The row of the run recorded in runDir (normalised as RunStore does), or -1.
    int rowOfRunDir(const QString& runDir) const;
    QStringList genres() const { return m_genres; }
    QStringList models() const { return m_models; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void loadingChanged(bool loading);
    // A query finished and the rows were replaced.
    void loaded(int rows);
    // A query failed (database missing, locked, corrupt); the previous rows stay.
    void loadFailed(const QString& message);
    void choicesChanged();

private:
    QString m_databasePath;
    RunFilter m_filter;
    QVector<RunRow> m_rows;
    QStringList m_genres;
    QStringList m_models;
    QString m_lastError;
    quint64 m_generation = 0;
    bool m_loading = false;
};

} // namespace gd::store
