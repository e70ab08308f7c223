#include "StoryboardTestStory.h"
#include "comfy/WorkflowProfileLoader.h"
#include "story/StoryLoader.h"
#include "storyboard/InputHasher.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardKeys.h"

#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace gd::storyboard;

namespace {

const QString kMaraCoat = QStringLiteral("character:Mara Voss#storm-coat");
const QString kMaraDress = QStringLiteral("character:Mara Voss#dress");
const QString kTom = QStringLiteral("character:Tom Reed#default");
const QString kLamp = QStringLiteral("location:Lamp room");
const QString kShot1 = QStringLiteral("scene-001/shot-01");
const QString kShot3 = QStringLiteral("scene-001/shot-03");
const QString kShot4 = QStringLiteral("scene-001/shot-04");

StoryboardControllerOptions sandboxOptions()
{
    StoryboardControllerOptions o;
    o.sheetProfile = QStringLiteral("sandbox-reference-sheet");
    o.keyframeProfile = QStringLiteral("sandbox-keyframe");
    o.textKeyframeProfile = QStringLiteral("sandbox-keyframe-text");
    o.videoProfile = QStringLiteral("sandbox-i2v");
    o.candidates = 2;
    return o;
}

// The test story with the fields story.json requires, so the storyboard can reopen it.
gd::story::Story story()
{
    gd::story::Story s = sbtest::lighthouse();
    s.title = QStringLiteral("The lighthouse");
    s.logline = QStringLiteral("A keeper outlasts the storm.");
    s.directorsVision = QStringLiteral("Grey and orange.");
    s.genre = QStringLiteral("drama");
    for (gd::story::StoryScene& scene : s.scenes) {
        scene.title = scene.id;
        scene.summary = scene.prompt;
    }
    return s;
}

QStringList keysOf(const Plan& plan, ItemKind kind)
{
    QStringList keys;
    for (const WorkItem& w : plan.items)
        if (w.kind == kind)
            keys << w.key;
    return keys;
}

QString writePng(const QString& path, QColor colour)
{
    QImage img(32, 32, QImage::Format_RGB32);
    img.fill(colour);
    img.save(path, "PNG");
    return path;
}

} // namespace

class TestStoryboardController : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    int m_n = 0;

    QString freshDir() { return m_tmp.filePath(QStringLiteral("sb-%1").arg(++m_n)); }

    // Uploads a distinct image as the approved sheet of each key.
    void approveSheets(StoryboardController& c, const QStringList& keys)
    {
        int i = 0;
        for (const QString& key : keys) {
            const QString png = writePng(m_tmp.filePath(QStringLiteral("up-%1-%2.png").arg(m_n).arg(++i)),
                                         QColor::fromHsv((i * 60) % 360, 200, 200));
            const gd::Error e = c.upload(gd::storyboard::ItemKind::Reference, key, png);
            QVERIFY2(e.isNull(), qPrintable(e.message));
        }
    }

private Q_SLOTS:
    void createWritesStoryAndRefusesAnExistingStoryboard()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        const QString dir = freshDir();
        QVERIFY(c.create(dir, story()).isNull());
        QVERIFY(QFile::exists(dir + QStringLiteral("/story.json")));
        QVERIFY(QFile::exists(dir + QStringLiteral("/storyboard.json")));
        const gd::Error again = c.create(dir, story());
        QCOMPARE(again.kind, QStringLiteral("exists"));

        StoryboardController reopened(sandboxOptions(), nullptr);
        const gd::Error opened = reopened.open(dir);
        QVERIFY2(opened.isNull(), qPrintable(opened.message));
        QCOMPARE(reopened.story().characters.size(), 2);
        QCOMPARE(reopened.directory(), QDir(dir).absolutePath());
    }

    void openNamesTheMissingStory()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        const QString dir = freshDir();
        QDir().mkpath(dir);
        const gd::Error e = c.open(dir);
        QCOMPARE(e.kind, QStringLiteral("missingStory"));
        QVERIFY(e.message.contains(QStringLiteral("story.json")));
    }

    void stagePlansFollowTheApprovalGate()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        QVERIFY(c.create(freshDir(), story()).isNull());
        // Nothing rendered: every sheet is planned, every shot with a character is blocked.
        QCOMPARE(keysOf(c.plan(StoryboardStage::References), ItemKind::Reference),
                 (QStringList{kMaraCoat, kMaraDress, kTom, kLamp}));
        Plan kf = c.plan(StoryboardStage::Keyframes);
        QCOMPARE(keysOf(kf, ItemKind::Keyframe), QStringList{kShot4}); // the shot that shows nobody
        QCOMPARE(kf.blocked.size(), 4);
        QVERIFY(kf.blocked.first().message.contains(QStringLiteral("no approved sheet")));

        // Approving Mara's coat unblocks only the shot that shows Mara alone.
        approveSheets(c, {kMaraCoat});
        kf = c.plan(StoryboardStage::Keyframes);
        QCOMPARE(keysOf(kf, ItemKind::Keyframe), (QStringList{kShot1, kShot4}));
        QCOMPARE(c.plan(StoryboardStage::References).items.size(), 3);

        // --allow-text-only: the blocked shots are planned text-only.
        StoryboardControllerOptions o = sandboxOptions();
        o.allowTextOnly = true;
        c.setOptions(o);
        kf = c.plan(StoryboardStage::Keyframes);
        QCOMPARE(kf.blocked.size(), 0);
        for (const WorkItem& w : kf.items)
            QCOMPARE(w.textOnly, w.key != kShot1 && w.key != kShot4);
    }

    void uploadRefusesANonImageAndStoresNothing()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        const QString dir = freshDir();
        QVERIFY(c.create(dir, story()).isNull());
        const QString text = m_tmp.filePath(QStringLiteral("notes.png"));
        QFile f(text);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is not an image");
        f.close();
        QSignalSpy changed(&c, &StoryboardController::stateChanged);
        const gd::Error e = c.upload(gd::storyboard::ItemKind::Reference, kTom, text);
        QCOMPARE(e.kind, QStringLiteral("notAnImage"));
        QCOMPARE(changed.count(), 0);
        QVERIFY(!c.state().findReference(kTom));
        QVERIFY(!QDir(dir + QStringLiteral("/refs")).exists() ||
                QDir(dir + QStringLiteral("/refs")).entryList(QDir::Files | QDir::NoDotAndDotDot).isEmpty());

        const gd::Error unknown = c.upload(gd::storyboard::ItemKind::Reference, QStringLiteral("character:Nobody#default"), text);
        QCOMPARE(unknown.kind, QStringLiteral("notFound"));
    }

    void editingASheetPromptMakesExactlyThatSheetStale()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        const QString dir = freshDir();
        QVERIFY(c.create(dir, story()).isNull());
        // Store every planned sheet as the References stage does: a version from the plan's inputs.
        StoryboardState state;
        QVERIFY(StoryboardState::load(dir, state).isNull());
        for (const WorkItem& w : c.plan(StoryboardStage::References).items) {
            ImageVersion v;
            v.inputHash = w.inputHash;
            v.inputs = w.inputs;
            v.source = QStringLiteral("rendered");
            v.candidates << Candidate{QStringLiteral("refs/x.png"), sbtest::fakeSha(w.key), 1, std::nullopt, std::nullopt, {}};
            v.chosen = 1;
            state.addReferenceVersion(w.key, v);
            QVERIFY(state.approve(ItemKind::Reference, w.key).isNull());
        }
        QVERIFY(state.save(dir).isNull());
        QVERIFY(c.open(dir).isNull());
        QCOMPARE(c.staleness().count(ItemKind::Reference, Freshness::Fresh), 4);
        QVERIFY(c.plan(StoryboardStage::References).items.isEmpty());

        QSignalSpy changed(&c, &StoryboardController::stateChanged);
        const gd::Error e = c.editReferencePrompt(kTom, QStringLiteral("character sheet, Tom Reed, yellow oilskin"));
        QVERIFY2(e.isNull(), qPrintable(e.message));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(c.staleness().find(ItemKind::Reference, kTom)->freshness, Freshness::Stale);
        QCOMPARE(c.staleness().count(ItemKind::Reference, Freshness::Fresh), 3);
        QCOMPARE(keysOf(c.plan(StoryboardStage::UpdateStale), ItemKind::Reference), QStringList{kTom});
        // The prompt reached story.json.
        QStringList problems;
        const auto saved = gd::story::StoryLoader::load(dir + QStringLiteral("/story.json"), &problems);
        QVERIFY(saved);
        QCOMPARE(saved->characters.at(1).referencePrompt, QStringLiteral("character sheet, Tom Reed, yellow oilskin"));
        const gd::Error missing = c.editReferencePrompt(QStringLiteral("location:Nowhere"), QStringLiteral("x"));
        QCOMPARE(missing.kind, QStringLiteral("notFound"));
    }

    void editingAShotMakesItsKeyframePlanChange()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        const QString dir = freshDir();
        QVERIFY(c.create(dir, story()).isNull());
        const QString before = c.plan(StoryboardStage::Keyframes).items.first().inputHash; // shot-04
        gd::story::StoryShot s = c.story().scenes.first().shots.at(3);
        s.firstFrame = QStringLiteral("the empty stairs, lit by lightning");
        QVERIFY(c.editShot(kShot4, s).isNull());
        const WorkItem after = c.plan(StoryboardStage::Keyframes).items.first();
        QCOMPARE(after.key, kShot4);
        QVERIFY(after.inputHash != before);
        QVERIFY(after.inputs.value(QStringLiteral("prompt")).toString().contains(QStringLiteral("lightning")));
        QCOMPARE(c.editShot(QStringLiteral("scene-009/shot-01"), s).kind, QStringLiteral("notFound"));
    }

    void uploadedSheetIsFreshAndUpdateStaleReRendersOnlyTheEditedOne()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        QVERIFY(c.create(freshDir(), story()).isNull());
        approveSheets(c, {kMaraCoat, kTom});
        // Uploaded sheets carry no prompt inputs: nothing to update for them.
        QCOMPARE(keysOf(c.plan(StoryboardStage::UpdateStale), ItemKind::Reference), QStringList());
        QCOMPARE(c.unapproved(ItemKind::Reference), QStringList());
        const StalenessReport r = c.staleness();
        QVERIFY(r.find(ItemKind::Reference, kMaraDress));
        QCOMPARE(r.find(ItemKind::Reference, kMaraDress)->freshness, Freshness::Missing);
    }

    // An operator's keyframe: a new, selected, approved version recorded with the inputs a render would
    // have, so it is fresh now and goes stale (with a reason) when the shot or its sheet changes.
    void uploadedKeyframeIsApprovedAndGoesStaleOnUpstreamEdits()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        const QString dir = freshDir();
        QVERIFY(c.create(dir, story()).isNull());
        approveSheets(c, {kMaraCoat});

        // Not an image: refused, the message names the file, nothing stored.
        const QString text = m_tmp.filePath(QStringLiteral("frame-notes.png"));
        QFile f(text);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not a picture");
        f.close();
        const gd::Error bad = c.upload(ItemKind::Keyframe, kShot1, text);
        QCOMPARE(bad.kind, QStringLiteral("notAnImage"));
        QVERIFY2(bad.message.contains(text), qPrintable(bad.message));
        QVERIFY(!c.state().findShot(kShot1) || c.state().findShot(kShot1)->keyframe.versions.isEmpty());
        QCOMPARE(c.upload(ItemKind::Keyframe, QStringLiteral("scene-009/shot-01"), text).kind, QStringLiteral("notFound"));
        QCOMPARE(c.upload(ItemKind::Clip, kShot1, text).kind, QStringLiteral("invalidArgument"));

        const QString planned = c.plan(StoryboardStage::Keyframes).items.first().inputHash; // kShot1, as rendered
        QSignalSpy rendered(&c, &StoryboardController::itemRendered);
        const QString png = writePng(m_tmp.filePath(QStringLiteral("my-frame.png")), Qt::darkCyan);
        const gd::Error e = c.upload(ItemKind::Keyframe, kShot1, png);
        QVERIFY2(e.isNull(), qPrintable(e.message));
        QCOMPARE(rendered.count(), 1);
        QCOMPARE(rendered.first().at(0).value<ItemKind>(), ItemKind::Keyframe);
        const ImageTrack& track = c.state().findShot(kShot1)->keyframe;
        QVERIFY(track.approved);
        QCOMPARE(track.selected, std::optional<int>(1));
        const ImageVersion* v = track.selectedVersion();
        QCOMPARE(v->source, QStringLiteral("uploaded"));
        QCOMPARE(v->inputHash, planned);
        QCOMPARE(v->model, QStringLiteral("v1-5-pruned-emaonly.safetensors")); // what sandbox-keyframe loads
        QVERIFY(QFile::exists(QDir(dir).filePath(v->candidates.first().file)));
        QVERIFY(v->candidates.first().file.startsWith(QStringLiteral("keyframes/")));
        QCOMPARE(c.staleness().find(ItemKind::Keyframe, kShot1)->freshness, Freshness::Fresh);
        QVERIFY(!keysOf(c.plan(StoryboardStage::Keyframes), ItemKind::Keyframe).contains(kShot1));
        // Saved: a reopened storyboard has it too.
        StoryboardController reopened(sandboxOptions(), nullptr);
        QVERIFY(reopened.open(dir).isNull());
        QCOMPARE(reopened.state().findShot(kShot1)->keyframe.selectedVersion()->source, QStringLiteral("uploaded"));

        // The sheet it shows changes: stale, and the reason names the sheet.
        const QString newSheet = writePng(m_tmp.filePath(QStringLiteral("mara-new.png")), Qt::darkRed);
        QVERIFY(c.upload(ItemKind::Reference, kMaraCoat, newSheet).isNull());
        const ItemStatus* st = c.staleness().find(ItemKind::Keyframe, kShot1);
        QCOMPARE(st->freshness, Freshness::Stale);
        QVERIFY2(st->reasons.join(QLatin1Char(' ')).contains(QStringLiteral("sheet of Mara Voss#storm-coat changed")),
                 qPrintable(st->reasons.join(QStringLiteral("; "))));

        // A shot edit after a fresh upload: stale with "prompt edited".
        QVERIFY(c.upload(ItemKind::Keyframe, kShot1, png).isNull());
        QCOMPARE(c.state().findShot(kShot1)->keyframe.selected, std::optional<int>(2));
        QCOMPARE(c.staleness().find(ItemKind::Keyframe, kShot1)->freshness, Freshness::Fresh);
        gd::story::StoryShot s = c.story().scenes.first().shots.first();
        s.firstFrame = QStringLiteral("Mara at the rail, soaked");
        QVERIFY(c.editShot(kShot1, s).isNull());
        st = c.staleness().find(ItemKind::Keyframe, kShot1);
        QCOMPARE(st->freshness, Freshness::Stale);
        QVERIFY(st->reasons.contains(QStringLiteral("prompt edited")));
    }

    // A bookend shot's end keyframe takes an upload too (under keyframes/.../end); a shot without a
    // lastFrame has no end keyframe to upload.
    void uploadedEndKeyframeOfABookendShot()
    {
        gd::story::Story s = story();
        s.scenes[0].shots[0].lastFrame = QStringLiteral("Mara turns the lamp off");
        StoryboardController c(sandboxOptions(), nullptr);
        const QString dir = freshDir();
        QVERIFY(c.create(dir, s).isNull());
        const QString png = writePng(m_tmp.filePath(QStringLiteral("end-frame.png")), Qt::darkMagenta);
        QCOMPARE(c.upload(ItemKind::EndKeyframe, kShot3, png).kind, QStringLiteral("blocked"));
        const gd::Error e = c.upload(ItemKind::EndKeyframe, kShot1, png);
        QVERIFY2(e.isNull(), qPrintable(e.message));
        const ImageTrack& end = c.state().findShot(kShot1)->endKeyframe;
        QVERIFY(end.approved);
        QCOMPARE(end.selectedVersion()->source, QStringLiteral("uploaded"));
        QVERIFY(end.selectedVersion()->candidates.first().file.startsWith(StoryboardKeys::endKeyframeDir(kShot1)));
        QVERIFY(c.state().findShot(kShot1)->keyframe.versions.isEmpty());
        QCOMPARE(c.staleness().find(ItemKind::EndKeyframe, kShot1)->freshness, Freshness::Fresh);
    }

    // Input hashes cover the model files the profile's graph loads: swapping the sheet profile's
    // checkpoint makes the sheets stale with a reason naming both checkpoints, and nothing else.
    void swappingAProfilesCheckpointMakesItsArtifactsStaleNamingTheModel()
    {
        QTemporaryDir profiles;
        StoryboardControllerOptions o = sandboxOptions();
        o.render.profileSearchDirs = {profiles.path()};
        StoryboardController c(o, nullptr);
        const QString dir = freshDir();
        QVERIFY(c.create(dir, story()).isNull());
        StoryboardState state;
        QVERIFY(StoryboardState::load(dir, state).isNull());
        for (const WorkItem& w : c.plan(StoryboardStage::References).items) {
            QCOMPARE(w.inputs.value(QStringLiteral("model")).toString(), QStringLiteral("v1-5-pruned-emaonly.safetensors"));
            ImageVersion v;
            v.inputHash = w.inputHash;
            v.inputs = w.inputs;
            v.candidates << Candidate{QStringLiteral("refs/x.png"), sbtest::fakeSha(w.key), 1, std::nullopt, std::nullopt, {}};
            v.chosen = 1;
            state.addReferenceVersion(w.key, v);
        }
        QVERIFY(state.save(dir).isNull());
        QVERIFY(c.open(dir).isNull());
        QCOMPARE(c.staleness().count(ItemKind::Reference, Freshness::Fresh), 4);

        // The operator's copy of the sheet profile, found before the built-in, loads another checkpoint.
        for (const QString& suffix : {QStringLiteral(".json"), QStringLiteral(".profile.json")}) {
            QFile in(QStringLiteral(":/workflows/sandbox-reference-sheet") + suffix);
            QVERIFY(in.open(QIODevice::ReadOnly));
            QByteArray bytes = in.readAll();
            bytes.replace("v1-5-pruned-emaonly.safetensors", "dreamshaper_8.safetensors");
            QFile out(profiles.filePath(QStringLiteral("sandbox-reference-sheet") + suffix));
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(bytes);
        }
        c.setOptions(o);
        const StalenessReport r = c.staleness();
        QCOMPARE(r.count(ItemKind::Reference, Freshness::Stale), 4);
        QVERIFY2(r.find(ItemKind::Reference, kTom)
                     ->reasons.contains(QStringLiteral("model changed: v1-5-pruned-emaonly.safetensors → dreamshaper_8.safetensors")),
                 qPrintable(r.find(ItemKind::Reference, kTom)->reasons.join(QStringLiteral("; "))));
        QCOMPARE(keysOf(c.plan(StoryboardStage::UpdateStale), ItemKind::Reference).size(), 4);
    }

    void chooseOverridesAndApproveNeedsAChoice()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        QVERIFY(c.create(freshDir(), story()).isNull());
        approveSheets(c, {kMaraCoat});
        // An operator's choice on a version that has none yet, then approval.
        const gd::Error notRendered = c.approve(ItemKind::Keyframe, kShot1);
        QVERIFY(!notRendered.isNull());
        const gd::Error badCandidate = c.choose(ItemKind::Reference, kMaraCoat, 1, 7);
        QVERIFY(!badCandidate.isNull());
        QVERIFY(c.choose(ItemKind::Reference, kMaraCoat, 1, 1).isNull());
        QCOMPARE(c.state().findReference(kMaraCoat)->track.selectedVersion()->chosenBy, ChosenBy::Operator);
    }

    void keyframeProfileWithoutCharacterSlotsIsRefusedBeforeRendering()
    {
        StoryboardControllerOptions o = sandboxOptions();
        o.keyframeProfile = QStringLiteral(GD_TEST_DATA_DIR "/storyboardflow/keyframe-no-refs.json");
        StoryboardController c(o, nullptr);
        QVERIFY(c.create(freshDir(), story()).isNull());
        approveSheets(c, {kMaraCoat});
        QSignalSpy started(&c, &StoryboardController::runStarted);
        QSignalSpy finished(&c, &StoryboardController::stageFinished);
        c.start(StoryboardStage::Keyframes);
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(started.count(), 0); // nothing was sent to a server
        QCOMPARE(finished.first().at(1).toInt(), 2);
        const QString text = finished.first().at(2).toString();
        QVERIFY2(text.contains(QStringLiteral("keyframe-no-refs")) && text.contains(QStringLiteral("character_reference_image[0]")) &&
                     text.contains(QStringLiteral("keyframe")),
                 qPrintable(text));
        QVERIFY(!c.isBusy());
    }

    // Keyframes with no character reference (no sheet approved, text-only allowed, or no one visible)
    // go to the text keyframe profile: their input hash names that profile, the estimate counts them
    // under it, and it is the profile checked (and refused here) before anything renders.
    void keyframesWithoutReferencesGoToTheTextProfile()
    {
        auto hashOf = [](const QString& name) {
            QStringList errors;
            const auto p = gd::comfy::WorkflowProfileLoader::resolve(name, {}, &errors);
            return p ? InputHasher::profileHash(p->graph, p->profileJson()) : QString();
        };
        StoryboardControllerOptions o = sandboxOptions();
        o.allowTextOnly = true;
        StoryboardController c(o, nullptr);
        QVERIFY(c.create(freshDir(), story()).isNull());
        approveSheets(c, {kMaraCoat});
        int text = 0, anchored = 0;
        for (const WorkItem& w : c.plan(StoryboardStage::Keyframes).items) {
            const bool fromText = StoryboardInputs::rendersFromText(w.inputs);
            (fromText ? text : anchored) += 1;
            QCOMPARE(w.inputs.value(QStringLiteral("profileHash")).toString(),
                     hashOf(fromText ? QStringLiteral("sandbox-keyframe-text") : QStringLiteral("sandbox-keyframe")));
        }
        QVERIFY(text > 0 && anchored > 0);
        const StageEstimate e = c.estimate(StoryboardStage::Keyframes);
        QCOMPARE(e.items, (text + anchored) * 2);
        QVERIFY2(e.profile.contains(QStringLiteral("sandbox-keyframe-text")) &&
                     e.profile.contains(QStringLiteral("sandbox-keyframe, ")),
                 qPrintable(e.profile));

        // A text profile that cannot render keyframes is named before any GPU time is spent.
        o.textKeyframeProfile = QStringLiteral("sdxl-reference-sheet");
        c.setOptions(o);
        QSignalSpy started(&c, &StoryboardController::runStarted);
        QSignalSpy finished(&c, &StoryboardController::stageFinished);
        c.start(StoryboardStage::Keyframes);
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(started.count(), 0);
        QCOMPARE(finished.first().at(1).toInt(), 2);
        const QString why = finished.first().at(2).toString();
        QVERIFY2(why.contains(QStringLiteral("profile 'sdxl-reference-sheet' is a reference_sheet profile")) &&
                     !why.contains(QStringLiteral("sandbox-keyframe")),
                 qPrintable(why));
    }

    // The style reference image is hashed into a keyframe only when the profile rendering it maps
    // style_reference_image (only then is it uploaded): the sandbox keyframe profiles have no slot, an
    // operator's copy of sandbox-keyframe with one does.
    void styleImageIsHashedOnlyForAProfileWithASlot()
    {
        QTemporaryDir profiles;
        StoryboardControllerOptions o = sandboxOptions();
        o.render.profileSearchDirs = {profiles.path()};
        StoryboardController c(o, nullptr);
        gd::story::Story s = story();
        s.style.referenceImage = QStringLiteral("style.png");
        QVERIFY(c.create(freshDir(), s).isNull());
        approveSheets(c, {kMaraCoat});
        auto keyframeInputs = [&c](const QString& key) {
            for (const WorkItem& w : c.plan(StoryboardStage::Keyframes).items)
                if (w.key == key)
                    return w.inputs;
            return QJsonObject();
        };
        // No slot anywhere: nothing waits for the (not uploaded) style image, the inputs say it is unused.
        for (const QString& key : {kShot1, kShot4}) {
            const QJsonObject in = keyframeInputs(key);
            QVERIFY2(!in.isEmpty(), qPrintable(key));
            QCOMPARE(in.value(QStringLiteral("styleReference")).toString(), QString());
            QCOMPARE(in.value(QStringLiteral("styleReferenceUnused")).toBool(), true);
        }

        // The operator's sandbox-keyframe with a style slot: its keyframes wait for the image, then hash it.
        for (const QString& suffix : {QStringLiteral(".json"), QStringLiteral(".profile.json")}) {
            QFile in(QStringLiteral(":/workflows/sandbox-keyframe") + suffix);
            QVERIFY(in.open(QIODevice::ReadOnly));
            QJsonObject doc = QJsonDocument::fromJson(in.readAll()).object();
            if (suffix == QLatin1String(".json")) {
                doc.insert(QStringLiteral("20"), QJsonObject{{QStringLiteral("class_type"), QStringLiteral("LoadImage")},
                                                             {QStringLiteral("inputs"),
                                                              QJsonObject{{QStringLiteral("image"), QString()}}}});
            } else {
                QJsonObject mapping = doc.value(QStringLiteral("mapping")).toObject();
                mapping.insert(QStringLiteral("20:image"), QStringLiteral("style_reference_image"));
                doc.insert(QStringLiteral("mapping"), mapping);
            }
            QFile out(profiles.filePath(QStringLiteral("sandbox-keyframe") + suffix));
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(QJsonDocument(doc).toJson());
        }
        c.setOptions(o);
        QVERIFY(keyframeInputs(kShot1).isEmpty()); // blocked until the style image is uploaded
        const QString png = writePng(m_tmp.filePath(QStringLiteral("style-%1.png").arg(m_n)), QColor(20, 90, 200));
        const gd::Error up = c.upload(ItemKind::Reference, gd::storyboard::StoryboardKeys::style(), png);
        QVERIFY2(up.isNull(), qPrintable(up.message));
        const QJsonObject anchored = keyframeInputs(kShot1);
        QCOMPARE(anchored.value(QStringLiteral("styleReference")).toString().size(), 64);
        QVERIFY(!anchored.contains(QStringLiteral("styleReferenceUnused")));
        QCOMPARE(keyframeInputs(kShot4).value(QStringLiteral("styleReferenceUnused")).toBool(), true);
    }

    void startWhileNothingIsOpenFinishesWithBadInput()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        QSignalSpy finished(&c, &StoryboardController::stageFinished);
        c.start(StoryboardStage::References);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.first().at(1).toInt(), 2);
    }

    void estimateIsUnknownWithoutHistoryAndCountsCandidates()
    {
        StoryboardController c(sandboxOptions(), nullptr);
        QVERIFY(c.create(freshDir(), story()).isNull());
        const StageEstimate e = c.estimate(StoryboardStage::References);
        QCOMPARE(e.items, 4 * 2);
        QVERIFY(!e.known());
        QVERIFY(e.text().contains(QStringLiteral("sandbox-reference-sheet")));
        QCOMPARE(StoryboardController::stageName(StoryboardStage::UpdateStale), QStringLiteral("update-stale"));
    }
};

QTEST_GUILESS_MAIN(TestStoryboardController)
#include "tst_storyboardcontroller.moc"
