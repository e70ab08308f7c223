#include "dashboard/KpiTile.h"

#include "common/StatusColor.h"

#include <QLabel>
#include <QVBoxLayout>

namespace gd::ui {

namespace {

// Shares (0..1) read better as percentages; everything else is shown as the evaluator wrote it.
bool isShare(const QString& id)
{
    static const QStringList ids{QStringLiteral("done-marker-rate"), QStringLiteral("forced-copy-rate"),
                                 QStringLiteral("zero-frame-rate"), QStringLiteral("execution-success-rate"),
                                 QStringLiteral("telemetry-completeness"), QStringLiteral("blank-frames")};
    return ids.contains(id) || id.startsWith(QStringLiteral("planner-"));
}

QString valueText(const quality::KpiResult& k)
{
    if (!k.value)
        return QStringLiteral("—");
    if (isShare(k.id))
        return QString::number(*k.value * 100.0, 'f', 1) + QStringLiteral(" %");
    return QString::number(*k.value, 'f', std::abs(*k.value) >= 100 ? 0 : 2);
}

} // namespace

KpiTile::KpiTile(QWidget* parent) : QFrame(parent)
{
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    setMinimumWidth(150);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->setSpacing(2);
    m_name = new QLabel(this);
    m_name->setWordWrap(true);
    m_value = new QLabel(this);
    QFont big = m_value->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    m_value->setFont(big);
    m_status = new QLabel(this);
    layout->addWidget(m_name);
    layout->addWidget(m_value);
    layout->addWidget(m_status);
    layout->addStretch(1);
    setResult(quality::KpiResult{{}, {}, std::nullopt, {}, QStringLiteral("UNMEASURED"), {}, {}});
}

QColor KpiTile::statusColor(const QString& status)
{
    // PASS / WARN / FAIL map onto the shared fills; UNMEASURED (anything else) is grey.
    return StatusColor::fill(StatusColor::fromText(status));
}

QColor KpiTile::textColorOn(const QString& status)
{
    return StatusColor::textOn(statusColor(status));
}

void KpiTile::setResult(const quality::KpiResult& result)
{
    m_result = result;
    QPalette pal = palette();
    pal.setColor(QPalette::Window, statusColor(result.status));
    for (QPalette::ColorGroup g : {QPalette::Active, QPalette::Inactive, QPalette::Disabled})
        pal.setColor(g, QPalette::WindowText, textColorOn(result.status));
    setPalette(pal);
    m_name->setText(result.name);
    m_value->setText(valueText(result));
    m_status->setText(result.status);

    QStringList tip;
    tip << QStringLiteral("<b>%1</b>").arg(result.name.toHtmlEscaped());
    tip << QStringLiteral("Value: %1").arg(valueText(result).toHtmlEscaped());
    if (!result.threshold.isEmpty())
        tip << QStringLiteral("Threshold: %1").arg(result.threshold.toHtmlEscaped());
    const QString meaning = result.status == QLatin1String("PASS")   ? QStringLiteral("meets the threshold")
                            : result.status == QLatin1String("WARN") ? QStringLiteral("passes, within 5 % of the threshold")
                            : result.status == QLatin1String("FAIL") ? QStringLiteral("misses the threshold")
                                                                     : QStringLiteral("not measured in this run");
    tip << QStringLiteral("Status: %1 (%2)").arg(result.status, meaning);
    if (!result.reason.isEmpty())
        tip << QStringLiteral("Reason: %1").arg(result.reason.toHtmlEscaped());
    if (!result.failingScenes.isEmpty())
        tip << QStringLiteral("Failing: %1").arg(result.failingScenes.mid(0, 10).join(QStringLiteral(", ")).toHtmlEscaped());
    setToolTip(tip.join(QStringLiteral("<br>")));
}

} // namespace gd::ui
