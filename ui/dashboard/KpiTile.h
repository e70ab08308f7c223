#pragma once

#include "quality/KpiEvaluator.h"

#include <QColor>
#include <QFrame>

class QLabel;

namespace gd::ui {

// One KPI of quality-kpis.md as a coloured tile: green PASS, amber WARN, red FAIL, grey UNMEASURED,
// with the value, the threshold and the reason in the tooltip.
class KpiTile : public QFrame
{
    Q_OBJECT
public:
    explicit KpiTile(QWidget* parent = nullptr);

    void setResult(const quality::KpiResult& result);
    const quality::KpiResult& result() const { return m_result; }
    QString status() const { return m_result.status; }

    // The status colours are fixed (not from the palette) so they mean the same in light and dark
    // themes; the text colour on each is chosen for contrast.
    static QColor statusColor(const QString& status);
    static QColor textColorOn(const QString& status);

private:
    QLabel* m_name = nullptr;
    QLabel* m_value = nullptr;
    QLabel* m_status = nullptr;
    quality::KpiResult m_result;
};

} // namespace gd::ui
