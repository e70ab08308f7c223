#pragma once

#include <QLabel>

class QChart;

namespace gd::ui {

// A chart's legend as a wrapping label under the chart, replacing QChart's own legend, which elides
// entries ("Target P95 ≤…") when the chart is narrow. Each entry (colour swatch and series name)
// stays whole and entries wrap onto further lines, so every one is readable at any width. Follows
// the series' names, colours and visibility as they change; text colour comes from the palette.
class ChartLegend : public QLabel
{
    Q_OBJECT
public:
    explicit ChartLegend(QChart* chart, QWidget* parent = nullptr);

    // The entries as shown, one series name each, in the chart's series order (for tests and tooltips).
    QStringList entries() const;

private:
    void rebuild();

    QChart* m_chart;
};

} // namespace gd::ui
