#include "comfy/WorkflowRole.h"

#include <array>
#include <utility>

namespace gd::comfy {

namespace {

const std::array<std::pair<Role, const char*>, 10> kRoleNames{{
    {Role::Prompt, "prompt"},
    {Role::NegativePrompt, "negative_prompt"},
    {Role::Seed, "seed"},
    {Role::FrameCount, "frame_count"},
    {Role::Fps, "fps"},
    {Role::Width, "width"},
    {Role::Height, "height"},
    {Role::FilenamePrefix, "filename_prefix"},
    {Role::KeyframeImage, "keyframe_image"},
    {Role::JobId, "job_id"},
}};

} // namespace

QString roleName(Role role)
{
    for (const auto& [r, name] : kRoleNames) {
        if (r == role)
            return QString::fromLatin1(name);
    }
    return {};
}

std::optional<Role> roleFromName(const QString& name)
{
    for (const auto& [r, roleText] : kRoleNames) {
        if (name == QLatin1String(roleText))
            return r;
    }
    return std::nullopt;
}

} // namespace gd::comfy
