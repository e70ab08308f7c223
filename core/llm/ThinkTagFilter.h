#pragma once

#include <QString>

namespace gd::llm {

// Splits inline <think>…</think> blocks out of streamed content (servers that leave reasoning in
// the text, spec/llm-api.md §6.8). Streaming-safe: a tag split across deltas is held back until it
// is known not to be a tag, so story text never shows a half tag and never loses characters.
class ThinkTagFilter
{
public:
    struct Output
    {
        QString content;
        QString reasoning;
    };

    Output feed(const QString& delta);
    // End of stream: releases anything held back as a possible tag prefix.
    Output flush();
    bool sawThink() const { return m_sawThink; }

private:
    bool m_inThink = false;
    bool m_sawThink = false;
    bool m_contentStarted = false;
    QString m_held;
    void appendContent(Output& out, QStringView text);
};

} // namespace gd::llm
