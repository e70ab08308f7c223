#pragma once

#include "pipeline/HealthProbe.h"

#include <QWidget>

class QToolButton;

namespace gd::pipeline {
class ConnectionMonitor;
}

namespace gd::ui {

// Three status-bar indicators (LLM, ComfyUI, GPU) rendering a ConnectionMonitor: a green/amber/red/grey dot
// per component, the probe's explanation in the tooltip, and a click that re-checks at once.
class ConnectionIndicators : public QWidget
{
    Q_OBJECT
public:
    explicit ConnectionIndicators(pipeline::ConnectionMonitor* monitor, QWidget* parent = nullptr);

    // The button of "llm", "comfyui" or "gpu" (objectNames indicatorLlm, indicatorComfy, indicatorGpu).
    QToolButton* indicator(const QString& component) const;

protected:
    void changeEvent(QEvent* event) override;

private:
    void render();
    void renderOne(QToolButton* button, const pipeline::HealthItem& item);

    pipeline::ConnectionMonitor* m_monitor;
    QToolButton* m_llm;
    QToolButton* m_comfy;
    QToolButton* m_gpu;
    bool m_checking = false;
};

} // namespace gd::ui
