#include "store/RunHistoryModel.h"

#include "store/Database.h"
#include "store/RunStore.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

namespace gd::store {

namespace {

struct QueryResult
{
    Error error;
    QVector<RunRow> rows;
    QStringList genres;
    QStringList models;
};

// Runs on a pool thread: a connection belongs to the thread that opened it, so each query opens
// its own and closes it before returning.
QueryResult runQuery(const QString& path, const RunFilter& filter)
{
    QueryResult r;
    Database db;
    if (path.isEmpty()) {
        r.error = Error{QStringLiteral("io"), QStringLiteral("no history database configured"), {}};
        return r;
    }
    if (Error e = db.open(path); !e.isNull()) {
        r.error = e;
        return r;
    }
    RunStore store(db);
    if (Error e = store.runsMatching(filter, r.rows); !e.isNull()) {
        r.error = e;
        return r;
    }
    r.error = store.filterChoices(r.genres, r.models);
    return r;
}

std::optional<bool> hasFailures(const RunRow& r)
{
    if (!r.scenesTotal || !r.scenesSucceeded)
        return std::nullopt;
    return *r.scenesSucceeded < *r.scenesTotal;
}

} // namespace

RunHistoryModel::RunHistoryModel(QString databasePath, QObject* parent)
    : QAbstractTableModel(parent), m_databasePath(std::move(databasePath))
{
}

void RunHistoryModel::setFilter(const RunFilter& filter)
{
    m_filter = filter;
    reload();
}

void RunHistoryModel::reload()
{
    const quint64 generation = ++m_generation;
    if (!m_loading) {
        m_loading = true;
        Q_EMIT loadingChanged(true);
    }
    auto* watcher = new QFutureWatcher<QueryResult>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != m_generation)
            return; // a newer filter's query is still running; its answer decides
        const QueryResult r = watcher->result();
        m_loading = false;
        if (!r.error.isNull()) {
            m_lastError = r.error.message;
            Q_EMIT loadingChanged(false);
            Q_EMIT loadFailed(m_lastError);
            return;
        }
        m_lastError.clear();
        beginResetModel();
        m_rows = r.rows;
        endResetModel();
        if (r.genres != m_genres || r.models != m_models) {
            m_genres = r.genres;
            m_models = r.models;
            Q_EMIT choicesChanged();
        }
        Q_EMIT loadingChanged(false);
        Q_EMIT loaded(static_cast<int>(m_rows.size()));
    });
    watcher->setFuture(QtConcurrent::run(runQuery, m_databasePath, m_filter));
}

RunRow RunHistoryModel::runAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row) : RunRow{};
}

int RunHistoryModel::rowOfRunDir(const QString& runDir) const
{
    const QString key = RunStore::normalizeRunDir(runDir);
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows.at(i).runDir == key)
            return i;
    return -1;
}

int RunHistoryModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RunHistoryModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunHistoryModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const RunRow& r = m_rows.at(index.row());
    const QString unknown = QStringLiteral("—");
    switch (role) {
    case RunDirRole:
        return r.runDir;
    case RunIdRole:
        return r.runId;
    case HasFailuresRole: {
        const auto failed = hasFailures(r);
        return failed ? QVariant(*failed) : QVariant();
    }
    case Qt::ToolTipRole:
        return QStringLiteral("%1\n%2").arg(r.runId, r.runDir);
    case Qt::DisplayRole:
        break;
    default:
        return {};
    }
    switch (index.column()) {
    case StartedColumn:
        return r.startedAt.isValid() ? r.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")) : unknown;
    case TitleColumn:
        return r.storyTitle.isEmpty() ? r.runId : r.storyTitle;
    case GenreColumn:
        return r.genre.isEmpty() ? unknown : r.genre;
    case ModelColumn:
        return r.model.isEmpty() ? unknown : r.model;
    case ScenesColumn:
        if (!r.scenesTotal)
            return unknown;
        return QStringLiteral("%1/%2").arg(r.scenesSucceeded ? QString::number(*r.scenesSucceeded) : unknown)
            .arg(*r.scenesTotal);
    case FramesColumn:
        return r.totalFrames ? QVariant(*r.totalFrames) : QVariant(unknown);
    case DurationP95Column:
        return r.durationP95Seconds ? QString::number(*r.durationP95Seconds, 'f', 1) + QStringLiteral(" s") : unknown;
    default:
        return {};
    }
}

QVariant RunHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case StartedColumn:
        return QStringLiteral("Started");
    case TitleColumn:
        return QStringLiteral("Story");
    case GenreColumn:
        return QStringLiteral("Genre");
    case ModelColumn:
        return QStringLiteral("Model");
    case ScenesColumn:
        return QStringLiteral("Scenes ok");
    case FramesColumn:
        return QStringLiteral("Frames");
    case DurationP95Column:
        return QStringLiteral("P95");
    default:
        return {};
    }
}

} // namespace gd::store
