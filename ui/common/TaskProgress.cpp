#include "common/TaskProgress.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

namespace gd::ui {

namespace {
constexpr int kMaxTextWidthPx = 380;
}

TaskProgress::TaskProgress(const QString& name, QWidget* parent)
    : QWidget(parent), m_label(new QLabel(this)), m_bar(new QProgressBar(this)), m_cancel(new QPushButton(this))
{
    setObjectName(name);
    m_label->setObjectName(name + QStringLiteral("Label"));
    m_label->setTextFormat(Qt::PlainText);
    m_bar->setObjectName(name + QStringLiteral("Bar"));
    // Busy indicator: the judges' LLM calls give no share of the whole to show.
    m_bar->setRange(0, 0);
    m_bar->setTextVisible(false);
    m_bar->setMaximumWidth(120);
    m_bar->setMaximumHeight(m_label->sizeHint().height());
    m_cancel->setObjectName(name + QStringLiteral("CancelButton"));
    m_cancel->setText(QStringLiteral("Cancel"));
    m_cancelTip = QStringLiteral("Stop this step now; what it finished is kept.");
    m_cancel->setToolTip(m_cancelTip);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_label);
    layout->addWidget(m_bar);
    layout->addWidget(m_cancel);
    connect(m_cancel, &QPushButton::clicked, this, &TaskProgress::cancelRequested);
    hide();
}

void TaskProgress::begin(const QString& text, bool cancellable)
{
    m_active = true;
    setText(text);
    setCancellable(cancellable);
    show();
}

void TaskProgress::setText(const QString& text)
{
    // The status bar is shared with messages and indicators: long texts (run paths, URLs) are shortened
    // in the middle, and the whole text is in the tooltip.
    m_label->setText(m_label->fontMetrics().elidedText(text, Qt::ElideMiddle, kMaxTextWidthPx));
    m_label->setToolTip(text);
}

void TaskProgress::setCancellable(bool cancellable, const QString& why)
{
    m_cancel->setEnabled(cancellable);
    m_cancel->setToolTip(cancellable || why.isEmpty() ? m_cancelTip : why);
}

void TaskProgress::end()
{
    m_active = false;
    hide();
}

} // namespace gd::ui
