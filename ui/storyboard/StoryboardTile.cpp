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
      m_edit(new QPushButton(QStringLiteral("Edit prompt…"), this)),
      m_endImage(new QLabel(this)),
      m_endLabel(new QLabel(QStringLiteral("End frame:"), this)),
      m_endScore(new StatusBadge(QStringLiteral("endScoreBadge"), this)),
      m_endFreshness(new StatusBadge(QStringLiteral("endFreshnessBadge"), this)),
      m_endApproved(new StatusBadge(QStringLiteral("endApprovedBadge"), this)),
      m_endStrip(new CandidateStrip(candidates, this)),
      m_endApprove(new QPushButton(QStringLiteral("Approve end"), this)),
      m_endReroll(new QPushButton(QStringLiteral("Re-roll end"), this))
{
    setObjectName((kind == Kind::Shot ? QStringLiteral("shotTile:") : QStringLiteral("referenceTile:")) + key);
    setFrameShape(QFrame::StyledPanel);
    m_baseWidth = images->size().width() + 24;
    setFixedWidth(m_baseWidth);

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
    m_upload->setToolTip(kind == Kind::Shot
                             ? QStringLiteral("Use an image of your own as this shot's keyframe (stored as a new, "
                                              "approved version; it goes stale like a rendered one when the shot or "
                                              "its sheets change).")
                             : QStringLiteral("Use an image of your own as this sheet (stored as a new, approved version)."));
    m_edit->setToolTip(kind == Kind::Shot
                           ? QStringLiteral("Edit the shot's first frame, camera and motion; the keyframe goes stale.")
                           : QStringLiteral("Edit the reference-sheet prompt; the sheet and the shots showing it go stale."));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    layout->addWidget(m_title);
    // A bookend shot's end keyframe sits beside its keyframe (the tile widens for it).
    auto* images2 = new QHBoxLayout;
    images2->setSpacing(6);
    images2->addStretch(1);
    images2->addWidget(m_image);
    images2->addWidget(m_endImage);
    images2->addStretch(1);
    layout->addLayout(images2);
    auto* badges = new QHBoxLayout;
    badges->setSpacing(4);
    badges->addWidget(m_score);
    badges->addWidget(m_freshness);
    badges->addWidget(m_approved);
    badges->addWidget(m_clip);
    badges->addStretch(1);
    layout->addLayout(badges);
    auto* endRow = new QHBoxLayout;
    endRow->setSpacing(4);
    endRow->addWidget(m_endLabel);
    endRow->addWidget(m_endScore);
    endRow->addWidget(m_endFreshness);
    endRow->addWidget(m_endApproved);
    endRow->addStretch(1);
    endRow->addWidget(m_endApprove);
    endRow->addWidget(m_endReroll);
    layout->addLayout(endRow);
    layout->addWidget(m_description);
    layout->addWidget(m_strip);
    layout->addWidget(m_endStrip);
    auto* buttons = new QGridLayout;
    buttons->setSpacing(4);
    buttons->addWidget(m_approve, 0, 0);
    buttons->addWidget(m_reroll, 0, 1);
    buttons->addWidget(m_upload, 1, 0);
    buttons->addWidget(m_edit, 1, 1);
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
        if (!m_data.end.isEmpty() && path == endShownFile())
            refreshEndImage();
    });

    m_endImage->setObjectName(QStringLiteral("endThumbnail"));
    m_endImage->setFixedSize(images->size());
    m_endImage->setAlignment(Qt::AlignCenter);
    m_endImage->setFrameShape(QFrame::Panel);
    m_endImage->setFrameShadow(QFrame::Sunken);
    m_endLabel->setObjectName(QStringLiteral("endLabel"));
    m_endLabel->setToolTip(QStringLiteral("The shot's last frame (its lastFrame text): a bookend video profile ends "
                                          "the clip on it."));
    m_endStrip->setObjectName(QStringLiteral("endCandidateStrip"));
    m_endStrip->setFixedHeight(m_strip->maximumHeight());
    m_endApprove->setObjectName(QStringLiteral("endApproveButton"));
    m_endReroll->setObjectName(QStringLiteral("endRerollButton"));
    m_endReroll->setToolTip(QStringLiteral("Render a new version of the end keyframe with new seeds (the current one "
                                           "is kept)."));
    connect(m_endApprove, &QPushButton::clicked, this,
            [this] { Q_EMIT endApproveRequested(!m_data.end.value(QStringLiteral("approved")).toBool()); });
    connect(m_endReroll, &QPushButton::clicked, this, &StoryboardTile::endRerollRequested);
    connect(m_endStrip, &CandidateStrip::candidateClicked, this, [this](int candidate) {
        Q_EMIT endCandidateChosen(m_data.end.value(QStringLiteral("version")).toInt(), candidate);
    });
    setData({});
}

void StoryboardTile::setData(const StoryboardTileData& data)
{
    const QString before = shownFile();
    const QString endBefore = endShownFile();
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
    refreshEnd();
    if (!data.end.isEmpty() && (endShownFile() != endBefore || m_endImage->pixmap().isNull()))
        refreshEndImage();
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
    const QVariantMap& end = m_data.end;
    const bool endApproved = end.value(QStringLiteral("approved")).toBool();
    const bool canApproveEnd = end.value(QStringLiteral("version")).toInt() > 0 &&
                               (end.value(QStringLiteral("chosen")).toInt() > 0 ||
                                !end.value(QStringLiteral("candidates")).toStringList().isEmpty());
    m_endApprove->setEnabled(canApproveEnd);
    m_endApprove->setText(endApproved ? QStringLiteral("Unapprove end") : QStringLiteral("Approve end"));
    m_endApprove->setToolTip(!canApproveEnd ? QStringLiteral("No end keyframe to approve yet.")
                             : endApproved  ? QStringLiteral("Withdraw the end keyframe's approval.")
                                            : QStringLiteral("Approve the end keyframe shown: a bookend video profile ends "
                                                             "the clip on it."));
    m_endReroll->setEnabled(!busy && end.value(QStringLiteral("freshness")).toString() != QLatin1String("blocked"));
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

namespace gd::ui {

QString StoryboardTile::endShownFile() const
{
    const QString file = m_data.end.value(QStringLiteral("file")).toString();
    return !file.isEmpty() ? file : m_data.end.value(QStringLiteral("candidates")).toStringList().value(0);
}

void StoryboardTile::refreshEndImage()
{
    const QString file = endShownFile();
    if (file.isEmpty()) {
        m_endImage->setPixmap(QPixmap());
        m_endImage->setText(m_data.end.value(QStringLiteral("freshness")).toString() == QLatin1String("blocked")
                                ? QStringLiteral("end frame blocked")
                                : QStringLiteral("end frame not rendered"));
        m_endImage->setToolTip(QString());
        return;
    }
    const QPixmap pm = m_images->thumbnail(file);
    m_endImage->setToolTip(QStringLiteral("End frame: ") + file);
    if (!pm.isNull()) {
        m_endImage->setText(QString());
        m_endImage->setPixmap(pm);
    } else {
        m_endImage->setPixmap(QPixmap());
        m_endImage->setText(m_images->failed(file) ? QStringLiteral("unreadable image") : QStringLiteral("loading…"));
    }
}

// Shows or hides the end-keyframe widgets and fills their badges and strip.
void StoryboardTile::refreshEnd()
{
    using S = StatusColor::Status;
    const QVariantMap& end = m_data.end;
    const bool bookend = m_kind == Kind::Shot && !end.isEmpty();
    for (QWidget* w : std::initializer_list<QWidget*>{m_endImage, m_endLabel, m_endScore, m_endFreshness, m_endApproved,
                                                      m_endApprove, m_endReroll})
        w->setVisible(bookend);
    m_endStrip->setVisible(bookend && end.value(QStringLiteral("candidates")).toStringList().size() > 1);
    setFixedWidth(bookend ? 2 * m_baseWidth - 12 : m_baseWidth);
    if (!bookend)
        return;
    const int version = end.value(QStringLiteral("version")).toInt();
    const QVariant score = end.value(QStringLiteral("score"));
    if (score.isValid()) {
        const double v = score.toDouble();
        m_endScore->set(QStringLiteral("%1/10").arg(v, 0, 'f', 1), v >= 7 ? S::Ok : v >= 4 ? S::Warning : S::Bad,
                        QStringLiteral("Judge score of the chosen end-frame candidate (%1):\n%2")
                            .arg(end.value(QStringLiteral("judgeModel")).toString(),
                                 end.value(QStringLiteral("judgeReasons")).toString()));
    } else if (version > 0) {
        m_endScore->set(QStringLiteral("not judged"), S::Unknown,
                        QStringLiteral("No vision model judged this end keyframe: pick the best candidate yourself."));
    } else {
        m_endScore->set(QString(), S::Unknown, QString());
    }
    const QString freshness = end.value(QStringLiteral("freshness")).toString();
    QString tip = freshnessTip(QStringLiteral("end keyframe"), freshness,
                               end.value(QStringLiteral("freshnessReasons")).toStringList());
    const bool used = end.value(QStringLiteral("used")).toBool();
    if (!used)
        tip += QStringLiteral("\nNot used: the video profile maps no end_image, so the clip ignores lastFrame.");
    m_endFreshness->set(used ? freshness : freshness + QStringLiteral(" · not used"),
                        StatusBadge::freshnessStatus(freshness), tip);
    if (end.value(QStringLiteral("approved")).toBool())
        m_endApproved->set(QStringLiteral("approved"), S::Ok,
                           QStringLiteral("Approved: a bookend video profile ends the clip on this frame."));
    else if (version > 0)
        m_endApproved->set(QStringLiteral("to approve"), S::Unknown,
                           used ? QStringLiteral("Rendered but not approved: the video pass waits for it.")
                                : QStringLiteral("Rendered but not approved (not needed: the video profile ignores "
                                                 "lastFrame)."));
    else
        m_endApproved->set(QString(), S::Unknown, QString());
    m_endStrip->setCandidates(end.value(QStringLiteral("candidates")).toStringList(),
                              end.value(QStringLiteral("chosen")).toInt(), end.value(QStringLiteral("scores")).toList(),
                              end.value(QStringLiteral("reasons")).toStringList());
}

} // namespace gd::ui
