#pragma once

#include "pipeline/Settings.h"

#include <QDialog>
#include <QHash>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QPushButton;

namespace gd::ui {

// Edits every settings key: one field per key with its validation message right under it, OK disabled while
// anything is invalid; workflow profile picked from the profiles that exist, or imported from an exported API
// workflow (or the earlier app's profiles file) with its inputs mapped to roles. Saves to Settings on OK.
// Child objectNames: "edit_<key>" and "problem_<key>" with '/' in the key replaced by '_' (edit_llm_url).
class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    explicit SettingsDialog(pipeline::Settings& settings, QWidget* parent = nullptr);

    static QString editorName(pipeline::Settings::Key key);
    static QString problemName(pipeline::Settings::Key key);
    QWidget* editor(pipeline::Settings::Key key) const { return m_editors.value(key); }
    // The messages shown now, per key (empty: the dialog can be saved).
    QVector<pipeline::Settings::Problem> problems() const { return m_problems; }

    // Reads `path` off the GUI thread (an API-format graph exported from ComfyUI, or the earlier app's
    // legacy-profiles.json) and opens the role-mapping dialog for each workflow found. importFinished() says
    // which profile was saved (empty when none).
    void importWorkflow(const QString& path);

Q_SIGNALS:
    void importFinished(const QString& savedProfile, const QString& message);

private:
    QWidget* makeEditor(pipeline::Settings::Key key);
    QVariant editorValue(pipeline::Settings::Key key) const;
    void revalidate();
    void save();
    void reloadProfiles(const QString& select);
    void chooseImportFile();

    pipeline::Settings& m_settings;
    QHash<pipeline::Settings::Key, QWidget*> m_editors;
    QHash<pipeline::Settings::Key, QLabel*> m_problemLabels;
    QVector<pipeline::Settings::Problem> m_problems;
    QComboBox* m_profile = nullptr;
    QPushButton* m_import = nullptr;
    QLabel* m_importStatus = nullptr;
    QDialogButtonBox* m_buttons;
};

} // namespace gd::ui
