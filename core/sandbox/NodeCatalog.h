#pragma once

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

namespace gd::sandbox {

// One input of a node class as /object_info describes it.
// spec is the object_info input spec, e.g. ["INT", {"default":1,"min":1,"max":4096}], [["a","b"], {}] (V1
// combo) or ["COMBO", {"options":[...]}] (V3 combo). anyValue: a model-file combo (ckpt_name, unet_name,
// vae_name, clip_name, ...). The sandbox has no model folder, so validation must accept any string for it;
// the listed options are only the names the bundled fixture graphs use.
struct NodeInputSpec
{
    QString name;
    QJsonArray spec;
    bool required = true;
    bool anyValue = false;

    // "INT", "FLOAT", "STRING", "BOOLEAN", "IMAGE", ..., or "COMBO" for both combo encodings.
    QString typeName() const;
    bool isCombo() const;
    // Options of a combo input (V1 list or V3 {"options": [...]}); empty for non-combos.
    QStringList comboOptions() const;
    // The options object (second element of spec) or {} when absent.
    QJsonObject options() const;
};

// One installed node class.
struct NodeClassSpec
{
    QString className;
    QString displayName;
    QString category;
    bool outputNode = false;
    QStringList outputTypes;
    QVector<NodeInputSpec> inputs;
    QStringList outputNames; // defaults to outputTypes when empty
    QString description;
    QString pythonModule = QStringLiteral("nodes");
    QJsonObject hidden; // e.g. {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}
    bool v3 =
        false; // comfy_api V3 node: object_info also carries output_tooltips/deprecated/experimental/api_node

    const NodeInputSpec* input(const QString& name) const;
};

// The node classes the sandbox "has installed": answers GET /object_info and backs prompt validation.
class NodeCatalog
{
public:
    static NodeCatalog
    builtin(); // every class the bundled fixture graphs use except the pysssss custom nodes

    void add(const NodeClassSpec& spec); // replaces an existing class of the same name
    bool contains(const QString& cls) const;
    const NodeClassSpec* find(const QString& cls) const;
    void remove(const QString& cls); // simulate "custom node not installed"
    QStringList classNames() const;  // sorted
    QJsonObject
    objectInfo(const QString& cls) const; // {"<cls>": NodeInfo} per comfyui-api.md, or {} when unknown
    QJsonObject objectInfoAll() const;

private:
    QJsonObject nodeInfo(const NodeClassSpec& spec) const;

    QHash<QString, NodeClassSpec> m_classes;
};

} // namespace gd::sandbox
