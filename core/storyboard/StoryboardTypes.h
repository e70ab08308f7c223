#pragma once

// Plain values of storyboard.json (version 1, see docs/STORYBOARD_FORMAT.md). Every object keeps
// `raw`, the keys as loaded, so keys a newer build wrote survive a load/save round trip.

#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QVector>
#include <optional>

namespace gd::storyboard {

// The three kinds of artifact a storyboard tracks, in dependency order.
enum class ItemKind
{
    Reference, // a character-look, location or style reference sheet
    Keyframe,  // the first frame of a shot
    Clip,      // the image-to-video pass of a shot
    // The last frame of a bookend shot (one with a lastFrame): a keyframe rendered from the lastFrame
    // text that a bookend video profile receives as end_image. Its key is the shot key.
    EndKeyframe,
};

// Who picked a version's chosen candidate.
enum class ChosenBy
{
    None,
    Judge,
    Operator,
};

// The vision judge's verdict on one keyframe candidate (keyframe_rubric).
struct JudgeVerdict
{
    double score = 0;            // 0–10
    int descriptionMatch = 0;    // 0–4
    int characterCount = 0;      // people seen
    QMap<QString, int> identity; // character name → 0–4
    bool bordersOrText = false;
    QString reasons;
    QString model;
    QJsonObject raw;
};

// One rendered (or uploaded) image of a version; its number K is its 1-based position.
struct Candidate
{
    QString file;   // relative to the storyboard directory
    QString sha256; // of the file's bytes, lower-case hex
    qint64 seed = 0;
    std::optional<qint64> durationMs; // GPU time it took, when rendered (estimates)
    std::optional<JudgeVerdict> judge;
    QJsonObject raw;
};

// One version of a reference sheet or keyframe: N candidates rendered from the same inputs.
struct ImageVersion
{
    int version = 0; // 1, 2, ...
    QString inputHash;
    QVector<Candidate> candidates;
    std::optional<int> chosen; // 1-based candidate number
    ChosenBy chosenBy = ChosenBy::None;
    QString source; // "rendered" | "uploaded"
    QString profile;
    QString profileHash;
    QString model;
    QString createdAt;  // ISO 8601 UTC
    QJsonObject inputs; // what was hashed (staleness reasons compare against it)
    QJsonObject raw;

    // The chosen candidate, or nullptr when none is chosen.
    const Candidate* chosenCandidate() const
    {
        return chosen && *chosen >= 1 && *chosen <= candidates.size() ? &candidates.at(*chosen - 1) : nullptr;
    }
};

// The versions of one image artifact with the selected pointer and the approval gate.
struct ImageTrack
{
    QVector<ImageVersion> versions;
    std::optional<int> selected; // a version number
    bool approved = false;
    QJsonObject raw;

    const ImageVersion* version(int number) const
    {
        for (const ImageVersion& v : versions)
            if (v.version == number)
                return &v;
        return nullptr;
    }
    const ImageVersion* selectedVersion() const { return selected ? version(*selected) : nullptr; }
    // The selected version's chosen candidate: what downstream stages use.
    const Candidate* selectedCandidate() const
    {
        const ImageVersion* v = selectedVersion();
        return v ? v->chosenCandidate() : nullptr;
    }
};

// storyboard.json references[]: key "character:<name>#<look>", "location:<name>" or "style".
struct ReferenceEntry
{
    QString key;
    ImageTrack track;
};

// One version of a shot's image-to-video pass.
struct ClipVersion
{
    int version = 0;
    QString inputHash;
    QString dir; // relative to the storyboard directory
    int frames = 0;
    QString lastFrameSha256; // what a shot continuing from this one starts on
    std::optional<qint64> durationMs;
    QString profile;
    QJsonObject inputs;
    QJsonObject raw;
};

struct ClipTrack
{
    QVector<ClipVersion> versions;
    std::optional<int> selected;
    bool approved = false;
    QJsonObject raw;

    const ClipVersion* version(int number) const
    {
        for (const ClipVersion& v : versions)
            if (v.version == number)
                return &v;
        return nullptr;
    }
    const ClipVersion* selectedVersion() const { return selected ? version(*selected) : nullptr; }
};

// storyboard.json shots[]: key "<sceneId>/<shotId>".
struct ShotEntry
{
    QString key;
    ImageTrack keyframe;
    ImageTrack endKeyframe; // bookend shots only; "endKeyframe" in storyboard.json, written when it has versions
    ClipTrack clip;
    QJsonObject raw;
};

} // namespace gd::storyboard
