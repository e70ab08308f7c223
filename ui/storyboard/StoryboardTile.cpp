#include "storyboard/StoryboardTile.h"

#include "storyboard/CandidateStrip.h"
#include "storyboard/StatusBadge.h"
#include "watcher/ThumbnailCache.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

namespace gd::ui {

namespace {

QString freshnessTip(const QString& what, const QString& freshness, const QStringList& reasons)
{
    QString tip;
    if (freshness == QLatin1String("fresh"))
        tip = QStringLiteral("Fresh: the selected %1 was made from the current inputs.").arg(what);
    else if (freshness == QLatin1String("stale"))
        tip = QStringLiteral("Stale: the selected %1 was made from other inputs; it is kept until \"Update stale\" "
                             "re-renders it.")
                  .arg(what);
    else if (freshness == QLatin1String("blocked"))
        tip = QStringLiteral("Blocked: the %1 cannot be rendered yet.").arg(what);
    else
        tip = QStringLiteral("Missing: no %1 rendered yet.").arg(what);
    if (!reasons.isEmpty())
        tip += QStringLiteral("\n• ") + reasons.join(QStringLiteral("\n• "));
    return tip;
}

} // namespace

StoryboardTile::StoryboardTile(Kind kind, const QString& key, ThumbnailCache* images, ThumbnailCache* candidates,
                               QWidget* parent)
    : QFrame(parent),
      m_kind(kind),
      m_key(key),
      m_images(images),
      m_image(new QLabel(this)),
      m_title(new QLabel(this)),
      m_description(new QLabel(this)),
      m_estimate(new QLabel(this)),
      m_score(new StatusBadge(QStringLiteral("scoreBadge"), this)),
      m_freshness(new StatusBadge(QStringLiteral("freshnessBadge"), this)),
      m_approved(new StatusBadge(QStringLiteral("approvedBadge"), this)),
      m_clip(new StatusBadge(QStringLiteral("clipBadge"), this)),
      m_strip(new CandidateStrip(candidates, this)),
      m_approve(new QPushButton(QStringLiteral("Approve"), this)),
      m_reroll(new QPushButton(QStringLiteral("Re-roll"), this)),
      m_upload(new QPushButton(QStringLiteral("Upload…"), this)),
      m_edit(new QPushButton(QStringLiteral("Edit prompt…"), this))
{
    setObjectName((kind == Kind::Shot ? QStringLiteral("shotTile:") : QStringLiteral("referenceTile:")) + key);
    setFrameShape(QFrame::StyledPanel);
    setFixedWidth(images->size().width() + 24);

    m_image->setObjectName(QStringLiteral("tileThumbnail"));
    m_image->setFixedSize(images->size());
    m_image->setAlignment(Qt::AlignCenter);
    m_image->setFrameShape(QFrame::Panel);
    m_image->setFrameShadow(QFrame::Sunken);
    m_title->setObjectName(QStringLiteral("tileTitle"));
    m_title->setTextFormat(Qt::PlainText);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_description->setObjectName(QStringLiteral("tileDescription"));
    m_description->setTextFormat(Qt::PlainText);
    m_description->setWordWrap(true);
    m_description->setFixedHeight(m_description->fontMetrics().lineSpacing() * 3);
    m_description->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_estimate->setObjectName(QStringLiteral("tileEstimate"));
    m_estimate->setTextFormat(Qt::PlainText);
    m_estimate->setToolTip(QStringLiteral("Estimated GPU time of this item's next render (median of earlier renders "
                                          "with the same profile)."));
    m_strip->setObjectName(QStringLiteral("candidateStrip"));
    // Fixed heights, kept while hidden: every tile of a row has the same height from the start, so
    // rows do not jump while candidates stream in.
    m_strip->setFixedHeight(candidates->size().height() + m_strip->fontMetrics().height() + 14);
    for (QWidget* w : {static_cast<QWidget*>(m_strip), static_cast<QWidget*>(m_estimate)}) {
        QSizePolicy policy = w->sizePolicy();
        policy.setRetainSizeWhenHidden(true);
        w->setSizePolicy(policy);
    }

    m_approve->setObjectName(QStringLiteral("approveButton"));
    m_reroll->setObjectName(QStringLiteral("rerollButton"));
    m_upload->setObjectName(QStringLiteral("uploadButton"));
    m_edit->setObjectName(QStringLiteral("editPromptButton"));
    const QString what = kind == Kind::Shot ? QStringLiteral("keyframe") : QStringLiteral("sheet");
    m_reroll->setToolTip(QStringLiteral("Render a new version of this %1 with new seeds (the current one is kept).")
                             .arg(what));
    m_upload->setToolTip(QStringLiteral("Use an image of your own as this sheet (stored as a new, approved version)."));
    m_edit->setToolTip(kind == Kind::Shot
                           ? QStringLiteral("Edit the shot's first frame, camera and motion; the keyframe goes stale.")
                           : QStringLiteral("Edit the reference-sheet prompt; the sheet and the shots showing it go stale."));
    m_upload->setVisible(kind == Kind::Reference);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    layout->addWidget(m_title);
    layout->addWidget(m_image, 0, Qt::AlignHCenter);
    auto* badges = new QHBoxLayout;
    badges->setSpacing(4);
    badges->addWidget(m_score);
    badges->addWidget(m_freshness);
    badges->addWidget(m_approved);
    badges->addWidget(m_clip);
    badges->addStretch(1);
    layout->addLayout(badges);
    layout->addWidget(m_description);
    layout->addWidget(m_strip);
    auto* buttons = new QGridLayout;
    buttons->setSpacing(4);
    buttons->addWidget(m_approve, 0, 0);
    buttons->addWidget(m_reroll, 0, 1);
    if (kind == Kind::Reference) {
        buttons->addWidget(m_upload, 1, 0);
        buttons->addWidget(m_edit, 1, 1);
    } else {
        buttons->addWidget(m_edit, 1, 0, 1, 2);
    }
    layout->addLayout(buttons);
    layout->addWidget(m_estimate);
    layout->addStretch(1);

    connect(m_approve, &QPushButton::clicked, this, [this] { Q_EMIT approveRequested(!m_data.approved); });
    connect(m_reroll, &QPushButton::clicked, this, &StoryboardTile::rerollRequested);
    connect(m_upload, &QPushButton::clicked, this, &StoryboardTile::uploadRequested);
    connect(m_edit, &QPushButton::clicked, this, &StoryboardTile::editRequested);
    connect(m_strip, &CandidateStrip::candidateClicked, this,
            [this](int candidate) { Q_EMIT candidateChosen(m_data.version, candidate); });
    connect(images, &ThumbnailCache::thumbnailReady, this, [this](const QString& path) {
        if (path == shownFile())
            refreshImage();
    });
    setData({});
}

void StoryboardTile::setData(const StoryboardTileData& data)
{
    const QString before = shownFile();
    m_data = data;
    const bool imageChanged = shownFile() != before || m_image->pixmap().isNull();
    m_title->setText(data.subtitle.isEmpty() ? data.title : data.title + QStringLiteral(" · ") + data.subtitle);
    m_title->setToolTip(m_key);
    m_description->setText(elideLines(data.description, 3));
    m_description->setToolTip(data.description);
    m_strip->setCandidates(data.candidates, data.chosen, data.scores, data.reasons);
    // Hidden, the strip keeps its room: tiles of a row stay aligned while candidates stream in.
    m_strip->setVisible(data.candidates.size() > 1);
    m_estimate->setText(data.estimate.isEmpty() ? QString() : QStringLiteral("Next render: ") + data.estimate);
    m_estimate->setVisible(!data.estimate.isEmpty());
    if (imageChanged)
        refreshImage();
    refreshBadges();
    setBusy(m_busy);
}

void StoryboardTile::setBusy(bool busy)
{
    m_busy = busy;
    const bool canApprove = m_data.version > 0 && (m_data.chosen > 0 || !m_data.candidates.isEmpty());
    m_approve->setEnabled(canApprove);
    m_approve->setText(m_data.approved ? QStringLiteral("Unapprove") : QStringLiteral("Approve"));
    m_approve->setToolTip(!canApprove ? QStringLiteral("Nothing to approve yet: render or choose a candidate first.")
                          : m_data.approved
                              ? QStringLiteral("Withdraw the approval (the next stages wait for it again).")
                          : m_data.chosen > 0
                              ? QStringLiteral("Approve the chosen candidate: the next stage renders from it.")
                              : QStringLiteral("Approve candidate 1 (shown); click another candidate below to choose it "
                                               "instead."));
    m_reroll->setEnabled(!busy && m_data.freshness != QLatin1String("blocked"));
    m_upload->setEnabled(!busy);
    m_edit->setEnabled(!busy);
}

QString StoryboardTile::elideLines(const QString& text, int lines) const
{
    // The longest word-boundary prefix (plus "…") whose wrapped text fits `lines` lines of the label.
    const QFontMetrics fm = m_description->fontMetrics();
    const int width = m_images->size().width();
    const int height = fm.lineSpacing() * lines;
    const auto fits = [&](const QString& t) {
        return fm.boundingRect(QRect(0, 0, width, 100000), Qt::TextWordWrap, t).height() <= height;
    };
    if (fits(text))
        return text;
    int lo = 0, hi = text.size();
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (fits(text.left(mid).trimmed() + QStringLiteral("…")))
            lo = mid;
        else
            hi = mid - 1;
    }
    QString cut = text.left(lo);
    if (const int space = cut.lastIndexOf(QLatin1Char(' ')); space > lo / 2)
        cut = cut.left(space);
    return cut.trimmed() + QStringLiteral("…");
}

QString StoryboardTile::shownFile() const
{
    // Nothing chosen yet (sheets wait for the operator's pick): the first candidate stands in.
    return !m_data.imageFile.isEmpty() ? m_data.imageFile : m_data.candidates.value(0);
}

void StoryboardTile::refreshImage()
{
    const QString file = shownFile();
    if (file.isEmpty()) {
        m_image->setPixmap(QPixmap());
        m_image->setText(m_data.freshness == QLatin1String("blocked") ? QStringLiteral("blocked")
                                                                      : QStringLiteral("not rendered"));
        m_image->setToolTip(QString());
        return;
    }
    const QPixmap pm = m_images->thumbnail(file);
    m_image->setToolTip(m_data.chosen > 0 ? file : QStringLiteral("Candidate 1 (none chosen yet): ") + file);
    if (!pm.isNull()) {
        m_image->setText(QString());
        m_image->setPixmap(pm);
    } else {
        m_image->setPixmap(QPixmap());
        m_image->setText(m_images->failed(file) ? QStringLiteral("unreadable image")
                                                            : QStringLiteral("loading…"));
    }
}

void StoryboardTile::refreshBadges()
{
    using S = StatusColor::Status;
    const QString what = m_kind == Kind::Shot ? QStringLiteral("keyframe") : QStringLiteral("sheet");
    if (m_data.score.isValid()) {
        const double s = m_data.score.toDouble();
        m_score->set(QStringLiteral("%1/10").arg(s, 0, 'f', 1), s >= 7 ? S::Ok : s >= 4 ? S::Warning : S::Bad,
                     QStringLiteral("Judge score of the chosen candidate (%1, chosen by the %2):\n%3")
                         .arg(m_data.judgeModel.isEmpty() ? QStringLiteral("vision judge") : m_data.judgeModel,
                              m_data.chosenBy.isEmpty() ? QStringLiteral("judge") : m_data.chosenBy,
                              m_data.judgeReasons));
    } else if (m_kind == Kind::Shot && m_data.version > 0) {
        m_score->set(QStringLiteral("not judged"), S::Unknown,
                     QStringLiteral("No vision model judged this keyframe: pick the best candidate yourself "
                                    "(the storyboard metrics are UNMEASURED)."));
    } else {
        m_score->set(QString(), S::Unknown, QString());
    }
    const QString freshness = m_data.freshness.isEmpty() ? QStringLiteral("missing") : m_data.freshness;
    m_freshness->set(freshness, StatusBadge::freshnessStatus(freshness),
                     freshnessTip(what, freshness, m_data.freshnessReasons));
    if (m_data.approved)
        m_approved->set(QStringLiteral("approved"), S::Ok,
                        m_kind == Kind::Shot ? QStringLiteral("Approved: the video pass renders this keyframe.")
                                             : QStringLiteral("Approved: keyframes of shots showing it are anchored on "
                                                              "this sheet."));
    else if (m_data.version > 0)
        m_approved->set(QStringLiteral("to approve"), S::Unknown,
                        QStringLiteral("Rendered but not approved: the next stage waits for the operator."));
    else
        m_approved->set(QString(), S::Unknown, QString());
    if (m_kind == Kind::Shot && !m_data.clipState.isEmpty() && m_data.clipState != QLatin1String("missing"))
        m_clip->set(QStringLiteral("clip ") + m_data.clipState, StatusBadge::freshnessStatus(m_data.clipState),
                    freshnessTip(QStringLiteral("clip"), m_data.clipState, m_data.clipReasons));
    else
        m_clip->set(QString(), S::Unknown, QString());
}

} // namespace gd::ui
