#pragma once

#include "pipeline/QueuePolicy.h"

#include <QGroupBox>

class QFormLayout;

namespace gd::ui {

// Shows the knobs of a queue policy preset (telemetry-contract.md §2.1), each with a tooltip that
// says what it does. Read-only: the Settings panel edits saved knobs.
class QueuePolicyCard : public QGroupBox
{
    Q_OBJECT
public:
    explicit QueuePolicyCard(QWidget* parent = nullptr);

    void setPolicy(const pipeline::QueuePolicy& policy);
    // The value shown for a knob label (e.g. "History max wait"), for tests and accessibility.
    QString valueOf(const QString& knob) const;

private:
    QFormLayout* m_form;
};

} // namespace gd::ui
