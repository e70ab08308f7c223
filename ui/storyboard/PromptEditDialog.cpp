#include "storyboard/PromptEditDialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace gd::ui {

PromptEditDialog::PromptEditDialog(const QString& title, const QString& explanation, QWidget* parent)
    : QDialog(parent), m_form(new QFormLayout)
{
    setWindowTitle(title);
    auto* layout = new QVBoxLayout(this);
    auto* note = new QLabel(explanation, this);
    note->setObjectName(QStringLiteral("promptDialogNote"));
    note->setWordWrap(true);
    layout->addWidget(note);
    layout->addLayout(m_form);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("promptDialogOk"));
    buttons->button(QDialogButtonBox::Cancel)->setObjectName(QStringLiteral("promptDialogCancel"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(520, sizeHint().height());
}

void PromptEditDialog::addField(const QString& name, const QString& label, const QString& text, bool multiLine)
{
    QWidget* editor = nullptr;
    if (multiLine) {
        auto* e = new QPlainTextEdit(this);
        e->setPlainText(text);
        e->setTabChangesFocus(true);
        e->setMinimumHeight(80);
        editor = e;
    } else {
        auto* e = new QLineEdit(text, this);
        editor = e;
    }
    editor->setObjectName(name + QStringLiteral("Edit"));
    m_form->addRow(label, editor);
    m_editors.insert(name, editor);
}

QString PromptEditDialog::value(const QString& name) const
{
    QWidget* w = m_editors.value(name);
    if (auto* e = qobject_cast<QPlainTextEdit*>(w))
        return e->toPlainText();
    if (auto* e = qobject_cast<QLineEdit*>(w))
        return e->text();
    return {};
}

void PromptEditDialog::setValue(const QString& name, const QString& text)
{
    QWidget* w = m_editors.value(name);
    if (auto* e = qobject_cast<QPlainTextEdit*>(w))
        e->setPlainText(text);
    else if (auto* e = qobject_cast<QLineEdit*>(w))
        e->setText(text);
}

} // namespace gd::ui
