#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

// The .deb as a fresh machine gets it: built by CPack from this build tree, unpacked with dpkg -x into
// an empty root, and used from there — version, a sandbox run from the installed example, the
// validator on the result, and the files an operator needs (ComfyUI node, man pages, metadata).
class TestPackage : public QObject
{
    Q_OBJECT

    struct Result
    {
        int exitCode = -1;
        QString out;
        QString err;
    };

    Result exec(const QString& program, const QStringList& args, int timeoutMs = 120000) const
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        // The installed binary must not write into the operator's real home while being tested.
        env.insert(QStringLiteral("HOME"), m_tmp.filePath(QStringLiteral("home")));
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_tmp.filePath(QStringLiteral("home/data")));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_tmp.filePath(QStringLiteral("home/config")));
        p.setProcessEnvironment(env);
        p.setWorkingDirectory(m_tmp.path());
        p.start(program, args);
        if (!p.waitForFinished(timeoutMs))
            p.kill();
        Result r;
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = QString::fromUtf8(p.readAllStandardOutput());
        r.err = QString::fromUtf8(p.readAllStandardError());
        return r;
    }

    QString root(const QString& relative) const { return QDir(m_root).filePath(relative); }

    QTemporaryDir m_tmp; // unique per test process: ctest -j runs other tests beside this one
    QString m_deb;
    QString m_root;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        const QString out = m_tmp.filePath(QStringLiteral("cpack"));
        const Result r = exec(QStringLiteral(GD_CPACK_PATH),
                              {QStringLiteral("-G"), QStringLiteral("DEB"), QStringLiteral("-B"), out,
                               QStringLiteral("--config"), QStringLiteral(GD_BINARY_DIR "/CPackConfig.cmake")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QStringList debs = QDir(out).entryList({QStringLiteral("*.deb")}, QDir::Files);
        QCOMPARE(debs.size(), 1);
        m_deb = QDir(out).filePath(debs.first());
        m_root = m_tmp.filePath(QStringLiteral("root"));
        const Result x = exec(QStringLiteral("dpkg"), {QStringLiteral("-x"), m_deb, m_root});
        QVERIFY2(x.exitCode == 0, qPrintable(x.err));
    }

    void controlMetadata_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("expected");
        QTest::newRow("Package") << QStringLiteral("Package") << QStringLiteral("gemdirect-studio");
        QTest::newRow("Version") << QStringLiteral("Version") << QStringLiteral(GD_APP_VERSION);
        QTest::newRow("Section") << QStringLiteral("Section") << QStringLiteral("graphics");
        QTest::newRow("Maintainer") << QStringLiteral("Maintainer") << QStringLiteral("gemDirect maintainers");
        // dpkg-shlibdeps found the Qt libraries; the SQLite driver plugin is named explicitly.
        QTest::newRow("Depends Qt") << QStringLiteral("Depends") << QStringLiteral("libqt6core6");
        QTest::newRow("Depends sqlite") << QStringLiteral("Depends") << QStringLiteral("libqt6sql6-sqlite");
        QTest::newRow("Description") << QStringLiteral("Description") << QStringLiteral("ComfyUI");
    }
    void controlMetadata()
    {
        QFETCH(QString, field);
        QFETCH(QString, expected);
        const Result r = exec(QStringLiteral("dpkg-deb"), {QStringLiteral("--field"), m_deb, field});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains(expected), qPrintable(field + QStringLiteral(": ") + r.out));
    }

    void installedFiles_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("cli") << QStringLiteral("usr/bin/gemdirect");
        QTest::newRow("node init") << QStringLiteral("usr/share/gemdirect/comfyui/gemdirect_nodes/__init__.py");
        QTest::newRow("node") << QStringLiteral("usr/share/gemdirect/comfyui/gemdirect_nodes/save_frames.py");
        QTest::newRow("node readme") << QStringLiteral("usr/share/gemdirect/comfyui/gemdirect_nodes/README.md");
        QTest::newRow("example") << QStringLiteral("usr/share/gemdirect/examples/lighthouse.json");
        QTest::newRow("workflow") << QStringLiteral("usr/share/gemdirect/workflows/sandbox.profile.json");
        QTest::newRow("prompts") << QStringLiteral("usr/share/gemdirect/prompts/manifest.json");
        QTest::newRow("man") << QStringLiteral("usr/share/man/man1/gemdirect.1");
        QTest::newRow("man run") << QStringLiteral("usr/share/man/man1/gemdirect-run.1");
        QTest::newRow("monitoring guide") << QStringLiteral("usr/share/doc/gemdirect-studio/MONITORING.md");
#if GD_HAVE_STUDIO
        QTest::newRow("studio") << QStringLiteral("usr/bin/gemdirect-studio");
        QTest::newRow("desktop") << QStringLiteral("usr/share/applications/gemdirect-studio.desktop");
        QTest::newRow("metainfo") << QStringLiteral("usr/share/metainfo/io.github.gemdirect.studio.metainfo.xml");
        QTest::newRow("icon svg") << QStringLiteral("usr/share/icons/hicolor/scalable/apps/gemdirect-studio.svg");
        QTest::newRow("icon png") << QStringLiteral("usr/share/icons/hicolor/256x256/apps/gemdirect-studio.png");
#endif
    }
    void installedFiles()
    {
        QFETCH(QString, path);
        QVERIFY2(QFileInfo(root(path)).isFile(), qPrintable(path));
    }

    void sentinelUnitsShipped()
    {
        // Every systemd user unit of installer/linux lands where `systemctl --user` finds packaged units.
        const QStringList units = QDir(QStringLiteral(GD_SOURCE_DIR "/installer/linux"))
                                      .entryList({QStringLiteral("*.service"), QStringLiteral("*.timer")}, QDir::Files);
        if (units.isEmpty())
            QSKIP("no systemd units in installer/linux");
        for (const QString& unit : units)
            QVERIFY2(QFileInfo(root(QStringLiteral("usr/lib/systemd/user/") + unit)).isFile(), qPrintable(unit));
    }

    void noPythonCacheShipped()
    {
        QDir nodes(root(QStringLiteral("usr/share/gemdirect/comfyui/gemdirect_nodes")));
        QVERIFY(!nodes.exists(QStringLiteral("__pycache__")));
    }

    void manPageDescribesTheOptions()
    {
        QFile page(root(QStringLiteral("usr/share/man/man1/gemdirect-run.1")));
        QVERIFY(page.open(QIODevice::ReadOnly));
        const QByteArray text = page.readAll();
        QVERIFY(text.startsWith(".TH GEMDIRECT\\-RUN 1"));
        QVERIFY(text.contains("\\-\\-metrics\\-port"));
        QVERIFY(!text.contains(GD_BINARY_DIR)); // the build path never leaks into a page
    }

    void installedBinaryRunsFromTheRoot()
    {
        const QString bin = root(QStringLiteral("usr/bin/gemdirect"));
        const Result v = exec(bin, {QStringLiteral("--version")});
        QCOMPARE(v.exitCode, 0);
        QCOMPARE(v.out.trimmed(), QStringLiteral("gemdirect " GD_APP_VERSION));

        const QString runs = m_tmp.filePath(QStringLiteral("runs"));
        const Result run = exec(bin, {QStringLiteral("run"), QStringLiteral("--story"),
                                      root(QStringLiteral("usr/share/gemdirect/examples/lighthouse.json")),
                                      QStringLiteral("--sandbox"), QStringLiteral("--fast"), QStringLiteral("--quiet"),
                                      QStringLiteral("--no-history"), QStringLiteral("--no-quality"),
                                      QStringLiteral("--runs-root"), runs});
        QVERIFY2(run.exitCode == 0, qPrintable(run.out + run.err));
        const QString last = run.out.trimmed().split(QLatin1Char('\n')).last();
        QVERIFY2(last.startsWith(QLatin1String("Run directory: ")), qPrintable(run.out));
        const QString runDir = last.mid(int(qstrlen("Run directory: ")));
        QVERIFY(runDir.startsWith(runs));

        const Result val = exec(bin, {QStringLiteral("validate"), runDir});
        QVERIFY2(val.exitCode == 0, qPrintable(val.out + val.err));
    }

    void installedBinaryInstallsTheNode()
    {
        // The node ships inside the binary too: install-node works without the share/ copy.
        const QString comfy = m_tmp.filePath(QStringLiteral("ComfyUI"));
        QVERIFY(QDir().mkpath(QDir(comfy).filePath(QStringLiteral("custom_nodes"))));
        const Result r = exec(root(QStringLiteral("usr/bin/gemdirect")),
                              {QStringLiteral("comfy"), QStringLiteral("install-node"), QStringLiteral("--comfy-dir"), comfy});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QFile installed(QDir(comfy).filePath(QStringLiteral("custom_nodes/gemdirect_nodes/save_frames.py")));
        QFile shipped(root(QStringLiteral("usr/share/gemdirect/comfyui/gemdirect_nodes/save_frames.py")));
        QVERIFY(installed.open(QIODevice::ReadOnly));
        QVERIFY(shipped.open(QIODevice::ReadOnly));
        QCOMPARE(installed.readAll(), shipped.readAll());
    }
};

QTEST_GUILESS_MAIN(TestPackage)
#include "tst_package.moc"
