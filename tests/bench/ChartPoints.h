#pragma once

// Point counts of every Qt Charts chart below a widget, for the GUI benchmarks.

#include <QWidget>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QXYSeries>
#include <algorithm>
#include <cstdio>

namespace gd::bench {

// Prints each series' point count and each chart's total (charts by objectName); returns the most
// points any one chart draws.
inline int printChartPoints(const QWidget* root)
{
    int worst = 0;
    for (QChartView* view : root->findChildren<QChartView*>()) {
        int chartPoints = 0;
        for (QAbstractSeries* series : view->chart()->series())
            if (auto* xy = qobject_cast<QXYSeries*>(series)) {
                std::printf("  %-18s %-22s %5lld points\n", qPrintable(view->objectName()),
                            qPrintable(series->objectName()), static_cast<long long>(xy->count()));
                chartPoints += static_cast<int>(xy->count());
            }
        std::printf("  %-18s %-22s %5d points in the chart\n", qPrintable(view->objectName()), "(all series)", chartPoints);
        worst = std::max(worst, chartPoints);
    }
    return worst;
}

} // namespace gd::bench
