#include "comfy/WorkflowProfileLoader.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>
#include <functional>
#include <limits>

using namespace gd::comfy;

namespace {

QString dataPath(const QString& name)
{
    return QStringLiteral(GD_TEST_DATA_DIR "/workflows/") + name;
}

QJsonObject readObject(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

bool writeBytes(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

QString mappedKey(const WorkflowProfile& p, Role role)
{
    const auto inputs = p.inputsFor(role);
    return inputs.isEmpty() ? QString() : inputs.first().key();
}

bool anyContains(const QStringList& list, const QString& needle)
{
    for (const QString& s : list) {
        if (s.contains(needle))
            return true;
    }
    return false;
}

// A minimal valid pair: the spec's §7.1 graph and its mapping.
QJsonObject minimalGraph()
{
    return QJsonDocument::fromJson(R"({
      "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
      "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "a"}},
      "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "b"}},
      "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
      "5": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0],
            "latent_image": ["4", 0], "seed": 1, "steps": 4, "cfg": 7.0, "sampler_name": "euler",
            "scheduler": "normal", "denoise": 1.0}},
      "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
      "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "x"}}
    })")
        .object();
}

QJsonObject minimalProfile()
{
    return QJsonDocument::fromJson(
               R"({"name": "mini", "description": "d", "minVramMB": 1024, "outputKind": "frames",
        "mapping": {"2:text": "prompt", "7:filename_prefix": "filename_prefix"}})")
        .object();
}

} // namespace

class TestWorkflowProfileLoader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roleNamesRoundTrip();
    void builtinNamesListsAll();
    void builtinLoads_data();
    void builtinLoads();
    void defaultProfileRendersFromTextWithMarker();
    void resolvePrefersSearchDirsThenBuiltins();
    void resolveAcceptsEitherFileOfAPair();
    void resolveUnknownNameSaysWhere();
    void fromJsonInMemory();
    void validationErrors_data();
    void validationErrors();
    void profileJsonRoundTrips();
    void graphHelpers();
    void fromGraphFixtures_data();
    void fromGraphFixtures();
    void fromGraphTextToVideoReportsLegacyParts();
    void fromGraphFollowsStringNodes();
};

void TestWorkflowProfileLoader::roleNamesRoundTrip()
{
    const QStringList expected{QStringLiteral("prompt"),
                               QStringLiteral("negative_prompt"),
                               QStringLiteral("seed"),
                               QStringLiteral("frame_count"),
                               QStringLiteral("fps"),
                               QStringLiteral("width"),
                               QStringLiteral("height"),
                               QStringLiteral("filename_prefix"),
                               QStringLiteral("keyframe_image"),
                               QStringLiteral("job_id")};
    for (int r = int(Role::Prompt); r <= int(Role::JobId); ++r) {
        QCOMPARE(roleName(Role(r)), expected.at(r));
        QCOMPARE(roleFromName(expected.at(r)), std::optional<Role>(Role(r)));
    }
    QVERIFY(!roleFromName(QStringLiteral("human_readable_prompt")));
    QVERIFY(!roleFromName(QStringLiteral("Prompt")));
}

void TestWorkflowProfileLoader::builtinNamesListsAll()
{
    const QStringList names = WorkflowProfileLoader::builtinNames();
    for (const char* name : {"default", "t2i-frames-core", "svd-img2vid", "wan22-ti2v", "sandbox"})
        QVERIFY2(names.contains(QLatin1String(name)), name);
}

void TestWorkflowProfileLoader::builtinLoads_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("outputKind");
    QTest::addColumn<bool>("hasMarker");
    QTest::addColumn<QString>("frameCountKey");
    QTest::addColumn<int>("steps");
    QTest::newRow("default") << "default" << int(OutputKind::Frames) << true << "4:batch_size" << 20;
    QTest::newRow("t2i-frames-core") << "t2i-frames-core" << int(OutputKind::Frames) << false
                                     << "4:batch_size" << 20;
    QTest::newRow("svd-img2vid") << "svd-img2vid" << int(OutputKind::Frames) << true << "4:video_frames"
                                 << 20;
    QTest::newRow("wan22-ti2v") << "wan22-ti2v" << int(OutputKind::Video) << false << "55:length" << 12;
    QTest::newRow("sandbox") << "sandbox" << int(OutputKind::Frames) << true << "4:batch_size" << 8;
}

void TestWorkflowProfileLoader::builtinLoads()
{
    QFETCH(QString, name);
    QFETCH(int, outputKind);
    QFETCH(bool, hasMarker);
    QFETCH(QString, frameCountKey);
    QFETCH(int, steps);
    QStringList errors;
    const auto profile = WorkflowProfileLoader::resolve(name, {}, &errors);
    QVERIFY2(profile, qPrintable(errors.join(QLatin1Char('\n'))));
    QVERIFY(errors.isEmpty());
    QCOMPARE(profile->name, name);
    QCOMPARE(profile->sourcePath, QStringLiteral(":/workflows/%1.json").arg(name));
    QVERIFY(WorkflowProfileLoader::validate(*profile).isEmpty());
    QCOMPARE(int(profile->outputKind), outputKind);
    QCOMPARE(!profile->markerNodeId().isEmpty(), hasMarker);
    QCOMPARE(mappedKey(*profile, Role::FrameCount), frameCountKey);
    QCOMPARE(profile->totalSamplerSteps(), steps);
    QVERIFY(profile->hasRole(Role::Seed));
    QVERIFY(profile->minVramMB > 0);
    QVERIFY(!profile->description.isEmpty());
    // Built-ins are plain API graphs: no UI leftovers, every node has a class.
    for (auto it = profile->graph.constBegin(); it != profile->graph.constEnd(); ++it)
        QVERIFY(!it.value().toObject().contains(QLatin1String("widgets_values")));
}

void TestWorkflowProfileLoader::defaultProfileRendersFromTextWithMarker()
{
    const auto profile = WorkflowProfileLoader::resolve(QStringLiteral("default"), {}, nullptr);
    QVERIFY(profile);
    QVERIFY(!profile->hasRole(Role::KeyframeImage));
    QCOMPARE(profile->markerNodeId(), QStringLiteral("7"));
    QCOMPARE(mappedKey(*profile, Role::FilenamePrefix), QStringLiteral("7:filename_prefix"));
    QCOMPARE(mappedKey(*profile, Role::JobId), QStringLiteral("7:job_id"));
    QCOMPARE(profile->classTypes(),
             QStringList({QStringLiteral("CLIPTextEncode"), QStringLiteral("CheckpointLoaderSimple"),
                          QStringLiteral("EmptyLatentImage"), QStringLiteral("GemDirectSaveFrames"),
                          QStringLiteral("KSampler"), QStringLiteral("VAEDecode")}));

    const auto sandbox = WorkflowProfileLoader::resolve(QStringLiteral("sandbox"), {}, nullptr);
    QVERIFY(sandbox);
    const QJsonObject latent =
        sandbox->graph.value(QLatin1String("4")).toObject().value(QLatin1String("inputs")).toObject();
    QCOMPARE(latent.value(QLatin1String("width")).toInt(), 320);
    QCOMPARE(latent.value(QLatin1String("height")).toInt(), 180);

    const auto core = WorkflowProfileLoader::resolve(QStringLiteral("t2i-frames-core"), {}, nullptr);
    QVERIFY(core);
    QCOMPARE(core->classTypes().contains(QStringLiteral("SaveImage")), true);
    QVERIFY(core->markerNodeId().isEmpty());
}

void TestWorkflowProfileLoader::resolvePrefersSearchDirsThenBuiltins()
{
    QTemporaryDir first;
    QTemporaryDir second;
    QVERIFY(first.isValid() && second.isValid());
    QJsonObject profile = minimalProfile();
    profile.insert(QLatin1String("description"), QStringLiteral("from second"));
    QVERIFY(
        writeBytes(second.filePath(QStringLiteral("default.json")), QJsonDocument(minimalGraph()).toJson()));
    QVERIFY(
        writeBytes(second.filePath(QStringLiteral("default.profile.json")), QJsonDocument(profile).toJson()));
    // Only half a pair in the first folder: it is passed over.
    QVERIFY(
        writeBytes(first.filePath(QStringLiteral("default.json")), QJsonDocument(minimalGraph()).toJson()));

    QStringList errors;
    const auto found =
        WorkflowProfileLoader::resolve(QStringLiteral("default"), {first.path(), second.path()}, &errors);
    QVERIFY2(found, qPrintable(errors.join(QLatin1Char('\n'))));
    QCOMPARE(found->description, QStringLiteral("from second"));
    QCOMPARE(found->sourcePath, second.filePath(QStringLiteral("default.json")));

    const auto builtin = WorkflowProfileLoader::resolve(QStringLiteral("default"), {first.path()}, &errors);
    QVERIFY(builtin);
    QVERIFY(builtin->sourcePath.startsWith(QLatin1String(":/workflows/")));
}

void TestWorkflowProfileLoader::resolveAcceptsEitherFileOfAPair()
{
    QTemporaryDir dir;
    const QString graph = dir.filePath(QStringLiteral("mine.json"));
    const QString profile = dir.filePath(QStringLiteral("mine.profile.json"));
    QVERIFY(writeBytes(graph, QJsonDocument(minimalGraph()).toJson()));
    QVERIFY(writeBytes(profile, QJsonDocument(minimalProfile()).toJson()));
    for (const QString& path : {graph, profile}) {
        QStringList errors;
        const auto loaded = WorkflowProfileLoader::resolve(path, {}, &errors);
        QVERIFY2(loaded, qPrintable(errors.join(QLatin1Char('\n'))));
        QCOMPARE(loaded->name, QStringLiteral("mini"));
        QCOMPARE(loaded->sourcePath, graph);
        QCOMPARE(loaded->profilePath, profile);
        QCOMPARE(loaded->minVramMB, 1024);
    }
    QStringList errors;
    QVERIFY(!WorkflowProfileLoader::resolve(dir.filePath(QStringLiteral("other.json")), {}, &errors));
    QVERIFY(
        anyContains(errors, dir.filePath(QStringLiteral("other.json")) + QStringLiteral(": file not found")));
}

void TestWorkflowProfileLoader::resolveUnknownNameSaysWhere()
{
    QStringList errors;
    QVERIFY(!WorkflowProfileLoader::resolve(QStringLiteral("nope"), {QStringLiteral("/tmp/x")}, &errors));
    QCOMPARE(errors.size(), 1);
    QVERIFY(errors.first().contains(QLatin1String("workflow \"nope\" not found")));
    QVERIFY(errors.first().contains(QLatin1String("/tmp/x")));
    QVERIFY(errors.first().contains(QLatin1String("default")));
}

using Mutator = std::function<void(QByteArray& graph, QJsonObject& profile)>;
Q_DECLARE_METATYPE(Mutator)

void TestWorkflowProfileLoader::fromJsonInMemory()
{
    const QByteArray graph = QJsonDocument(minimalGraph()).toJson();
    const QByteArray profile = QJsonDocument(minimalProfile()).toJson();
    QStringList errors;
    const auto loaded = WorkflowProfileLoader::fromJson(graph, profile, QStringLiteral("/w/mini.json"),
                                                        QStringLiteral("/w/mini.profile.json"), &errors);
    QVERIFY2(loaded.has_value(), qPrintable(errors.join(QLatin1Char('\n'))));
    QCOMPARE(loaded->name, QStringLiteral("mini"));
    QCOMPARE(loaded->sourcePath, QStringLiteral("/w/mini.json"));
    QCOMPARE(loaded->graph, minimalGraph());

    // Every problem names the file it belongs to, and both files are checked in one go.
    errors.clear();
    QVERIFY(!WorkflowProfileLoader::fromJson(graph.left(graph.size() / 2), "[]",
                                             QStringLiteral("/w/mini.json"),
                                             QStringLiteral("/w/mini.profile.json"), &errors));
    QCOMPARE(errors.size(), 2);
    QVERIFY2(errors.at(0).startsWith(QStringLiteral("/w/mini.json: not valid JSON at offset")),
             qPrintable(errors.at(0)));
    QCOMPARE(errors.at(1), QStringLiteral("/w/mini.profile.json: the profile is not a JSON object"));
}

void TestWorkflowProfileLoader::validationErrors_data()
{
    QTest::addColumn<Mutator>("mutate");
    QTest::addColumn<bool>("inProfileFile");
    QTest::addColumn<QString>("expected");

    auto graphEdit = [](const std::function<void(QJsonObject&)>& edit) {
        return Mutator([edit](QByteArray& bytes, QJsonObject&) {
            QJsonObject g = QJsonDocument::fromJson(bytes).object();
            edit(g);
            bytes = QJsonDocument(g).toJson();
        });
    };
    auto mappingEdit = [](const std::function<void(QJsonObject&)>& edit) {
        return Mutator([edit](QByteArray&, QJsonObject& profile) {
            QJsonObject m = profile.value(QLatin1String("mapping")).toObject();
            edit(m);
            profile.insert(QLatin1String("mapping"), m);
        });
    };
    auto setInput = [](QJsonObject& g, const char* node, const char* input, const QJsonValue& v) {
        QJsonObject n = g.value(QLatin1String(node)).toObject();
        QJsonObject in = n.value(QLatin1String("inputs")).toObject();
        in.insert(QLatin1String(input), v);
        n.insert(QLatin1String("inputs"), in);
        g.insert(QLatin1String(node), n);
    };

    QTest::newRow("not json") << Mutator([](QByteArray& b, QJsonObject&) { b = "{\"1\": "; }) << false
                              << "not valid JSON";
    QTest::newRow("graph is an array") << Mutator([](QByteArray& b, QJsonObject&) { b = "[1, 2]"; }) << false
                                       << "the graph is not a JSON object";
    QTest::newRow("UI format") << Mutator([](QByteArray& b, QJsonObject&) {
        b = R"({"last_node_id": 7, "nodes": [{"id": 1, "type": "KSampler"}], "links": [[1, 1, 0, 2, 0, "MODEL"]]})";
    }) << false << "is the UI format (top-level \"nodes\"/\"links\" arrays); in ComfyUI use Export (API)";
    QTest::newRow("no class_type") << graphEdit([](QJsonObject& g) {
        QJsonObject n = g.value(QLatin1String("5")).toObject();
        n.remove(QLatin1String("class_type"));
        g.insert(QLatin1String("5"), n);
    }) << false << "node 5 has no class_type";
    QTest::newRow("no inputs") << graphEdit([](QJsonObject& g) {
        QJsonObject n = g.value(QLatin1String("6")).toObject();
        n.remove(QLatin1String("inputs"));
        g.insert(QLatin1String("6"), n);
    }) << false << "node 6 (VAEDecode) has no inputs object";
    QTest::newRow("dangling link") << graphEdit([setInput](QJsonObject& g) {
        setInput(g, "6", "vae", QJsonArray{QStringLiteral("42"), 2});
    }) << false << "node 6 (VAEDecode) input 'vae' links to node 42, which is not in the graph";
    QTest::newRow("no output node") << graphEdit([](QJsonObject& g) { g.remove(QLatin1String("7")); })
                                    << false << "no output node (one of SaveImage";
    QTest::newRow("bad mapping key") << mappingEdit([](QJsonObject& m) {
        m.insert(QLatin1String("text"), QStringLiteral("prompt"));
    }) << true << "mapping key \"text\" is not \"<nodeId>:<input>\"";
    QTest::newRow("empty input in key")
        << mappingEdit([](QJsonObject& m) { m.insert(QLatin1String("2:"), QStringLiteral("seed")); }) << true
        << "mapping key \"2:\" is not \"<nodeId>:<input>\"";
    QTest::newRow("mapped node missing") << mappingEdit([](QJsonObject& m) {
        m.insert(QLatin1String("9:text"), QStringLiteral("negative_prompt"));
    }) << true << "mapping 9:text: node 9 not in graph";
    QTest::newRow("mapped input missing") << mappingEdit([](QJsonObject& m) {
        m.insert(QLatin1String("3:txt"), QStringLiteral("negative_prompt"));
    }) << true << "mapping 3:txt: node 3 (CLIPTextEncode) has no input 'txt'";
    QTest::newRow("unknown role") << mappingEdit([](QJsonObject& m) {
        m.insert(QLatin1String("3:text"), QStringLiteral("positive"));
    }) << true << "mapping 3:text: unknown role \"positive\"";
    QTest::newRow("prompt missing") << mappingEdit([](QJsonObject& m) { m.remove(QLatin1String("2:text")); })
                                    << true << "required role prompt is not mapped";
    QTest::newRow("filename_prefix missing")
        << mappingEdit([](QJsonObject& m) { m.remove(QLatin1String("7:filename_prefix")); }) << true
        << "required role filename_prefix is not mapped";
    QTest::newRow("outputKind gif") << Mutator([](QByteArray&, QJsonObject& p) {
        p.insert(QLatin1String("outputKind"), QStringLiteral("gif"));
    }) << true << "outputKind \"gif\" is not frames|video";
    QTest::newRow("outputKind missing")
        << Mutator([](QByteArray&, QJsonObject& p) { p.remove(QLatin1String("outputKind")); }) << true
        << "outputKind (missing) is not frames|video";
    QTest::newRow("mapping not an object") << Mutator([](QByteArray&, QJsonObject& p) {
        p.insert(QLatin1String("mapping"), QJsonArray{QStringLiteral("2:text")});
    }) << true << "\"mapping\" must be an object";
}

void TestWorkflowProfileLoader::validationErrors()
{
    QFETCH(Mutator, mutate);
    QFETCH(bool, inProfileFile);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    QByteArray graph = QJsonDocument(minimalGraph()).toJson();
    QJsonObject profile = minimalProfile();
    const QString graphPath = dir.filePath(QStringLiteral("w.json"));
    const QString profilePath = dir.filePath(QStringLiteral("w.profile.json"));
    // The unmodified pair is valid, so each row isolates one problem.
    QVERIFY(writeBytes(graphPath, graph) && writeBytes(profilePath, QJsonDocument(profile).toJson()));
    QStringList errors;
    QVERIFY2(WorkflowProfileLoader::load(graphPath, profilePath, &errors),
             qPrintable(errors.join(QLatin1Char('\n'))));

    mutate(graph, profile);
    QVERIFY(writeBytes(graphPath, graph) && writeBytes(profilePath, QJsonDocument(profile).toJson()));
    errors.clear();
    QVERIFY(!WorkflowProfileLoader::load(graphPath, profilePath, &errors));
    QVERIFY(!errors.isEmpty());
    const QString file = inProfileFile ? profilePath : graphPath;
    bool found = false;
    for (const QString& e : errors)
        found = found || (e.startsWith(file + QStringLiteral(": ")) && e.contains(expected));
    QVERIFY2(found, qPrintable(QStringLiteral("expected \"%1: ...%2\" in:\n%3")
                                   .arg(file, expected, errors.join(QLatin1Char('\n')))));
}

void TestWorkflowProfileLoader::profileJsonRoundTrips()
{
    const auto profile = WorkflowProfileLoader::resolve(QStringLiteral("svd-img2vid"), {}, nullptr);
    QVERIFY(profile);
    const QJsonObject json = profile->profileJson();
    QCOMPARE(json.value(QLatin1String("outputKind")).toString(), QStringLiteral("frames"));
    QCOMPARE(json.value(QLatin1String("mapping")).toObject().value(QLatin1String("2:image")).toString(),
             QStringLiteral("keyframe_image"));
    WorkflowProfile copy;
    QVERIFY(WorkflowProfileLoader::applyProfileJson(json, QStringLiteral("x"), &copy).isEmpty());
    QCOMPARE(copy.name, profile->name);
    QCOMPARE(copy.minVramMB, profile->minVramMB);
    QCOMPARE(copy.description, profile->description);
    auto sorted = [](QVector<MappedInput> v) {
        std::sort(v.begin(), v.end(),
                  [](const MappedInput& a, const MappedInput& b) { return a.key() < b.key(); });
        return v;
    };
    QVERIFY(sorted(copy.mapping) == sorted(profile->mapping));
}

void TestWorkflowProfileLoader::graphHelpers()
{
    WorkflowProfile p;
    p.graph = readObject(dataPath(QStringLiteral("video_wan2_2_5B_ti2v.json")));
    QVERIFY(!p.graph.isEmpty());
    QCOMPARE(p.outputNodeIds(), QStringList{QStringLiteral("58")});
    QVERIFY(p.markerNodeId().isEmpty());
    QCOMPARE(p.totalSamplerSteps(), 12);
    // Fuzzing regression (docs/RELIABILITY.md, Fuzzing): absurd step counts saturate instead of overflowing.
    WorkflowProfile huge;
    huge.graph = QJsonDocument::fromJson(R"({"1":{"class_type":"KSampler","inputs":{"steps":2147483647}},
        "2":{"class_type":"KSamplerAdvanced","inputs":{"steps":2147483647}}})")
                     .object();
    QCOMPARE(huge.totalSamplerSteps(), std::numeric_limits<int>::max());
    const QStringList types = p.classTypes();
    QCOMPARE(types.count(QStringLiteral("CLIPTextEncode")), 1);
    QVERIFY(std::is_sorted(types.cbegin(), types.cend()));
    QVERIFY(WorkflowProfile::isLink(QJsonArray{QStringLiteral("3"), 0}));
    QVERIFY(!WorkflowProfile::isLink(QJsonArray{1, 2}));
    QVERIFY(!WorkflowProfile::isLink(
        QJsonObject{{QLatin1String("__value__"), QJsonArray{QStringLiteral("3"), 0}}}));
}

void TestWorkflowProfileLoader::fromGraphFixtures_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("rejectedWith"); // empty: valid profile
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("negative");
    QTest::addColumn<QString>("frameCount");
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<QString>("keyframe");
    QTest::addColumn<int>("outputKind");

    QTest::newRow("flux t2i") << "image_flux_t2i.json"
                              << ""
                              << "6:text"
                              << "7:text"
                              << "5:batch_size"
                              << "9:filename_prefix"
                              << "" << int(OutputKind::Frames);
    QTest::newRow("lumina string nodes") << "image_netayume_lumina_t2iAPI.json"
                                         << ""
                                         << "26:24:value"
                                         << "25:24:value"
                                         << "13:batch_size"
                                         << "9:filename_prefix"
                                         << "" << int(OutputKind::Frames);
    QTest::newRow("svd legacy") << "text-to-video.json"
                                << "required role prompt is not mapped"
                                << ""
                                << ""
                                << "4:video_frames"
                                << "7:filename_prefix"
                                << "2:image" << int(OutputKind::Frames);
    QTest::newRow("wan fun inpaint") << "video_wan2_2_5B_fun_inpaintAPI.json"
                                     << ""
                                     << "6:text"
                                     << "7:text"
                                     << "73:length"
                                     << "58:filename_prefix"
                                     << "" << int(OutputKind::Video);
    QTest::newRow("wan ti2v") << "video_wan2_2_5B_ti2v.json"
                              << ""
                              << "6:text"
                              << "7:text"
                              << "55:length"
                              << "58:filename_prefix"
                              << "56:image" << int(OutputKind::Video);
}

void TestWorkflowProfileLoader::fromGraphFixtures()
{
    QFETCH(QString, file);
    QFETCH(QString, rejectedWith);
    QFETCH(QString, prompt);
    QFETCH(QString, negative);
    QFETCH(QString, frameCount);
    QFETCH(QString, prefix);
    QFETCH(QString, keyframe);
    QFETCH(int, outputKind);

    const QJsonObject graph = readObject(dataPath(file));
    QVERIFY(!graph.isEmpty());
    QStringList notes;
    const WorkflowProfile p = WorkflowProfileLoader::fromGraph(QStringLiteral("imported"), graph, &notes);
    QCOMPARE(p.graph, graph);
    const QStringList errors = WorkflowProfileLoader::validate(p);
    if (rejectedWith.isEmpty()) {
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QLatin1Char('\n'))));
        QVERIFY(p.hasRole(Role::Prompt) && p.hasRole(Role::FilenamePrefix));
    } else {
        QVERIFY2(anyContains(errors, rejectedWith), qPrintable(errors.join(QLatin1Char('\n'))));
    }
    QCOMPARE(mappedKey(p, Role::Prompt), prompt);
    QCOMPARE(mappedKey(p, Role::NegativePrompt), negative);
    QCOMPARE(mappedKey(p, Role::FrameCount), frameCount);
    QCOMPARE(mappedKey(p, Role::FilenamePrefix), prefix);
    QCOMPARE(mappedKey(p, Role::KeyframeImage), keyframe);
    QCOMPARE(int(p.outputKind), outputKind);
    QVERIFY(p.hasRole(Role::Seed));
}

void TestWorkflowProfileLoader::fromGraphTextToVideoReportsLegacyParts()
{
    QStringList notes;
    const WorkflowProfile p = WorkflowProfileLoader::fromGraph(
        QStringLiteral("svd"), readObject(dataPath(QStringLiteral("text-to-video.json"))), &notes);
    QVERIFY(p.classTypes().contains(QStringLiteral("WriteDoneMarker|pysssss")));
    // Why there is no prompt: SVD conditioning takes an image, not text.
    QVERIFY2(anyContains(notes, QStringLiteral("prompt: not mapped: the conditioning comes from node 4 "
                                               "(SVD_img2vid_Conditioning), which takes no text")),
             qPrintable(notes.join(QLatin1Char('\n'))));
    QVERIFY(anyContains(
        notes, QStringLiteral("keyframe_image: node 2 (LoadImage) input image holds the legacy token "
                              "__KEYFRAME_IMAGE__; mapped to 2:image")));
    QVERIFY(
        anyContains(notes, QStringLiteral("WriteDoneMarker|pysssss, which no installed package provides")));
    QVERIFY(anyContains(notes, QStringLiteral("filename_prefix holds the legacy token __SCENE_PREFIX__")));
    QCOMPARE(mappedKey(p, Role::Fps), QStringLiteral("4:fps"));
}

void TestWorkflowProfileLoader::fromGraphFollowsStringNodes()
{
    QStringList notes;
    const WorkflowProfile p = WorkflowProfileLoader::fromGraph(
        QStringLiteral("lumina"), readObject(dataPath(QStringLiteral("image_netayume_lumina_t2iAPI.json"))),
        &notes);
    // The encoder's own text input is a link; the literal the app may set is the "Prompt" primitive,
    // not the "System prompt" one concatenated in front of it.
    QVERIFY(anyContains(
        notes, QStringLiteral(
                   "prompt: node 26:7 (CLIPTextEncode) takes its text from a link; mapped to 26:24:value")));
    for (const MappedInput& m : p.mapping)
        QVERIFY(!WorkflowProfile::isLink(
            p.graph.value(m.nodeId).toObject().value(QLatin1String("inputs")).toObject().value(m.inputName)));

    notes.clear();
    const WorkflowProfile inpaint = WorkflowProfileLoader::fromGraph(
        QStringLiteral("inpaint"),
        readObject(dataPath(QStringLiteral("video_wan2_2_5B_fun_inpaintAPI.json"))), &notes);
    QVERIFY(anyContains(notes, QStringLiteral("keyframe_image: not mapped: 2 LoadImage nodes (70, 74)")));
    QCOMPARE(mappedKey(inpaint, Role::Fps), QStringLiteral("57:fps"));
}

QTEST_GUILESS_MAIN(TestWorkflowProfileLoader)
#include "tst_workflowprofileloader.moc"
