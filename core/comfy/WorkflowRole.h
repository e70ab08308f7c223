#pragma once

#include <QString>
#include <QStringList>
#include <optional>

namespace gd::comfy {

// The meaning of a mapped graph input: what the app writes into it for each scene.
// The spellings returned by roleName() are the contract of .profile.json files (story-format.md).
enum class Role
{
    Prompt,
    NegativePrompt,
    Seed,
    FrameCount,
    Fps,
    Width,
    Height,
    FilenamePrefix,
    KeyframeImage,
    JobId,
    // Storyboard roles (issue 8). CharacterReferenceImage is indexed: "character_reference_image[N]" is the
    // approved sheet of the Nth visible character of a shot (MappedInput::index holds N).
    CharacterReferenceImage,
    IpadapterWeight,
    StartImage,
    EndImage,
    StyleReferenceImage,
};

// Every role, in declaration order.
inline constexpr Role kLastRole = Role::StyleReferenceImage;

// Highest accepted N + 1 of "character_reference_image[N]": a shot never shows more characters than this
// can anchor, and the bound keeps a hostile profile from naming slot 2^31.
inline constexpr int kMaxCharacterReferences = 16;

// "character_reference_image[<index>]" for the indexed role, the plain name for every other role (index
// ignored).
QString roleName(Role role, int index = 0);
// Parses a role name; for "character_reference_image[N]" (N in 0..kMaxCharacterReferences-1, no sign, no
// spaces) *index receives N, for every other role 0. The bare "character_reference_image" is not a role.
std::optional<Role> roleFromName(const QString& name, int* index = nullptr);
// The role names an operator can pick when mapping an imported graph: every role, the indexed one as
// character_reference_image[0] .. [characterSlots-1].
QStringList mappableRoleNames(int characterSlots = 3);
// Every role name as error messages list them ("character_reference_image[N]" for the indexed one).
QStringList knownRoleNames();

} // namespace gd::comfy
