#pragma once

#include "common/Error.h"
#include "storyboard/StoryboardTypes.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QVector>

namespace gd::storyboard {

// The storyboard's durable state (<dir>/storyboard.json): reference sheets and shots with their
// versions, candidates, chosen/selected pointers and approval. Nothing is ever deleted: a new
// version is appended and selected, older ones stay. Loading is strict (a damaged file is an error
// naming the file and the problem, never an empty storyboard); unknown keys survive a round trip.
// Threading: a plain value; the owner serialises access.
class StoryboardState
{
public:
    static constexpr int kFormatVersion = 1;
    static QString fileName() { return QStringLiteral("storyboard.json"); }

    // Reads <dir>/storyboard.json. A missing file is a new, empty storyboard (no error). Errors
    // (kind): "unreadableStoryboard", "corruptStoryboard" (not JSON or a field of the wrong shape,
    // the message names the path and the field), "newerStoryboard" (a version this build does not
    // know). `out` is only assigned on success.
    static Error load(const QString& dir, StoryboardState& out);
    // The same checks for bytes already read; `path` only names the file in messages.
    static Error fromJson(const QByteArray& bytes, const QString& path, StoryboardState& out);
    QJsonObject toJson() const;
    // Atomic write of <dir>/storyboard.json (temp file, fsync, rename).
    Error save(const QString& dir) const;

    const QVector<ReferenceEntry>& references() const { return m_references; }
    const QVector<ShotEntry>& shots() const { return m_shots; }
    const ReferenceEntry* findReference(const QString& key) const;
    const ShotEntry* findShot(const QString& shotKey) const;
    // The reference track (kind Reference), the shot's keyframe track (kind Keyframe) or its end
    // keyframe track (kind EndKeyframe).
    const ImageTrack* imageTrack(ItemKind kind, const QString& key) const;

    // Appends a version (its number is assigned: highest + 1), selects it and clears the approval
    // (the operator approved what was selected before, not this). createdAt defaults to now.
    // Returns the new version number, or 0 when the reference key is not valid.
    int addReferenceVersion(const QString& key, ImageVersion version);
    int addKeyframeVersion(const QString& shotKey, ImageVersion version);
    // The end keyframe (last frame) of a bookend shot.
    int addEndKeyframeVersion(const QString& shotKey, ImageVersion version);
    int addClipVersion(const QString& shotKey, ClipVersion version);

    // Picks candidate K (1-based) of a version. Changing the chosen candidate of the selected
    // version clears the approval. Errors (kind "notFound", "invalidArgument") name the item.
    Error choose(ItemKind kind, const QString& key, int version, int candidate, ChosenBy by);
    // Points the item at one of its versions; a different version clears the approval.
    Error select(ItemKind kind, const QString& key, int version);
    // Approving needs a selected version (and, for images, a chosen candidate).
    Error approve(ItemKind kind, const QString& key);
    Error unapprove(ItemKind kind, const QString& key);

    // Copies an operator's image into <dir>/refs/... as a new, selected and approved version of the
    // reference (source "uploaded"). The bytes must decode as an image (QImageReader): anything
    // else is refused with kind "notAnImage" and nothing is stored. Returns the version number
    // through `version` when not null.
    Error uploadReference(const QString& dir, const QString& key, const QString& sourcePath,
                          int* version = nullptr);
    // The same for any image track: a reference (refs/...), a shot's keyframe (keyframes/...) or end
    // keyframe (keyframes/.../end). `inputs` empty: the version's input hash covers the image alone
    // (an upload is its own input); else the version records these inputs and their hash, as a render
    // from them would, so later upstream edits make it stale. The version's model and profileHash
    // come from the inputs; `profile` names the profile whose hash they record (a keyframe: the one a
    // render would use), so a later command knows which profile judges its staleness.
    Error uploadImage(const QString& dir, ItemKind kind, const QString& key, const QString& sourcePath,
                      const QJsonObject& inputs, int* version = nullptr, const QString& profile = {});

    // sha256 of a file's bytes (lower-case hex), read in blocks.
    static Error sha256OfFile(const QString& path, QString& hex);

private:
    int addShotImageVersion(ItemKind kind, const QString& shotKey, ImageVersion version);
    ImageTrack* mutableImageTrack(ItemKind kind, const QString& key, bool create);
    ClipTrack* mutableClipTrack(const QString& shotKey, bool create);
    ShotEntry* mutableShot(const QString& shotKey, bool create);

    QVector<ReferenceEntry> m_references;
    QVector<ShotEntry> m_shots;
    // key → index of the entry: staleness looks every item up several times (100-shot target).
    QHash<QString, int> m_referenceIndex;
    QHash<QString, int> m_shotIndex;
    QJsonObject m_raw;
};

} // namespace gd::storyboard
