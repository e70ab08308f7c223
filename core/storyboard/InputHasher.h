#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QMap>
#include <QString>

namespace gd::storyboard {

// The inputs of a keyframe render: what decides the picture, so any change to one of them makes
// an earlier render stale.
struct KeyframeInputSpec
{
    QString prompt;   // composed text (look and style injected) — composed by core/story, not here
    QString negative;
    qint64 seed = 0;
    QMap<QString, QString> referenceSha256; // reference key → sha256 of its selected, approved sheet
    QString styleReferenceSha256;           // "" when the story has no style reference image
    // The story has a style reference image but the keyframe's profile maps no style_reference_image:
    // it is not uploaded, so its hash stays out and the inputs say so ("styleReferenceUnused": true).
    bool styleReferenceUnused = false;
    QString profileHash;
    QString model;
    bool textOnly = false; // rendered without some character's sheet (operator allowed it)
};

// The inputs of a clip render (image-to-video).
struct ClipInputSpec
{
    QString startSha256;  // the selected keyframe candidate, or the previous shot's last frame
    QString startSource;  // "keyframe" | "previousLastFrame"
    QString endSha256;    // bookend profiles: the end image ("" when none)
    QString prompt;
    qint64 seed = 0;
    QString profileHash;
    QString model;
};

// Canonical JSON (keys sorted, no whitespace, integers exact) and the SHA-256 input hashes the
// storyboard stores per version: equal inputs always hash equal, whatever order they were built in.
class InputHasher
{
public:
    static QByteArray canonicalJson(const QJsonValue& value);
    // sha256 of canonicalJson(inputs), lower-case hex.
    static QString hash(const QJsonObject& inputs);
    static QString sha256Hex(const QByteArray& bytes);

    // sha256 over the workflow graph and the profile JSON, each in canonical form.
    static QString profileHash(const QJsonObject& graph, const QJsonObject& profile);

    static QJsonObject referenceInputs(const QString& prompt, const QString& negative, qint64 seed,
                                       const QString& styleReferenceSha256, const QString& profileHash,
                                       const QString& model);
    // "references" is an array of {key, sha256} sorted by key.
    static QJsonObject keyframeInputs(const KeyframeInputSpec& spec);
    static QJsonObject clipInputs(const ClipInputSpec& spec);
};

} // namespace gd::storyboard
