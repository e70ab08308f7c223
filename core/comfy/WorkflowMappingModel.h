#pragma once

#include "comfy/WorkflowProfile.h"

#include <QAbstractTableModel>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::comfy {

// The editable "which graph input receives which scene parameter" table behind the import dialog: one row per
// literal input of an API-format graph (node id, class, input, current value, role). profile() turns the
// rows back into a WorkflowProfile; problems() is WorkflowProfileLoader::validate() of it.
class WorkflowMappingModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        NodeColumn,
        InputColumn,
        ValueColumn,
        RoleColumn,
        ColumnCount
    };

    explicit WorkflowMappingModel(QObject* parent = nullptr);

    // Starts from `profile` (its graph and, as the initial roles, its mapping).
    void setProfile(const WorkflowProfile& profile);
    WorkflowProfile profile() const;
    QStringList problems() const;
    void setName(const QString& name);
    QString name() const { return m_profile.name; }

    // Role of a row; nullopt = not mapped. A row's input keeps at most one role.
    std::optional<Role> role(int row) const;
    // The row's role as .profile.json spells it ("character_reference_image[1]"), empty when not mapped.
    QString roleText(int row) const;
    // `slot` is N of character_reference_image[N] (ignored for other roles).
    void setRole(int row, std::optional<Role> role, int slot = 0);
    int rowFor(const QString& nodeId, const QString& inputName) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

Q_SIGNALS:
    void mappingChanged();

private:
    struct Row
    {
        QString nodeId;
        QString nodeLabel; // "12 KSampler (Main sampler)"
        QString inputName;
        QString value;
        std::optional<Role> role;
        int roleIndex = 0;
    };
    WorkflowProfile m_profile;
    QVector<Row> m_rows;
};

} // namespace gd::comfy
