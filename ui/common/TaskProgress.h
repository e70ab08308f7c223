#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace gd::ui {

// A long action's entry in the status bar: what it is doing, a busy bar and a Cancel button, so every
// long action shows progress and can be stopped. Hidden while idle. Child objectNames: "<name>Label",
// "<name>Bar" and "<name>CancelButton" for the objectName given to the constructor.
class TaskProgress : public QWidget
{
    Q_OBJECT
public:
    explicit TaskProgress(const QString& name, QWidget* parent = nullptr);

    // Shows the entry with `text`; `cancellable` enables the Cancel button.
    void begin(const QString& text, bool cancellable);
    void setText(const QString& text);
    // Enables or disables Cancel; `why` becomes its tooltip when disabled.
    void setCancellable(bool cancellable, const QString& why = {});
    // Hides the entry.
    void end();
    bool isActive() const { return m_active; }

    QPushButton* cancelButton() const { return m_cancel; }

Q_SIGNALS:
    void cancelRequested();

private:
    QLabel* m_label;
    QProgressBar* m_bar;
    QPushButton* m_cancel;
    QString m_cancelTip;
    bool m_active = false;
};

} // namespace gd::ui
