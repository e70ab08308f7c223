#include "dashboard/ChartLegend.h"

#include <QtCharts/QChart>
#include <QtCharts/QLegend>
#include <QtCharts/QXYSeries>

namespace gd::ui {

ChartLegend::ChartLegend(QChart* chart, QWidget* parent) : QLabel(parent), m_chart(chart)
{
    chart->legend()->hide();
    setTextFormat(Qt::RichText);
    setWordWrap(true);
    setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    for (QAbstractSeries* s : chart->series()) {
        connect(s, &QAbstractSeries::nameChanged, this, &ChartLegend::rebuild);
        connect(s, &QAbstractSeries::visibleChanged, this, &ChartLegend::rebuild);
        if (auto* xy = qobject_cast<QXYSeries*>(s))
            connect(xy, &QXYSeries::penChanged, this, &ChartLegend::rebuild);
    }
    rebuild();
}

QStringList ChartLegend::entries() const
{
    QStringList out;
    for (const QAbstractSeries* s : m_chart->series())
        if (s->isVisible())
            out << s->name();
    return out;
}

void ChartLegend::rebuild()
{
    QStringList parts;
    for (const QAbstractSeries* s : m_chart->series()) {
        if (!s->isVisible())
            continue;
        const auto* xy = qobject_cast<const QXYSeries*>(s);
        const QColor colour = xy ? xy->pen().color() : palette().color(QPalette::Text);
        // Non-breaking spaces keep an entry on one line; the plain space between entries is where it wraps.
        QString name = s->name().toHtmlEscaped();
        name.replace(QLatin1Char(' '), QStringLiteral("&nbsp;"));
        parts << QStringLiteral("<span style=\"color:%1\">&#9632;</span>&nbsp;%2").arg(colour.name(), name);
    }
    setText(parts.join(QStringLiteral("&nbsp;&nbsp; ")));
}

} // namespace gd::ui
