#pragma once

#include "comfy/WorkflowRole.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::comfy {

// What a profile's graph delivers: a batch of frame images, or one encoded video file.
enum class OutputKind
{
    Frames,
    Video,
};

QString outputKindName(OutputKind kind);
std::optional<OutputKind> outputKindFromName(const QString& name);

// What a profile is for (.profile.json "purpose"; absent means Video, which every pre-storyboard profile is):
// rendering scene clips, character/location reference sheets, or shot keyframes.
enum class Purpose
{
    Video,
    ReferenceSheet,
    Keyframe,
};

QString purposeName(Purpose purpose); // "video" | "reference_sheet" | "keyframe"
std::optional<Purpose> purposeFromName(const QString& name);

// What one storyboard stage asks of a profile for one shot (WorkflowProfile::requiredRolesFor).
struct ShotNeeds
{
    int visibleCharacters = 0; // characters the shot shows (keyframe: each needs a reference slot)
    bool lastFrame =
        false; // the shot has a lastFrame: video needs a bookend (start_image + end_image) profile
};

// One "<nodeId>:<inputName>" → role entry of a profile's mapping.
struct MappedInput
{
    QString nodeId;
    QString inputName;
    Role role = Role::Prompt;
    int index = 0; // N of character_reference_image[N]; 0 for every other role

    QString roleText() const { return roleName(role, index); }
    QString key() const { return nodeId + QLatin1Char(':') + inputName; }
    friend bool operator==(const MappedInput&, const MappedInput&) = default;
};

// A workflow profile as a value: an API-format graph (kept unchanged) plus the mapping that says which
// inputs receive which scene parameter, with read-only queries over the graph.
struct WorkflowProfile
{
    QString name;
    QString description;
    int minVramMB = 0;
    OutputKind outputKind = OutputKind::Frames;
    Purpose purpose = Purpose::Video;
    QJsonObject graph;
    QVector<MappedInput> mapping;
    // The graph file it was loaded from (":/workflows/x.json" for built-ins); empty when built in memory.
    QString sourcePath;
    // The .profile.json it was loaded from, so that mapping errors name the right file.
    QString profilePath;

    // Sorted, unique class_type values of the graph's nodes.
    QStringList classTypes() const;
    // Ids (sorted) of nodes whose class is a known output class (see isOutputClass()).
    QStringList outputNodeIds() const;
    // The GemDirectSaveFrames node id, or empty when the graph has none.
    QString markerNodeId() const;
    bool hasRole(Role role) const;
    // Mapped inputs carrying the role, in mapping order.
    QVector<MappedInput> inputsFor(Role role) const;
    // Mapped inputs of character_reference_image[index], in mapping order.
    QVector<MappedInput> inputsFor(Role role, int index) const;
    // How many character references the profile takes: 1 + the highest mapped N of
    // character_reference_image[N] (validate() insists the slots are 0..N without gaps); 0 when none.
    int characterReferenceSlots() const;
    // Why this profile cannot serve `stage` for a shot with `needs`: one message per problem, naming the
    // stage, the profile and the role (e.g. "keyframe profile 'x' maps no character_reference_image[0]: it
    // cannot anchor characters"); empty when it can. A profile whose purpose is not the stage is refused too.
    QStringList requiredRolesFor(Purpose stage, const ShotNeeds& needs) const;
    // Sum of literal `steps` over sampler-like nodes (KSampler, KSamplerAdvanced, WanVideoSampler,
    // BasicScheduler, ...): the denominator of the progress bar. 0 when none is literal.
    int totalSamplerSteps() const;
    // The model files the graph loads: literal values of loader inputs (ckpt_name, unet_name, clip_name[1-3],
    // vae_name, lora_name, ipadapter_file, control_net_name, style_model_name, pulid_file, instantid_file, and
    // model_name / model of loader nodes), plus the preset of IPAdapterUnifiedLoader nodes, which picks the
    // IP-Adapter model at run time ("ipadapter preset: <preset>"). Sorted, unique. A storyboard artifact's
    // input hash records them (modelText()), so a checkpoint swap names the model in its staleness reason.
    QStringList modelFiles() const;
    // modelFiles() joined with ", " ("" when the graph names none).
    QString modelText() const;
    // The .profile.json content: {name, description, minVramMB, outputKind, mapping}, plus "purpose" when it
    // is not "video" (so video profiles keep their pre-storyboard shape).
    QJsonObject profileJson() const;

    static bool isOutputClass(const QString& classType);
    static QStringList outputClasses();
    // A link in an API-format graph is a 2-element array ["<src node id>", <output index>]; every other
    // value (including {"__value__": [...]}) is a literal.
    static bool isLink(const QJsonValue& value);
    static QString markerClass() { return QStringLiteral("GemDirectSaveFrames"); }
};

} // namespace gd::comfy
