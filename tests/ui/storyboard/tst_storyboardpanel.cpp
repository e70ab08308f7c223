// The storyboard panel driven as an operator would, against the sandbox stand-ins (ComfyUI image
// profiles and the LLM's vision judge): references → approve on the tile → keyframes with judge
// scores → override a pick → approve → edit a sheet prompt → exactly the dependent tiles go stale.

#include "common/StatusColor.h"
#include "common/ThemePalette.h"
#include "sandbox/SandboxStandIns.h"
#include "story/StoryLoader.h"
#include "storyboard/CandidateStrip.h"
#include "storyboard/PromptEditDialog.h"
#include "storyboard/StatusBadge.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardGridModel.h"
#include "storyboard/StoryboardPanel.h"
#include "storyboard/StoryboardTile.h"

#include <QDialog>
#include <QImage>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using gd::storyboard::StoryboardController;
using gd::storyboard::StoryboardGridModel;
using gd::storyboard::StoryboardStage;
using gd::ui::StoryboardPanel;
using gd::ui::StoryboardTile;

namespace {

const QString kMara = QStringLiteral("character:Mara Voss#default");
const QString kTom = QStringLiteral("character:Tom Reed#default");
const QStringList kShots{QStringLiteral("scene-001/shot-01"), QStringLiteral("scene-001/shot-02"),
                         QStringLiteral("scene-002/shot-01"), QStringLiteral("scene-002/shot-02")};

gd::pipeline::QueuePolicy fastPolicy()
{
    gd::pipeline::QueuePolicy p = gd::pipeline::QueuePolicy::fastIteration();
    p.maxWaitSeconds = 20;
    p.pollIntervalSeconds = 0.2;
    p.postExecutionTimeoutSeconds = 3;
    p.doneMarkerTimeoutSeconds = 1;
    p.stabilityWindowSeconds = 0.3;
    p.stabilityRetries = 2;
    return p;
}

gd::story::Story loadStory()
{
    QStringList problems;
    auto story = gd::story::StoryLoader::load(QStringLiteral(GD_TEST_DATA_DIR "/storyboardpanel/story.json"), &problems);
    return story ? *story : gd::story::Story{};
}

void click(QAbstractButton* button)
{
    QVERIFY(button);
    QVERIFY2(button->isEnabled(), qPrintable(button->objectName() + QStringLiteral(" is disabled: ") + button->toolTip()));
    QTest::mouseClick(button, Qt::LeftButton);
}

} // namespace

class TestStoryboardPanel : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    gd::sandbox::SandboxStandIns m_standIns;

    gd::storyboard::StoryboardControllerOptions options()
    {
        gd::storyboard::StoryboardControllerOptions o;
        o.render.comfyUrl = m_standIns.comfyUrl();
        o.render.comfyOutputDir = m_standIns.comfyOutputDir();
        o.render.policy = fastPolicy();
        o.sheetProfile = QStringLiteral("sandbox-reference-sheet");
        o.keyframeProfile = QStringLiteral("sandbox-keyframe");
        o.textKeyframeProfile = QStringLiteral("sandbox-keyframe-text");
        o.videoProfile = QStringLiteral("sandbox-i2v");
        o.candidates = 2;
        o.llmUrl = m_standIns.llmUrl();
        return o;
    }

    // Clicks a toolbar stage button and waits for the stage to end; returns its exit code.
    int runStage(StoryboardPanel& panel, StoryboardStage stage)
    {
        QSignalSpy finished(panel.controller(), &StoryboardController::stageFinished);
        QSignalSpy messages(panel.controller(), &StoryboardController::message);
        click(panel.stageButton(stage));
        if (!finished.wait(60000) && finished.isEmpty())
            return -1;
        if (finished.first().at(1).toInt() != 0)
            for (const QList<QVariant>& m : messages)
                qWarning("controller: %s", qPrintable(m.at(0).toString()));
        return finished.first().at(1).toInt();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        gd::sandbox::SandboxLlmConfig llm;
        llm.visionModel = true;
        QString error;
        QVERIFY2(m_standIns.start(m_tmp.path(), gd::sandbox::SandboxConfig{}, llm, &error), qPrintable(error));
    }

    void emptyPanelExplainsHowToStart()
    {
        StoryboardPanel panel;
        panel.resize(1200, 800);
        panel.show();
        QVERIFY(panel.findChild<QWidget*>(QStringLiteral("storyboardEmpty"))->isVisible());
        QVERIFY(!panel.stageButton(StoryboardStage::References)->isEnabled());
        QVERIFY(!panel.cancelButton()->isEnabled());
    }

    void operatorGoesFromSheetsToApprovedKeyframesAndSeesStaleness()
    {
        StoryboardController controller(options(), nullptr);
        StoryboardPanel panel;
        panel.resize(1400, 900);
        panel.show();
        panel.attach(&controller);
        const gd::story::Story story = loadStory();
        QCOMPARE(story.scenes.size(), 2);
        const QString dir = m_tmp.filePath(QStringLiteral("board"));
        QVERIFY(controller.create(dir, story).isNull());

        // One tile per sheet and per shot; shots with characters wait for their sheets.
        QVERIFY(panel.referenceTile(kMara));
        QVERIFY(panel.referenceTile(kTom));
        for (const QString& key : kShots)
            QVERIFY2(panel.shotTile(key), qPrintable(key));
        StoryboardTile* shot1 = panel.shotTile(kShots[0]);
        QCOMPARE(shot1->freshnessBadge()->text(), QStringLiteral("blocked"));
        QVERIFY(shot1->freshnessBadge()->toolTip().contains(QStringLiteral("Mara Voss")));
        QCOMPARE(panel.shotTile(kShots[3])->freshnessBadge()->text(), QStringLiteral("blocked"));
        QVERIFY(panel.stageButton(StoryboardStage::References)->text().startsWith(QStringLiteral("Render references (")));
        QVERIFY(panel.stageButton(StoryboardStage::References)->toolTip().contains(QStringLiteral("Estimated GPU time")));

        // Render references; approve Mara's and Tom's sheets with the tile buttons.
        QCOMPARE(runStage(panel, StoryboardStage::References), 0);
        StoryboardTile* mara = panel.referenceTile(kMara);
        QCOMPARE(mara->candidateStrip()->count(), 2);
        QCOMPARE(mara->approvedBadge()->text(), QStringLiteral("to approve"));
        QTRY_VERIFY_WITH_TIMEOUT(!mara->findChild<QLabel*>(QStringLiteral("tileThumbnail"))->pixmap().isNull(), 5000);
        click(mara->approveButton());
        click(panel.referenceTile(kTom)->approveButton());
        QCOMPARE(mara->approvedBadge()->text(), QStringLiteral("approved"));
        QCOMPARE(mara->approveButton()->text(), QStringLiteral("Unapprove"));
        QCOMPARE(shot1->freshnessBadge()->text(), QStringLiteral("missing")); // unblocked

        // Render keyframes: every tile shows the judge's score with its reasons.
        QCOMPARE(runStage(panel, StoryboardStage::Keyframes), 0);
        for (const QString& key : kShots) {
            StoryboardTile* tile = panel.shotTile(key);
            QVERIFY2(tile->scoreBadge()->text().endsWith(QStringLiteral("/10")), qPrintable(key + tile->scoreBadge()->text()));
            QVERIFY(tile->scoreBadge()->toolTip().contains(QStringLiteral("Judge score")));
            QCOMPARE(tile->freshnessBadge()->text(), QStringLiteral("fresh"));
            QCOMPARE(tile->candidateStrip()->count(), 2);
        }
        QVERIFY(!shot1->data().judgeReasons.isEmpty());
        QVERIFY(shot1->scoreBadge()->toolTip().contains(shot1->data().judgeReasons));

        // Override the judge's pick on shot 1, then approve it.
        const int judged = shot1->data().chosen;
        const int other = judged == 1 ? 2 : 1;
        click(shot1->candidateStrip()->button(other));
        QCOMPARE(shot1->data().chosen, other);
        QCOMPARE(shot1->data().chosenBy, QStringLiteral("operator"));
        QVERIFY(shot1->candidateStrip()->button(other)->isChecked());
        QVERIFY(!shot1->candidateStrip()->button(judged)->isChecked());
        click(shot1->approveButton());
        QCOMPARE(shot1->approvedBadge()->text(), QStringLiteral("approved"));
        QCOMPARE(controller.state().findShot(kShots[0])->keyframe.approved, true);

        // Edit Mara's sheet prompt: her sheet and exactly the shots showing her go stale.
        QDialog* dialog = nullptr;
        connect(&panel, &StoryboardPanel::promptDialogOpened, this, [&dialog](QDialog* d) { dialog = d; });
        click(mara->editButton());
        QVERIFY(dialog);
        auto* edit = dialog->findChild<QPlainTextEdit*>(QStringLiteral("promptEdit"));
        QVERIFY(edit);
        QVERIFY(edit->toPlainText().contains(QStringLiteral("orange storm coat")));
        edit->setPlainText(edit->toPlainText() + QStringLiteral(", scar on the left cheek"));
        click(dialog->findChild<QPushButton*>(QStringLiteral("promptDialogOk")));
        QCOMPARE(mara->freshnessBadge()->text(), QStringLiteral("stale"));
        QCOMPARE(panel.referenceTile(kTom)->freshnessBadge()->text(), QStringLiteral("fresh"));
        QCOMPARE(panel.shotTile(kShots[0])->freshnessBadge()->text(), QStringLiteral("stale"));
        QCOMPARE(panel.shotTile(kShots[2])->freshnessBadge()->text(), QStringLiteral("stale"));
        QCOMPARE(panel.shotTile(kShots[1])->freshnessBadge()->text(), QStringLiteral("fresh"));
        QCOMPARE(panel.shotTile(kShots[3])->freshnessBadge()->text(), QStringLiteral("fresh"));
        QVERIFY(panel.shotTile(kShots[0])->freshnessBadge()->toolTip().contains(QStringLiteral("Stale")));
        // Stale is kept, never deleted: the tile still shows its keyframe; "Update stale" has work.
        QVERIFY(!panel.shotTile(kShots[0])->data().imageFile.isEmpty());
        QVERIFY(panel.stageButton(StoryboardStage::UpdateStale)->isEnabled());
    }

    void uploadRefusesANonImageWithAMessage()
    {
        StoryboardController controller(options(), nullptr);
        StoryboardPanel panel;
        panel.attach(&controller);
        QVERIFY(controller.create(m_tmp.filePath(QStringLiteral("upload")), loadStory()).isNull());
        const QString notImage = m_tmp.filePath(QStringLiteral("notes.png"));
        QFile f(notImage);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not an image");
        f.close();
        panel.setFileChooser([notImage](const QString&) { return notImage; });
        click(panel.referenceTile(kTom)->uploadButton());
        QVERIFY2(panel.messageLabel()->text().contains(QStringLiteral("Cannot use")), qPrintable(panel.messageLabel()->text()));
        QCOMPARE(panel.referenceTile(kTom)->freshnessBadge()->text(), QStringLiteral("missing"));

        const QString png = m_tmp.filePath(QStringLiteral("tom.png"));
        QImage img(48, 48, QImage::Format_RGB32);
        img.fill(QColor(200, 180, 40));
        QVERIFY(img.save(png, "PNG"));
        panel.setFileChooser([png](const QString&) { return png; });
        click(panel.referenceTile(kTom)->uploadButton());
        QCOMPARE(panel.referenceTile(kTom)->approvedBadge()->text(), QStringLiteral("approved"));
        QCOMPARE(panel.referenceTile(kTom)->data().source, QStringLiteral("uploaded"));
        // Tom's shot is no longer blocked; Mara's still is.
        QCOMPARE(panel.shotTile(kShots[1])->freshnessBadge()->text(), QStringLiteral("missing"));
        QCOMPARE(panel.shotTile(kShots[0])->freshnessBadge()->text(), QStringLiteral("blocked"));
    }

    // "Upload…" on a shot tile: the operator's image becomes the shot's approved, fresh keyframe.
    void shotTileUploadsAnApprovedKeyframe()
    {
        StoryboardController controller(options(), nullptr);
        StoryboardPanel panel;
        panel.attach(&controller);
        QVERIFY(controller.create(m_tmp.filePath(QStringLiteral("upload-shot")), loadStory()).isNull());
        StoryboardTile* tile = panel.shotTile(kShots[1]);
        QVERIFY(tile->uploadButton()->isVisibleTo(tile));
        QVERIFY(tile->uploadButton()->isEnabled());
        const QString png = m_tmp.filePath(QStringLiteral("frame.png"));
        QImage img(64, 36, QImage::Format_RGB32);
        img.fill(QColor(30, 90, 160));
        QVERIFY(img.save(png, "PNG"));
        QString asked;
        panel.setFileChooser([png, &asked](const QString& title) {
            asked = title;
            return png;
        });
        click(tile->uploadButton());
        QVERIFY(asked.contains(kShots[1]));
        QVERIFY2(panel.messageLabel()->text().contains(QStringLiteral("approved keyframe")),
                 qPrintable(panel.messageLabel()->text()));
        const gd::storyboard::ImageVersion* v = controller.state().findShot(kShots[1])->keyframe.selectedVersion();
        QVERIFY(v);
        QCOMPARE(v->source, QStringLiteral("uploaded"));
        QCOMPARE(tile->approvedBadge()->text(), QStringLiteral("approved"));
        QVERIFY(!tile->data().imageFile.isEmpty());
        // Uploaded without Tom's sheet: a text-only keyframe, fresh until the sheet is approved.
        QCOMPARE(tile->freshnessBadge()->text(), QStringLiteral("fresh"));
    }

    // A bookend shot (lastFrame set): its tile shows the end keyframe beside the keyframe, with its own
    // judge score, candidate strip (operator override) and approval.
    void bookendTileShowsAndApprovesTheEndKeyframe()
    {
        gd::story::Story story = loadStory();
        story.scenes[0].shots[1].lastFrame = QStringLiteral("Tom Reed coils the rope and walks off the pier");
        StoryboardController controller(options(), nullptr);
        StoryboardPanel panel;
        panel.resize(1400, 900);
        panel.show();
        panel.attach(&controller);
        QVERIFY(controller.create(m_tmp.filePath(QStringLiteral("bookend")), story).isNull());
        StoryboardTile* bookend = panel.shotTile(kShots[1]);
        StoryboardTile* plain = panel.shotTile(kShots[0]);
        QVERIFY(bookend->findChild<QLabel*>(QStringLiteral("endThumbnail"))->isVisibleTo(bookend));
        QVERIFY(!plain->findChild<QLabel*>(QStringLiteral("endThumbnail"))->isVisibleTo(plain));
        QVERIFY(bookend->width() > plain->width());
        QVERIFY(!bookend->endApproveButton()->isEnabled()); // nothing rendered yet

        QCOMPARE(runStage(panel, StoryboardStage::References), 0);
        click(panel.referenceTile(kMara)->approveButton());
        click(panel.referenceTile(kTom)->approveButton());
        QCOMPARE(runStage(panel, StoryboardStage::Keyframes), 0);
        const gd::storyboard::ShotEntry* entry = controller.state().findShot(kShots[1]);
        QVERIFY(entry && entry->endKeyframe.selectedVersion());
        QCOMPARE(bookend->endCandidateStrip()->count(), 2);
        QVERIFY2(bookend->endScoreBadge()->text().endsWith(QStringLiteral("/10")), qPrintable(bookend->endScoreBadge()->text()));
        QCOMPARE(bookend->endApprovedBadge()->text(), QStringLiteral("to approve"));
        QTRY_VERIFY_WITH_TIMEOUT(!bookend->findChild<QLabel*>(QStringLiteral("endThumbnail"))->pixmap().isNull(), 5000);

        // Override the judge's pick of the end keyframe, then approve it; the keyframe keeps its own state.
        const int judged = entry->endKeyframe.selectedVersion()->chosen.value_or(1);
        const int other = judged == 1 ? 2 : 1;
        click(bookend->endCandidateStrip()->button(other));
        entry = controller.state().findShot(kShots[1]);
        QCOMPARE(entry->endKeyframe.selectedVersion()->chosen, std::optional<int>(other));
        QCOMPARE(entry->endKeyframe.selectedVersion()->chosenBy, gd::storyboard::ChosenBy::Operator);
        click(bookend->endApproveButton());
        QVERIFY(controller.state().findShot(kShots[1])->endKeyframe.approved);
        QVERIFY(!controller.state().findShot(kShots[1])->keyframe.approved);
        QCOMPARE(bookend->endApprovedBadge()->text(), QStringLiteral("approved"));
        QCOMPARE(bookend->endApproveButton()->text(), QStringLiteral("Unapprove end"));
        QCOMPARE(bookend->approvedBadge()->text(), QStringLiteral("to approve"));
    }

    // View > Theme > Dark while an error is shown: the message keeps the error colour, in the dark
    // palette's variant (light red, readable on the dark window; the light palette's red is not).
    void errorMessageFollowsTheDarkTheme()
    {
        StoryboardController controller(options(), nullptr);
        StoryboardPanel panel;
        panel.attach(&controller);
        panel.setPalette(gd::ui::ThemePalette::light());
        QVERIFY(controller.create(m_tmp.filePath(QStringLiteral("theme")), loadStory()).isNull());
        const QString notImage = m_tmp.filePath(QStringLiteral("theme-notes.png"));
        QFile f(notImage);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not an image");
        f.close();
        panel.setFileChooser([notImage](const QString&) { return notImage; });
        click(panel.referenceTile(kTom)->uploadButton());
        using gd::ui::StatusColor;
        QCOMPARE(panel.messageLabel()->palette().color(QPalette::WindowText),
                 StatusColor::color(StatusColor::Status::Bad, gd::ui::ThemePalette::light()));

        panel.setPalette(gd::ui::ThemePalette::dark());
        const QColor shown = panel.messageLabel()->palette().color(QPalette::WindowText);
        QCOMPARE(shown, StatusColor::color(StatusColor::Status::Bad, gd::ui::ThemePalette::dark()));
        QCOMPARE(panel.messageLabel()->palette().color(QPalette::Window), gd::ui::ThemePalette::dark().color(QPalette::Window));

        // A plain message afterwards is plain text again.
        click(panel.stageButton(StoryboardStage::References));
        controller.cancel();
        QTRY_VERIFY(!controller.isBusy());
        QCOMPARE(panel.messageLabel()->palette().color(QPalette::WindowText),
                 gd::ui::ThemePalette::dark().color(QPalette::WindowText));
    }

    void cancelStopsAStage()
    {
        StoryboardController controller(options(), nullptr);
        StoryboardPanel panel;
        panel.attach(&controller);
        QVERIFY(controller.create(m_tmp.filePath(QStringLiteral("cancel")), loadStory()).isNull());
        QSignalSpy started(&controller, &StoryboardController::stageStarted);
        QSignalSpy finished(&controller, &StoryboardController::stageFinished);
        click(panel.stageButton(StoryboardStage::References));
        QCOMPARE(started.count(), 1);
        QVERIFY(panel.cancelButton()->isEnabled());
        QVERIFY(!panel.stageButton(StoryboardStage::Keyframes)->isEnabled());
        QVERIFY(panel.findChild<QWidget*>(QStringLiteral("storyboardProgressBar"))->isVisibleTo(&panel));
        click(panel.cancelButton());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
        QCOMPARE(finished.first().at(1).toInt(), 130);
        QVERIFY(!panel.cancelButton()->isEnabled());
        QVERIFY(panel.messageLabel()->text().contains(QStringLiteral("cancelled")));
    }
};

QTEST_MAIN(TestStoryboardPanel)
#include "tst_storyboardpanel.moc"
