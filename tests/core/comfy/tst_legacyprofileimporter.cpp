#include "comfy/LegacyProfileImporter.h"
#include "comfy/WorkflowProfileLoader.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

using namespace gd::comfy;

namespace {

QJsonObject legacyFile()
{
    QFile file(QStringLiteral(GD_TEST_DATA_DIR "/workflows/legacy-profiles.json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

const WorkflowProfile* byName(const QVector<WorkflowProfile>& profiles, const QString& name)
{
    for (const WorkflowProfile& p : profiles) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
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

QJsonObject wrap(const QString& id, const QByteArray& workflowJson, const QJsonObject& mapping)
{
    QJsonObject legacy{{QLatin1String("id"), id},
                       {QLatin1String("label"), id},
                       {QLatin1String("workflowJson"), QString::fromUtf8(workflowJson)},
                       {QLatin1String("mapping"), mapping}};
    return QJsonObject{{QLatin1String("workflowProfiles"), QJsonObject{{id, legacy}}}};
}

} // namespace

class TestLegacyProfileImporter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void importsFixtureProfiles();
    void reportsUnmappableTypes_data();
    void reportsUnmappableTypes();
    void mapsRolesAndInfersTheRest();
    void rejectsGraphWithoutSaveNode();
    void rejectsBrokenEntries();
    void writtenFilesLoadBack();
    void writeRefusesNamesOutsideDir();
};

void TestLegacyProfileImporter::importsFixtureProfiles()
{
    const LegacyProfileImporter::Result result = LegacyProfileImporter::import(legacyFile());
    QStringList names;
    for (const WorkflowProfile& p : result.profiles) {
        names.append(p.name);
        QVERIFY2(WorkflowProfileLoader::validate(p).isEmpty(), qPrintable(p.name));
    }
    names.sort();
    QCOMPARE(names, (QStringList{QStringLiteral("flux-t2i"), QStringLiteral("wan-flf2v"),
                                 QStringLiteral("wan-flf2v-feta"), QStringLiteral("wan-fun-control"),
                                 QStringLiteral("wan-fun-inpaint"), QStringLiteral("wan-i2v"),
                                 QStringLiteral("wan-ipadapter"), QStringLiteral("wan-t2i")}));
    // Video-to-video tools have no text prompt to drive: they cannot be scene profiles.
    for (const char* id : {"video-upscaler", "rife-interpolation"}) {
        QVERIFY2(anyContains(result.problems,
                             QStringLiteral("legacy profile %1: rejected: ").arg(QLatin1String(id))),
                 qPrintable(result.problems.join(QLatin1Char('\n'))));
        QVERIFY(anyContains(
            result.problems,
            QStringLiteral("legacy profile %1: rejected: profile \"%1\": required role prompt is not mapped")
                .arg(QLatin1String(id))));
    }
}

void TestLegacyProfileImporter::reportsUnmappableTypes_data()
{
    QTest::addColumn<QString>("profile");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("type");
    QTest::newRow("end_image") << "wan-flf2v"
                               << "11:image"
                               << "end_image";
    QTest::newRow("ref_image") << "wan-fun-control"
                               << "10:image"
                               << "ref_image";
    QTest::newRow("control_video") << "wan-fun-control"
                                   << "11:file"
                                   << "control_video";
    QTest::newRow("input_video") << "video-upscaler"
                                 << "1:file"
                                 << "input_video";
    QTest::newRow("feta_weight") << "wan-flf2v-feta"
                                 << "10:weight"
                                 << "feta_weight";
    QTest::newRow("character_reference_image") << "wan-ipadapter"
                                               << "1002:image"
                                               << "character_reference_image";
    QTest::newRow("ipadapter_weight") << "wan-ipadapter"
                                      << "1010:weight"
                                      << "ipadapter_weight";
}

void TestLegacyProfileImporter::reportsUnmappableTypes()
{
    QFETCH(QString, profile);
    QFETCH(QString, key);
    QFETCH(QString, type);
    const LegacyProfileImporter::Result result = LegacyProfileImporter::import(legacyFile());
    const QString expected =
        QStringLiteral("legacy profile %1: mapping %2 has legacy type \"%3\", which has no gemDirect "
                       "role; left out")
            .arg(profile, key, type);
    QVERIFY2(result.problems.contains(expected), qPrintable(result.problems.join(QLatin1Char('\n'))));
    if (const WorkflowProfile* p = byName(result.profiles, profile)) {
        for (const MappedInput& m : p->mapping)
            QVERIFY(m.key() != key);
    }
}

void TestLegacyProfileImporter::mapsRolesAndInfersTheRest()
{
    const LegacyProfileImporter::Result result = LegacyProfileImporter::import(legacyFile());
    const WorkflowProfile* i2v = byName(result.profiles, QStringLiteral("wan-i2v"));
    QVERIFY(i2v);
    QCOMPARE(mappedKey(*i2v, Role::Prompt), QStringLiteral("6:text"));
    QCOMPARE(mappedKey(*i2v, Role::NegativePrompt), QStringLiteral("7:text"));
    QCOMPARE(mappedKey(*i2v, Role::KeyframeImage), QStringLiteral("56:image"));
    QCOMPARE(mappedKey(*i2v, Role::FilenamePrefix), QStringLiteral("58:filename_prefix"));
    QCOMPARE(mappedKey(*i2v, Role::Seed), QStringLiteral("3:seed"));
    QCOMPARE(mappedKey(*i2v, Role::FrameCount), QStringLiteral("55:length"));
    QCOMPARE(i2v->outputKind, OutputKind::Video);
    QVERIFY(i2v->description.startsWith(QString::fromUtf8("WAN Text+Image\u2192Video")));

    const WorkflowProfile* flf2v = byName(result.profiles, QStringLiteral("wan-flf2v"));
    QVERIFY(flf2v);
    QCOMPARE(mappedKey(*flf2v, Role::KeyframeImage), QStringLiteral("10:image")); // start_image
    QCOMPARE(flf2v->inputsFor(Role::KeyframeImage).size(), 1);

    const WorkflowProfile* flux = byName(result.profiles, QStringLiteral("flux-t2i"));
    QVERIFY(flux);
    QCOMPARE(flux->outputKind, OutputKind::Frames);
    QCOMPARE(mappedKey(*flux, Role::FilenamePrefix), QStringLiteral("9:filename_prefix"));
    QCOMPARE(mappedKey(*flux, Role::FrameCount), QStringLiteral("5:batch_size"));

    const WorkflowProfile* feta = byName(result.profiles, QStringLiteral("wan-flf2v-feta"));
    QVERIFY(feta);
    QCOMPARE(mappedKey(*feta, Role::Prompt), QStringLiteral("9:positive_prompt"));
    QCOMPARE(mappedKey(*feta, Role::FilenamePrefix), QStringLiteral("13:filename_prefix"));
    QCOMPARE(feta->outputKind, OutputKind::Video);
}

void TestLegacyProfileImporter::rejectsGraphWithoutSaveNode()
{
    const QByteArray graph = R"({
      "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
      "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "a"}},
      "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
      "5": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["2", 0],
            "latent_image": ["4", 0], "seed": 1, "steps": 4, "cfg": 7.0, "sampler_name": "euler",
            "scheduler": "normal", "denoise": 1.0}},
      "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}}
    })";
    const auto result = LegacyProfileImporter::import(
        wrap(QStringLiteral("nosave"), graph,
             {{QLatin1String("2:text"), QStringLiteral("human_readable_prompt")}}));
    QVERIFY(result.profiles.isEmpty());
    QCOMPARE(result.problems.size(), 1);
    QVERIFY2(result.problems.first().startsWith(
                 QLatin1String("legacy profile nosave: rejected: no filename_prefix: "
                               "the graph has no save node")),
             qPrintable(result.problems.first()));
}

void TestLegacyProfileImporter::rejectsBrokenEntries()
{
    auto result = LegacyProfileImporter::import(wrap(QStringLiteral("bad"), "{\"1\": ", {}));
    QVERIFY(result.profiles.isEmpty());
    QVERIFY(anyContains(result.problems,
                        QStringLiteral("legacy profile bad: workflowJson is not a JSON object")));

    result = LegacyProfileImporter::import(QJsonObject{});
    QVERIFY(anyContains(result.problems, QStringLiteral("no \"workflowProfiles\" object")));

    QJsonObject notString{{QLatin1String("id"), QStringLiteral("x")},
                          {QLatin1String("workflowJson"), QJsonObject{}}};
    result = LegacyProfileImporter::import(
        QJsonObject{{QLatin1String("workflowProfiles"), QJsonObject{{QLatin1String("x"), notString}}}});
    QVERIFY(anyContains(result.problems, QStringLiteral("legacy profile x: workflowJson is not a string")));
}

void TestLegacyProfileImporter::writtenFilesLoadBack()
{
    const LegacyProfileImporter::Result result = LegacyProfileImporter::import(legacyFile());
    QVERIFY(!result.profiles.isEmpty());
    QTemporaryDir dir;
    for (const WorkflowProfile& p : result.profiles) {
        const gd::Error error = LegacyProfileImporter::writeProfile(p, dir.path());
        QVERIFY2(error.isNull(), qPrintable(error.toString()));
        QStringList errors;
        const auto loaded = WorkflowProfileLoader::resolve(p.name, {dir.path()}, &errors);
        QVERIFY2(loaded, qPrintable(errors.join(QLatin1Char('\n'))));
        QCOMPARE(loaded->graph, p.graph);
        QCOMPARE(loaded->outputKind, p.outputKind);
        QCOMPARE(loaded->description, p.description);
        QCOMPARE(loaded->mapping.size(), p.mapping.size());
        for (const MappedInput& m : p.mapping)
            QVERIFY(loaded->mapping.contains(m));
    }
    // Only the pairs, no temp files left behind.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 2 * result.profiles.size());
}

void TestLegacyProfileImporter::writeRefusesNamesOutsideDir()
{
    QTemporaryDir dir;
    WorkflowProfile p;
    p.graph = QJsonObject{{QLatin1String("1"), QJsonObject{}}};
    for (const char* name : {"../evil", "/tmp/evil", ".hidden", "a/b", ""}) {
        p.name = QLatin1String(name);
        const gd::Error error = LegacyProfileImporter::writeProfile(p, dir.filePath(QStringLiteral("sub")));
        QCOMPARE(error.kind, QStringLiteral("invalid_name"));
    }
    QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("evil.json"))));
    QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("sub"))));
}

QTEST_GUILESS_MAIN(TestLegacyProfileImporter)
#include "tst_legacyprofileimporter.moc"
