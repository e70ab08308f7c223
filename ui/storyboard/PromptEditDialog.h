#pragma once

#include <QDialog>
#include <QHash>

class QFormLayout;
class QLabel;

namespace gd::ui {

// A small dialog editing named prompt fields (a shot's first frame, camera and motion; a reference
// sheet's prompt). Each field's editor is named "<name>Edit"; OK is "promptDialogOk". It only
// collects text: the caller hands the values to the storyboard controller.
class PromptEditDialog : public QDialog
{
    Q_OBJECT
public:
    PromptEditDialog(const QString& title, const QString& explanation, QWidget* parent = nullptr);

    // A multi-line field (prompts) or a single-line one (camera, motion).
    void addField(const QString& name, const QString& label, const QString& text, bool multiLine);
    QString value(const QString& name) const;
    void setValue(const QString& name, const QString& text);

private:
    QFormLayout* m_form;
    QHash<QString, QWidget*> m_editors;
};

} // namespace gd::ui
