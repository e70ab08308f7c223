#include "pipeline/DoneMarkerSentinel.h"

#include "comfy/ComfyClient.h"
#include "common/AtomicFile.h"
#include "common/Log.h"
#include "common/SafePath.h"
#include "pipeline/FrameVerifier.h"
#include "telemetry/TelemetryFormat.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <algorithm>
#include <cmath>

namespace gd::pipeline {

namespace {

constexpr qint64 kMaxMarkerBytes = 1024 * 1024;
constexpr int kMaxDepth = 32;
const QString kMarkerSuffix = QStringLiteral(".done");

QString groupKey(const QString& subfolder, const QString& base)
{
    return subfolder + QLatin1Char('\n') + base;
}

qint64 highestCounter(const QJsonArray& frames)
{
    qint64 highest = -1;
    for (const QJsonValue& v : frames)
        highest = std::max(highest, DoneMarkerSentinel::parseFrameName(v.toString()).counter);
    return highest;
}

} // namespace

DoneMarkerSentinel::DoneMarkerSentinel(Options options, QObject* parent)
    : QObject(parent), m_opt(std::move(options))
{
    m_scanTimer.setInterval(std::max(50, m_opt.scanIntervalMs));
    connect(&m_scanTimer, &QTimer::timeout, this, [this] { scanNow(false); });
    // Directory events come in bursts (one per frame); one scan shortly after the last is enough.
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(150);
    connect(&m_debounce, &QTimer::timeout, this, [this] { scanNow(false); });
    m_historyTimer.setInterval(std::max(100, m_opt.historyPollIntervalMs));
    connect(&m_historyTimer, &QTimer::timeout, this, &DoneMarkerSentinel::pollHistory);
    m_clock.start();
}

DoneMarkerSentinel::~DoneMarkerSentinel() = default;

QStringList DoneMarkerSentinel::validate(const Options& o)
{
    QStringList errors;
    if (o.outputDirs.isEmpty())
        errors << QStringLiteral("--output-dir: at least one ComfyUI output folder is needed");
    if (!std::isfinite(o.stableSeconds) || o.stableSeconds < 0)
        errors << QStringLiteral("--stable-seconds must be a number >= 0");
    if (o.minFrames < 1)
        errors << QStringLiteral("--min-frames must be at least 1");
    if (o.scanIntervalMs < 50)
        errors << QStringLiteral("scan interval must be at least 50 ms");
    if (o.historyPollIntervalMs < 100)
        errors << QStringLiteral("history poll interval must be at least 100 ms");
    if (o.historyMaxItems < 1 || o.historyMaxItems > 10000)
        errors << QStringLiteral("history max items must be 1-10000");
    if (!o.comfyUrl.isEmpty() && (!o.comfyUrl.isValid() || (o.comfyUrl.scheme() != QLatin1String("http") &&
                                                            o.comfyUrl.scheme() != QLatin1String("https"))))
        errors << QStringLiteral("--comfy-url must be an http(s) URL (got '%1')").arg(o.comfyUrl.toString());
    return errors;
}

DoneMarkerSentinel::FrameName DoneMarkerSentinel::parseFrameName(const QString& fileName)
{
    // SaveImage and the node name frames "<base>_<counter:05>_.<ext>"; the counter only grows
    // (max existing + 1), which is what lets a marker's highest counter stand for "covered".
    static const QRegularExpression re(QStringLiteral("^(.+)_(\\d{5,})_\\.([A-Za-z0-9]+)$"));
    const QRegularExpressionMatch m = re.match(fileName);
    if (!m.hasMatch() || !FrameVerifier::isImageName(fileName))
        return {};
    bool ok = false;
    const qint64 counter = m.captured(2).toLongLong(&ok);
    return ok ? FrameName{m.captured(1), counter} : FrameName{};
}

Error DoneMarkerSentinel::start()
{
    const QStringList problems = validate(m_opt);
    if (!problems.isEmpty())
        return {QStringLiteral("config"), problems.join(QStringLiteral("; ")), {}};
    for (const QString& dir : m_opt.outputDirs)
        if (!QFileInfo(dir).isDir())
            return {QStringLiteral("config"), QStringLiteral("Output folder %1 does not exist").arg(dir), {}};
    m_running = true;
    m_watcher = new QFileSystemWatcher(this);
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, [this](const QString& path) {
        // A removed folder drops out of the watcher; forget it so a re-created one is watched again.
        if (!QFileInfo(path).isDir())
            m_watchedDirs.remove(path);
        m_debounce.start();
    });
    m_scanTimer.start();
    if (!m_opt.comfyUrl.isEmpty()) {
        ensureClient();
        m_historyTimer.start();
        pollHistory();
    }
    scanNow(false);
    return {};
}

void DoneMarkerSentinel::stop()
{
    m_running = false;
    m_scanTimer.stop();
    m_debounce.stop();
    m_historyTimer.stop();
    delete m_watcher;
    m_watcher = nullptr;
    m_watchedDirs.clear();
    delete m_client.data();
    m_historyInFlight = false;
}

int DoneMarkerSentinel::scanNow(bool once)
{
    int written = 0;
    QSet<QString> seen;
    for (const QString& dir : m_opt.outputDirs) {
        const QString root = QDir(dir).absolutePath();
        if (QFileInfo(root).isDir())
            scanDir(root, root, 0, once, &written, &seen);
        else
            report(QStringLiteral("Output folder %1 is not reachable").arg(root));
    }
    // Groups that disappeared (deleted, moved away) stop being candidates.
    for (auto it = m_pending.begin(); it != m_pending.end();)
        it = seen.contains(it.key()) ? std::next(it) : m_pending.erase(it);
    return written;
}

void DoneMarkerSentinel::watchDir(const QString& dir)
{
    if (!m_watcher || m_watchedDirs.contains(dir) || m_watchedDirs.size() >= m_opt.maxWatchedDirs)
        return;
    if (m_watcher->addPath(dir))
        m_watchedDirs.insert(dir);
}

void DoneMarkerSentinel::scanDir(const QString& root, const QString& dir, int depth, bool once, int* written,
                                 QSet<QString>* seenGroups)
{
    if (m_running)
        watchDir(dir);
    const QDir d(dir);
    // Names only (no stat): most groups are already marked and need nothing more than this.
    const QStringList files = d.entryList(QDir::Files, QDir::NoSort);
    QHash<QString, QVector<Frame>> groups;
    QSet<QString> markers;
    for (const QString& name : files) {
        if (name.endsWith(kMarkerSuffix)) {
            markers.insert(name.chopped(kMarkerSuffix.size()));
            continue;
        }
        const FrameName fn = parseFrameName(name);
        if (fn.counter >= 0)
            groups[fn.base].append(Frame{name, fn.counter});
    }
    QString subfolder = QDir(root).relativeFilePath(dir);
    if (subfolder == QLatin1String("."))
        subfolder.clear();
    // ComfyUI reports subfolders with the host's separator (backslashes on Windows).
    subfolder = QDir::toNativeSeparators(subfolder);
    for (auto it = groups.cbegin(); it != groups.cend(); ++it) {
        const Target target{root, dir, subfolder, it.key()};
        seenGroups->insert(d.filePath(it.key() + kMarkerSuffix));
        if (considerGroup(target, it.value(), markers.contains(it.key()), once))
            ++*written;
    }
    if (depth >= kMaxDepth)
        return;
    // Symlinked folders are skipped: a link back up the tree would loop, and one pointing outside
    // the output folder is not ComfyUI's to have written.
    const QStringList subdirs = d.entryList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::NoSymLinks, QDir::Name);
    for (const QString& sub : subdirs)
        scanDir(root, d.filePath(sub), depth + 1, once, written, seenGroups);
}

bool DoneMarkerSentinel::considerGroup(const Target& target, QVector<Frame> frames, bool markerExists,
                                       bool once)
{
    const QString markerPath = QDir(target.dir).filePath(target.base + kMarkerSuffix);
    qint64 maxCounter = -1;
    for (const Frame& f : frames)
        maxCounter = std::max(maxCounter, f.counter);
    bool replaceOwn = false;
    if (markerExists) {
        const auto info = markerInfo(markerPath, maxCounter);
        if (!info || !info->sentinel || maxCounter <= info->maxCounter) {
            m_pending.remove(markerPath);
            return false; // the node's marker (never touched), or ours and nothing new since
        }
        // Frames after our marker: a later batch with the same prefix. Mark that batch, as the node
        // does when a prefix is reused.
        const qint64 covered = info->maxCounter;
        frames.erase(std::remove_if(frames.begin(), frames.end(),
                                    [covered](const Frame& f) { return f.counter <= covered; }),
                     frames.end());
        replaceOwn = true;
    }
    if (frames.size() < m_opt.minFrames) {
        m_pending.remove(markerPath);
        return false;
    }
    std::sort(frames.begin(), frames.end(),
              [](const Frame& a, const Frame& b) { return a.counter < b.counter; });

    QString fingerprint;
    qint64 newestMs = 0;
    for (const Frame& f : frames) {
        const QFileInfo fi(QDir(target.dir).filePath(f.name));
        if (!fi.exists())
            return false; // deleted between listing and now; the next scan sees the new state
        const qint64 mtime = fi.lastModified().toMSecsSinceEpoch();
        newestMs = std::max(newestMs, mtime);
        fingerprint += f.name + QLatin1Char(' ') + QString::number(fi.size()) + QLatin1Char(' ') +
                       QString::number(mtime) + QLatin1Char('\n');
    }
    const qint64 stableMs = qint64(m_opt.stableSeconds * 1000.0);
    if (!once) {
        // Sizes and mtimes must also look the same across scans: a copy that preserves old mtimes
        // (rsync -t, network shares with a skewed clock) would otherwise look stable at once.
        Pending& p = m_pending[markerPath];
        if (p.fingerprint != fingerprint) {
            p.fingerprint = fingerprint;
            p.unchangedSinceMs = m_clock.elapsed();
        }
        if (m_clock.elapsed() - p.unchangedSinceMs < stableMs)
            return false;
    }
    if (QDateTime::currentMSecsSinceEpoch() - newestMs < stableMs)
        return false;
    for (const Frame& f : frames) {
        const FrameVerifier::Result v = FrameVerifier::verify(QDir(target.dir).filePath(f.name));
        if (!v.ok) {
            report(QStringLiteral("Not marking %1 yet: frame %2 is not a complete image (%3)")
                       .arg(markerPath, f.name, v.reason));
            return false;
        }
    }
    return publish(target, frames, {}, QStringLiteral("stability"), replaceOwn);
}

std::optional<DoneMarkerSentinel::MarkerInfo> DoneMarkerSentinel::markerInfo(const QString& markerPath,
                                                                             qint64 maxCounter)
{
    const auto cached = m_markers.constFind(markerPath);
    // A node marker stays the node's; ours is re-read only when frames beyond it show up.
    if (cached != m_markers.cend() && (!cached->sentinel || maxCounter <= cached->maxCounter))
        return *cached;
    QFile f(markerPath);
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt; // vanished or unreadable: not ours to replace
    const QJsonObject marker = QJsonDocument::fromJson(f.read(kMaxMarkerBytes)).object();
    MarkerInfo info;
    // Anything without "writer": "sentinel" (the node's markers, older or foreign ones, even an
    // unparsable file) counts as the producer's and is never overwritten.
    info.sentinel = marker.value(QStringLiteral("writer")).toString() == QLatin1String("sentinel");
    info.maxCounter = highestCounter(marker.value(QStringLiteral("frames")).toArray());
    m_markers.insert(markerPath, info);
    return info;
}

bool DoneMarkerSentinel::publish(const Target& target, const QVector<Frame>& frames,
                                 const QJsonObject& identity, const QString& trigger, bool replaceOwn)
{
    const QString markerPath = QDir(target.dir).filePath(target.base + kMarkerSuffix);
    QJsonArray names;
    for (const Frame& f : frames)
        names.append(f.name);
    const FrameVerifier::Result first = FrameVerifier::verify(QDir(target.dir).filePath(frames.first().name));
    // The node's marker fields (spec/story-format.md); what the sentinel cannot know is empty or
    // null rather than invented: no job id or fps without the node, no prompt id without /history.
    const QJsonObject marker{
        {QStringLiteral("job_id"), identity.value(QStringLiteral("job_id")).toString()},
        {QStringLiteral("prompt_id"), identity.value(QStringLiteral("prompt_id")).toString()},
        {QStringLiteral("node_id"), identity.value(QStringLiteral("node_id")).toString()},
        {QStringLiteral("frames"), names},
        {QStringLiteral("count"), int(frames.size())},
        {QStringLiteral("subfolder"), target.subfolder},
        {QStringLiteral("width"), first.ok ? QJsonValue(first.width) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("height"), first.ok ? QJsonValue(first.height) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("fps"), QJsonValue(QJsonValue::Null)},
        {QStringLiteral("finished_at"), telemetry::TelemetryFormat::isoUtc(QDateTime::currentDateTimeUtc())},
        {QStringLiteral("writer"), QStringLiteral("sentinel")},
        {QStringLiteral("trigger"), trigger},
    };
    const QByteArray bytes = QJsonDocument(marker).toJson(QJsonDocument::Indented);
    // A new marker must never replace one the node published meanwhile; replacing is only for our
    // own marker when a later batch arrived.
    const Error e =
        replaceOwn ? AtomicFile::write(markerPath, bytes) : AtomicFile::writeNew(markerPath, bytes);
    if (e.kind == QLatin1String("exists")) {
        m_markers.remove(markerPath);
        m_pending.remove(markerPath);
        gd::log::get("pipeline")
            ->debug("sentinel: {} appeared meanwhile; left as it is", markerPath.toStdString());
        return false;
    }
    if (!e.isNull()) {
        report(QStringLiteral("Cannot write %1: %2").arg(markerPath, e.message));
        return false;
    }
    qint64 maxCounter = -1;
    for (const Frame& f : frames)
        maxCounter = std::max(maxCounter, f.counter);
    m_markers.insert(markerPath, MarkerInfo{true, maxCounter});
    m_pending.remove(markerPath);
    gd::log::get("pipeline")
        ->info("sentinel: wrote {} ({} frames, {})", markerPath.toStdString(), frames.size(),
               trigger.toStdString());
    Q_EMIT markerWritten(markerPath, int(frames.size()), trigger);
    return true;
}

void DoneMarkerSentinel::ensureClient()
{
    if (m_client || m_opt.comfyUrl.isEmpty())
        return;
    m_client = new comfy::ComfyClient(m_opt.comfyUrl, this);
    m_client->setRequestTimeoutMs(10000);
}

void DoneMarkerSentinel::checkHistoryNow()
{
    ensureClient();
    if (!m_client) {
        Q_EMIT historyChecked(false);
        return;
    }
    pollHistory();
}

void DoneMarkerSentinel::pollHistory()
{
    if (!m_client || m_historyInFlight)
        return;
    m_historyInFlight = true;
    m_client->recentHistory(m_opt.historyMaxItems, this, [this](const std::pair<QJsonObject, Error>& r) {
        m_historyInFlight = false;
        onHistory(r.first, r.second);
    });
}

void DoneMarkerSentinel::onHistory(const QJsonObject& history, const Error& error)
{
    if (!error.isNull()) {
        const QString text =
            QStringLiteral("ComfyUI /history at %1 failed: %2").arg(m_opt.comfyUrl.toString(), error.message);
        if (text != m_historyProblem) {
            m_historyProblem = text;
            report(text);
        }
        Q_EMIT historyChecked(false);
        return;
    }
    if (!m_historyProblem.isEmpty()) {
        m_reported.remove(m_historyProblem); // a later outage is reported again
        m_historyProblem.clear();
        gd::log::get("pipeline")->info("sentinel: ComfyUI /history answers again");
    }
    QSet<QString> ids;
    for (auto it = history.constBegin(); it != history.constEnd(); ++it) {
        const QString id = it.key();
        ids.insert(id);
        if (m_promptsDone.contains(id))
            continue;
        const QJsonObject entry = it.value().toObject();
        const QJsonObject status = entry.value(QStringLiteral("status")).toObject();
        const QString statusText = status.value(QStringLiteral("status_str")).toString();
        if (!status.value(QStringLiteral("completed")).toBool() || statusText != QLatin1String("success")) {
            // An error or interrupt is final and leaves nothing to mark; anything else may change.
            if (statusText == QLatin1String("error"))
                m_promptsDone.insert(id);
            continue;
        }
        if (markPrompt(id, entry))
            m_promptsDone.insert(id);
    }
    // Ids that left the max_items window never come back; keep the set as small as the window.
    m_promptsDone.intersect(ids);
    Q_EMIT historyChecked(true);
}

bool DoneMarkerSentinel::markPrompt(const QString& promptId, const QJsonObject& entry)
{
    struct Group
    {
        QString subfolder;
        QString base;
        QString nodeId;
        QVector<Frame> frames;
    };
    QHash<QString, Group> groups;
    QSet<QString> nodeMarked;
    const auto files = comfy::ComfyClient::outputFiles(entry.value(QStringLiteral("outputs")).toObject());
    for (const comfy::OutputFile& f : files) {
        // Names from the server are untrusted: nothing outside the output folders is touched.
        if (!SafePath::isSafeFileName(f.filename) || !SafePath::isSafeSubfolder(f.subfolder)) {
            report(QStringLiteral("Refused an output of prompt %1 from ComfyUI /history: filename '%2' "
                                  "subfolder '%3' leaves the output folder")
                       .arg(promptId, f.filename, f.subfolder));
            continue;
        }
        if (f.key == QLatin1String("done_marker")) {
            if (f.filename.endsWith(kMarkerSuffix))
                nodeMarked.insert(groupKey(f.subfolder, f.filename.chopped(kMarkerSuffix.size())));
            continue;
        }
        if (f.type != QLatin1String("output"))
            continue;
        const FrameName fn = parseFrameName(f.filename);
        if (fn.counter < 0)
            continue;
        Group& g = groups[groupKey(f.subfolder, fn.base)];
        g.subfolder = f.subfolder;
        g.base = fn.base;
        g.nodeId = f.nodeId;
        g.frames.append(Frame{f.filename, fn.counter});
    }
    bool settled = true;
    for (auto it = groups.begin(); it != groups.end(); ++it) {
        if (nodeMarked.contains(it.key()))
            continue; // the node publishes this group's marker itself
        Group& g = it.value();
        std::sort(g.frames.begin(), g.frames.end(),
                  [](const Frame& a, const Frame& b) { return a.counter < b.counter; });
        QString root;
        for (const QString& dir : m_opt.outputDirs) {
            const QString candidate = QDir(dir).absolutePath();
            const bool all = std::all_of(g.frames.cbegin(), g.frames.cend(), [&](const Frame& f) {
                return QFileInfo::exists(SafePath::join(candidate, g.subfolder, f.name));
            });
            if (all) {
                root = candidate;
                break;
            }
        }
        if (root.isEmpty()) {
            // Not (yet) visible here: a network share may lag, or this is not the folder ComfyUI
            // writes to. Retried on every poll while the prompt is in the window.
            settled = false;
            if (!m_missingReported) {
                m_missingReported = true;
                report(
                    QStringLiteral("ComfyUI /history lists %1 (prompt %2), which is in none of the output "
                                   "folders; is --output-dir the folder this ComfyUI writes to?")
                        .arg(SafePath::join(QString(), g.subfolder, g.frames.first().name).mid(1), promptId));
            }
            continue;
        }
        const QString dir =
            QFileInfo(SafePath::join(root, g.subfolder, g.frames.first().name)).absolutePath();
        const Target target{root, dir, g.subfolder, g.base};
        const QString markerPath = QDir(dir).filePath(g.base + kMarkerSuffix);
        qint64 maxCounter = g.frames.last().counter;
        bool replaceOwn = false;
        if (QFileInfo::exists(markerPath)) {
            const auto info = markerInfo(markerPath, maxCounter);
            if (!info || !info->sentinel || maxCounter <= info->maxCounter)
                continue; // the node's marker, or already covered (a cached re-run reports old files)
            const qint64 covered = info->maxCounter;
            g.frames.erase(std::remove_if(g.frames.begin(), g.frames.end(),
                                          [covered](const Frame& f) { return f.counter <= covered; }),
                           g.frames.end());
            replaceOwn = true;
        }
        bool complete = true;
        for (const Frame& f : g.frames) {
            const FrameVerifier::Result v = FrameVerifier::verify(QDir(dir).filePath(f.name));
            if (!v.ok) {
                // History says done, but the bytes are not all here yet (a share's write-behind).
                complete = false;
                break;
            }
        }
        if (!complete) {
            settled = false;
            continue;
        }
        const QJsonObject identity{{QStringLiteral("prompt_id"), promptId},
                                   {QStringLiteral("node_id"), g.nodeId}};
        if (!publish(target, g.frames, identity, QStringLiteral("history"), replaceOwn) &&
            !QFileInfo::exists(markerPath))
            settled = false;
    }
    return settled;
}

void DoneMarkerSentinel::report(const QString& text)
{
    if (m_reported.contains(text))
        return;
    m_reported.insert(text);
    // The signal is the operator-facing channel (the CLI prints it); the log keeps a record.
    gd::log::get("pipeline")->info("sentinel: {}", text.toStdString());
    Q_EMIT problem(text);
}

} // namespace gd::pipeline
