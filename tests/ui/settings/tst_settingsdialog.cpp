#include "pipeline/Settings.h"
#include "settings/SettingsDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using gd::pipeline::Settings;
using gd::ui::SettingsDialog;
using Key = Settings::Key;

class TestSettingsDialog : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void badUrlDisablesOkAndFixingItSaves()
    {
        const QString path = m_dir.filePath(QStringLiteral("dialog.ini"));
        Settings settings(path);
        settings.set(Key::RunsRoot, m_dir.filePath(QStringLiteral("runs")));
        settings.set(Key::HistoryDb, m_dir.filePath(QStringLiteral("history.sqlite")));
        SettingsDialog dialog(settings);
        dialog.show();
        auto* ok = dialog.findChild<QPushButton*>(QStringLiteral("okButton"));
        auto* url = dialog.findChild<QLineEdit*>(QStringLiteral("edit_comfy_url"));
        auto* problem = dialog.findChild<QLabel*>(QStringLiteral("problem_comfy_url"));
        QVERIFY(ok && url && problem);
        QVERIFY2(ok->isEnabled(), qPrintable(dialog.problems().isEmpty() ? QString() : dialog.problems().first().message));
        QVERIFY(problem->isHidden());

        url->selectAll();
        QTest::keyClicks(url, QStringLiteral("ftp://render-box:8188"));
        QVERIFY(!ok->isEnabled());
        QVERIFY(problem->isVisible());
        QVERIFY2(problem->text().contains(QLatin1String("must start with http:// or https://")), qPrintable(problem->text()));

        url->selectAll();
        QTest::keyClicks(url, QStringLiteral("http://render-box:8188"));
        QVERIFY(ok->isEnabled());
        QVERIFY(problem->isHidden());

        // A knob out of range: message next to the knob, OK disabled; clearing it returns to the preset.
        auto* retries = dialog.findChild<QLineEdit*>(QStringLiteral("edit_queue_SCENE_RETRY_BUDGET"));
        QVERIFY(retries);
        QVERIFY(retries->placeholderText().contains(QLatin1String("preset")));
        QTest::keyClicks(retries, QStringLiteral("-2"));
        QVERIFY(!ok->isEnabled());
        QVERIFY(dialog.findChild<QLabel*>(QStringLiteral("problem_queue_SCENE_RETRY_BUDGET"))->text().contains(QLatin1String("negative")));
        retries->clear();
        QTest::keyClicks(retries, QStringLiteral("4"));
        QVERIFY(ok->isEnabled());

        auto* key = dialog.findChild<QLineEdit*>(QStringLiteral("edit_llm_apiKey"));
        QCOMPARE(key->echoMode(), QLineEdit::Password);
        QTest::keyClicks(key, QStringLiteral("sk-123"));

        QTest::mouseClick(ok, Qt::LeftButton);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));

        Settings reloaded(path);
        QCOMPARE(reloaded.string(Key::ComfyUrl), QStringLiteral("http://render-box:8188"));
        QCOMPARE(reloaded.integer(Key::SceneRetryBudget), 4);
        QCOMPARE(reloaded.string(Key::LlmApiKey), QStringLiteral("sk-123"));
        // Knobs left empty stay unset (they follow the preset).
        QVERIFY(!reloaded.isExplicitlySet(Key::SceneMaxWaitSeconds));
    }

    void poolServersGetAnOutputFolderEach()
    {
        const QString path = m_dir.filePath(QStringLiteral("pool.ini"));
        const QString folder = m_dir.filePath(QStringLiteral("gpu0 output"));
        const QString aFile = m_dir.filePath(QStringLiteral("output.txt"));
        QVERIFY(QDir().mkpath(folder));
        QFile f(aFile);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        Settings settings(path);
        settings.set(Key::RunsRoot, m_dir.filePath(QStringLiteral("runs")));
        settings.set(Key::HistoryDb, m_dir.filePath(QStringLiteral("history.sqlite")));
        SettingsDialog dialog(settings);
        dialog.show();
        auto* ok = dialog.findChild<QPushButton*>(QStringLiteral("okButton"));
        auto* servers = dialog.findChild<QLineEdit*>(QStringLiteral("edit_comfy_servers"));
        auto* empty = dialog.findChild<QLabel*>(QStringLiteral("serverOutputDirsEmpty"));
        auto* problem = dialog.findChild<QLabel*>(QStringLiteral("problem_comfy_serverOutputDirs"));
        QVERIFY(ok && servers && empty && problem);
        QVERIFY(dialog.findChild<QWidget*>(QStringLiteral("edit_comfy_serverOutputDirs")));
        // No pool yet: a note says where servers come from, and there is no folder field.
        QVERIFY(empty->isVisible());
        QVERIFY(!dialog.findChild<QLineEdit*>(QStringLiteral("serverOutputDir_gpu0")));

        // Two servers typed in: one folder field and one folder picker per server.
        QTest::keyClicks(servers, QStringLiteral("gpu0=http://127.0.0.1:8188 gpu1=http://10.0.0.7:8188"));
        QVERIFY(empty->isHidden());
        auto* gpu0 = dialog.findChild<QLineEdit*>(QStringLiteral("serverOutputDir_gpu0"));
        QVERIFY(gpu0);
        QTRY_VERIFY(gpu0->isVisible());
        QVERIFY(dialog.findChild<QLineEdit*>(QStringLiteral("serverOutputDir_gpu1")));
        QVERIFY(dialog.findChild<QPushButton*>(QStringLiteral("browseServerOutputDir_gpu0")));
        QVERIFY(dialog.findChild<QPushButton*>(QStringLiteral("browseServerOutputDir_gpu1")));
        QVERIFY(ok->isEnabled());

        // A folder that does not exist, then a file: OK disabled, the message says which server and why.
        QTest::keyClicks(gpu0, m_dir.filePath(QStringLiteral("missing")));
        QVERIFY(!ok->isEnabled());
        QVERIFY(problem->isVisible());
        QVERIFY2(problem->text().contains(QLatin1String("server \"gpu0\"")) &&
                     problem->text().contains(QLatin1String("does not exist")),
                 qPrintable(problem->text()));
        gpu0->clear();
        QTest::keyClicks(gpu0, aFile);
        QVERIFY2(problem->text().contains(QLatin1String("is a file, not a folder")), qPrintable(problem->text()));
        QVERIFY(!ok->isEnabled());

        // An existing folder: saved, and the run's backend list carries it.
        gpu0->clear();
        QTest::keyClicks(gpu0, folder);
        QVERIFY(problem->isHidden());
        QVERIFY(ok->isEnabled());
        QTest::mouseClick(ok, Qt::LeftButton);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));

        Settings reloaded(path);
        const auto backends = reloaded.backends();
        QCOMPARE(backends.size(), 2);
        QCOMPARE(backends.at(0).outputDir, folder);
        QCOMPARE(backends.at(1).outputDir, QString());

        // Reopened, the dialog shows the saved folder in the server's row.
        SettingsDialog again(reloaded);
        auto* shown = again.findChild<QLineEdit*>(QStringLiteral("serverOutputDir_gpu0"));
        QVERIFY(shown);
        QCOMPARE(shown->text(), folder);
    }

    void presetSwitchUpdatesKnobPlaceholders()
    {
        Settings settings(m_dir.filePath(QStringLiteral("preset.ini")));
        SettingsDialog dialog(settings);
        auto* preset = dialog.findChild<QComboBox*>(QStringLiteral("edit_queue_preset"));
        auto* wait = dialog.findChild<QLineEdit*>(QStringLiteral("edit_queue_SCENE_MAX_WAIT_SECONDS"));
        QVERIFY(preset && wait);
        QCOMPARE(wait->placeholderText(), QStringLiteral("preset: 600"));
        preset->setCurrentIndex(preset->findData(QStringLiteral("fastIteration")));
        QCOMPARE(wait->placeholderText(), QStringLiteral("preset: 30"));
    }

    void sandboxOverrideIsShownButTheSavedValueIsEdited()
    {
        Settings settings(m_dir.filePath(QStringLiteral("override.ini")));
        settings.set(Key::LlmUrl, QStringLiteral("http://llm-box:1234"));
        settings.setSessionOverride(Key::LlmUrl, QStringLiteral("http://127.0.0.1:45678"));
        SettingsDialog dialog(settings);
        QCOMPARE(dialog.findChild<QLineEdit*>(QStringLiteral("edit_llm_url"))->text(), QStringLiteral("http://llm-box:1234"));
        auto* note = dialog.findChild<QLabel*>(QStringLiteral("override_llm_url"));
        QVERIFY(note);
        QVERIFY(note->text().contains(QLatin1String("127.0.0.1:45678")));
    }
};

QTEST_MAIN(TestSettingsDialog)
#include "tst_settingsdialog.moc"
