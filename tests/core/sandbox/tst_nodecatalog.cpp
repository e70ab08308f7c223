#include "sandbox/NodeCatalog.h"

#include <QFile>
#include <QJsonDocument>
#include <QSet>
#include <QtTest>

using gd::sandbox::NodeCatalog;
using gd::sandbox::NodeClassSpec;
using gd::sandbox::NodeInputSpec;

namespace {

QJsonObject loadGraph(const QString& name)
{
    QFile file(QStringLiteral(GD_TEST_DATA_DIR "/workflows/") + name);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

bool isLink(const QJsonValue& v)
{
    const QJsonArray a = v.toArray();
    return v.isArray() && a.size() == 2 && a.at(0).isString() && a.at(1).isDouble();
}

// The checks ComfyUI's validate_inputs applies to a literal (comfyui-api.md §2.2), reduced to what the
// catalog decides.
QString literalProblem(const NodeInputSpec& in, const QJsonValue& value)
{
    const QString type = in.typeName();
    const QJsonObject opts = in.options();
    if (in.isCombo()) {
        if (in.anyValue)
            return value.isString() ? QString() : QStringLiteral("not a string");
        return in.comboOptions().contains(value.toVariant().toString()) ? QString()
                                                                        : QStringLiteral("value_not_in_list");
    }
    if (type == QLatin1String("INT") || type == QLatin1String("FLOAT")) {
        if (!value.isDouble())
            return QStringLiteral("invalid_input_type");
        const double v = value.toDouble();
        if (type == QLatin1String("INT") && v != std::floor(v))
            return QStringLiteral("invalid_input_type");
        if (opts.contains(QStringLiteral("min")) && v < opts.value(QStringLiteral("min")).toDouble())
            return QStringLiteral("value_smaller_than_min");
        if (opts.contains(QStringLiteral("max")) && v > opts.value(QStringLiteral("max")).toDouble())
            return QStringLiteral("value_bigger_than_max");
        return {};
    }
    if (type == QLatin1String("STRING"))
        return value.isString() ? QString() : QStringLiteral("invalid_input_type");
    if (type == QLatin1String("BOOLEAN"))
        return value.isBool() ? QString() : QStringLiteral("invalid_input_type");
    return QStringLiteral("literal given for a linked input of type ") + type;
}

} // namespace

// NodeCatalog: what /object_info publishes and what prompt validation can rely on.
class TestNodeCatalog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void objectInfoV1Shape()
    {
        const NodeCatalog cat = NodeCatalog::builtin();
        const QJsonObject all = cat.objectInfo(QStringLiteral("KSampler"));
        QCOMPARE(all.keys(), QStringList{QStringLiteral("KSampler")});
        const QJsonObject info = all.value(QStringLiteral("KSampler")).toObject();

        const QJsonObject required =
            info.value(QStringLiteral("input")).toObject().value(QStringLiteral("required")).toObject();
        QCOMPARE(required.value(QStringLiteral("model")).toArray().at(0).toString(), QStringLiteral("MODEL"));
        const QJsonArray seed = required.value(QStringLiteral("seed")).toArray();
        QCOMPARE(seed.at(0).toString(), QStringLiteral("INT"));
        QCOMPARE(seed.at(1).toObject().value(QStringLiteral("min")).toInt(), 0);
        QVERIFY(seed.at(1).toObject().value(QStringLiteral("max")).toDouble() > 1.8e19);
        // V1 combo: the option list is the type itself.
        const QJsonArray sampler = required.value(QStringLiteral("sampler_name")).toArray();
        QVERIFY(sampler.at(0).isArray());
        QVERIFY(sampler.at(0).toArray().contains(QStringLiteral("euler")));
        QVERIFY(sampler.at(0).toArray().contains(QStringLiteral("uni_pc")));
        const QJsonArray denoise = required.value(QStringLiteral("denoise")).toArray();
        QCOMPARE(denoise.at(0).toString(), QStringLiteral("FLOAT"));
        QCOMPARE(denoise.at(1).toObject().value(QStringLiteral("max")).toDouble(), 1.0);

        const QJsonArray order =
            info.value(QStringLiteral("input_order")).toObject().value(QStringLiteral("required")).toArray();
        QStringList names;
        for (const QJsonValue& v : order)
            names.append(v.toString());
        QCOMPARE(names, (QStringList{QStringLiteral("model"), QStringLiteral("seed"), QStringLiteral("steps"),
                                     QStringLiteral("cfg"), QStringLiteral("sampler_name"),
                                     QStringLiteral("scheduler"), QStringLiteral("positive"),
                                     QStringLiteral("negative"), QStringLiteral("latent_image"),
                                     QStringLiteral("denoise")}));

        QCOMPARE(info.value(QStringLiteral("output")).toArray(), QJsonArray{QStringLiteral("LATENT")});
        QCOMPARE(info.value(QStringLiteral("output_is_list")).toArray(), QJsonArray{false});
        QCOMPARE(info.value(QStringLiteral("output_name")).toArray(), QJsonArray{QStringLiteral("LATENT")});
        QCOMPARE(info.value(QStringLiteral("name")).toString(), QStringLiteral("KSampler"));
        QCOMPARE(info.value(QStringLiteral("display_name")).toString(), QStringLiteral("KSampler"));
        QCOMPARE(info.value(QStringLiteral("category")).toString(), QStringLiteral("sampling"));
        QCOMPARE(info.value(QStringLiteral("python_module")).toString(), QStringLiteral("nodes"));
        QCOMPARE(info.value(QStringLiteral("output_node")).toBool(), false);
        QVERIFY(info.contains(QStringLiteral("description")));
    }

    void objectInfoV3SaveVideo()
    {
        const NodeCatalog cat = NodeCatalog::builtin();
        const QJsonObject info =
            cat.objectInfo(QStringLiteral("SaveVideo")).value(QStringLiteral("SaveVideo")).toObject();
        QVERIFY(!info.isEmpty());
        QCOMPARE(info.value(QStringLiteral("output_node")).toBool(), true);
        QCOMPARE(info.value(QStringLiteral("output")).toArray(), QJsonArray{});
        QVERIFY(info.value(QStringLiteral("output_tooltips")).isArray());

        const QJsonObject required =
            info.value(QStringLiteral("input")).toObject().value(QStringLiteral("required")).toObject();
        QCOMPARE(required.value(QStringLiteral("video")).toArray().at(0).toString(), QStringLiteral("VIDEO"));
        const QJsonArray prefix = required.value(QStringLiteral("filename_prefix")).toArray();
        QCOMPARE(prefix.at(0).toString(), QStringLiteral("STRING"));
        QCOMPARE(prefix.at(1).toObject().value(QStringLiteral("default")).toString(),
                 QStringLiteral("video/ComfyUI"));
        // V3 combo encoding: ["COMBO", {"options": [...]}].
        const QJsonArray format = required.value(QStringLiteral("format")).toArray();
        QCOMPARE(format.at(0).toString(), QStringLiteral("COMBO"));
        QCOMPARE(format.at(1).toObject().value(QStringLiteral("options")).toArray(),
                 (QJsonArray{QStringLiteral("auto"), QStringLiteral("mp4")}));
        const QJsonArray codec = required.value(QStringLiteral("codec")).toArray();
        QCOMPARE(codec.at(0).toString(), QStringLiteral("COMBO"));
        QCOMPARE(codec.at(1).toObject().value(QStringLiteral("options")).toArray(),
                 (QJsonArray{QStringLiteral("auto"), QStringLiteral("h264")}));

        const NodeInputSpec* fmt = cat.find(QStringLiteral("SaveVideo"))->input(QStringLiteral("format"));
        QVERIFY(fmt);
        QVERIFY(fmt->isCombo());
        QCOMPARE(fmt->comboOptions(), (QStringList{QStringLiteral("auto"), QStringLiteral("mp4")}));
    }

    void gemDirectSaveFramesDeclaration()
    {
        const NodeCatalog cat = NodeCatalog::builtin();
        const QJsonObject info = cat.objectInfo(QStringLiteral("GemDirectSaveFrames"))
                                     .value(QStringLiteral("GemDirectSaveFrames"))
                                     .toObject();
        QCOMPARE(info.value(QStringLiteral("display_name")).toString(),
                 QStringLiteral("Save Frames + Done Marker"));
        QCOMPARE(info.value(QStringLiteral("category")).toString(), QStringLiteral("gemdirect"));
        QCOMPARE(info.value(QStringLiteral("output_node")).toBool(), true);
        const QJsonObject input = info.value(QStringLiteral("input")).toObject();
        const QJsonObject required = input.value(QStringLiteral("required")).toObject();
        const QJsonObject optional = input.value(QStringLiteral("optional")).toObject();
        QCOMPARE(required.keys(), (QStringList{QStringLiteral("filename_prefix"), QStringLiteral("images")}));
        QCOMPARE(required.value(QStringLiteral("images")).toArray().at(0).toString(),
                 QStringLiteral("IMAGE"));
        QCOMPARE(required.value(QStringLiteral("filename_prefix")).toArray().at(0).toString(),
                 QStringLiteral("STRING"));
        QCOMPARE(optional.keys(), (QStringList{QStringLiteral("fps"), QStringLiteral("job_id")}));
        QCOMPARE(optional.value(QStringLiteral("job_id")).toArray().at(0).toString(),
                 QStringLiteral("STRING"));
        QCOMPARE(optional.value(QStringLiteral("fps")).toArray().at(0).toString(), QStringLiteral("FLOAT"));
    }

    void unknownClassIsEmpty_data()
    {
        QTest::addColumn<QString>("cls");
        QTest::newRow("marker") << QStringLiteral("WriteDoneMarker|pysssss");
        QTest::newRow("reroute") << QStringLiteral("ReroutePrimitive|pysssss");
        QTest::newRow("case matters") << QStringLiteral("ksampler");
        QTest::newRow("empty") << QString();
    }

    void unknownClassIsEmpty()
    {
        QFETCH(QString, cls);
        const NodeCatalog cat = NodeCatalog::builtin();
        QVERIFY(!cat.contains(cls));
        QVERIFY(cat.find(cls) == nullptr);
        QCOMPARE(cat.objectInfo(cls), QJsonObject{});
        QVERIFY(!cat.objectInfoAll().contains(cls));
    }

    void removeSimulatesMissingCustomNode()
    {
        NodeCatalog cat = NodeCatalog::builtin();
        const qsizetype before = cat.classNames().size();
        QVERIFY(cat.contains(QStringLiteral("GemDirectSaveFrames")));
        cat.remove(QStringLiteral("GemDirectSaveFrames"));
        QVERIFY(!cat.contains(QStringLiteral("GemDirectSaveFrames")));
        QCOMPARE(cat.objectInfo(QStringLiteral("GemDirectSaveFrames")), QJsonObject{});
        QVERIFY(!cat.objectInfoAll().contains(QStringLiteral("GemDirectSaveFrames")));
        QCOMPARE(cat.classNames().size(), before - 1);
        QVERIFY(cat.contains(QStringLiteral("SaveImage")));
        // A fresh builtin catalog is unaffected.
        QVERIFY(NodeCatalog::builtin().contains(QStringLiteral("GemDirectSaveFrames")));
    }

    void objectInfoAllMatchesSingleLookups()
    {
        const NodeCatalog cat = NodeCatalog::builtin();
        const QJsonObject all = cat.objectInfoAll();
        QCOMPARE(all.keys(), cat.classNames());
        for (const QString& cls : cat.classNames())
            QCOMPARE(all.value(cls).toObject(), cat.objectInfo(cls).value(cls).toObject());
        const QStringList outputs{QStringLiteral("SaveImage"), QStringLiteral("PreviewImage"),
                                  QStringLiteral("SaveVideo"), QStringLiteral("VHS_VideoCombine"),
                                  QStringLiteral("GemDirectSaveFrames")};
        for (const QString& cls : cat.classNames())
            QCOMPARE(cat.find(cls)->outputNode, outputs.contains(cls));
    }

    void fixtureGraphsAreCovered_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QStringList>("expectedMissing");
        const QStringList none;
        QTest::newRow("flux t2i") << QStringLiteral("image_flux_t2i.json") << none;
        QTest::newRow("lumina t2i strings") << QStringLiteral("image_netayume_lumina_t2iAPI.json") << none;
        QTest::newRow("svd with pysssss marker") << QStringLiteral("text-to-video.json")
                                                 << QStringList{QStringLiteral("ReroutePrimitive|pysssss"),
                                                                QStringLiteral("WriteDoneMarker|pysssss")};
        QTest::newRow("wan fun inpaint") << QStringLiteral("video_wan2_2_5B_fun_inpaintAPI.json") << none;
        QTest::newRow("wan ti2v") << QStringLiteral("video_wan2_2_5B_ti2v.json") << none;
    }

    // Every class of the bundled graphs is installed (the pysssss custom nodes deliberately are not), and
    // every part of the graph that feeds a known output node passes the catalog's checks: required inputs
    // present, literals of the right type, in range and in the combo list, links pointing at an output of the
    // declared type.
    void fixtureGraphsAreCovered()
    {
        QFETCH(QString, file);
        QFETCH(QStringList, expectedMissing);
        const NodeCatalog cat = NodeCatalog::builtin();
        const QJsonObject graph = loadGraph(file);
        QVERIFY2(!graph.isEmpty(), qPrintable(file));

        QSet<QString> missing;
        QStringList outputs;
        for (auto it = graph.constBegin(); it != graph.constEnd(); ++it) {
            const QString cls = it.value().toObject().value(QStringLiteral("class_type")).toString();
            const NodeClassSpec* spec = cat.find(cls);
            if (!spec)
                missing.insert(cls);
            else if (spec->outputNode)
                outputs.append(it.key());
        }
        QStringList missingSorted = missing.values();
        missingSorted.sort();
        QCOMPARE(missingSorted, expectedMissing);
        QVERIFY(!outputs.isEmpty());

        QStringList pending = outputs;
        QSet<QString> seen;
        while (!pending.isEmpty()) {
            const QString id = pending.takeLast();
            if (seen.contains(id))
                continue;
            seen.insert(id);
            const QJsonObject node = graph.value(id).toObject();
            const QString cls = node.value(QStringLiteral("class_type")).toString();
            const NodeClassSpec* spec = cat.find(cls);
            QVERIFY2(spec, qPrintable(id + QStringLiteral(" feeds an output but its class is unknown")));
            const QJsonObject inputs = node.value(QStringLiteral("inputs")).toObject();
            for (const NodeInputSpec& in : spec->inputs) {
                const QString where = file + QLatin1Char(' ') + id + QLatin1Char('.') + in.name;
                if (!inputs.contains(in.name)) {
                    QVERIFY2(!in.required, qPrintable(where + QStringLiteral(" required_input_missing")));
                    continue;
                }
                const QJsonValue value = inputs.value(in.name);
                if (value.isNull() && !in.required)
                    continue;
                if (isLink(value)) {
                    const QString src = value.toArray().at(0).toString();
                    const int index = value.toArray().at(1).toInt();
                    const NodeClassSpec* srcSpec =
                        cat.find(graph.value(src).toObject().value(QStringLiteral("class_type")).toString());
                    QVERIFY2(srcSpec, qPrintable(where + QStringLiteral(" links to an unknown node")));
                    QVERIFY2(index >= 0 && index < srcSpec->outputTypes.size(), qPrintable(where));
                    const QString expected = in.isCombo() ? QStringLiteral("COMBO") : in.typeName();
                    QVERIFY2(srcSpec->outputTypes.at(index) == expected,
                             qPrintable(where + QStringLiteral(" return_type_mismatch: ") +
                                        srcSpec->outputTypes.at(index) + QStringLiteral(" vs ") + expected));
                    pending.append(src);
                } else {
                    const QString problem = literalProblem(in, value);
                    QVERIFY2(problem.isEmpty(), qPrintable(where + QLatin1Char(' ') + problem));
                }
            }
        }
    }

    void modelCombosAcceptAnyName_data()
    {
        QTest::addColumn<QString>("cls");
        QTest::addColumn<QString>("input");
        QTest::newRow("checkpoint") << QStringLiteral("CheckpointLoaderSimple")
                                    << QStringLiteral("ckpt_name");
        QTest::newRow("img-only checkpoint")
            << QStringLiteral("ImageOnlyCheckpointLoader") << QStringLiteral("ckpt_name");
        QTest::newRow("unet") << QStringLiteral("UNETLoader") << QStringLiteral("unet_name");
        QTest::newRow("vae") << QStringLiteral("VAELoader") << QStringLiteral("vae_name");
        QTest::newRow("clip") << QStringLiteral("CLIPLoader") << QStringLiteral("clip_name");
        QTest::newRow("dual clip 1") << QStringLiteral("DualCLIPLoader") << QStringLiteral("clip_name1");
        QTest::newRow("dual clip 2") << QStringLiteral("DualCLIPLoader") << QStringLiteral("clip_name2");
        QTest::newRow("load image") << QStringLiteral("LoadImage") << QStringLiteral("image");
    }

    void modelCombosAcceptAnyName()
    {
        QFETCH(QString, cls);
        QFETCH(QString, input);
        const NodeCatalog cat = NodeCatalog::builtin();
        const NodeClassSpec* spec = cat.find(cls);
        QVERIFY(spec);
        const NodeInputSpec* in = spec->input(input);
        QVERIFY(in);
        QVERIFY(in->isCombo());
        QVERIFY(in->anyValue);
        QVERIFY(!in->comboOptions().isEmpty());
        // Real combos (sampler, weight dtype, SaveVideo format) keep their list check.
        QVERIFY(!cat.find(QStringLiteral("KSampler"))->input(QStringLiteral("sampler_name"))->anyValue);
        QVERIFY(!cat.find(QStringLiteral("SaveVideo"))->input(QStringLiteral("format"))->anyValue);
    }
};

QTEST_GUILESS_MAIN(TestNodeCatalog)
#include "tst_nodecatalog.moc"
