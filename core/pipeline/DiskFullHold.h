#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>
#include <optional>

namespace gd::pipeline {

// Holds a run's queue while the filesystem under its run directory is full: recognises a write that
// failed with ENOSPC or EDQUOT, then polls until the free space is back (statvfs figure at or above
// what is needed and a probe write succeeds) or the hold bound runs out. Owner thread only.
class DiskFullHold : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        double maxHoldSeconds = 1800; // then expired(): the run ends and `gemdirect resume` continues it
        double pollSeconds = 5;
        qint64 minFreeBytes = 256LL * 1024 * 1024;
    };

    explicit DiskFullHold(QObject* parent = nullptr);

    void setOptions(const Options& options) { m_options = options; }
    const Options& options() const { return m_options; }

    // True when the text carries the OS's reason for a full disk or an exhausted quota (the strerror
    // text of ENOSPC / EDQUOT that AtomicFile, the downloads and the frame copies report).
    static bool isDiskFull(const QString& errorText);
    // Bytes an unprivileged writer may still use below `dir` (statvfs f_bavail × f_frsize); empty when
    // the filesystem cannot be asked.
    static std::optional<qint64> freeBytes(const QString& dir);
    // Writes and removes a probe file of `bytes` in `dir`: a quota (EDQUOT) does not show in statvfs,
    // and the write itself is the only reliable "there is room again".
    static bool probeWrite(const QString& dir, qint64 bytes);
    // "12.3 MB" / "1.5 GB": the size as an operator reads it.
    static QString formatBytes(qint64 bytes);

    // Starts holding for `dir` after a write failed with `error`; `neededBytes` is what the run needs
    // free before it goes on (at least the minimum of the options). Returns false when already holding.
    bool begin(const QString& dir, const QString& error, qint64 neededBytes);
    void stop();
    bool isHolding() const { return m_holding; }
    // The held queue's reason, stable while the hold lasts (the scene table and `Held:` lines show it).
    QString reason() const { return m_reason; }
    QString directory() const { return m_dir; }
    qint64 neededBytes() const { return m_needed; }
    double heldSeconds() const;
    // The hold as recorded in the artifact's DiskFullHolds[] (Directory, Error, Since, FreeBytes at the
    // start, NeededBytes, HeldSeconds, Outcome once it ended).
    QJsonObject toJson() const { return m_record; }

Q_SIGNALS:
    void spaceBack(qint64 freeBytes);
    void expired(qint64 freeBytes);

private:
    void poll();
    void end(const QString& outcome, qint64 freeBytes);

    Options m_options;
    QTimer m_timer;
    bool m_holding = false;
    QString m_dir;
    QString m_reason;
    qint64 m_needed = 0;
    QDateTime m_since;
    QJsonObject m_record;
};

} // namespace gd::pipeline
