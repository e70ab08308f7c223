#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace gd::telemetry {

// Builds an OpenMetrics 1.0 text exposition (openmetrics.io): one metric family at a time, its
// metadata lines (# TYPE, # UNIT, # HELP) first, then its samples, and the mandatory "# EOF" last.
// Escaping and number formats follow the spec, so Prometheus' strict OpenMetrics parser accepts it.
class OpenMetricsWriter
{
public:
    using Labels = QList<QPair<QString, QString>>;

    // application/openmetrics-text; version=1.0.0; charset=utf-8
    static QByteArray contentType();

    // Starts a family. `type`: counter | gauge | histogram | stateset | info | unknown. A non-empty
    // `unit` must also be the name's suffix (OpenMetrics requires it), e.g. "..._bytes" with "bytes".
    void family(const QString& name, const QString& type, const QString& help, const QString& unit = {});
    // One sample; `suffix` is appended to the family name ("_total", "_bucket", "_info", ...).
    void sample(const QString& suffix, const Labels& labels, double value);
    // A histogram's samples: one _bucket per bound (ascending) with its cumulative count (observations
    // <= bound), the +Inf bucket (= count), then _count and _sum.
    void histogram(const Labels& labels, const QList<double>& bounds, const QList<quint64>& cumulativeCounts,
                   quint64 count, double sum);

    // The exposition so far plus "# EOF\n".
    QByteArray finish() const;

    // Sample values: whole numbers as integers ("3"), others in the shortest round-trip form, and
    // NaN / +Inf / -Inf as the spec spells them.
    static QByteArray formatValue(double value);
    // `le` values in canonical form ("60.0", "0.5", "+Inf"): consumers compare them as strings.
    static QByteArray formatBound(double bound);
    // Label values and HELP text share one escaping: backslash, double quote and line feed.
    static QString escape(const QString& text);

private:
    QByteArray m_text;
    QString m_family;
};

} // namespace gd::telemetry
