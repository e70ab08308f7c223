#include "comfy/WorkflowMappingModel.h"

#include "comfy/WorkflowProfileLoader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <algorithm>

namespace gd::comfy {

namespace {
QString literalText(const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Double:
        return QString::number(v.toDouble(), 'g', 12);
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Null:
        return QStringLiteral("null");
    default:
        return QString::fromUtf8(v.isArray() ? QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact)
                                             : QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    }
}
} // namespace

WorkflowMappingModel::WorkflowMappingModel(QObject* parent) : QAbstractTableModel(parent) {}

void WorkflowMappingModel::setProfile(const WorkflowProfile& profile)
{
    beginResetModel();
    m_profile = profile;
    m_rows.clear();
    QStringList ids = profile.graph.keys();
    // Node ids are usually numbers: "2" before "10".
    std::sort(ids.begin(), ids.end(), [](const QString& a, const QString& b) {
        bool okA = false, okB = false;
        const qlonglong na = a.toLongLong(&okA), nb = b.toLongLong(&okB);
        if (okA && okB)
            return na < nb;
        return okA != okB ? okA : a < b;
    });
    for (const QString& id : ids) {
        const QJsonObject node = profile.graph.value(id).toObject();
        const QString cls = node.value(QLatin1String("class_type")).toString();
        const QString title = node.value(QLatin1String("_meta")).toObject().value(QLatin1String("title")).toString();
        const QString label = id + QLatin1Char(' ') + cls + (title.isEmpty() || title == cls ? QString() : QStringLiteral(" (%1)").arg(title));
        const QJsonObject inputs = node.value(QLatin1String("inputs")).toObject();
        for (auto it = inputs.constBegin(); it != inputs.constEnd(); ++it) {
            if (WorkflowProfile::isLink(it.value()))
                continue; // a link carries another node's output; nothing can be written into it
            Row r{id, label, it.key(), literalText(it.value()), std::nullopt};
            for (const MappedInput& m : profile.mapping) {
                if (m.nodeId == id && m.inputName == it.key()) {
                    r.role = m.role;
                    r.roleIndex = m.index;
                }
            }
            m_rows.push_back(r);
        }
    }
    endResetModel();
    Q_EMIT mappingChanged();
}

WorkflowProfile WorkflowMappingModel::profile() const
{
    WorkflowProfile p = m_profile;
    p.mapping.clear();
    for (const Row& r : m_rows) {
        if (r.role)
            p.mapping.append({r.nodeId, r.inputName, *r.role, r.roleIndex});
    }
    return p;
}

QStringList WorkflowMappingModel::problems() const
{
    const WorkflowProfile p = profile();
    QStringList out = WorkflowProfileLoader::validate(p);
    if (!p.hasRole(Role::Prompt))
        out << QStringLiteral("no input receives the scene prompt: give one text input the role \"prompt\"");
    if (!p.hasRole(Role::FilenamePrefix))
        out << QStringLiteral("no input receives the filename prefix: give the save node's filename_prefix the "
                              "role \"filename_prefix\" (frames are found by it)");
    out.removeDuplicates();
    return out;
}

void WorkflowMappingModel::setName(const QString& name)
{
    m_profile.name = name;
    Q_EMIT mappingChanged();
}

std::optional<Role> WorkflowMappingModel::role(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).role : std::nullopt;
}

QString WorkflowMappingModel::roleText(int row) const
{
    const auto r = role(row);
    return r ? roleName(*r, m_rows.at(row).roleIndex) : QString();
}

void WorkflowMappingModel::setRole(int row, std::optional<Role> r, int slot)
{
    if (r != Role::CharacterReferenceImage)
        slot = 0;
    if (row < 0 || row >= m_rows.size() || (m_rows.at(row).role == r && m_rows.at(row).roleIndex == slot))
        return;
    m_rows[row].role = r;
    m_rows[row].roleIndex = slot;
    const QModelIndex idx = index(row, RoleColumn);
    Q_EMIT dataChanged(idx, idx);
    Q_EMIT mappingChanged();
}

int WorkflowMappingModel::rowFor(const QString& nodeId, const QString& inputName) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).nodeId == nodeId && m_rows.at(i).inputName == inputName)
            return i;
    }
    return -1;
}

int WorkflowMappingModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int WorkflowMappingModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant WorkflowMappingModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row& r = m_rows.at(index.row());
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        switch (index.column()) {
        case NodeColumn:
            return r.nodeLabel;
        case InputColumn:
            return r.inputName;
        case ValueColumn:
            return role == Qt::DisplayRole && r.value.size() > 80 ? QString(r.value.left(77) + QStringLiteral("…")) : r.value;
        case RoleColumn:
            return r.role ? roleName(*r.role, r.roleIndex) : QString();
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole && index.column() == ValueColumn)
        return r.value;
    return {};
}

QVariant WorkflowMappingModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case NodeColumn:
        return QStringLiteral("Node");
    case InputColumn:
        return QStringLiteral("Input");
    case ValueColumn:
        return QStringLiteral("Value in the workflow");
    case RoleColumn:
        return QStringLiteral("Role");
    default:
        return {};
    }
}

bool WorkflowMappingModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (!index.isValid() || index.column() != RoleColumn || role != Qt::EditRole)
        return false;
    const QString text = value.toString().trimmed();
    if (text.isEmpty()) {
        setRole(index.row(), std::nullopt);
        return true;
    }
    int slot = 0;
    const auto r = roleFromName(text, &slot);
    if (!r)
        return false;
    setRole(index.row(), r, slot);
    return true;
}

Qt::ItemFlags WorkflowMappingModel::flags(const QModelIndex& index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.column() == RoleColumn)
        f |= Qt::ItemIsEditable;
    return f;
}

} // namespace gd::comfy
