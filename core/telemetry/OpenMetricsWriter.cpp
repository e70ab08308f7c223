#include "telemetry/OpenMetricsWriter.h"

#include <QLocale>

#include <cmath>

namespace gd::telemetry {

QByteArray OpenMetricsWriter::contentType()
{
    return QByteArrayLiteral("application/openmetrics-text; version=1.0.0; charset=utf-8");
}

void OpenMetricsWriter::family(const QString& name, const QString& type, const QString& help, const QString& unit)
{
    m_family = name;
    m_text += "# TYPE " + name.toUtf8() + ' ' + type.toUtf8() + '\n';
    if (!unit.isEmpty())
        m_text += "# UNIT " + name.toUtf8() + ' ' + unit.toUtf8() + '\n';
    m_text += "# HELP " + name.toUtf8() + ' ' + escape(help).toUtf8() + '\n';
}

void OpenMetricsWriter::sample(const QString& suffix, const Labels& labels, double value)
{
    m_text += (m_family + suffix).toUtf8();
    if (!labels.isEmpty()) {
        m_text += '{';
        for (qsizetype i = 0; i < labels.size(); ++i) {
            if (i > 0)
                m_text += ',';
            m_text += labels[i].first.toUtf8() + "=\"" + escape(labels[i].second).toUtf8() + '"';
        }
        m_text += '}';
    }
    m_text += ' ' + formatValue(value) + '\n';
}

void OpenMetricsWriter::histogram(const Labels& labels, const QList<double>& bounds,
                                  const QList<quint64>& cumulativeCounts, quint64 count, double sum)
{
    for (qsizetype i = 0; i < bounds.size(); ++i) {
        Labels l = labels;
        l.append({QStringLiteral("le"), QString::fromLatin1(formatBound(bounds[i]))});
        sample(QStringLiteral("_bucket"), l, double(cumulativeCounts.value(i)));
    }
    Labels inf = labels;
    inf.append({QStringLiteral("le"), QStringLiteral("+Inf")});
    sample(QStringLiteral("_bucket"), inf, double(count));
    sample(QStringLiteral("_count"), labels, double(count));
    sample(QStringLiteral("_sum"), labels, sum);
}

QByteArray OpenMetricsWriter::finish() const
{
    return m_text + "# EOF\n";
}

QByteArray OpenMetricsWriter::formatValue(double value)
{
    if (std::isnan(value))
        return QByteArrayLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    if (value == std::trunc(value) && std::fabs(value) < 1e15)
        return QByteArray::number(qint64(value));
    return QByteArray::number(value, 'g', QLocale::FloatingPointShortest);
}

QByteArray OpenMetricsWriter::formatBound(double bound)
{
    if (std::isinf(bound))
        return bound > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    if (bound == std::trunc(bound) && std::fabs(bound) < 1e15)
        return QByteArray::number(qint64(bound)) + ".0";
    return QByteArray::number(bound, 'g', QLocale::FloatingPointShortest);
}

QString OpenMetricsWriter::escape(const QString& text)
{
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        if (c == QLatin1Char('\\'))
            out += QLatin1String("\\\\");
        else if (c == QLatin1Char('"'))
            out += QLatin1String("\\\"");
        else if (c == QLatin1Char('\n'))
            out += QLatin1String("\\n");
        else
            out += c;
    }
    return out;
}

} // namespace gd::telemetry
