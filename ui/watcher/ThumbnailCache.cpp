#include "watcher/ThumbnailCache.h"

#include <QFutureWatcher>
#include <QImage>
#include <QImageReader>
#include <QtConcurrent/QtConcurrentRun>

namespace gd::ui {

namespace {

QImage decodeScaled(const QString& path, QSize box)
{
    QImageReader reader(path);
    reader.setAutoTransform(true);
    const QSize full = reader.size();
    // Scaled decoding: PNG/JPEG readers skip most of the work for a small target.
    if (full.isValid())
        reader.setScaledSize(full.scaled(box, Qt::KeepAspectRatio));
    return reader.read();
}

} // namespace

ThumbnailCache::ThumbnailCache(QSize size, int maxEntries, QObject* parent)
    : QObject(parent), m_size(size), m_cache(maxEntries)
{
}

QPixmap ThumbnailCache::thumbnail(const QString& path)
{
    if (path.isEmpty() || m_failed.contains(path))
        return QPixmap();
    if (const QPixmap* cached = m_cache.object(path))
        return *cached;
    if (m_pending.contains(path))
        return QPixmap();
    m_pending.insert(path);
    auto* watcher = new QFutureWatcher<QImage>(this);
    connect(watcher, &QFutureWatcher<QImage>::finished, this, [this, watcher, path] {
        const QImage image = watcher->result();
        watcher->deleteLater();
        m_pending.remove(path);
        if (image.isNull())
            m_failed.insert(path);
        else
            m_cache.insert(path, new QPixmap(QPixmap::fromImage(image)));
        Q_EMIT thumbnailReady(path);
    });
    watcher->setFuture(QtConcurrent::run(decodeScaled, path, m_size));
    return QPixmap();
}

} // namespace gd::ui
