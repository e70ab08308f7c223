#pragma once

#include <QHash>
#include <QPair>
#include <QWidget>

class QFormLayout;
class QLabel;
class QLineEdit;

namespace gd::ui {

// The local output folder of each ComfyUI pool server: one row per server label (label, folder field,
// Browse… button), rebuilt when the server list changes while keeping what was typed per label. The
// value is Settings' FolderMap text ("LABEL=FOLDER" lines). Child objectNames: "serverOutputDir_<label>"
// and "browseServerOutputDir_<label>"; "serverOutputDirsEmpty" is the note shown with no pool servers.
class ServerFolderList : public QWidget
{
    Q_OBJECT
public:
    explicit ServerFolderList(QWidget* parent = nullptr);

    // The servers to show, in order (labels as Settings::serverLabels gives them).
    void setServers(const QStringList& labels);
    QStringList servers() const { return m_labels; }
    // FolderMap text: sets the folders per label (labels not shown are remembered for when they are).
    void setValue(const QString& text);
    QString value() const;
    QLineEdit* folderEdit(const QString& label) const { return m_edits.value(label); }

Q_SIGNALS:
    void changed();

private:
    void rebuild();

    QFormLayout* m_form;
    QLabel* m_empty;
    QStringList m_labels;
    QHash<QString, QString> m_folders; // per label, including servers not shown right now
    QHash<QString, QLineEdit*> m_edits;
};

} // namespace gd::ui
