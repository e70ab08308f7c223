#include "sandbox/SandboxLlmHost.h"
#include "sandbox/SandboxLlmServer.h"
#include "story/StoryLoader.h"
#include "story/StoryPanel.h"

#include <QComboBox>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using gd::sandbox::LlmFaultRule;
using gd::story::StoryLoader;
using gd::ui::StoryPanel;

// The story panel driven like an operator would, against the in-process LM Studio stand-in:
// generate with live token views, edit, save/open, regenerate one scene, cancel, and errors in words.
class TestStoryPanel : public QObject
{
    Q_OBJECT

    std::unique_ptr<gd::sandbox::SandboxLlmHost> m_host;

    template <typename T> static T* child(QWidget& panel, const char* name)
    {
        T* w = panel.findChild<T*>(QString::fromLatin1(name));
        if (!w)
            qFatal("no child %s", name);
        return w;
    }

    static gd::llm::StoryServiceOptions options(const QString& url)
    {
        gd::llm::StoryServiceOptions opt;
        opt.llmUrl = url;
        opt.env = QProcessEnvironment(); // no operator environment leaks into the test
        return opt;
    }

    static std::unique_ptr<StoryPanel> makePanel(const QString& url)
    {
        auto panel = std::make_unique<StoryPanel>();
        panel->resize(1200, 800);
        panel->setServiceOptions(options(url));
        panel->show();
        return panel;
    }

    static QJsonObject json(const gd::story::Story& s) { return StoryLoader::toJson(s); }

    static QJsonObject sceneJson(const gd::story::Story& s, int row)
    {
        return json(s).value(QStringLiteral("scenes")).toArray().at(row).toObject();
    }

    static void replaceText(QPlainTextEdit* edit, const QString& text)
    {
        edit->setFocus();
        QTest::keyClick(edit, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(edit, text);
    }

    static void clickRow(QTableView* table, int row)
    {
        const QModelIndex index = table->model()->index(row, 1);
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(index).center());
    }

    // Types the idea, picks genre and template, sets the scene count and clicks Generate.
    static void startGeneration(StoryPanel& panel, int scenes,
                                const QString& genre = QStringLiteral("sci-fi"))
    {
        auto* templates = child<QComboBox>(panel, "templateCombo");
        QTRY_VERIFY(templates->count() > 0);
        QTest::keyClicks(child<QPlainTextEdit>(panel, "ideaEdit"),
                         QStringLiteral("A keeper on a drowned world must relight the beacon"));
        auto* genres = child<QComboBox>(panel, "genreCombo");
        genres->setFocus();
        QTest::keyClicks(genres, genre); // keyboard search, as in the closed combo box
        QCOMPARE(genres->currentText(), genre);
        QVERIFY(templates->currentText().contains(QLatin1Char('@')));
        auto* count = child<QSpinBox>(panel, "sceneCountSpin");
        count->setFocus();
        count->selectAll();
        QTest::keyClicks(count, QString::number(scenes));
        QCOMPARE(count->value(), scenes);
        QTest::mouseClick(child<QPushButton>(panel, "generateButton"), Qt::LeftButton);
    }

    static void waitIdle(StoryPanel& panel) { QTRY_VERIFY_WITH_TIMEOUT(!panel.isGenerating(), 60000); }

    static void generate(StoryPanel& panel, int scenes)
    {
        startGeneration(panel, scenes);
        waitIdle(panel);
        QCOMPARE(child<QTableView>(panel, "sceneTable")->model()->rowCount(), scenes);
    }

    static LlmFaultRule fault(const QString& spec)
    {
        QString e;
        auto f = LlmFaultRule::parse(spec, &e);
        if (!f)
            qFatal("bad fault %s", qPrintable(spec));
        return *f;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_host = std::make_unique<gd::sandbox::SandboxLlmHost>();
        QVERIFY(m_host->start({}, 0, nullptr));
    }

    void generateStreamsStagesAndFillsTheTable()
    {
        auto panel = makePanel(m_host->url().toString());
        QSignalSpy changed(panel.get(), &StoryPanel::storyChanged);
        QVERIFY(!child<QPushButton>(*panel, "regenerateButton")->isEnabled()); // nothing to regenerate yet
        startGeneration(*panel, 3);
        const QString key = child<QComboBox>(*panel, "templateCombo")->currentText();
        QVERIFY(!child<QPushButton>(*panel, "generateButton")->isEnabled());
        QVERIFY(child<QPushButton>(*panel, "cancelButton")->isEnabled());
        waitIdle(*panel);

        auto* table = child<QTableView>(*panel, "sceneTable");
        QCOMPARE(table->model()->rowCount(), 3);
        QVERIFY(child<QPlainTextEdit>(*panel, "bibleStream")
                    ->toPlainText()
                    .contains(QStringLiteral("\"logline\"")));
        QVERIFY(child<QPlainTextEdit>(*panel, "scenesStream")
                    ->toPlainText()
                    .contains(QStringLiteral("\"scenes\"")));
        const QString prompts = child<QPlainTextEdit>(*panel, "promptsStream")->toPlainText();
        for (const char* id : {"scene-001", "scene-002", "scene-003"})
            QVERIFY2(prompts.contains(QLatin1String(id)), id);
        // The newest templates write a shot list per scene: it streams into its own tab, not into
        // the prompts tab, and the story carries the shots.
        const QString shots = child<QPlainTextEdit>(*panel, "shotsStream")->toPlainText();
        for (const char* id : {"── scene-001 ──", "── scene-002 ──", "── scene-003 ──"})
            QVERIFY2(shots.contains(QString::fromUtf8(id)), id);
        QVERIFY(!prompts.contains(QStringLiteral("\"shots\"")));
        QCOMPARE(child<QLabel>(*panel, "progressLabel")->text(), QStringLiteral("Done: 3 scenes"));
        QVERIFY(!panel->story().scenes.at(0).shots.isEmpty());

        const gd::story::Story story = panel->story();
        QStringList problems;
        const auto reloaded = StoryLoader::fromObject(json(story), &problems);
        QVERIFY2(reloaded.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        QCOMPARE(json(*reloaded), json(story));
        QCOMPARE(story.templateId + QLatin1Char('@') + story.templateVersion, key);
        QCOMPARE(story.genre, QStringLiteral("sci-fi"));
        QCOMPARE(child<QLineEdit>(*panel, "loglineEdit")->text(), story.logline);
        // The first scene is selected and its prompt is in the detail editor.
        QCOMPARE(child<QPlainTextEdit>(*panel, "scenePromptEdit")->toPlainText(), story.scenes.at(0).prompt);
        QVERIFY(changed.count() >= 1);
        QVERIFY(panel->hasUnsavedChanges());
        QVERIFY(panel->storyPath().isEmpty());
        QVERIFY(child<QPushButton>(*panel, "generateButton")->isEnabled());
    }

    void editsInTheEditorsReachTheStory()
    {
        auto panel = makePanel(m_host->url().toString());
        generate(*panel, 2);
        const gd::story::Story before = panel->story();
        clickRow(child<QTableView>(*panel, "sceneTable"), 1);
        QCOMPARE(child<QPlainTextEdit>(*panel, "scenePromptEdit")->toPlainText(), before.scenes.at(1).prompt);

        const QString prompt =
            QStringLiteral("locked-off wide shot, lighthouse lamp room, sodium glow through fog");
        replaceText(child<QPlainTextEdit>(*panel, "scenePromptEdit"), prompt);
        replaceText(child<QPlainTextEdit>(*panel, "sceneNegativeEdit"), QStringLiteral("blurry, watermark"));
        auto* logline = child<QLineEdit>(*panel, "loglineEdit");
        logline->setFocus();
        logline->selectAll();
        QTest::keyClicks(logline, QStringLiteral("A keeper relights the last beacon."));

        const gd::story::Story after = panel->story();
        QCOMPARE(after.scenes.at(1).prompt, prompt);
        QCOMPARE(after.scenes.at(1).negativePrompt, QStringLiteral("blurry, watermark"));
        QCOMPARE(after.logline, QStringLiteral("A keeper relights the last beacon."));
        QCOMPARE(sceneJson(after, 0), sceneJson(before, 0));
        QVERIFY(
            child<QLabel>(*panel, "promptInfoLabel")->text().contains(QStringLiteral("the checks expect")));
    }

    void saveThenReloadGivesTheSameStory()
    {
        auto panel = makePanel(m_host->url().toString());
        generate(*panel, 2);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("story.json"));
        panel->saveStoryAs(path); // where the Save As… dialog ends
        QTRY_COMPARE(panel->storyPath(), path);
        QTRY_VERIFY(!panel->hasUnsavedChanges());
        QVERIFY(!child<QLabel>(*panel, "pathLabel")->text().contains(QStringLiteral("unsaved")));
        QStringList problems;
        auto loaded = StoryLoader::load(path, &problems);
        QVERIFY2(loaded.has_value(), qPrintable(problems.join(QLatin1Char('\n'))));
        QCOMPARE(json(*loaded), json(panel->story()));

        // An edit marks the story unsaved; Save writes it to the same file.
        clickRow(child<QTableView>(*panel, "sceneTable"), 0);
        replaceText(child<QPlainTextEdit>(*panel, "sceneNegativeEdit"),
                    QStringLiteral("text, watermark, lens flare"));
        QVERIFY(panel->hasUnsavedChanges());
        QVERIFY(child<QLabel>(*panel, "pathLabel")->text().contains(QStringLiteral("unsaved")));
        QTest::mouseClick(child<QPushButton>(*panel, "saveButton"), Qt::LeftButton);
        QTRY_VERIFY(!panel->hasUnsavedChanges());
        loaded = StoryLoader::load(path, &problems);
        QVERIFY(loaded.has_value());
        QCOMPARE(loaded->scenes.at(0).negativePrompt, QStringLiteral("text, watermark, lens flare"));
        QCOMPARE(json(*loaded), json(panel->story()));

        // A story that fails the checks is not written: the file keeps the last good version.
        replaceText(child<QPlainTextEdit>(*panel, "scenePromptEdit"), QStringLiteral(" "));
        QTest::keyClick(child<QPlainTextEdit>(*panel, "scenePromptEdit"), Qt::Key_Backspace);
        QTest::mouseClick(child<QPushButton>(*panel, "saveButton"), Qt::LeftButton);
        QTRY_VERIFY(
            child<QLabel>(*panel, "messageLabel")->text().contains(QStringLiteral("scenes[0].prompt")));
        QVERIFY(panel->hasUnsavedChanges());
        QCOMPARE(json(*StoryLoader::load(path, &problems)), json(*loaded));
    }

    void malformedFileLeavesTheStoryUntouched_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("cut-off JSON")
            << QStringLiteral("truncated.json") << QStringList{QStringLiteral("invalid JSON")};
        QTest::newRow("missing and bad fields")
            << QStringLiteral("missing-fields.json")
            << QStringList{QStringLiteral("logline: required"), QStringLiteral("scenes[0].id"),
                           QStringLiteral("scenes[1].prompt: must not be empty")};
        QTest::newRow("not an object")
            << QStringLiteral("not-an-object.json") << QStringList{QStringLiteral("must be a JSON object")};
        QTest::newRow("no such file")
            << QStringLiteral("absent.json") << QStringList{QStringLiteral("cannot open")};
    }
    void malformedFileLeavesTheStoryUntouched()
    {
        QFETCH(QString, file);
        QFETCH(QStringList, expected);
        auto panel = makePanel(m_host->url().toString());
        const QString good = QStringLiteral(":/examples/lighthouse.json");
        panel->openStory(good);
        QTRY_COMPARE(panel->storyPath(), good);
        QCOMPARE(child<QTableView>(*panel, "sceneTable")->model()->rowCount(), 5);
        const QJsonObject before = json(panel->story());

        panel->openStory(QStringLiteral(GD_TEST_DATA_DIR "/story-panel/") +
                         file); // where the Open… dialog ends
        auto* message = child<QLabel>(*panel, "messageLabel");
        QTRY_VERIFY(message->text().contains(QStringLiteral("was not opened")));
        for (const QString& e : expected)
            QVERIFY2(message->text().contains(e), qPrintable(message->text()));
        QVERIFY(message->isVisible());
        QCOMPARE(json(panel->story()), before);
        QCOMPARE(panel->storyPath(), good);
        QVERIFY(!panel->hasUnsavedChanges());
        QCOMPARE(child<QTableView>(*panel, "sceneTable")->model()->rowCount(), 5);
    }

    void regenerateChangesOnlyThatScenesPrompt()
    {
        auto panel = makePanel(m_host->url().toString());
        generate(*panel, 3);
        const gd::story::Story before = panel->story();
        clickRow(child<QTableView>(*panel, "sceneTable"), 2);
        auto* regenerate = child<QPushButton>(*panel, "regenerateButton");
        QVERIFY(regenerate->isEnabled());
        QTest::mouseClick(regenerate, Qt::LeftButton);
        QVERIFY(panel->isGenerating());
        waitIdle(*panel);
        QVERIFY2(child<QLabel>(*panel, "messageLabel")
                     ->text()
                     .contains(QStringLiteral("scene-003 has a new prompt")),
                 qPrintable(child<QLabel>(*panel, "messageLabel")->text()));

        const gd::story::Story after = panel->story();
        QVERIFY(after.scenes.at(2).prompt != before.scenes.at(2).prompt);
        QVERIFY(!after.scenes.at(2).prompt.isEmpty());
        QCOMPARE(sceneJson(after, 0), sceneJson(before, 0));
        QCOMPARE(sceneJson(after, 1), sceneJson(before, 1));
        QJsonObject a = sceneJson(after, 2), b = sceneJson(before, 2);
        for (const QString& k : {QStringLiteral("prompt"), QStringLiteral("negativePrompt")}) {
            a.remove(k);
            b.remove(k);
        }
        QCOMPARE(a, b);
        QCOMPARE(after.logline, before.logline);
        QCOMPARE(child<QPlainTextEdit>(*panel, "scenePromptEdit")->toPlainText(), after.scenes.at(2).prompt);
        QVERIFY(child<QPlainTextEdit>(*panel, "promptsStream")
                    ->toPlainText()
                    .contains(QStringLiteral("scene-003")));
    }

    void cancelDuringGenerationReturnsToIdle()
    {
        gd::sandbox::SandboxLlmConfig cfg;
        cfg.tokenDelayMs = 20;
        gd::sandbox::SandboxLlmHost slow;
        QVERIFY(slow.start(cfg, 0, nullptr));
        auto panel = makePanel(slow.url().toString());
        startGeneration(*panel, 3);
        // Tokens appear while the first stage is still running.
        QTRY_VERIFY_WITH_TIMEOUT(!child<QPlainTextEdit>(*panel, "bibleStream")->toPlainText().isEmpty(),
                                 20000);
        QVERIFY(panel->isGenerating());
        QVERIFY(child<QLabel>(*panel, "progressLabel")->text().startsWith(QStringLiteral("Stage 1 of 4")));
        QTest::mouseClick(child<QPushButton>(*panel, "cancelButton"), Qt::LeftButton);
        waitIdle(*panel);
        QVERIFY(child<QLabel>(*panel, "progressLabel")->text().contains(QStringLiteral("cancelled")));
        QVERIFY(child<QLabel>(*panel, "messageLabel")->text().contains(QStringLiteral("cancelled")));
        QVERIFY(child<QPushButton>(*panel, "generateButton")->isEnabled());
        QVERIFY(!child<QPushButton>(*panel, "cancelButton")->isEnabled());
        QCOMPARE(child<QTableView>(*panel, "sceneTable")->model()->rowCount(), 0);
        QVERIFY(panel->story().scenes.isEmpty());
        QTRY_COMPARE(slow.server()->abortedStreams(), 1);
    }

    void llmErrorsAreExplained_data()
    {
        QTest::addColumn<QString>("spec"); // fault rule; empty = no server at all
        QTest::addColumn<QString>("expected");
        QTest::newRow("server not running") << QString() << QStringLiteral("Start LM Studio");
        QTest::newRow("no model loaded") << QStringLiteral("no-model:0") << QStringLiteral("load a");
        QTest::newRow("malformed answers")
            << QStringLiteral("malformed-json:0") << QStringLiteral("press Generate again");
    }
    void llmErrorsAreExplained()
    {
        QFETCH(QString, spec);
        QFETCH(QString, expected);
        gd::sandbox::SandboxLlmHost host;
        QString url;
        if (spec.isEmpty()) {
            QTcpServer probe;
            probe.listen(QHostAddress::LocalHost, 0);
            url = QStringLiteral("http://127.0.0.1:%1").arg(probe.serverPort());
        } else {
            gd::sandbox::SandboxLlmConfig cfg;
            cfg.faults << fault(spec);
            QVERIFY(host.start(cfg, 0, nullptr));
            url = host.url().toString();
        }
        auto panel = makePanel(url);
        startGeneration(*panel, 2);
        waitIdle(*panel);
        const QString text = child<QLabel>(*panel, "messageLabel")->text();
        QVERIFY2(text.contains(expected, Qt::CaseInsensitive), qPrintable(text));
        QVERIFY(child<QPushButton>(*panel, "generateButton")->isEnabled());
        QVERIFY(panel->story().scenes.isEmpty());
    }
};

QTEST_MAIN(TestStoryPanel)
#include "tst_storypanel.moc"
