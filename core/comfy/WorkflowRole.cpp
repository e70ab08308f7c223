#include "comfy/WorkflowRole.h"

#include <QRegularExpression>
#include <array>
#include <utility>

namespace gd::comfy {

namespace {

const std::array<std::pair<Role, const char*>, 15> kRoleNames{{
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
    {Role::CharacterReferenceImage, "character_reference_image"},
    {Role::IpadapterWeight, "ipadapter_weight"},
    {Role::StartImage, "start_image"},
    {Role::EndImage, "end_image"},
    {Role::StyleReferenceImage, "style_reference_image"},
}};

} // namespace

QString roleName(Role role, int index)
{
    for (const auto& [r, name] : kRoleNames) {
        if (r != role)
            continue;
        if (role == Role::CharacterReferenceImage)
            return QStringLiteral("%1[%2]").arg(QLatin1String(name)).arg(index);
        return QString::fromLatin1(name);
    }
    return {};
}

std::optional<Role> roleFromName(const QString& name, int* index)
{
    if (index)
        *index = 0;
    static const QRegularExpression indexed(
        QStringLiteral("^character_reference_image\\[(0|[1-9][0-9]?)\\]$"));
    if (const QRegularExpressionMatch m = indexed.match(name); m.hasMatch()) {
        const int n = m.captured(1).toInt();
        if (n >= kMaxCharacterReferences)
            return std::nullopt;
        if (index)
            *index = n;
        return Role::CharacterReferenceImage;
    }
    for (const auto& [r, roleText] : kRoleNames) {
        if (r != Role::CharacterReferenceImage && name == QLatin1String(roleText))
            return r;
    }
    return std::nullopt;
}

QStringList mappableRoleNames(int characterSlots)
{
    QStringList names;
    for (const auto& [r, roleText] : kRoleNames) {
        if (r != Role::CharacterReferenceImage) {
            names.append(QString::fromLatin1(roleText));
            continue;
        }
        for (int i = 0; i < qBound(0, characterSlots, kMaxCharacterReferences); ++i)
            names.append(roleName(r, i));
    }
    return names;
}

QStringList knownRoleNames()
{
    QStringList names;
    for (const auto& [r, roleText] : kRoleNames)
        names.append(r == Role::CharacterReferenceImage ? QStringLiteral("character_reference_image[N]")
                                                        : QString::fromLatin1(roleText));
    return names;
}

} // namespace gd::comfy
