#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <optional>

namespace gd::sandbox {

// The sandbox's stand-in for a vision-language model and an LLM judge: deterministic answers computed from
// what the request really carries.
// Honesty note: a real VLM reads pixels. The sandbox frames only show the scene id and the prompt in a
// bitmap font plus colours derived from a hash, so pixel "understanding" is not possible here. Instead the
// sandbox VLM reads the PNG tEXt chunk "prompt" that ComfyUI's SaveImage (and the sandbox ComfyUI) writes
// into every frame — the API graph — and describes the CLIPTextEncode text found there, plus the frame's
// dominant colour measured from the pixels. That channel exists only in the sandbox: a real model never
// sees PNG metadata. Without the chunk the caption describes only the colours.
// The storyboard judges (issue 8) are answered from measurements, again not understanding: the keyframe
// rubric ("keyframe_rubric") takes description_match from the content words the shot description shares
// with the candidate's tEXt prompt; character_count from the figures FigureFinder finds (the sandbox keyframe
// renderer paints one saturated figure per character reference); each character's identity from the colour
// distance between its sheet's dominant colour (ImageColours) and the closest figure, in bands of 0-4;
// borders_or_text from uniform outer bands that differ from the image inside them (text is not detected, so
// the sandbox never reports text); score from those four. Sameness ("keyframe_sameness"): same_identity when
// both keyframes have the same figure colours, same_layout when their 16x16 luma copies differ by at most 10
// of 255 on average. Character names come from the request's "Character <n>: <name> (reference sheet: image
// <k>)" lines, as a real model would read them.
class SandboxVision
{
public:
    // Images of the request's messages: the decoded bytes of each image_url part.
    struct Images
    {
        QList<QByteArray> images;
        QString error; // LM Studio's wording for a bad image URL; empty when every image decoded
    };
    static Images images(const QJsonArray& messages);
    static bool hasImageParts(const QJsonArray& messages);

    // CLIPTextEncode text of the positive prompt in the graph stored in the PNG's tEXt "prompt" chunk.
    static std::optional<QString> promptTextOf(const QByteArray& png);
    // "A frame showing <prompt text>, in <colour> tones." (see the class comment).
    static QString caption(const QByteArray& image);

    // Structured judge answers, recognised by the schema's property names: {score, reasons} (coherence of
    // the story text in `userText`), {scene, action, camera, reasons} (the image against the prompt in
    // `userText`), the keyframe rubric {description_match, character_count, characters, borders_or_text,
    // score, reasons} (candidate first, then the sheets) and the sameness check {same_identity,
    // same_layout, reasons} (two keyframes). nullopt when the schema is none of these.
    static std::optional<QJsonObject> judge(const QJsonObject& schema, const QString& userText,
                                            const QList<QByteArray>& images);

    // Lower-case words of at least three letters that are not function words.
    static QStringList contentWords(const QString& text);
};

} // namespace gd::sandbox
