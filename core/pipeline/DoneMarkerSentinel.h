#pragma once

#include "common/Error.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QStringList>
#include <QTimer>
#include <QUrl>
#include <QVector>
#include <optional>

class QFileSystemWatcher;

namespace gd::comfy {
class ComfyClient;
}

namespace gd::pipeline {

// Writes <prefix>.done (spec/story-format.md marker, "writer": "sentinel") for frame groups that
// workflows without the GemDirectSaveFrames node leave in ComfyUI output folders: once a group is
// stable and large enough, or at once when ComfyUI's /history reports its prompt complete.
// File work is synchronous on the object's thread (a command-line process, or a worker thread the
// owner moves it to before start()); the /history poll is asynchronous like every ComfyClient call.
class DoneMarkerSentinel : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QStringList outputDirs;    // ComfyUI output folders, scanned with their subfolders
        double stableSeconds = 3;  // no new file, sizes and mtimes unchanged for this long
        int minFrames = 1;         // a group needs this many (new) frames before it is marked
        QUrl comfyUrl;             // empty: no /history polling
        int scanIntervalMs = 1000; // fallback scan: watchers miss events on network shares
        int historyPollIntervalMs = 1000;
        // GET /history?max_items=N, never the unbounded whole history: entries carry whole graphs.
        // Older groups that fell out of the window are still marked by the stability path.
        int historyMaxItems = 16;
        int maxWatchedDirs = 1000; // beyond this, subfolders rely on the periodic scan only
    };

    // One frame group: the files "<base>_<counter>_.<image ext>" of one folder.
    struct FrameName
    {
        QString base;
        qint64 counter = -1; // -1: not a ComfyUI frame name
    };

    explicit DoneMarkerSentinel(Options options, QObject* parent = nullptr);
    ~DoneMarkerSentinel() override;

    // One message per invalid option, naming it.
    static QStringList validate(const Options& options);
    // "frame_00012_.png" → {"frame", 12}; anything else (no counter, not an image, *.tmp) → counter -1.
    static FrameName parseFrameName(const QString& fileName);

    // Scans once, then keeps watching (directory events + periodic scan, /history poll when a URL
    // was given) until stop(). Returns a null Error, or why it cannot start (no such directory).
    Error start();
    void stop();
    bool isRunning() const { return m_running; }

    // One pass over every output folder. `once` judges stability by modification times alone (a
    // single look, for cron); otherwise a group must also look unchanged across scans for
    // stableSeconds. Returns the number of markers written.
    int scanNow(bool once = false);
    // One GET /history pass (needs comfyUrl); historyChecked() follows. For `--once` runs.
    void checkHistoryNow();

    const Options& options() const { return m_opt; }

Q_SIGNALS:
    // A marker was published. `trigger` is "stability" or "history".
    void markerWritten(const QString& markerPath, int frameCount, const QString& trigger);
    // Something an operator should see: a refused name from /history, an unreadable frame, a
    // failed write, ComfyUI unreachable. Repeats of the same text are not emitted again.
    void problem(const QString& text);
    // A /history pass ended (ok = the server answered).
    void historyChecked(bool ok);

private:
    struct Frame
    {
        QString name;
        qint64 counter = 0;
    };
    // What a marker already on disk says; cached until a frame with a higher counter appears.
    struct MarkerInfo
    {
        bool sentinel = false;  // written by us (may be replaced when new frames arrive)
        qint64 maxCounter = -1; // highest frame counter the marker lists
    };
    struct Pending
    {
        QString fingerprint; // names, sizes and mtimes of the candidate frames
        qint64 unchangedSinceMs = 0;
    };
    struct Target
    {
        QString root;      // the output folder the files were found in
        QString dir;       // absolute folder of the group
        QString subfolder; // as written into the marker
        QString base;
    };

    void scanDir(const QString& root, const QString& dir, int depth, bool once, int* written,
                 QSet<QString>* seenGroups);
    // Decides about one group; returns true when a marker was written.
    bool considerGroup(const Target& target, QVector<Frame> frames, bool markerExists, bool once);
    // Marker bookkeeping: reads <dir>/<base>.done unless the cache already covers `maxCounter`.
    std::optional<MarkerInfo> markerInfo(const QString& markerPath, qint64 maxCounter);
    bool publish(const Target& target, const QVector<Frame>& frames, const QJsonObject& identity,
                 const QString& trigger, bool replaceOwn);
    void pollHistory();
    void ensureClient();
    void onHistory(const QJsonObject& history, const Error& error);
    // Returns false while the prompt's files are not (yet) visible in any output folder.
    bool markPrompt(const QString& promptId, const QJsonObject& entry);
    void watchDir(const QString& dir);
    void report(const QString& text);

    Options m_opt;
    bool m_running = false;
    QFileSystemWatcher* m_watcher = nullptr;
    QTimer m_scanTimer;
    QTimer m_debounce;
    QTimer m_historyTimer;
    QElapsedTimer m_clock;
    QPointer<comfy::ComfyClient> m_client;
    bool m_historyInFlight = false;
    QString m_historyProblem;             // last /history failure, to report recovery once
    bool m_missingReported = false;       // "history lists files not in any output folder", said once
    QHash<QString, MarkerInfo> m_markers; // marker path → what it says
    QHash<QString, Pending> m_pending;    // marker path → candidate group being watched
    QSet<QString> m_promptsDone;          // prompt ids from /history already handled
    QSet<QString> m_reported;             // problem texts already emitted
    QSet<QString> m_watchedDirs;
};

} // namespace gd::pipeline
