#pragma once

#include <QString>
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
};

QString roleName(Role role);
std::optional<Role> roleFromName(const QString& name);

} // namespace gd::comfy
