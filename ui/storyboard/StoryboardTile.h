#pragma once

#include <QFrame>
#include <QStringList>
#include <QVariant>
#include <QVariantList>
#include <QVariantMap>

class QLabel;
class QPushButton;

namespace gd::ui {

class CandidateStrip;
class StatusBadge;
class ThumbnailCache;

// What one tile shows: a shot's selected keyframe or a reference's selected sheet, with its badges.
struct StoryboardTileData
{
    QString title;       // "shot-02" | "Mara Voss"
    QString subtitle;    // the look, the scene
    QString description; // the shot's description or the sheet's prompt
    QString imageFile;   // absolute path of the chosen candidate ("" = nothing yet)
    int version = 0;     // selected version, 0 = none
    int chosen = 0;
    QStringList candidates;
    QVariantList scores;
    QStringList reasons;
    QVariant score; // the chosen candidate's judge score (invalid = not judged)
    QString judgeReasons;
    QString judgeModel;
    QString chosenBy;
    bool approved = false;
    QString freshness; // "fresh" | "stale" | "missing" | "blocked"
    QStringList freshnessReasons;
    QString clipState; // shots only ("" for references)
    QStringList clipReasons;
    QString estimate;
    QString source; // references: "rendered" | "uploaded"
    // Bookend shots: the end keyframe, as StoryboardGridModel::EndKeyframeRole gives it ("file",
    // "version", "chosen", "candidates", "scores", "reasons", "score", "judgeReasons", "judgeModel",
    // "chosenBy", "approved", "freshness", "freshnessReasons", "used"). Empty: no end keyframe.
    QVariantMap end;
};

// One tile of the storyboard: thumbnail (decoded off the GUI thread through ThumbnailCache), title,
// score / freshness / approval / clip badges with their reasons as tooltips, the candidate strip
// (operator override of the judge) and the per-item actions. It only shows data and emits intent;
// the panel forwards it to the storyboard controller. objectName "shotTile:<key>" or
// "referenceTile:<key>"; children approveButton, rerollButton, uploadButton, editPromptButton,
// scoreBadge, freshnessBadge, approvedBadge, clipBadge, candidateStrip, tileThumbnail. A bookend shot's
// tile is twice as wide and shows its end keyframe beside the keyframe: endThumbnail, endScoreBadge,
// endFreshnessBadge, endApprovedBadge, endApproveButton, endRerollButton, endCandidateStrip.
class StoryboardTile : public QFrame
{
    Q_OBJECT
public:
    enum class Kind
    {
        Shot,
        Reference,
    };

    StoryboardTile(Kind kind, const QString& key, ThumbnailCache* images, ThumbnailCache* candidates,
                   QWidget* parent = nullptr);

    Kind kind() const { return m_kind; }
    QString key() const { return m_key; }
    const StoryboardTileData& data() const { return m_data; }
    void setData(const StoryboardTileData& data);
    // Re-roll and the edits are refused while a stage renders; approve and choose stay open.
    void setBusy(bool busy);

    QPushButton* approveButton() const { return m_approve; }
    QPushButton* rerollButton() const { return m_reroll; }
    QPushButton* uploadButton() const { return m_upload; }
    QPushButton* editButton() const { return m_edit; }
    CandidateStrip* candidateStrip() const { return m_strip; }
    StatusBadge* freshnessBadge() const { return m_freshness; }
    StatusBadge* scoreBadge() const { return m_score; }
    StatusBadge* approvedBadge() const { return m_approved; }
    StatusBadge* clipBadge() const { return m_clip; }
    QPushButton* endApproveButton() const { return m_endApprove; }
    QPushButton* endRerollButton() const { return m_endReroll; }
    CandidateStrip* endCandidateStrip() const { return m_endStrip; }
    StatusBadge* endFreshnessBadge() const { return m_endFreshness; }
    StatusBadge* endScoreBadge() const { return m_endScore; }
    StatusBadge* endApprovedBadge() const { return m_endApproved; }

Q_SIGNALS:
    void approveRequested(bool approve); // false: withdraw the approval
    void rerollRequested();
    void uploadRequested();
    void editRequested();
    void candidateChosen(int version, int candidate);
    // The same intents for a bookend shot's end keyframe.
    void endApproveRequested(bool approve);
    void endRerollRequested();
    void endCandidateChosen(int version, int candidate);

private:
    QString shownFile() const;
    QString elideLines(const QString& text, int lines) const;
    void refreshImage();
    void refreshBadges();
    QString endShownFile() const;
    void refreshEndImage();
    void refreshEnd();

    Kind m_kind;
    QString m_key;
    ThumbnailCache* m_images;
    StoryboardTileData m_data;
    bool m_busy = false;
    QLabel* m_image;
    QLabel* m_title;
    QLabel* m_description;
    QLabel* m_estimate;
    StatusBadge* m_score;
    StatusBadge* m_freshness;
    StatusBadge* m_approved;
    StatusBadge* m_clip;
    CandidateStrip* m_strip;
    QPushButton* m_approve;
    QPushButton* m_reroll;
    QPushButton* m_upload;
    QPushButton* m_edit;
    int m_baseWidth = 0;
    QLabel* m_endImage;
    QLabel* m_endLabel;
    StatusBadge* m_endScore;
    StatusBadge* m_endFreshness;
    StatusBadge* m_endApproved;
    CandidateStrip* m_endStrip;
    QPushButton* m_endApprove;
    QPushButton* m_endReroll;
};

} // namespace gd::ui
