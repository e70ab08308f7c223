#pragma once

#include <QStringList>
#include <QVariantList>
#include <QVector>
#include <QWidget>

class QHBoxLayout;
class QToolButton;

namespace gd::ui {

class ThumbnailCache;

// A row of small candidate thumbnails of one version; the chosen one is checked. Clicking another
// asks to choose it (candidateClicked): the operator's override of the judge. Thumbnails come from
// a shared ThumbnailCache (decoded off the GUI thread). Buttons are named "candidate-<K>" (1-based).
class CandidateStrip : public QWidget
{
    Q_OBJECT
public:
    CandidateStrip(ThumbnailCache* cache, QWidget* parent = nullptr);

    // `scores` / `reasons` may be empty (not judged): one entry per file otherwise.
    void setCandidates(const QStringList& files, int chosen, const QVariantList& scores = {},
                       const QStringList& reasons = {});
    QToolButton* button(int candidate) const;
    int count() const { return m_buttons.size(); }

Q_SIGNALS:
    void candidateClicked(int candidate);

private:
    void refreshIcons();

    ThumbnailCache* m_cache;
    QHBoxLayout* m_layout;
    QVector<QToolButton*> m_buttons;
    QStringList m_files;
};

} // namespace gd::ui
