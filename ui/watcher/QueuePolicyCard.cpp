#include "watcher/QueuePolicyCard.h"

#include <QFormLayout>
#include <QLabel>

namespace gd::ui {

namespace {

QString seconds(double s)
{
    return QStringLiteral("%1 s").arg(s, 0, 'g', 4);
}

} // namespace

QueuePolicyCard::QueuePolicyCard(QWidget* parent) : QGroupBox(parent)
{
    setObjectName(QStringLiteral("queuePolicyCard"));
    m_form = new QFormLayout(this);
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    // In a narrow watcher a value goes under its knob instead of widening the whole main window.
    m_form->setRowWrapPolicy(QFormLayout::WrapLongRows);
    setPolicy(pipeline::QueuePolicy::standard());
}

void QueuePolicyCard::setPolicy(const pipeline::QueuePolicy& p)
{
    setTitle(QStringLiteral("Queue policy — %1").arg(p.presetName));
    while (m_form->rowCount() > 0)
        m_form->removeRow(0);
    const auto add = [this](const QString& knob, const QString& value, const QString& tip) {
        auto* label = new QLabel(knob + QLatin1Char(':'), this);
        auto* field = new QLabel(value, this);
        field->setObjectName(QStringLiteral("policyValue"));
        field->setProperty("knob", knob);
        field->setTextInteractionFlags(Qt::TextSelectableByMouse);
        label->setToolTip(tip);
        field->setToolTip(tip);
        m_form->addRow(label, field);
    };
    add(QStringLiteral("History max wait"), seconds(p.maxWaitSeconds),
        QStringLiteral("--scene-max-wait / SCENE_MAX_WAIT_SECONDS: how long one attempt may wait for its "
                       "/history entry before it ends with HistoryExitReason maxWait"));
    add(QStringLiteral("History max attempts"),
        p.historyMaxAttempts == 0 ? QStringLiteral("unbounded") : QString::number(p.historyMaxAttempts),
        QStringLiteral("--scene-history-max-attempts / SCENE_HISTORY_MAX_ATTEMPTS: /history requests per "
                       "attempt (0 = unbounded, the max wait still applies)"));
    add(QStringLiteral("History poll interval"), seconds(p.pollIntervalSeconds),
        QStringLiteral("--scene-history-poll-interval: pause between /history requests when the WebSocket "
                       "cannot report completion"));
    add(QStringLiteral("Post-execution timeout"), seconds(p.postExecutionTimeoutSeconds),
        QStringLiteral("--scene-post-execution-timeout: how long outputs may take to appear after ComfyUI "
                       "reported success (HistoryExitReason postExecution)"));
    add(QStringLiteral("Scene retry budget"),
        QStringLiteral("%1 (%2 attempts)").arg(p.sceneRetryBudget).arg(p.sceneRetryBudget + 1),
        QStringLiteral("--scene-retry-budget: requeues of a scene with no frames, too few frames or an "
                       "execution error"));
    add(QStringLiteral("Frame floor"),
        p.frameFloor > 0 ? QString::number(p.frameFloor)
                         : QStringLiteral("per scene (expected frames, else 25)"),
        QStringLiteral("--frame-floor: fewer frames than this is a warning and requeues the scene"));
    add(QStringLiteral("Done-marker wait"), seconds(p.doneMarkerTimeoutSeconds),
        QStringLiteral("--done-marker-timeout: how long to wait for the producer's done marker before the "
                       "stability window decides"));
    add(QStringLiteral("Stability window / retries"),
        QStringLiteral("%1 / %2").arg(seconds(p.stabilityWindowSeconds)).arg(p.stabilityRetries),
        QStringLiteral("--stability-window / --stability-retries: frames count as complete when the newest "
                       "is older than the window; after the retries they are copied anyway (forced copy)"));
}

QString QueuePolicyCard::valueOf(const QString& knob) const
{
    for (QLabel* field : findChildren<QLabel*>(QStringLiteral("policyValue")))
        if (field->property("knob").toString() == knob)
            return field->text();
    return QString();
}

} // namespace gd::ui
