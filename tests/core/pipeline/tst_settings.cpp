#include "pipeline/Settings.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using gd::pipeline::Settings;
using Key = Settings::Key;

class TestSettings : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString file(const QString& name = QStringLiteral("studio.ini")) const { return m_dir.filePath(name); }

    static QString messageFor(const QVector<Settings::Problem>& problems, Key key)
    {
        for (const auto& p : problems) {
            if (p.key == key)
                return p.message;
        }
        return {};
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void init()
    {
        QFile::remove(file());
        QFile::remove(m_dir.filePath(QStringLiteral("studio.secrets.json")));
    }

    void roundTripsEveryKindOfValue()
    {
        {
            Settings s(file());
            QVERIFY(s.set(Key::LlmUrl, QStringLiteral("http://10.0.0.5:1234")).isNull());
            QVERIFY(s.set(Key::LlmModel, QStringLiteral("qwen2.5-7b")).isNull());
            QVERIFY(s.set(Key::QueuePreset, QStringLiteral("fastIteration")).isNull());
            QVERIFY(s.set(Key::SceneRetryBudget, 3).isNull());
            QVERIFY(s.set(Key::SceneMaxWaitSeconds, 45.5).isNull());
            QVERIFY(s.set(Key::RunsRoot, m_dir.filePath(QStringLiteral("runs"))).isNull());
        }
        Settings again(file());
        QCOMPARE(again.string(Key::LlmUrl), QStringLiteral("http://10.0.0.5:1234"));
        QCOMPARE(again.string(Key::LlmModel), QStringLiteral("qwen2.5-7b"));
        QCOMPARE(again.integer(Key::SceneRetryBudget), 3);
        QCOMPARE(again.real(Key::SceneMaxWaitSeconds), 45.5);
        QCOMPARE(again.string(Key::RunsRoot), m_dir.filePath(QStringLiteral("runs")));
        // The policy is the saved preset with the saved knobs on top; unset knobs keep the preset's values.
        const auto policy = again.queuePolicy();
        QCOMPARE(policy.presetName, QStringLiteral("FastIteration"));
        QCOMPARE(policy.sceneRetryBudget, 3);
        QCOMPARE(policy.maxWaitSeconds, 45.5);
        QCOMPARE(policy.pollIntervalSeconds, gd::pipeline::QueuePolicy::fastIteration().pollIntervalSeconds);
        // Clearing a knob returns it to the preset's value.
        QVERIFY(again.set(Key::SceneMaxWaitSeconds, QString()).isNull());
        QCOMPARE(again.real(Key::SceneMaxWaitSeconds), gd::pipeline::QueuePolicy::fastIteration().maxWaitSeconds);
        QVERIFY(!again.isExplicitlySet(Key::SceneMaxWaitSeconds));
    }

    void poolServerOutputFoldersRoundTripIntoBackends()
    {
        // A folder with a space: the map is one LABEL=FOLDER per line, not a space-separated list.
        const QString folder = m_dir.filePath(QStringLiteral("comfy out/gpu0"));
        const QString unlabelledFolder = m_dir.filePath(QStringLiteral("comfy-8190"));
        QVERIFY(QDir().mkpath(folder));
        QVERIFY(QDir().mkpath(unlabelledFolder));
        {
            Settings s(file());
            QVERIFY(s.set(Key::ComfyServers, QStringLiteral("gpu0=http://127.0.0.1:8188 gpu1=http://10.0.0.7:8188 "
                                                            "http://127.0.0.1:8190"))
                        .isNull());
            QVERIFY(s.set(Key::ComfyServerTokens, QStringLiteral("gpu1=tok-1")).isNull());
            QCOMPARE(Settings::serverLabels(s.string(Key::ComfyServers)),
                     (QStringList{QStringLiteral("gpu0"), QStringLiteral("gpu1"), QStringLiteral("127.0.0.1:8190")}));
            QVERIFY(s.set(Key::ComfyServerOutputDirs,
                          Settings::folderMapText({{QStringLiteral("gpu0"), folder},
                                                   {QStringLiteral("127.0.0.1:8190"), unlabelledFolder}}))
                        .isNull());
            QVERIFY2(s.validate().isEmpty(), qPrintable(s.validate().value(0).message));
        }
        Settings again(file());
        const QList<gd::pipeline::BackendSpec> backends = again.backends();
        QCOMPARE(backends.size(), 3);
        QCOMPARE(backends.at(0).label, QStringLiteral("gpu0"));
        QCOMPARE(backends.at(0).outputDir, folder);
        QCOMPARE(backends.at(1).outputDir, QString()); // a remote server: followed over HTTP only
        QCOMPARE(backends.at(1).bearerToken, QStringLiteral("tok-1"));
        QCOMPARE(backends.at(2).outputDir, unlabelledFolder);
        // Clearing the map leaves every server without a local folder.
        QVERIFY(again.set(Key::ComfyServerOutputDirs, QString()).isNull());
        for (const auto& b : again.backends())
            QVERIFY(b.outputDir.isEmpty());
    }

    void poolServerOutputFolderIsValidated_data()
    {
        QTest::addColumn<QString>("map");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing") << QStringLiteral("gpu0=/nonexistent/comfy/output")
                                 << QStringLiteral("server \"gpu0\": \"/nonexistent/comfy/output\" does not exist");
        QTest::newRow("a file") << QStringLiteral("gpu0=%1") << QStringLiteral("is a file, not a folder");
        QTest::newRow("relative") << QStringLiteral("gpu0=comfy/output") << QStringLiteral("must be an absolute path");
        QTest::newRow("unknown server") << QStringLiteral("gpu9=/tmp")
                                        << QStringLiteral("\"gpu9\" is not one of the pool's servers (gpu0)");
        QTest::newRow("no label") << QStringLiteral("/tmp") << QStringLiteral("is not SERVER=FOLDER");
    }

    void poolServerOutputFolderIsValidated()
    {
        QFETCH(QString, map);
        QFETCH(QString, expected);
        const QString aFile = m_dir.filePath(QStringLiteral("not-a-folder.txt"));
        QFile f(aFile);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        Settings s(file());
        QVERIFY(s.set(Key::ComfyServers, QStringLiteral("gpu0=http://127.0.0.1:8188")).isNull());
        const QString message =
            messageFor(s.validate({{Key::ComfyServerOutputDirs, map.contains(QLatin1String("%1")) ? map.arg(aFile) : map}}),
                       Key::ComfyServerOutputDirs);
        QVERIFY2(message.startsWith(Settings::label(Key::ComfyServerOutputDirs)), qPrintable(message));
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    void keyNamesMatchTheQueueKnobs()
    {
        QCOMPARE(Settings::name(Key::SceneMaxWaitSeconds), QStringLiteral("queue/SCENE_MAX_WAIT_SECONDS"));
        QCOMPARE(Settings::name(Key::SceneRetryBudget), QStringLiteral("queue/SCENE_RETRY_BUDGET"));
        QCOMPARE(Settings::keyFromName(QStringLiteral("comfy/token")), std::optional<Key>(Key::ComfyToken));
    }

    void secretsLiveInAnOwnerOnlyFile()
    {
        const QString apiKey = QStringLiteral("sk-very-secret-123");
        const QString token = QStringLiteral("bearer-xyz-789");
        {
            Settings s(file());
            QVERIFY(s.set(Key::LlmApiKey, apiKey).isNull());
            QVERIFY(s.set(Key::ComfyToken, token).isNull());
            QVERIFY(s.set(Key::LlmModel, QStringLiteral("m")).isNull());
            QCOMPARE(s.secretsFilePath(), m_dir.filePath(QStringLiteral("studio.secrets.json")));
        }
        QFile main(file());
        QVERIFY(main.open(QIODevice::ReadOnly));
        const QByteArray mainBytes = main.readAll();
        QVERIFY(!mainBytes.contains(apiKey.toUtf8()));
        QVERIFY(!mainBytes.contains(token.toUtf8()));
        QVERIFY(mainBytes.contains("llm/model") || mainBytes.contains("[llm]"));

        QFile secrets(m_dir.filePath(QStringLiteral("studio.secrets.json")));
        QVERIFY(secrets.exists());
        QCOMPARE(secrets.permissions() & ~(QFileDevice::ReadUser | QFileDevice::WriteUser),
                 QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        QVERIFY(secrets.open(QIODevice::ReadOnly));
        QVERIFY(secrets.readAll().contains(apiKey.toUtf8()));

        Settings again(file());
        QCOMPARE(again.string(Key::LlmApiKey), apiKey);
        QCOMPARE(again.string(Key::ComfyToken), token);
        QCOMPARE(again.healthOptions().llmApiKey, apiKey);
    }

    void validationExplainsBadValues_data()
    {
        QTest::addColumn<Key>("key");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("ftp url") << Key::ComfyUrl << QStringLiteral("ftp://host:8188") << QStringLiteral("must start with http:// or https://");
        QTest::newRow("url without host") << Key::LlmUrl << QStringLiteral("http://") << QStringLiteral("names no server");
        QTest::newRow("missing output dir") << Key::ComfyOutputDir << QStringLiteral("/nonexistent/comfy/output")
                                            << QStringLiteral("does not exist");
        QTest::newRow("zero max wait") << Key::SceneMaxWaitSeconds << QStringLiteral("0") << QStringLiteral("must be greater than 0");
        QTest::newRow("poll too fast") << Key::SceneHistoryPollIntervalSeconds << QStringLiteral("0.01")
                                       << QStringLiteral("at least 0.1 s");
        QTest::newRow("negative retries") << Key::SceneRetryBudget << QStringLiteral("-1") << QStringLiteral("must not be negative");
        QTest::newRow("fractional retries") << Key::SceneRetryBudget << QStringLiteral("1.5") << QStringLiteral("whole number");
        QTest::newRow("not a number") << Key::SceneFrameFloor << QStringLiteral("lots") << QStringLiteral("is not a number");
        QTest::newRow("relative runs root") << Key::RunsRoot << QStringLiteral("runs") << QStringLiteral("absolute path");
        QTest::newRow("unknown profile") << Key::WorkflowProfile << QStringLiteral("no-such-profile") << QStringLiteral("cannot be used");
        QTest::newRow("unknown preset") << Key::QueuePreset << QStringLiteral("turbo") << QStringLiteral("is not one of");
    }

    void validationExplainsBadValues()
    {
        QFETCH(Key, key);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        Settings s(file());
        QVERIFY2(messageFor(s.validate(), key).isEmpty(), qPrintable(messageFor(s.validate(), key)));
        const QString candidateMessage = messageFor(s.validate({{key, value}}), key);
        QVERIFY2(candidateMessage.contains(expected), qPrintable(candidateMessage));
        // Saved values are validated the same way.
        s.set(key, value);
        if (!value.trimmed().isEmpty())
            QVERIFY(messageFor(s.validate(), key).contains(expected));
    }

    void changedSignalsEffectiveChangesOnly()
    {
        Settings s(file());
        QSignalSpy spy(&s, &Settings::changed);
        s.set(Key::LlmModel, QStringLiteral("a"));
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).value<Key>(), Key::LlmModel);
        s.set(Key::LlmModel, QStringLiteral("a"));
        QCOMPARE(spy.count(), 1);
        // A preset switch changes every knob that follows it.
        spy.clear();
        s.set(Key::QueuePreset, QStringLiteral("fastIteration"));
        QList<Key> keys;
        for (const auto& args : spy)
            keys << args.at(0).value<Key>();
        QVERIFY(keys.contains(Key::QueuePreset));
        QVERIFY(keys.contains(Key::SceneMaxWaitSeconds));
        QVERIFY(!keys.contains(Key::LlmModel));
    }

    void sessionOverridesAreNeverSaved()
    {
        {
            Settings s(file());
            s.set(Key::ComfyUrl, QStringLiteral("http://render-box:8188"));
            QSignalSpy spy(&s, &Settings::changed);
            s.setSessionOverride(Key::ComfyUrl, QStringLiteral("http://127.0.0.1:40001"));
            QCOMPARE(spy.count(), 1);
            QCOMPARE(s.string(Key::ComfyUrl), QStringLiteral("http://127.0.0.1:40001"));
            QCOMPARE(s.storedValue(Key::ComfyUrl).toString(), QStringLiteral("http://render-box:8188"));
            QCOMPARE(s.healthOptions().comfyUrl.port(), 40001);
        }
        Settings again(file());
        QCOMPARE(again.string(Key::ComfyUrl), QStringLiteral("http://render-box:8188"));
    }
};

QTEST_GUILESS_MAIN(TestSettings)
#include "tst_settings.moc"
