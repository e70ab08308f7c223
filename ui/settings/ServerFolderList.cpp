#include "settings/ServerFolderList.h"

#include "pipeline/Settings.h"

#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace gd::ui {

ServerFolderList::ServerFolderList(QWidget* parent) : QWidget(parent), m_form(new QFormLayout), m_empty(new QLabel(this))
{
    m_empty->setObjectName(QStringLiteral("serverOutputDirsEmpty"));
    // One short line: a wrapped label in a form row is laid out too short and gets clipped.
    m_empty->setText(QStringLiteral("(no pool servers yet: add them above, then pick each one's folder)"));
    m_empty->setToolTip(QStringLiteral("Each server of \"ComfyUI servers (pool)\" gets a row here for its local "
                                       "output folder."));
    m_empty->setEnabled(false); // the palette's muted text colour
    m_form->setContentsMargins(0, 0, 0, 0);
    m_form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_empty);
    layout->addLayout(m_form);
    rebuild();
}

void ServerFolderList::setServers(const QStringList& labels)
{
    if (labels == m_labels)
        return;
    m_labels = labels;
    rebuild();
    Q_EMIT changed();
}

void ServerFolderList::setValue(const QString& text)
{
    m_folders.clear();
    for (const auto& [label, folder] : pipeline::Settings::folderEntries(text))
        if (!label.isEmpty())
            m_folders.insert(label, folder);
    rebuild();
    Q_EMIT changed();
}

QString ServerFolderList::value() const
{
    // Only the servers shown: a folder of a server removed from the pool is not saved.
    QList<QPair<QString, QString>> entries;
    for (const QString& label : m_labels)
        entries.append({label, m_folders.value(label)});
    return pipeline::Settings::folderMapText(entries);
}

void ServerFolderList::rebuild()
{
    while (m_form->rowCount() > 0)
        m_form->removeRow(0);
    m_edits.clear();
    for (const QString& label : std::as_const(m_labels)) {
        auto* edit = new QLineEdit(m_folders.value(label), this);
        edit->setObjectName(QStringLiteral("serverOutputDir_") + label);
        edit->setPlaceholderText(QStringLiteral("(this server runs on another machine)"));
        edit->setToolTip(QStringLiteral("ComfyUI's output folder of %1 when it runs on this machine: done markers are "
                                        "watched on disk and frames hard-linked. Must be an existing folder.")
                             .arg(label));
        connect(edit, &QLineEdit::textChanged, this, [this, label](const QString& text) {
            m_folders.insert(label, text.trimmed());
            Q_EMIT changed();
        });
        auto* browse = new QPushButton(QStringLiteral("Browse…"), this);
        browse->setObjectName(QStringLiteral("browseServerOutputDir_") + label);
        browse->setToolTip(QStringLiteral("Pick the output folder of %1").arg(label));
        connect(browse, &QPushButton::clicked, this, [this, edit, label] {
            const QString start = edit->text().isEmpty() ? QDir::homePath() : edit->text();
            const QString chosen =
                QFileDialog::getExistingDirectory(this, QStringLiteral("Output folder of %1").arg(label), start);
            if (!chosen.isEmpty())
                edit->setText(QDir::toNativeSeparators(chosen));
        });
        auto* row = new QHBoxLayout;
        row->addWidget(edit, 1);
        row->addWidget(browse);
        auto* name = new QLabel(label, this);
        name->setBuddy(edit);
        m_form->addRow(name, row);
        m_edits.insert(label, edit);
    }
    m_empty->setVisible(m_labels.isEmpty());
}

} // namespace gd::ui
