#include "comfy/WorkflowProfileLoader.h"
#include "sandbox/NodeCatalog.h"

#include <QJsonDocument>
#include <QtTest>

using namespace gd::comfy;

namespace {

WorkflowProfile builtin(const QString& name)
{
    QStringList errors;
    const auto p = WorkflowProfileLoader::resolve(name, {}, &errors);
    return p ? *p : WorkflowProfile{};
}

QJsonObject object(const char* json)
{
    return QJsonDocument::fromJson(json).object();
}

// A keyframe profile over a two-node graph with only the mapping under test.
WorkflowProfile keyframeProfile(const QVector<MappedInput>& mapping)
{
    WorkflowProfile p;
    p.name = QStringLiteral("bare");
    p.purpose = Purpose::Keyframe;
    p.graph = object(R"({"1": {"class_type": "LoadImage", "inputs": {"image": "a.png"}},
                         "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}})");
    p.mapping = mapping;
    return p;
}

} // namespace

class TestImageProfiles : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roleNames_data();
    void roleNames();
    void importDialogOffersEveryRole();
    void purposeIsReadAndDefaultsToVideo_data();
    void purposeIsReadAndDefaultsToVideo();
    void profileJsonKeepsPurposeAndIndexedRoles();
    void validateRefusesSlotGapsAndVideoStills();
    void requiredRolesFor_data();
    void requiredRolesFor();
    void builtinImageProfiles_data();
    void builtinImageProfiles();
    void modelFilesOfBuiltinProfiles_data();
    void modelFilesOfBuiltinProfiles();
    void modelFilesIgnoreLinksAndNonLoaders();
    void classesAgainstTheSandboxObjectInfo_data();
    void classesAgainstTheSandboxObjectInfo();
};

void TestImageProfiles::roleNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("role");
    QTest::addColumn<int>("index");
    QTest::newRow("slot 0") << "character_reference_image[0]" << true << int(Role::CharacterReferenceImage)
                            << 0;
    QTest::newRow("slot 2") << "character_reference_image[2]" << true << int(Role::CharacterReferenceImage)
                            << 2;
    QTest::newRow("last slot") << "character_reference_image[15]" << true
                               << int(Role::CharacterReferenceImage) << 15;
    QTest::newRow("weight") << "ipadapter_weight" << true << int(Role::IpadapterWeight) << 0;
    QTest::newRow("start") << "start_image" << true << int(Role::StartImage) << 0;
    QTest::newRow("end") << "end_image" << true << int(Role::EndImage) << 0;
    QTest::newRow("style") << "style_reference_image" << true << int(Role::StyleReferenceImage) << 0;
    QTest::newRow("keyframe unchanged") << "keyframe_image" << true << int(Role::KeyframeImage) << 0;
    QTest::newRow("bare indexed name") << "character_reference_image" << false << 0 << 0;
    QTest::newRow("slot past the limit") << "character_reference_image[16]" << false << 0 << 0;
    QTest::newRow("leading zero") << "character_reference_image[01]" << false << 0 << 0;
    QTest::newRow("negative") << "character_reference_image[-1]" << false << 0 << 0;
    QTest::newRow("spaces") << "character_reference_image[ 1]" << false << 0 << 0;
    QTest::newRow("case") << "Start_Image" << false << 0 << 0;
}

void TestImageProfiles::roleNames()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QFETCH(int, role);
    QFETCH(int, index);
    int parsedIndex = -1;
    const auto parsed = roleFromName(name, &parsedIndex);
    QCOMPARE(bool(parsed), valid);
    if (!valid)
        return;
    QCOMPARE(int(*parsed), role);
    QCOMPARE(parsedIndex, index);
    QCOMPARE(roleName(*parsed, parsedIndex), name);
}

void TestImageProfiles::importDialogOffersEveryRole()
{
    const QStringList names = mappableRoleNames();
    for (const char* expected : {"prompt", "keyframe_image", "job_id", "character_reference_image[0]",
                                 "character_reference_image[1]", "character_reference_image[2]",
                                 "ipadapter_weight", "start_image", "end_image", "style_reference_image"})
        QVERIFY2(names.contains(QLatin1String(expected)), expected);
    for (const QString& name : names)
        QVERIFY2(roleFromName(name), qPrintable(name)); // everything offered is accepted back
    QCOMPARE(names.size(), int(kLastRole) + 3);         // 14 plain roles + 3 character slots
}

void TestImageProfiles::purposeIsReadAndDefaultsToVideo_data()
{
    QTest::addColumn<QString>("purposeJson"); // the "purpose" member, or empty for none
    QTest::addColumn<int>("purpose");
    QTest::addColumn<QString>("error");
    QTest::newRow("absent") << QString() << int(Purpose::Video) << QString();
    QTest::newRow("video") << "\"video\"" << int(Purpose::Video) << QString();
    QTest::newRow("reference_sheet") << "\"reference_sheet\"" << int(Purpose::ReferenceSheet) << QString();
    QTest::newRow("keyframe") << "\"keyframe\"" << int(Purpose::Keyframe) << QString();
    QTest::newRow("unknown")
        << "\"storyboard\"" << int(Purpose::Video)
        << "x.profile.json: purpose \"storyboard\" is not video|reference_sheet|keyframe";
    QTest::newRow("not a string")
        << "3" << int(Purpose::Video)
        << "x.profile.json: purpose (non-string) is not video|reference_sheet|keyframe";
}

void TestImageProfiles::purposeIsReadAndDefaultsToVideo()
{
    QFETCH(QString, purposeJson);
    QFETCH(int, purpose);
    QFETCH(QString, error);
    const QString json =
        QStringLiteral(R"({"name": "p", "outputKind": "frames", %1 "mapping": {"2:text": "prompt"}})")
            .arg(purposeJson.isEmpty() ? QString() : QStringLiteral("\"purpose\": %1,").arg(purposeJson));
    WorkflowProfile profile;
    const QStringList errors = WorkflowProfileLoader::applyProfileJson(
        QJsonDocument::fromJson(json.toUtf8()).object(), QStringLiteral("x.profile.json"), &profile);
    QCOMPARE(errors, error.isEmpty() ? QStringList{} : QStringList{error});
    QCOMPARE(int(profile.purpose), purpose);
}

void TestImageProfiles::profileJsonKeepsPurposeAndIndexedRoles()
{
    const WorkflowProfile keyframe = builtin(QStringLiteral("sdxl-ipadapter-keyframe"));
    const QJsonObject json = keyframe.profileJson();
    QCOMPARE(json.value(QLatin1String("purpose")).toString(), QStringLiteral("keyframe"));
    QCOMPARE(json.value(QLatin1String("mapping")).toObject().value(QLatin1String("4:image")).toString(),
             QStringLiteral("character_reference_image[1]"));
    WorkflowProfile copy;
    QVERIFY(WorkflowProfileLoader::applyProfileJson(json, QStringLiteral("x"), &copy).isEmpty());
    QCOMPARE(copy.purpose, Purpose::Keyframe);
    QCOMPARE(copy.characterReferenceSlots(), 2);
    QCOMPARE(copy.inputsFor(Role::CharacterReferenceImage, 1).size(), 1);
    QCOMPARE(copy.inputsFor(Role::CharacterReferenceImage, 1).first().key(), QStringLiteral("4:image"));
    // Video profiles keep the shape they had before purposes existed.
    QVERIFY(!builtin(QStringLiteral("wan22-ti2v")).profileJson().contains(QLatin1String("purpose")));
}

void TestImageProfiles::validateRefusesSlotGapsAndVideoStills()
{
    WorkflowProfile gap =
        keyframeProfile({{QStringLiteral("1"), QStringLiteral("image"), Role::CharacterReferenceImage, 1},
                         {QStringLiteral("2"), QStringLiteral("filename_prefix"), Role::FilenamePrefix}});
    gap.graph.insert(QStringLiteral("3"),
                     object(R"({"class_type": "CLIPTextEncode", "inputs": {"text": ""}})"));
    gap.mapping.append({QStringLiteral("3"), QStringLiteral("text"), Role::Prompt});
    QCOMPARE(
        WorkflowProfileLoader::validate(gap),
        QStringList{QStringLiteral("profile \"bare\": character_reference_image[1] is mapped but "
                                   "character_reference_image[0] is not: character references fill slots "
                                   "from 0 without gaps")});
    gap.mapping.first().index = 0;
    QVERIFY(WorkflowProfileLoader::validate(gap).isEmpty());
    gap.outputKind = OutputKind::Video;
    QCOMPARE(
        WorkflowProfileLoader::validate(gap),
        QStringList{QStringLiteral("profile \"bare\": a keyframe profile must have outputKind \"frames\" (it "
                                   "renders still images)")});
}

void TestImageProfiles::requiredRolesFor_data()
{
    QTest::addColumn<QString>("profile");
    QTest::addColumn<int>("stage");
    QTest::addColumn<int>("characters");
    QTest::addColumn<bool>("lastFrame");
    QTest::addColumn<QStringList>("messages");
    QTest::newRow("sandbox keyframe anchors two")
        << "sandbox-keyframe" << int(Purpose::Keyframe) << 2 << false << QStringList{};
    QTest::newRow("ipadapter keyframe")
        << "sdxl-ipadapter-keyframe" << int(Purpose::Keyframe) << 1 << false << QStringList{};
    QTest::newRow("sheet profile as keyframe")
        << "sdxl-reference-sheet" << int(Purpose::Keyframe) << 1 << false
        << QStringList{
               QStringLiteral("keyframe stage: profile 'sdxl-reference-sheet' is a reference_sheet profile "
                              "(\"purpose\": \"reference_sheet\"), not a keyframe profile"),
               QStringLiteral("keyframe profile 'sdxl-reference-sheet' maps no character_reference_image[0]: "
                              "it cannot anchor characters")};
    QTest::newRow("sheet profile for an empty shot")
        << "sdxl-reference-sheet" << int(Purpose::Keyframe) << 0 << false
        << QStringList{
               QStringLiteral("keyframe stage: profile 'sdxl-reference-sheet' is a reference_sheet profile "
                              "(\"purpose\": \"reference_sheet\"), not a keyframe profile")};
    QTest::newRow("sandbox text keyframe, empty shot")
        << "sandbox-keyframe-text" << int(Purpose::Keyframe) << 0 << false << QStringList{};
    QTest::newRow("sdxl text keyframe, empty shot")
        << "sdxl-keyframe-text" << int(Purpose::Keyframe) << 0 << false << QStringList{};
    QTest::newRow("text keyframe cannot anchor a character")
        << "sdxl-keyframe-text" << int(Purpose::Keyframe) << 1 << false
        << QStringList{QStringLiteral("keyframe profile 'sdxl-keyframe-text' maps no character_reference_image[0]: "
                                      "it cannot anchor characters")};
    QTest::newRow("sheet") << "sandbox-reference-sheet" << int(Purpose::ReferenceSheet) << 0 << false
                           << QStringList{};
    QTest::newRow("bookend clip") << "wan22-flf2v" << int(Purpose::Video) << 1 << true << QStringList{};
    QTest::newRow("bookend profile without lastFrame")
        << "sandbox-i2v" << int(Purpose::Video) << 1 << false << QStringList{};
    QTest::newRow("single-image profile with lastFrame")
        << "wan22-ti2v" << int(Purpose::Video) << 1 << true
        << QStringList{
               QStringLiteral("video profile 'wan22-ti2v' maps no start_image: the shot has a lastFrame, "
                              "which needs a bookend profile mapping start_image and end_image"),
               QStringLiteral("video profile 'wan22-ti2v' maps no end_image: the shot has a lastFrame, "
                              "which needs a bookend profile mapping start_image and end_image")};
    QTest::newRow("single-image profile")
        << "wan22-ti2v" << int(Purpose::Video) << 1 << false << QStringList{};
    QTest::newRow("text-only video")
        << "default" << int(Purpose::Video) << 0 << false
        << QStringList{
               QStringLiteral("video profile 'default' maps no keyframe_image or start_image: it cannot "
                              "start from the approved keyframe")};
}

void TestImageProfiles::requiredRolesFor()
{
    QFETCH(QString, profile);
    QFETCH(int, stage);
    QFETCH(int, characters);
    QFETCH(bool, lastFrame);
    QFETCH(QStringList, messages);
    const WorkflowProfile p = builtin(profile);
    QVERIFY(!p.graph.isEmpty());
    QCOMPARE(p.requiredRolesFor(Purpose(stage), ShotNeeds{characters, lastFrame}), messages);
}

void TestImageProfiles::builtinImageProfiles_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("purpose");
    QTest::addColumn<int>("outputKind");
    QTest::addColumn<int>("slots");
    QTest::addColumn<QStringList>("roles");
    QTest::newRow("sdxl-reference-sheet")
        << "sdxl-reference-sheet" << int(Purpose::ReferenceSheet) << int(OutputKind::Frames) << 0
        << QStringList{QStringLiteral("seed"), QStringLiteral("negative_prompt")};
    QTest::newRow("sdxl-ipadapter-keyframe")
        << "sdxl-ipadapter-keyframe" << int(Purpose::Keyframe) << int(OutputKind::Frames) << 2
        << QStringList{QStringLiteral("seed"), QStringLiteral("ipadapter_weight")};
    QTest::newRow("wan22-flf2v") << "wan22-flf2v" << int(Purpose::Video) << int(OutputKind::Video) << 0
                                 << QStringList{QStringLiteral("start_image"), QStringLiteral("end_image"),
                                                QStringLiteral("frame_count"), QStringLiteral("seed")};
    QTest::newRow("sandbox-reference-sheet")
        << "sandbox-reference-sheet" << int(Purpose::ReferenceSheet) << int(OutputKind::Frames) << 0
        << QStringList{QStringLiteral("seed")};
    QTest::newRow("sandbox-keyframe") << "sandbox-keyframe" << int(Purpose::Keyframe)
                                      << int(OutputKind::Frames) << 2 << QStringList{QStringLiteral("seed")};
    QTest::newRow("sandbox-keyframe-text") << "sandbox-keyframe-text" << int(Purpose::Keyframe)
                                           << int(OutputKind::Frames) << 0
                                           << QStringList{QStringLiteral("seed"), QStringLiteral("negative_prompt")};
    QTest::newRow("sdxl-keyframe-text") << "sdxl-keyframe-text" << int(Purpose::Keyframe) << int(OutputKind::Frames)
                                        << 0 << QStringList{QStringLiteral("seed"), QStringLiteral("negative_prompt")};
    QTest::newRow("sandbox-i2v") << "sandbox-i2v" << int(Purpose::Video) << int(OutputKind::Frames) << 0
                                 << QStringList{QStringLiteral("start_image"), QStringLiteral("end_image"),
                                                QStringLiteral("frame_count"), QStringLiteral("job_id")};
}

void TestImageProfiles::builtinImageProfiles()
{
    QFETCH(QString, name);
    QFETCH(int, purpose);
    QFETCH(int, outputKind);
    QFETCH(int, slots);
    QFETCH(QStringList, roles);
    QVERIFY(WorkflowProfileLoader::builtinNames().contains(name));
    QStringList errors;
    const auto p = WorkflowProfileLoader::resolve(name, {}, &errors);
    QVERIFY2(p, qPrintable(errors.join(QLatin1Char('\n'))));
    QCOMPARE(p->name, name);
    QCOMPARE(int(p->purpose), purpose);
    QCOMPARE(int(p->outputKind), outputKind);
    QCOMPARE(p->characterReferenceSlots(), slots);
    for (const QString& role : roles)
        QVERIFY2(p->hasRole(*roleFromName(role)), qPrintable(role));
    QVERIFY(p->totalSamplerSteps() > 0);
    QVERIFY(!p->description.isEmpty());
}

// The model files a storyboard artifact's input hash records: every loader's file, sorted.
void TestImageProfiles::modelFilesOfBuiltinProfiles_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QStringList>("models");
    QTest::newRow("sdxl-reference-sheet") << "sdxl-reference-sheet"
                                          << QStringList{QStringLiteral("sd_xl_base_1.0.safetensors")};
    QTest::newRow("sdxl-ipadapter-keyframe")
        << "sdxl-ipadapter-keyframe"
        << QStringList{QStringLiteral("ipadapter preset: PLUS (high strength)"), QStringLiteral("sd_xl_base_1.0.safetensors")};
    QTest::newRow("svd-img2vid") << "svd-img2vid" << QStringList{QStringLiteral("svd_xt.safetensors")};
    QTest::newRow("wan22-flf2v") << "wan22-flf2v"
                                 << QStringList{QStringLiteral("umt5_xxl_fp8_e4m3fn_scaled.safetensors"),
                                                QStringLiteral("wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors"),
                                                QStringLiteral("wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"),
                                                QStringLiteral("wan_2.1_vae.safetensors")};
    QTest::newRow("sandbox-keyframe") << "sandbox-keyframe"
                                      << QStringList{QStringLiteral("v1-5-pruned-emaonly.safetensors")};
}

void TestImageProfiles::modelFilesOfBuiltinProfiles()
{
    QFETCH(QString, name);
    QFETCH(QStringList, models);
    QStringList errors;
    const auto p = WorkflowProfileLoader::resolve(name, {}, &errors);
    QVERIFY2(p, qPrintable(errors.join(QLatin1Char('\n'))));
    QCOMPARE(p->modelFiles(), models);
    QCOMPARE(p->modelText(), models.join(QStringLiteral(", ")));
}

void TestImageProfiles::modelFilesIgnoreLinksAndNonLoaders()
{
    WorkflowProfile p;
    p.graph = QJsonDocument::fromJson(R"({
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "b.safetensors"}},
        "2": {"class_type": "LoraLoader", "inputs": {"lora_name": "style.safetensors", "model": ["1", 0],
                                                     "strength_model": 0.8}},
        "3": {"class_type": "IPAdapterModelLoader", "inputs": {"ipadapter_file": "ip-plus.bin"}},
        "4": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "4x.pth"}},
        "5": {"class_type": "SomeLlmNode", "inputs": {"model_name": "gpt", "model": "not-a-file"}},
        "6": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "b.safetensors"}},
        "7": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "sampler_name": "euler"}}
    })").object();
    QCOMPARE(p.modelFiles(), (QStringList{QStringLiteral("4x.pth"), QStringLiteral("b.safetensors"),
                                          QStringLiteral("ip-plus.bin"), QStringLiteral("style.safetensors")}));
    QCOMPARE(WorkflowProfile().modelText(), QString());
}

void TestImageProfiles::classesAgainstTheSandboxObjectInfo_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QStringList>("missing");
    for (const char* name : {"sandbox-reference-sheet", "sandbox-keyframe", "sandbox-keyframe-text", "sandbox-i2v",
                             "sdxl-reference-sheet", "sdxl-keyframe-text", "wan22-flf2v"})
        QTest::newRow(name) << QString::fromLatin1(name) << QStringList{};
    // The IP-Adapter nodes come from a custom node package: a stock server (and the sandbox) lacks them.
    QTest::newRow("sdxl-ipadapter-keyframe")
        << "sdxl-ipadapter-keyframe"
        << QStringList{QStringLiteral("IPAdapterAdvanced"), QStringLiteral("IPAdapterUnifiedLoader")};
}

void TestImageProfiles::classesAgainstTheSandboxObjectInfo()
{
    QFETCH(QString, name);
    QFETCH(QStringList, missing);
    const WorkflowProfile p = builtin(name);
    QVERIFY(!p.graph.isEmpty());
    const gd::sandbox::NodeCatalog catalog = gd::sandbox::NodeCatalog::builtin();
    QStringList absent;
    for (const QString& cls : p.classTypes()) {
        // What GET /object_info/<class> answers: {} for a class the server does not have.
        if (catalog.objectInfo(cls).isEmpty())
            absent.append(cls);
    }
    QCOMPARE(absent, missing);
}

QTEST_GUILESS_MAIN(TestImageProfiles)
#include "tst_imageprofiles.moc"
