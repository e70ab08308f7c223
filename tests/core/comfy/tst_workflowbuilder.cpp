#include "comfy/WorkflowBuilder.h"
#include "comfy/WorkflowProfileLoader.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace gd::comfy;

namespace {

QJsonObject inputsOf(const QJsonObject& graph, const char* node)
{
    return graph.value(QLatin1String(node)).toObject().value(QLatin1String("inputs")).toObject();
}

QString compact(const QJsonObject& graph)
{
    return QString::fromUtf8(QJsonDocument(graph).toJson(QJsonDocument::Compact));
}

WorkflowProfile builtin(const char* name)
{
    QStringList errors;
    const auto p = WorkflowProfileLoader::resolve(QLatin1String(name), {}, &errors);
    return p ? *p : WorkflowProfile{};
}

WorkflowBuilder::SceneParams fullParams()
{
    WorkflowBuilder::SceneParams p;
    p.prompt = QStringLiteral("a lighthouse in fog");
    p.negativePrompt = QStringLiteral("blurry");
    p.seed = 123456789012345;
    p.frameCount = 25;
    p.fps = 12.5;
    p.width = 640;
    p.height = 360;
    p.filenamePrefix = QStringLiteral("jobs/p-1/frame");
    p.keyframeImage = QStringLiteral("scene-001_key.png");
    p.jobId = QStringLiteral("job-7");
    return p;
}

} // namespace

class TestWorkflowBuilder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void setsEveryRoleWithJsonTypes();
    void unsetOptionalRolesKeepGraphValues();
    void promptTextSurvivesVerbatim_data();
    void promptTextSurvivesVerbatim();
    void dropsWidgetsValuesOnly();
    void linkedInputIsReplacedWithWarning();
    void missingMappedNodeWarns();
    void keyframeReachesLoadImage();
    void characterReferencesFillSlots_data();
    void characterReferencesFillSlots();
    void ipadapterWeightIsAFloatOnEveryMappedInput();
    void bookendImagesReachStartAndEnd_data();
    void bookendImagesReachStartAndEnd();
    void randomSeedsStayBelow2Pow53();
    void replaceMarkerKeepsPrefixAndLink();
    void replaceMarkerWithoutMarkerIsIdentity();
};

void TestWorkflowBuilder::setsEveryRoleWithJsonTypes()
{
    const WorkflowProfile profile = builtin("default");
    QVERIFY(!profile.graph.isEmpty());
    QStringList warnings;
    const QJsonObject g = WorkflowBuilder::build(profile, fullParams(), &warnings);
    QVERIFY2(warnings.isEmpty(), qPrintable(warnings.join(QLatin1Char('\n'))));
    QCOMPARE(inputsOf(g, "2").value(QLatin1String("text")).toString(), QStringLiteral("a lighthouse in fog"));
    QCOMPARE(inputsOf(g, "3").value(QLatin1String("text")).toString(), QStringLiteral("blurry"));
    QCOMPARE(inputsOf(g, "5").value(QLatin1String("seed")).toInteger(), qint64(123456789012345));
    QCOMPARE(inputsOf(g, "7").value(QLatin1String("filename_prefix")).toString(),
             QStringLiteral("jobs/p-1/frame"));
    QCOMPARE(inputsOf(g, "7").value(QLatin1String("job_id")).toString(), QStringLiteral("job-7"));
    QCOMPARE(inputsOf(g, "7").value(QLatin1String("fps")).toDouble(), 12.5);
    // ComfyUI's INT inputs reject 25.0-style floats in some nodes; ints must serialize as plain integers.
    const QString text = compact(g);
    QVERIFY2(text.contains(QLatin1String("\"seed\":123456789012345")), qPrintable(text));
    QVERIFY(text.contains(QLatin1String("\"batch_size\":25")));
    QVERIFY(text.contains(QLatin1String("\"width\":640")));
    QVERIFY(text.contains(QLatin1String("\"height\":360")));
    QVERIFY(text.contains(QLatin1String("\"fps\":12.5")));
    // Unmapped inputs keep the profile's values.
    QCOMPARE(inputsOf(g, "5").value(QLatin1String("steps")).toInt(), 20);
    QCOMPARE(inputsOf(g, "5").value(QLatin1String("positive")).toArray(),
             (QJsonArray{QStringLiteral("2"), 0}));
    QCOMPARE(g.value(QLatin1String("1")), profile.graph.value(QLatin1String("1")));
    QCOMPARE(g.value(QLatin1String("6")), profile.graph.value(QLatin1String("6")));
}

void TestWorkflowBuilder::unsetOptionalRolesKeepGraphValues()
{
    const WorkflowProfile profile = builtin("default");
    WorkflowBuilder::SceneParams params;
    params.prompt = QStringLiteral("only a prompt");
    params.filenamePrefix = QStringLiteral("p");
    QStringList warnings;
    const QJsonObject g = WorkflowBuilder::build(profile, params, &warnings);
    QVERIFY(warnings.isEmpty());
    for (const char* node : {"3", "4", "5", "7"}) {
        const QJsonObject built = inputsOf(g, node);
        const QJsonObject original = inputsOf(profile.graph, node);
        for (auto it = original.constBegin(); it != original.constEnd(); ++it) {
            if (it.key() == QLatin1String("filename_prefix"))
                continue;
            QCOMPARE(built.value(it.key()), it.value());
        }
    }
    QCOMPARE(inputsOf(g, "7").value(QLatin1String("filename_prefix")).toString(), QStringLiteral("p"));

    // An empty prefix keeps the graph's prefix rather than writing "" (ComfyUI would save "_00001_.png").
    params.filenamePrefix.clear();
    warnings.clear();
    const QJsonObject noPrefix = WorkflowBuilder::build(profile, params, &warnings);
    QCOMPARE(inputsOf(noPrefix, "7").value(QLatin1String("filename_prefix")),
             inputsOf(profile.graph, "7").value(QLatin1String("filename_prefix")));
    QCOMPARE(warnings.size(), 1);
    QVERIFY(warnings.first().contains(QLatin1String("filename prefix is empty")));
}

void TestWorkflowBuilder::promptTextSurvivesVerbatim_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::newRow("quotes") << QStringLiteral("she said \"run\", then 'hide'");
    QTest::newRow("newlines and tabs") << QStringLiteral("line one\nline two\r\n\tindented");
    QTest::newRow("json lookalike") << QStringLiteral(
        "{\"3\": {\"class_type\": \"X\"}}, [\"1\", 0] \\ {{POSITIVE}}");
    QTest::newRow("legacy token") << QStringLiteral("__SCENE_PREFIX__ stays literal");
    QTest::newRow("unicode") << QStringLiteral("色调艳丽 — café ☕");
}

void TestWorkflowBuilder::promptTextSurvivesVerbatim()
{
    QFETCH(QString, prompt);
    const WorkflowProfile profile = builtin("default");
    WorkflowBuilder::SceneParams params = fullParams();
    params.prompt = prompt;
    params.negativePrompt = prompt + QStringLiteral(" (neg)");
    const QJsonObject g = WorkflowBuilder::build(profile, params, nullptr);
    // What goes over the wire is the serialized graph: parse it back as the server would.
    const QJsonObject wire =
        QJsonDocument::fromJson(QJsonDocument(g).toJson(QJsonDocument::Compact)).object();
    QCOMPARE(inputsOf(wire, "2").value(QLatin1String("text")).toString(), prompt);
    QCOMPARE(inputsOf(wire, "3").value(QLatin1String("text")).toString(), prompt + QStringLiteral(" (neg)"));
    QCOMPARE(wire.keys(), profile.graph.keys());
}

void TestWorkflowBuilder::dropsWidgetsValuesOnly()
{
    QFile file(QStringLiteral(GD_TEST_DATA_DIR "/workflows/text-to-video.json"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject graph = QJsonDocument::fromJson(file.readAll()).object();
    QVERIFY(graph.value(QLatin1String("5")).toObject().contains(QLatin1String("widgets_values")));
    WorkflowProfile profile;
    profile.graph = graph;
    profile.mapping = {{QStringLiteral("2"), QStringLiteral("image"), Role::KeyframeImage},
                       {QStringLiteral("7"), QStringLiteral("filename_prefix"), Role::FilenamePrefix}};
    const QJsonObject g = WorkflowBuilder::build(profile, fullParams(), nullptr);
    QCOMPARE(g.keys(), graph.keys());
    for (auto it = g.constBegin(); it != g.constEnd(); ++it) {
        QJsonObject node = it.value().toObject();
        QVERIFY2(!node.contains(QLatin1String("widgets_values")), qPrintable(it.key()));
        QJsonObject original = graph.value(it.key()).toObject();
        original.remove(QLatin1String("widgets_values"));
        if (it.key() == QLatin1String("2") || it.key() == QLatin1String("7")) {
            node.remove(QLatin1String("inputs"));
            original.remove(QLatin1String("inputs"));
        }
        QCOMPARE(node, original); // _meta and everything else untouched
    }
    QCOMPARE(inputsOf(g, "2").value(QLatin1String("image")).toString(), QStringLiteral("scene-001_key.png"));
    // Node 9 also holds __SCENE_PREFIX__ but is not mapped: no text substitution anywhere.
    QCOMPARE(inputsOf(g, "9").value(QLatin1String("scene_prefix")).toString(),
             QStringLiteral("__SCENE_PREFIX__"));
}

void TestWorkflowBuilder::linkedInputIsReplacedWithWarning()
{
    WorkflowProfile profile = builtin("default");
    QJsonObject sampler = profile.graph.value(QLatin1String("5")).toObject();
    QJsonObject inputs = sampler.value(QLatin1String("inputs")).toObject();
    inputs.insert(QLatin1String("seed"), QJsonArray{QStringLiteral("12"), 0});
    sampler.insert(QLatin1String("inputs"), inputs);
    profile.graph.insert(QLatin1String("5"), sampler);
    profile.graph.insert(QLatin1String("12"),
                         QJsonObject{{QLatin1String("class_type"), QStringLiteral("PrimitiveInt")},
                                     {QLatin1String("inputs"), QJsonObject{{QLatin1String("value"), 5}}}});
    QStringList warnings;
    const QJsonObject g = WorkflowBuilder::build(profile, fullParams(), &warnings);
    QCOMPARE(inputsOf(g, "5").value(QLatin1String("seed")).toInteger(), qint64(123456789012345));
    QCOMPARE(warnings.size(), 1);
    QVERIFY(warnings.first().contains(QLatin1String("5:seed")));
    QVERIFY(warnings.first().contains(QLatin1String("linked to node 12")));

    // Without a seed parameter the link stays: optional roles do not touch the graph.
    WorkflowBuilder::SceneParams params = fullParams();
    params.seed = -1;
    warnings.clear();
    const QJsonObject kept = WorkflowBuilder::build(profile, params, &warnings);
    QVERIFY(WorkflowProfile::isLink(inputsOf(kept, "5").value(QLatin1String("seed"))));
    QVERIFY(warnings.isEmpty());
}

void TestWorkflowBuilder::missingMappedNodeWarns()
{
    WorkflowProfile profile = builtin("default");
    profile.mapping.append({QStringLiteral("99"), QStringLiteral("text"), Role::NegativePrompt});
    profile.mapping.append({QStringLiteral("2"), QStringLiteral("nope"), Role::Prompt});
    QStringList warnings;
    const QJsonObject g = WorkflowBuilder::build(profile, fullParams(), &warnings);
    QCOMPARE(warnings.size(), 2);
    QVERIFY(warnings.at(0).contains(QLatin1String("node 99 not in graph")));
    QVERIFY(warnings.at(1).contains(QLatin1String("no input 'nope'")));
    QVERIFY(!g.contains(QLatin1String("99")));
    QVERIFY(!inputsOf(g, "2").contains(QLatin1String("nope")));
}

void TestWorkflowBuilder::keyframeReachesLoadImage()
{
    const WorkflowProfile profile = builtin("svd-img2vid");
    QVERIFY(!profile.graph.isEmpty());
    const QJsonObject g = WorkflowBuilder::build(profile, fullParams(), nullptr);
    QCOMPARE(inputsOf(g, "2").value(QLatin1String("image")).toString(), QStringLiteral("scene-001_key.png"));
    QCOMPARE(inputsOf(g, "4").value(QLatin1String("video_frames")).toInt(), 25);
    QCOMPARE(inputsOf(g, "8").value(QLatin1String("value")).toString(),
             QStringLiteral("a lighthouse in fog"));
}

void TestWorkflowBuilder::randomSeedsStayBelow2Pow53()
{
    constexpr qint64 kLimit = qint64(1) << 53;
    qint64 high = 0;
    QSet<qint64> seen;
    for (int i = 0; i < 20000; ++i) {
        const qint64 seed = WorkflowBuilder::randomSeed();
        QVERIFY(seed >= 0);
        QVERIFY(seed < kLimit);
        high = std::max(high, seed);
        seen.insert(seed);
    }
    QVERIFY(high > kLimit / 2); // the whole range is used, not 32 bits
    QVERIFY(seen.size() > 19990);
    // Every seed survives a JSON round trip exactly.
    const qint64 seed = WorkflowBuilder::randomSeed();
    const QJsonObject o{{QLatin1String("seed"), QJsonValue(seed)}};
    QCOMPARE(
        QJsonDocument::fromJson(QJsonDocument(o).toJson()).object().value(QLatin1String("seed")).toInteger(),
        seed);
}

void TestWorkflowBuilder::replaceMarkerKeepsPrefixAndLink()
{
    const WorkflowProfile profile = builtin("default");
    const QJsonObject built = WorkflowBuilder::build(profile, fullParams(), nullptr);
    QString markerId;
    const QJsonObject g = WorkflowBuilder::replaceMarkerNode(built, &markerId);
    QCOMPARE(markerId, QStringLiteral("7"));
    const QJsonObject save = g.value(QLatin1String("7")).toObject();
    QCOMPARE(save.value(QLatin1String("class_type")).toString(), QStringLiteral("SaveImage"));
    const QJsonObject inputs = save.value(QLatin1String("inputs")).toObject();
    QCOMPARE(inputs.value(QLatin1String("filename_prefix")).toString(), QStringLiteral("jobs/p-1/frame"));
    QCOMPARE(inputs.value(QLatin1String("images")).toArray(), (QJsonArray{QStringLiteral("6"), 0}));
    // SaveImage declares neither job_id nor fps.
    QCOMPARE(inputs.keys(), (QStringList{QStringLiteral("filename_prefix"), QStringLiteral("images")}));
    WorkflowProfile swapped;
    swapped.graph = g;
    QVERIFY(swapped.markerNodeId().isEmpty());
    QCOMPARE(swapped.outputNodeIds(), QStringList{QStringLiteral("7")});
    QCOMPARE(g.value(QLatin1String("5")), built.value(QLatin1String("5")));
}

void TestWorkflowBuilder::replaceMarkerWithoutMarkerIsIdentity()
{
    const WorkflowProfile profile = builtin("t2i-frames-core");
    QString markerId = QStringLiteral("stale");
    QCOMPARE(WorkflowBuilder::replaceMarkerNode(profile.graph, &markerId), profile.graph);
    QVERIFY(markerId.isEmpty());
}

void TestWorkflowBuilder::characterReferencesFillSlots_data()
{
    QTest::addColumn<QStringList>("references");
    QTest::addColumn<QString>("slot0");
    QTest::addColumn<QString>("slot1");
    QTest::addColumn<QString>("warning"); // empty: no warning about references
    const QString graphDefault = QStringLiteral("example.png");
    QTest::newRow("two characters, two slots")
        << QStringList{QStringLiteral("refs/mara.png"), QStringLiteral("refs/ivo.png")} << "refs/mara.png"
        << "refs/ivo.png" << QString();
    // One character feeds every slot: the graph never sends its placeholder image.
    QTest::newRow("one character repeats") << QStringList{QStringLiteral("refs/mara.png")} << "refs/mara.png"
                                           << "refs/mara.png" << QString();
    QTest::newRow("three characters, two slots")
        << QStringList{QStringLiteral("a.png"), QStringLiteral("b.png"), QStringLiteral("c.png")} << "a.png"
        << "b.png"
        << "profile 'sdxl-ipadapter-keyframe' takes 2 character references "
           "(character_reference_image[0..1]); 3 "
           "given, the last 1 not used";
    QTest::newRow("no character")
        << QStringList{} << graphDefault << graphDefault
        << "profile 'sdxl-ipadapter-keyframe' maps 2 character reference slots but no "
           "reference image was given";
}

void TestWorkflowBuilder::characterReferencesFillSlots()
{
    QFETCH(QStringList, references);
    QFETCH(QString, slot0);
    QFETCH(QString, slot1);
    QFETCH(QString, warning);
    const WorkflowProfile profile = builtin("sdxl-ipadapter-keyframe");
    QVERIFY(!profile.graph.isEmpty());
    WorkflowBuilder::SceneParams params;
    params.prompt = QStringLiteral("Mara Voss hands Ivo the lamp");
    params.filenamePrefix = QStringLiteral("keyframes/scene-001/shot-01/v1-c1");
    params.characterReferenceImages = references;
    QStringList warnings;
    const QJsonObject g = WorkflowBuilder::build(profile, params, &warnings);
    QCOMPARE(inputsOf(g, "3").value(QLatin1String("image")).toString(), slot0);
    QCOMPARE(inputsOf(g, "4").value(QLatin1String("image")).toString(), slot1);
    if (warning.isEmpty())
        QVERIFY2(warnings.isEmpty(), qPrintable(warnings.join(QLatin1Char('\n'))));
    else
        QVERIFY2(warnings.size() == 1 && warnings.first().startsWith(warning),
                 qPrintable(warnings.join(QLatin1Char('\n'))));
}

void TestWorkflowBuilder::ipadapterWeightIsAFloatOnEveryMappedInput()
{
    const WorkflowProfile profile = builtin("sdxl-ipadapter-keyframe");
    WorkflowBuilder::SceneParams params;
    params.prompt = QStringLiteral("p");
    params.filenamePrefix = QStringLiteral("k");
    params.characterReferenceImages = {QStringLiteral("a.png")};
    params.ipadapterWeight = 0.65;
    const QJsonObject g = WorkflowBuilder::build(profile, params, nullptr);
    for (const char* node : {"5", "6"}) {
        const QJsonValue weight = inputsOf(g, node).value(QLatin1String("weight"));
        QVERIFY(weight.isDouble());
        QCOMPARE(weight.toDouble(), 0.65);
    }
    QVERIFY(compact(g).contains(QLatin1String("\"weight\":0.65")));
    // No weight given: the graph's own stays.
    params.ipadapterWeight = -1;
    const QJsonObject kept = WorkflowBuilder::build(profile, params, nullptr);
    QCOMPARE(inputsOf(kept, "5").value(QLatin1String("weight")),
             inputsOf(profile.graph, "5").value(QLatin1String("weight")));
}

void TestWorkflowBuilder::bookendImagesReachStartAndEnd_data()
{
    QTest::addColumn<QString>("keyframe");
    QTest::addColumn<QString>("start");
    QTest::addColumn<QString>("end");
    QTest::addColumn<QString>("expectStart");
    QTest::addColumn<QString>("expectEnd");
    QTest::addColumn<bool>("warnsEnd");
    QTest::newRow("start and end") << QString() << "kf.png"
                                   << "last.png"
                                   << "kf.png"
                                   << "last.png" << false;
    QTest::newRow("keyframe becomes the start") << "kf.png" << QString() << "last.png"
                                                << "kf.png"
                                                << "last.png" << false;
    QTest::newRow("no end: the start closes the clip") << "kf.png" << QString() << QString() << "kf.png"
                                                       << "kf.png" << true;
}

void TestWorkflowBuilder::bookendImagesReachStartAndEnd()
{
    QFETCH(QString, keyframe);
    QFETCH(QString, start);
    QFETCH(QString, end);
    QFETCH(QString, expectStart);
    QFETCH(QString, expectEnd);
    QFETCH(bool, warnsEnd);
    const WorkflowProfile profile = builtin("wan22-flf2v");
    QVERIFY(!profile.graph.isEmpty());
    WorkflowBuilder::SceneParams params;
    params.prompt = QStringLiteral("the lamp flares");
    params.filenamePrefix = QStringLiteral("clips/scene-001/shot-01/v1");
    params.keyframeImage = keyframe;
    params.startImage = start;
    params.endImage = end;
    params.seed = 42;
    QStringList warnings;
    const QJsonObject g = WorkflowBuilder::build(profile, params, &warnings);
    QCOMPARE(inputsOf(g, "62").value(QLatin1String("image")).toString(), expectStart);
    QCOMPARE(inputsOf(g, "68").value(QLatin1String("image")).toString(), expectEnd);
    QCOMPARE(inputsOf(g, "57").value(QLatin1String("noise_seed")).toInteger(), 42);
    QCOMPARE(warnings.size(), warnsEnd ? 1 : 0);
    if (warnsEnd)
        QVERIFY(warnings.first().contains(QLatin1String("returns to its first frame")));
}

QTEST_GUILESS_MAIN(TestWorkflowBuilder)
#include "tst_workflowbuilder.moc"
