#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <optional>

namespace gd::pipeline {

// One ComfyUI server of the backend pool as the operator configured it: URL, label, optional local
// output folder and optional bearer token (never logged; describe() leaves it out).
struct BackendSpec
{
    QUrl url;
    QString label;     // shown in logs, telemetry and the GUI; defaults to host:port
    QString outputDir; // ComfyUI's output folder when the server runs on this machine, else empty
    QString bearerToken;

    // "URL" or "label=URL" (one --comfy-url value or one comfy/servers entry). A label may not
    // contain '=' or whitespace; the URL goes through ComfyClient::normaliseUrl and must be http(s)
    // with a host. nullopt with `error` naming the problem otherwise.
    static std::optional<BackendSpec> parse(const QString& text, QString* error);
    // Token file: one "label=TOKEN" or "URL=TOKEN" line per server; blank lines and lines starting
    // with '#' are ignored. Applies the tokens to `specs` (matched by label first, then by URL).
    // Errors name the line; tokens themselves never appear in them.
    static QStringList applyTokenFile(const QString& path, QList<BackendSpec>& specs);
    // The pool from repeated command-line values: `urls` ("URL" or "label=URL"), `tokens` and
    // `outputDirs` ("label=VALUE" each; with a single server a bare VALUE also works, as before the
    // pool), and an optional token file (see applyTokenFile). Labels are made unique. Errors name
    // the option and the server, never a token.
    static QList<BackendSpec> fromOptions(const QStringList& urls, const QStringList& tokens,
                                          const QStringList& outputDirs, const QString& tokenFile,
                                          QStringList* errors);
    // "label=URL" as a settings list entry (the token is kept elsewhere).
    QString toEntry() const;
    // Whether the host is this machine (loopback): only then is the local GPU monitor its VRAM view.
    bool isLoopback() const;
    // Labels unique: a repeated or empty label becomes host:port, then host:port-2, ...
    static void assignLabels(QList<BackendSpec>& specs);
};

} // namespace gd::pipeline
