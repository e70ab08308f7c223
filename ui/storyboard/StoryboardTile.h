#pragma once

#include <QFrame>
#include <QStringList>
#include <QVariant>
#include <QVariantList>

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
};

// One tile of the storyboard: thumbnail (decoded off the GUI thread through ThumbnailCache), title,
// score / freshness / approval / clip badges with their reasons as tooltips, the candidate strip
// (operator override of the judge) and the per-item actions. It only shows data and emits intent;
// the panel forwards it to the storyboard controller. objectName "shotTile:<key>" or
// "referenceTile:<key>"; children approveButton, rerollButton, uploadButton, editPromptButton,
// scoreBadge, freshnessBadge, approvedBadge, clipBadge, candidateStrip, tileThumbnail.
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

Q_SIGNALS:
    void approveRequested(bool approve); // false: withdraw the approval
    void rerollRequested();
    void uploadRequested();
    void editRequested();
    void candidateChosen(int version, int candidate);

private:
    QString shownFile() const;
    QString elideLines(const QString& text, int lines) const;
    void refreshImage();
    void refreshBadges();

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
};

} // namespace gd::ui
