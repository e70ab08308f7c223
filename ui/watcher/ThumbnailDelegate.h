#pragma once

#include "watcher/SceneCellDelegate.h"

namespace gd::ui {

class ThumbnailCache;

// Draws the latest collected frame (SceneTableModel::LatestFrameRole) from the ThumbnailCache; the
// view repaints when the cache reports the decoded image.
class ThumbnailDelegate : public SceneCellDelegate
{
    Q_OBJECT
public:
    ThumbnailDelegate(ThumbnailCache* cache, QObject* parent = nullptr);

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

private:
    ThumbnailCache* m_cache;
};

} // namespace gd::ui
