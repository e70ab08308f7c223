#pragma once

#include "comfy/WorkflowProfile.h"

#include <QDialog>
#include <QStringList>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace gd::comfy {
class WorkflowMappingModel;
}

namespace gd::ui {

// Maps an imported workflow's inputs to roles before it is saved as a profile: a table of the graph's literal
// inputs with the role each receives (pre-filled by the importer's inference), the profile name, the
// importer's notes and the remaining problems. Save writes <dir>/<name>.json + .profile.json off the GUI
// thread and is disabled while the profile would not load.
class WorkflowImportDialog : public QDialog
{
    Q_OBJECT
public:
    WorkflowImportDialog(const comfy::WorkflowProfile& profile, const QStringList& notes, const QString& targetDir,
                         QWidget* parent = nullptr);

    comfy::WorkflowMappingModel* model() const { return m_model; }
    QString savedName() const { return m_savedName; }

private:
    void refresh();
    void save();

    QString m_dir;
    QString m_savedName;
    comfy::WorkflowMappingModel* m_model;
    QLineEdit* m_name;
    QTableView* m_table;
    QComboBox* m_role;
    QLabel* m_problems;
    QDialogButtonBox* m_buttons;
};

} // namespace gd::ui
