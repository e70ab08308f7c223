#include "llm/ThinkTagFilter.h"

namespace gd::llm {

namespace {

const QString kOpen = QStringLiteral("<think>");
const QString kClose = QStringLiteral("</think>");

// Length of the longest suffix of `text` that is a proper prefix of `tag` (0 when none).
qsizetype partialTagSuffix(QStringView text, const QString& tag)
{
    const qsizetype maxLen = std::min(text.size(), tag.size() - 1);
    for (qsizetype len = maxLen; len > 0; --len) {
        if (QStringView(tag).first(len) == text.last(len))
            return len;
    }
    return 0;
}

} // namespace

void ThinkTagFilter::appendContent(Output& out, QStringView text)
{
    // The blank lines a model writes after </think> are not story text.
    if (!m_contentStarted && m_sawThink) {
        qsizetype i = 0;
        while (i < text.size() && text[i].isSpace())
            ++i;
        text = text.sliced(i);
    }
    if (text.isEmpty())
        return;
    m_contentStarted = true;
    out.content += text;
}

ThinkTagFilter::Output ThinkTagFilter::feed(const QString& delta)
{
    Output out;
    // Fast path: nothing held and no tag can start in this delta.
    if (m_held.isEmpty() && !delta.contains(QLatin1Char('<'))) {
        if (m_inThink)
            out.reasoning = delta;
        else
            appendContent(out, delta);
        return out;
    }
    const QString text = m_held + delta;
    m_held.clear();
    QStringView rest(text);
    while (!rest.isEmpty()) {
        const QString& tag = m_inThink ? kClose : kOpen;
        const qsizetype at = rest.indexOf(tag);
        if (at >= 0) {
            if (m_inThink)
                out.reasoning += rest.first(at);
            else
                appendContent(out, rest.first(at));
            m_inThink = !m_inThink;
            m_sawThink = true;
            rest = rest.sliced(at + tag.size());
            continue;
        }
        const qsizetype hold = partialTagSuffix(rest, tag);
        const QStringView now = rest.first(rest.size() - hold);
        if (m_inThink)
            out.reasoning += now;
        else
            appendContent(out, now);
        m_held = rest.last(hold).toString();
        break;
    }
    return out;
}

ThinkTagFilter::Output ThinkTagFilter::flush()
{
    Output out;
    if (m_held.isEmpty())
        return out;
    if (m_inThink)
        out.reasoning = m_held;
    else
        appendContent(out, m_held);
    m_held.clear();
    return out;
}

} // namespace gd::llm
