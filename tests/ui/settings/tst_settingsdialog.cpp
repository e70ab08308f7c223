#include "pipeline/Settings.h"
#include "settings/SettingsDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
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
