#pragma once

namespace gd::net {

// Exponential backoff with full jitter: attempt 0 → [base/2, base], doubling up to maxMs.
class Backoff
{
public:
    Backoff(int baseMs, int maxMs) : m_baseMs(baseMs), m_maxMs(maxMs) {}
    int nextDelayMs();
    void reset() { m_attempt = 0; }
    int attempt() const { return m_attempt; }

private:
    int m_baseMs;
    int m_maxMs;
    int m_attempt = 0;
};

} // namespace gd::net
