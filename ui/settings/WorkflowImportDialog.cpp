#include "settings/WorkflowImportDialog.h"

#include "comfy/LegacyProfileImporter.h"
#include "comfy/WorkflowMappingModel.h"
#include "comfy/WorkflowRole.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace gd::ui {

WorkflowImportDialog::WorkflowImportDialog(const comfy::WorkflowProfile& profile, const QStringList& notes,
                                           const QString& targetDir, QWidget* parent)
    : QDialog(parent),
      m_dir(targetDir),
      m_model(new comfy::WorkflowMappingModel(this)),
      m_name(new QLineEdit(this)),
      m_table(new QTableView(this)),
      m_role(new QComboBox(this)),
      m_problems(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(QStringLiteral("Import workflow: map inputs to roles"));
    m_model->setProfile(profile);

    m_name->setObjectName(QStringLiteral("profileName"));
    m_name->setText(profile.name);
    m_name->setToolTip(QStringLiteral("File name of the profile: letters, digits, '.', '_' and '-'."));
    connect(m_name, &QLineEdit::textChanged, this, [this](const QString& n) { m_model->setName(n.trimmed()); });

    m_table->setObjectName(QStringLiteral("mappingTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();

    m_role->setObjectName(QStringLiteral("roleCombo"));
    m_role->setToolTip(QStringLiteral("What the app writes into the selected input for each scene."));
    m_role->addItem(QStringLiteral("(not mapped)"), QString());
    for (const QString& name : comfy::mappableRoleNames())
        m_role->addItem(name, name);
    m_role->setEnabled(false);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& cur) {
        m_role->setEnabled(cur.isValid());
        const QSignalBlocker block(m_role);
        m_role->setCurrentIndex(m_role->findData(m_model->roleText(cur.row())));
    });
    connect(m_role, &QComboBox::activated, this, [this] {
        const QModelIndex cur = m_table->currentIndex();
        if (cur.isValid())
            m_model->setData(m_model->index(cur.row(), comfy::WorkflowMappingModel::RoleColumn), m_role->currentData(),
                             Qt::EditRole);
    });
    connect(m_model, &comfy::WorkflowMappingModel::mappingChanged, this, &WorkflowImportDialog::refresh);

    auto* notesLabel = new QLabel(this);
    notesLabel->setObjectName(QStringLiteral("importNotes"));
    notesLabel->setWordWrap(true);
    notesLabel->setText(notes.isEmpty() ? QString() : QStringLiteral("Importer notes:\n• ") + notes.join(QStringLiteral("\n• ")));
    notesLabel->setVisible(!notes.isEmpty());

    m_problems->setObjectName(QStringLiteral("importProblems"));
    m_problems->setWordWrap(true);
    m_problems->setTextFormat(Qt::PlainText);

    connect(m_buttons, &QDialogButtonBox::accepted, this, &WorkflowImportDialog::save);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* form = new QFormLayout;
    form->addRow(QStringLiteral("Profile name"), m_name);
    form->addRow(QStringLiteral("Role of the selected input"), m_role);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_table, 1);
    layout->addWidget(notesLabel);
    layout->addWidget(m_problems);
    layout->addWidget(m_buttons);
    resize(820, 560);
    refresh();
}

void WorkflowImportDialog::refresh()
{
    QStringList problems = m_model->problems();
    static const QRegularExpression plainName(QStringLiteral("^[A-Za-z0-9_-][A-Za-z0-9._-]*$"));
    const QString name = m_name->text().trimmed();
    if (!plainName.match(name).hasMatch())
        problems.prepend(QStringLiteral("the profile name must be a plain file name (letters, digits, '.', '_', '-')"));
    else if (QFileInfo::exists(QDir(m_dir).filePath(name + QStringLiteral(".profile.json"))))
        problems.prepend(QStringLiteral("a profile named \"%1\" already exists in %2: choose another name").arg(name, m_dir));
    m_problems->setText(problems.isEmpty() ? QStringLiteral("Ready to save.")
                                           : QStringLiteral("Cannot save yet:\n• ") + problems.join(QStringLiteral("\n• ")));
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(problems.isEmpty());
}

void WorkflowImportDialog::save()
{
    const comfy::WorkflowProfile profile = m_model->profile();
    m_buttons->setEnabled(false);
    auto* watcher = new QFutureWatcher<Error>(this);
    connect(watcher, &QFutureWatcher<Error>::finished, this, [this, watcher, profile] {
        const Error e = watcher->result();
        watcher->deleteLater();
        m_buttons->setEnabled(true);
        if (!e.isNull()) {
            m_problems->setText(QStringLiteral("Could not save: ") + e.message);
            return;
        }
        m_savedName = profile.name;
        accept();
    });
    const QString dir = m_dir;
    watcher->setFuture(QtConcurrent::run([profile, dir] {
        QDir().mkpath(dir);
        return comfy::LegacyProfileImporter::writeProfile(profile, dir);
    }));
}

} // namespace gd::ui
