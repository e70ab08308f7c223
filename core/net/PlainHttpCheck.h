#pragma once

#include <QString>
#include <QUrl>

namespace gd::net {

// Decides whether talking to a server sends everything in the clear beyond this machine (issue 6
// §6): an http:// or ws:// URL whose host is not loopback. Bearer tokens, prompts and frames would
// then cross the network unencrypted, so the run warns the operator.
class PlainHttpCheck
{
public:
    // "localhost", 127.0.0.0/8, ::1 (also IPv4-mapped) and the any-addresses 0.0.0.0 / :: (they reach
    // this machine); host names are not resolved.
    static bool isLoopbackHost(const QString& host);
    static bool isPlainRemote(const QUrl& url);
    // Empty when the URL is https/wss or loopback; otherwise the operator-facing warning naming
    // `what` ("ComfyUI", "The LLM server") and the URL without any user info.
    static QString warningFor(const QUrl& url, const QString& what);
};

} // namespace gd::net
