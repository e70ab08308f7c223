#include "common/Error.h"

namespace gd {

QString Error::toString() const
{
    QString s = message.isEmpty() ? kind : message;
    if (!kind.isEmpty() && !message.isEmpty())
        s += QStringLiteral(" [") + kind + QLatin1Char(']');
    return s;
}

QJsonObject Error::toJson() const
{
    QJsonObject o{{QStringLiteral("kind"), kind}, {QStringLiteral("message"), message}};
    if (!detail.isEmpty())
        o.insert(QStringLiteral("detail"), detail);
    return o;
}

} // namespace gd
