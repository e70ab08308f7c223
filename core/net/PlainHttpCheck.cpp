#include "net/PlainHttpCheck.h"

#include <QHostAddress>

namespace gd::net {

bool PlainHttpCheck::isLoopbackHost(const QString& host)
{
    const QString h = host.trimmed().toLower();
    if (h == QLatin1String("localhost") || h.endsWith(QLatin1String(".localhost")))
        return true;
    QHostAddress address;
    if (!address.setAddress(h))
        return false;
    // Connecting to 0.0.0.0 / :: reaches this machine (ComfyClient rewrites 0.0.0.0 to 127.0.0.1 anyway).
    if (address.isLoopback() || address == QHostAddress(QHostAddress::AnyIPv4) ||
        address == QHostAddress(QHostAddress::AnyIPv6))
        return true;
    bool mapped = false;
    const quint32 v4 = address.toIPv4Address(&mapped); // ::ffff:127.0.0.1
    return mapped && QHostAddress(v4).isLoopback();
}

bool PlainHttpCheck::isPlainRemote(const QUrl& url)
{
    const QString scheme = url.scheme().toLower();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("ws"))
        return false;
    return !url.host().isEmpty() && !isLoopbackHost(url.host());
}

QString PlainHttpCheck::warningFor(const QUrl& url, const QString& what)
{
    if (!isPlainRemote(url))
        return {};
    return QStringLiteral(
               "%1 at %2 is reached over plain http from another machine: prompts, frames and any "
               "bearer token cross the network unencrypted. Put it behind a TLS reverse proxy and use "
               "https:// (the WebSocket then uses wss://), or reach it through an SSH tunnel to "
               "127.0.0.1.")
        .arg(what, url.adjusted(QUrl::RemoveUserInfo).toString());
}

} // namespace gd::net
