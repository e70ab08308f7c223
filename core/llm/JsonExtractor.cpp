#include "llm/JsonExtractor.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

namespace gd::llm {

namespace {

// How many candidate openings to try when leading prose itself contains braces.
constexpr int kMaxCandidates = 16;

bool isIdentChar(QChar c)
{
    return c.isLetterOrNumber() || c == QLatin1Char('_');
}

struct ParseAttempt
{
    bool ok = false;
    QJsonValue value;
    QString error;
};

ParseAttempt parseJson(const QString& text)
{
    ParseAttempt a;
    QJsonParseError pe{};
    // QJsonDocument only parses objects and arrays at the top level, which is all we look for.
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &pe);
    if (pe.error != QJsonParseError::NoError) {
        a.error = QStringLiteral("%1 at offset %2").arg(pe.errorString()).arg(pe.offset);
        return a;
    }
    a.ok = true;
    a.value = doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());
    return a;
}

} // namespace

QString JsonExtractor::stripThink(const QString& text)
{
    QString out = text;
    static const QRegularExpression block(QStringLiteral("<think>.*?</think>"),
                                          QRegularExpression::CaseInsensitiveOption
                                              | QRegularExpression::DotMatchesEverythingOption);
    out.remove(block);
    // Some chat templates put the opening tag into the prompt, so the answer starts inside the
    // reasoning and only the closing tag shows up.
    const qsizetype close = out.indexOf(QLatin1String("</think>"), 0, Qt::CaseInsensitive);
    if (close >= 0)
        out = out.mid(close + 8);
    // An opening tag that is never closed: everything after it is reasoning that ran out.
    const qsizetype open = out.indexOf(QLatin1String("<think>"), 0, Qt::CaseInsensitive);
    if (open >= 0)
        out.truncate(open);
    return out;
}

QString JsonExtractor::stripFences(const QString& text)
{
    // The first fenced block that holds JSON wins: ```json … ``` or a bare ``` … ```.
    static const QRegularExpression fence(QStringLiteral("```[A-Za-z0-9_-]*[ \\t]*\\r?\\n?(.*?)```"),
                                          QRegularExpression::DotMatchesEverythingOption);
    auto it = fence.globalMatch(text);
    while (it.hasNext()) {
        const auto m = it.next();
        const QString inner = m.captured(1);
        if (inner.contains(QLatin1Char('{')) || inner.contains(QLatin1Char('[')))
            return inner;
    }
    // An opening fence without a closing one (answer ended early): drop the fence line only.
    const qsizetype open = text.indexOf(QLatin1String("```"));
    if (open >= 0 && text.indexOf(QLatin1String("```"), open + 3) < 0) {
        const qsizetype eol = text.indexOf(QLatin1Char('\n'), open);
        return eol < 0 ? QString() : text.mid(eol + 1);
    }
    return text;
}

qsizetype JsonExtractor::matchingBracket(const QString& text, qsizetype start)
{
    if (start < 0 || start >= text.size())
        return -1;
    QString stack;
    bool inString = false;
    bool escaped = false;
    for (qsizetype i = start; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == QLatin1Char('\\'))
                escaped = true;
            else if (c == QLatin1Char('"'))
                inString = false;
            continue;
        }
        switch (c.unicode()) {
        case '"':
            inString = true;
            break;
        case '{':
            stack.append(QLatin1Char('}'));
            break;
        case '[':
            stack.append(QLatin1Char(']'));
            break;
        case '}':
        case ']':
            if (stack.isEmpty() || stack.back() != c)
                return -1;
            stack.chop(1);
            if (stack.isEmpty())
                return i + 1;
            break;
        default:
            break;
        }
    }
    return -1;
}

QString JsonExtractor::repair(const QString& json, QStringList* repairs)
{
    QString out;
    out.reserve(json.size());
    bool inString = false;
    bool escaped = false;
    bool comments = false, controls = false, nonFinite = false, commas = false;
    const qsizetype n = json.size();
    for (qsizetype i = 0; i < n; ++i) {
        const QChar c = json.at(i);
        if (inString) {
            if (escaped) {
                escaped = false;
                out += c;
            } else if (c == QLatin1Char('\\')) {
                escaped = true;
                out += c;
            } else if (c == QLatin1Char('"')) {
                inString = false;
                out += c;
            } else if (c == QLatin1Char('\n')) {
                out += QLatin1String("\\n");
                controls = true;
            } else if (c == QLatin1Char('\r')) {
                out += QLatin1String("\\r");
                controls = true;
            } else if (c == QLatin1Char('\t')) {
                out += QLatin1String("\\t");
                controls = true;
            } else if (c.unicode() < 0x20) {
                out += QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0'));
                controls = true;
            } else {
                out += c;
            }
            continue;
        }
        if (c == QLatin1Char('"')) {
            inString = true;
            out += c;
            continue;
        }
        if (c == QLatin1Char('/') && i + 1 < n && json.at(i + 1) == QLatin1Char('/')) {
            while (i < n && json.at(i) != QLatin1Char('\n'))
                ++i;
            comments = true;
            if (i < n)
                out += QLatin1Char('\n');
            continue;
        }
        if (c == QLatin1Char('/') && i + 1 < n && json.at(i + 1) == QLatin1Char('*')) {
            const qsizetype end = json.indexOf(QLatin1String("*/"), i + 2);
            i = end < 0 ? n : end + 1;
            comments = true;
            continue;
        }
        // NaN, Infinity, -Infinity as bare words (never inside strings, never part of a longer word).
        if (out.isEmpty() || !isIdentChar(out.back())) {
            qsizetype replaced = 0;
            for (const QLatin1String word : {QLatin1String("-Infinity"), QLatin1String("Infinity"),
                                             QLatin1String("NaN")}) {
                const qsizetype len = word.size();
                if (QStringView(json).mid(i, len) == word && (i + len >= n || !isIdentChar(json.at(i + len)))) {
                    replaced = len;
                    break;
                }
            }
            if (replaced > 0) {
                out += QLatin1String("null");
                i += replaced - 1;
                nonFinite = true;
                continue;
            }
        }
        if (c == QLatin1Char('}') || c == QLatin1Char(']')) {
            // Drop a comma that is followed only by whitespace before this closer.
            qsizetype k = out.size() - 1;
            while (k >= 0 && out.at(k).isSpace())
                --k;
            if (k >= 0 && out.at(k) == QLatin1Char(',')) {
                out.remove(k, 1);
                commas = true;
            }
        }
        out += c;
    }
    if (repairs) {
        if (comments)
            repairs->append(QStringLiteral("removed comments"));
        if (controls)
            repairs->append(QStringLiteral("escaped raw line breaks/control characters inside strings"));
        if (nonFinite)
            repairs->append(QStringLiteral("replaced NaN/Infinity with null"));
        if (commas)
            repairs->append(QStringLiteral("removed trailing commas"));
    }
    return out;
}

JsonExtraction JsonExtractor::fromResult(const ChatResult& result)
{
    JsonExtraction x;
    if (result.finishReason == QLatin1String("length")) {
        x.error = QStringLiteral("the answer was cut off at the token limit (finish_reason \"length\"); "
                                 "JSON from a cut-off answer is never used");
        if (result.content.trimmed().isEmpty() && !result.reasoning.isEmpty())
            x.error += QStringLiteral(" — the whole budget went into reasoning (%1 characters) and no answer "
                                      "was written")
                           .arg(result.reasoning.size());
        return x;
    }
    if (result.truncated) {
        x.error = QStringLiteral("the answer ended without a finish marker (stream truncated); "
                                 "JSON from a cut-off answer is never used");
        return x;
    }
    if (stripThink(result.content).trimmed().isEmpty() && !result.reasoning.trimmed().isEmpty()) {
        x.error = QStringLiteral("the answer holds only reasoning (%1 characters) and no content; the JSON "
                                 "must be in the answer itself")
                      .arg(result.reasoning.size());
        return x;
    }
    return extract(result.content, result.finishReason);
}

JsonExtraction JsonExtractor::extract(const QString& content, const QString& finishReason)
{
    JsonExtraction x;
    if (finishReason == QLatin1String("length")) {
        x.error = QStringLiteral("the answer was cut off at the token limit (finish_reason \"length\"); "
                                 "JSON from a cut-off answer is never used");
        return x;
    }
    QString text = content;
    if (text.startsWith(QChar(0xFEFF)))
        text.remove(0, 1);
    text = stripThink(text);
    if (text.trimmed().isEmpty()) {
        x.error = content.trimmed().isEmpty()
            ? QStringLiteral("the answer is empty")
            : QStringLiteral("the answer holds only reasoning (<think>…</think>) and no JSON");
        return x;
    }
    text = stripFences(text);

    // Leading prose may contain brackets of its own ("[Note] here is the JSON"), so try the
    // openings in order until one balances and parses.
    QString firstError;
    int candidates = 0;
    qsizetype from = 0;
    while (candidates < kMaxCandidates) {
        const qsizetype brace = text.indexOf(QLatin1Char('{'), from);
        const qsizetype bracket = text.indexOf(QLatin1Char('['), from);
        qsizetype start = -1;
        if (brace >= 0 && bracket >= 0)
            start = std::min(brace, bracket);
        else
            start = brace >= 0 ? brace : bracket;
        if (start < 0)
            break;
        ++candidates;
        from = start + 1;
        const qsizetype end = matchingBracket(text, start);
        if (end < 0) {
            if (firstError.isEmpty())
                firstError = QStringLiteral("the JSON starting at character %1 is never closed (missing '%2'); "
                                            "the answer looks cut off or malformed")
                                 .arg(start)
                                 .arg(text.at(start) == QLatin1Char('{') ? QLatin1Char('}') : QLatin1Char(']'));
            // Everything after an unclosed opening is inside it: a later candidate would only be
            // a fragment of the cut-off value, never the answer.
            break;
        }
        // Openings inside a balanced span that does not parse are fragments of it, too.
        from = end;
        const QString span = text.mid(start, end - start);
        ParseAttempt a = parseJson(span);
        if (a.ok) {
            x.ok = true;
            x.value = a.value;
            x.json = span;
            return x;
        }
        QStringList repairs;
        const QString fixed = repair(span, &repairs);
        ParseAttempt b = parseJson(fixed);
        if (b.ok) {
            x.ok = true;
            x.value = b.value;
            x.json = fixed;
            x.repairs = repairs;
            return x;
        }
        if (firstError.isEmpty())
            firstError = QStringLiteral("invalid JSON: %1%2")
                             .arg(b.error,
                                  repairs.isEmpty()
                                      ? QString()
                                      : QStringLiteral(" (even after repairs: %1)").arg(repairs.join(QStringLiteral(", "))));
    }
    x.error = firstError.isEmpty() ? QStringLiteral("no JSON object or array found in the answer") : firstError;
    return x;
}

} // namespace gd::llm
