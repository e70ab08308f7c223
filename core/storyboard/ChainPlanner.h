#pragma once

#include "storyboard/ShotList.h"

#include <QString>
#include <QVector>

namespace gd::storyboard {

// Where a shot's clip takes its first frame from.
enum class FirstFrameSource
{
    Keyframe,          // the shot's own selected keyframe
    PreviousLastFrame, // the last frame of the clip of the shot it continues from
};

// The plan for one shot, aligned with ShotList::shots().
struct ChainLink
{
    QString shotKey;
    FirstFrameSource source = FirstFrameSource::Keyframe;
    QString previousKey; // PreviousLastFrame: the shot whose last frame is used
    int depth = 0;       // 0: starts from a keyframe; n: n-th consecutive last-frame link
    QString reason;      // why a continuesFrom shot starts from a keyframe anyway ("" otherwise)
};

// Turns continuesFrom into first-frame sources. Repeated last-frame chaining accumulates artefacts,
// so at most `cap` consecutive links use the previous last frame: the (cap+1)-th link restarts from
// a fresh keyframe ("chain cap 3 reached") and a following continuesFrom counts from 1 again.
// A continuesFrom that names no earlier shot starts from a keyframe, with the reason.
class ChainPlanner
{
public:
    static constexpr int kDefaultCap = 3;
    static QVector<ChainLink> plan(const ShotList& shots, int cap = kDefaultCap);
};

} // namespace gd::storyboard
