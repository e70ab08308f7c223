#pragma once

#include <QCache>
#include <QObject>
#include <QPixmap>
#include <QSet>
#include <QSize>
#include <QString>

namespace gd::ui {

// Small previews of collected frames. Decoding runs on the global thread pool (a watcher parented
// to this object hands the image back); results are kept in a bounded cache. A frame that cannot
// be decoded is remembered as such and never retried.
class ThumbnailCache : public QObject
{
    Q_OBJECT
public:
    explicit ThumbnailCache(QSize size, int maxEntries = 256, QObject* parent = nullptr);

    // The cached thumbnail; a null pixmap while it is being decoded (thumbnailReady follows) or
    // when the file is not a readable image (failed(path) is then true).
    QPixmap thumbnail(const QString& path);
    bool failed(const QString& path) const { return m_failed.contains(path); }
    bool pending(const QString& path) const { return m_pending.contains(path); }
    QSize size() const { return m_size; }

Q_SIGNALS:
    void thumbnailReady(const QString& path);

private:
    QSize m_size;
    QCache<QString, QPixmap> m_cache;
    QSet<QString> m_pending;
    QSet<QString> m_failed;
};

} // namespace gd::ui
