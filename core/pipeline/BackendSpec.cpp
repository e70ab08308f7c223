#include "pipeline/BackendSpec.h"

#include "comfy/ComfyClient.h"

#include "net/PlainHttpCheck.h"

#include <QFile>
#include <QSet>

namespace gd::pipeline {

std::optional<BackendSpec> BackendSpec::parse(const QString& text, QString* error)
{
    const QString t = text.trimmed();
    QString label;
    QString urlText = t;
    // "label=URL": the first '=' splits only when what precedes it cannot be part of a URL
    // (a URL's query may contain '=', but then a "://" or '/' comes before it).
    const int eq = t.indexOf(QLatin1Char('='));
    if (eq > 0) {
        const QString head = t.left(eq);
        if (!head.contains(QLatin1Char('/')) && !head.contains(QLatin1Char(':'))) {
            label = head.trimmed();
            urlText = t.mid(eq + 1).trimmed();
        }
    }
    for (const QChar c : label) {
        if (c.isSpace()) {
            *error = QStringLiteral("server label '%1' contains whitespace").arg(label);
            return std::nullopt;
        }
    }
    if (urlText.isEmpty()) {
        *error = QStringLiteral("'%1' names no ComfyUI URL").arg(t);
        return std::nullopt;
    }
    const QUrl url = comfy::ComfyClient::normaliseUrl(urlText);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.host().isEmpty() ||
        (scheme != QLatin1String("http") && scheme != QLatin1String("https"))) {
        *error = QStringLiteral("'%1' is not a usable ComfyUI URL (expected http(s)://HOST:PORT)").arg(urlText);
        return std::nullopt;
    }
    BackendSpec s;
    s.url = url;
    s.label = label;
    return s;
}

QStringList BackendSpec::applyTokenFile(const QString& path, QList<BackendSpec>& specs)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {QStringLiteral("cannot read the token file %1: %2").arg(path, f.errorString())};
    // Tokens are short; a huge file is a mistake, not a token list.
    const QByteArray bytes = f.read(256 * 1024);
    QStringList errors;
    int lineNo = 0;
    for (const QByteArray& raw : bytes.split('\n')) {
        ++lineNo;
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')))
            continue;
        // The key ends at the first '=' (after the scheme of a URL key): tokens often end in
        // base64 '=' padding, ComfyUI base URLs have no query.
        const int scheme = line.indexOf(QLatin1String("://"));
        const int eq = line.indexOf(QLatin1Char('='), scheme < 0 ? 0 : scheme + 3);
        if (eq <= 0 || eq == line.size() - 1) {
            errors << QStringLiteral("%1:%2: expected label=TOKEN or URL=TOKEN").arg(path).arg(lineNo);
            continue;
        }
        const QString key = line.left(eq).trimmed();
        const QString token = line.mid(eq + 1).trimmed();
        bool matched = false;
        for (BackendSpec& s : specs) {
            if (s.label == key) {
                s.bearerToken = token;
                matched = true;
            }
        }
        if (!matched) {
            const QUrl url = comfy::ComfyClient::normaliseUrl(key);
            for (BackendSpec& s : specs) {
                if (s.url == url) {
                    s.bearerToken = token;
                    matched = true;
                }
            }
        }
        if (!matched)
            errors << QStringLiteral("%1:%2: '%3' names no configured ComfyUI server").arg(path).arg(lineNo).arg(key);
    }
    return errors;
}

QList<BackendSpec> BackendSpec::fromOptions(const QStringList& urls, const QStringList& tokens,
                                            const QStringList& outputDirs, const QString& tokenFile, QStringList* errors)
{
    QList<BackendSpec> specs;
    for (const QString& u : urls) {
        QString e;
        if (auto s = parse(u, &e))
            specs << *s;
        else
            *errors << QStringLiteral("--comfy-url: %1").arg(e);
    }
    assignLabels(specs);
    // Per-server values: "label=VALUE"; one server also takes a bare VALUE (a token may itself
    // contain '=', so with one server the whole text is the value unless it starts with its label).
    auto assign = [&](const QStringList& values, const char* option, QString BackendSpec::*field, bool secret) {
        for (const QString& v : values) {
            const int eq = v.indexOf(QLatin1Char('='));
            const QString label = eq > 0 ? v.left(eq) : QString();
            bool matched = false;
            for (BackendSpec& s : specs) {
                if (!label.isEmpty() && s.label == label) {
                    s.*field = v.mid(eq + 1);
                    matched = true;
                }
            }
            if (!matched && specs.size() == 1) {
                specs.first().*field = v;
                matched = true;
            }
            if (!matched)
                *errors << QStringLiteral("--%1: %2 names no configured server; use LABEL=%3 with one of: %4")
                               .arg(QLatin1String(option),
                                    secret ? QStringLiteral("a value") : QStringLiteral("'%1'").arg(v),
                                    secret ? QStringLiteral("TOKEN") : QStringLiteral("DIR"),
                                    [&] {
                                        QStringList l;
                                        for (const BackendSpec& s : specs)
                                            l << s.label;
                                        return l.join(QStringLiteral(", "));
                                    }());
        }
    };
    assign(tokens, "comfy-token", &BackendSpec::bearerToken, true);
    assign(outputDirs, "comfy-output-dir", &BackendSpec::outputDir, false);
    if (!tokenFile.isEmpty())
        *errors << applyTokenFile(tokenFile, specs);
    return specs;
}

QString BackendSpec::toEntry() const
{
    return label.isEmpty() ? url.toString() : label + QLatin1Char('=') + url.toString();
}

bool BackendSpec::isLoopback() const
{
    return net::PlainHttpCheck::isLoopbackHost(url.host());
}

void BackendSpec::assignLabels(QList<BackendSpec>& specs)
{
    QSet<QString> used;
    for (BackendSpec& s : specs) {
        QString base = s.label;
        if (base.isEmpty())
            base = s.url.port() > 0 ? QStringLiteral("%1:%2").arg(s.url.host()).arg(s.url.port()) : s.url.host();
        QString label = base;
        for (int n = 2; used.contains(label); ++n)
            label = QStringLiteral("%1-%2").arg(base).arg(n);
        used.insert(label);
        s.label = label;
    }
}

} // namespace gd::pipeline
