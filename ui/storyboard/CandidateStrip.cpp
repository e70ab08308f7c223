#include "storyboard/CandidateStrip.h"

#include "watcher/ThumbnailCache.h"

#include <QHBoxLayout>
#include <QToolButton>

namespace gd::ui {

CandidateStrip::CandidateStrip(ThumbnailCache* cache, QWidget* parent)
    : QWidget(parent), m_cache(cache), m_layout(new QHBoxLayout(this))
{
    m_layout->setContentsMargins(0, 0, 0, 0);
    m_layout->setSpacing(3);
    m_layout->addStretch(1);
    connect(m_cache, &ThumbnailCache::thumbnailReady, this, [this](const QString& path) {
        if (m_files.contains(path))
            refreshIcons();
    });
}

void CandidateStrip::setCandidates(const QStringList& files, int chosen, const QVariantList& scores,
                                   const QStringList& reasons)
{
    while (m_buttons.size() > files.size())
        delete m_buttons.takeLast();
    while (m_buttons.size() < files.size()) {
        auto* b = new QToolButton(this);
        const int k = m_buttons.size() + 1;
        b->setObjectName(QStringLiteral("candidate-%1").arg(k));
        b->setCheckable(true);
        b->setAutoRaise(true);
        b->setToolButtonStyle(Qt::ToolButtonTextUnderIcon);
        b->setIconSize(m_cache->size());
        connect(b, &QToolButton::clicked, this, [this, b, k] {
            // The check follows the storyboard, not the click: the choice comes back via the model.
            b->setChecked(!b->isChecked());
            Q_EMIT candidateClicked(k);
        });
        m_layout->insertWidget(m_buttons.size(), b);
        m_buttons.append(b);
    }
    m_files = files;
    for (int i = 0; i < m_buttons.size(); ++i) {
        QToolButton* b = m_buttons.at(i);
        const QVariant score = i < scores.size() ? scores.at(i) : QVariant();
        const QString reason = i < reasons.size() ? reasons.at(i) : QString();
        b->setText(score.isValid() ? QStringLiteral("#%1 %2").arg(i + 1).arg(score.toDouble(), 0, 'f', 1)
                                   : QStringLiteral("#%1").arg(i + 1));
        b->setChecked(i + 1 == chosen);
        QString tip = QStringLiteral("Candidate %1%2. Click to choose it instead of the current pick.")
                          .arg(i + 1)
                          .arg(i + 1 == chosen ? QStringLiteral(" (chosen)") : QString());
        if (score.isValid())
            tip += QStringLiteral("\nJudge score %1/10: %2").arg(score.toDouble(), 0, 'f', 1).arg(reason);
        else
            tip += QStringLiteral("\nNot judged.");
        b->setToolTip(tip);
    }
    refreshIcons();
}

QToolButton* CandidateStrip::button(int candidate) const
{
    return candidate >= 1 && candidate <= m_buttons.size() ? m_buttons.at(candidate - 1) : nullptr;
}

void CandidateStrip::refreshIcons()
{
    for (int i = 0; i < m_buttons.size() && i < m_files.size(); ++i) {
        const QPixmap pm = m_cache->thumbnail(m_files.at(i));
        m_buttons.at(i)->setIcon(pm.isNull() ? QIcon() : QIcon(pm));
    }
}

} // namespace gd::ui
