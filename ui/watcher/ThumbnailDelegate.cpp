#include "watcher/ThumbnailDelegate.h"

#include "pipeline/SceneTableModel.h"
#include "watcher/ThumbnailCache.h"

#include <QPainter>

namespace gd::ui {

ThumbnailDelegate::ThumbnailDelegate(ThumbnailCache* cache, QObject* parent)
    : SceneCellDelegate(parent), m_cache(cache)
{
}

void ThumbnailDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    paintBackground(painter, option, index);
    const QString path = index.data(pipeline::SceneTableModel::LatestFrameRole).toString();
    if (path.isEmpty())
        return;
    const QPixmap pixmap = m_cache->thumbnail(path);
    const QRect area = option.rect.adjusted(2, 2, -2, -2);
    if (pixmap.isNull()) {
        painter->save();
        painter->setPen(option.palette.color(QPalette::PlaceholderText));
        painter->drawText(area, Qt::AlignCenter,
                          m_cache->failed(path) ? QStringLiteral("unreadable") : QStringLiteral("loading…"));
        painter->restore();
        return;
    }
    const QSize s = pixmap.size().scaled(area.size(), Qt::KeepAspectRatio);
    const QRect target(area.left() + (area.width() - s.width()) / 2, area.top() + (area.height() - s.height()) / 2,
                       s.width(), s.height());
    painter->drawPixmap(target, pixmap);
}

QSize ThumbnailDelegate::sizeHint(const QStyleOptionViewItem&, const QModelIndex&) const
{
    return m_cache->size() + QSize(4, 4);
}

} // namespace gd::ui
