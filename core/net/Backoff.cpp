#include "net/Backoff.h"

#include <QRandomGenerator>
#include <algorithm>

namespace gd::net {

int Backoff::nextDelayMs()
{
    const int shift = std::min(m_attempt, 16);
    const long long ceiling = std::min<long long>(static_cast<long long>(m_baseMs) << shift, m_maxMs);
    ++m_attempt;
    const int half = static_cast<int>(ceiling / 2);
    return half + static_cast<int>(QRandomGenerator::global()->bounded(half + 1));
}

} // namespace gd::net
