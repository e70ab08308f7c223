#pragma once

#include <QFuture>
#include <QString>
#include <QVector>

namespace gd::storyboard {

// One finished render output to store in the storyboard directory.
struct ImportJob
{
    QString source;   // absolute path in the run directory
    QString target;   // absolute path in the storyboard directory (its folder is made when missing)
    bool hash = true; // false: stored only (a clip's frames but its last)
};

// What became of one job: the stored file's SHA-256, or why nothing was stored.
struct ImportResult
{
    QString target;
    QString sha256; // lower-case hex of the stored bytes; "" on error or when not asked
    QString error;  // "" on success
    bool ok() const { return error.isEmpty(); }
};

// Stores finished render outputs in the storyboard directory: a hard link (a copy across file
// systems), then the SHA-256 of the stored bytes. This is file work, which DESIGN.md §3 keeps off
// the GUI thread: the controller runs start() on the thread pool and applies the results on its
// own thread. It touches only the paths it is given and holds no shared state, so an owner that is
// cancelled or destroyed mid-import leaves it finishing its files harmlessly (they are not in
// storyboard.json; the next import of the item overwrites them).
class StoryboardImporter
{
public:
    // Every job, in order, on the calling thread; one result per job.
    static QVector<ImportResult> run(const QVector<ImportJob>& jobs);
    // run() on the global thread pool.
    static QFuture<QVector<ImportResult>> start(QVector<ImportJob> jobs);
};

} // namespace gd::storyboard
