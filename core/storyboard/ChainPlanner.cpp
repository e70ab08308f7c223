#include "storyboard/ChainPlanner.h"

namespace gd::storyboard {

QVector<ChainLink> ChainPlanner::plan(const ShotList& shots, int cap)
{
    const QVector<ShotRef>& list = shots.shots();
    QVector<ChainLink> out;
    out.reserve(list.size());
    for (int i = 0; i < list.size(); ++i) {
        const ShotRef& s = list.at(i);
        ChainLink link;
        link.shotKey = s.key;
        if (!s.continuesFromKey.isEmpty()) {
            const int prev = shots.indexOf(s.continuesFromKey);
            if (prev < 0 || prev >= i) {
                link.reason = QStringLiteral("continuesFrom '%1' is not an earlier shot").arg(s.shot.continuesFrom);
            } else if (out.at(prev).depth + 1 > cap) {
                link.reason = QStringLiteral("chain cap %1 reached").arg(cap);
            } else {
                link.source = FirstFrameSource::PreviousLastFrame;
                link.previousKey = s.continuesFromKey;
                link.depth = out.at(prev).depth + 1;
            }
        }
        out.append(link);
    }
    return out;
}

} // namespace gd::storyboard
