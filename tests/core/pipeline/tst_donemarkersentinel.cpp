// DoneMarkerSentinel: frame groups by prefix, markers only after stability and the frame minimum,
// the marker's content and atomic publication, node markers left alone, and /history-driven marking
// against the sandbox ComfyUI (a workflow that ends in a plain SaveImage).
#include "comfy/ComfyClient.h"
#include "pipeline/DoneMarkerSentinel.h"
#include "sandbox/SandboxHost.h"
#include "telemetry/TelemetryFormat.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUuid>
#include <QtTest>

using gd::pipeline::DoneMarkerSentinel;

Q_DECLARE_METATYPE(gd::pipeline::DoneMarkerSentinel::Options)

namespace {

// Writes a real PNG frame; `ageSeconds` > 0 back-dates its mtime so a single look finds it stable.
void writeFrame(const QString& path, int ageSeconds = 60, QSize size = {16, 12})
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QImage img(size, QImage::Format_RGB32);
    img.fill(Qt::darkCyan);
    QVERIFY2(img.save(path, "PNG"), qPrintable(path));
    if (ageSeconds > 0) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.setFileTime(QDateTime::currentDateTime().addSecs(-ageSeconds),
                              QFileDevice::FileModificationTime));
    }
}

QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    return pe.error == QJsonParseError::NoError ? doc.object()
                                                : QJsonObject{{QStringLiteral("parseError"), true}};
}

QStringList allFiles(const QString& root)
{
    QStringList out;
    QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        out << QDir(root).relativeFilePath(it.next());
    out.sort();
    return out;
}

QStringList frameNames(const QJsonObject& marker)
{
    QStringList names;
    for (const QJsonValue& v : marker.value(QStringLiteral("frames")).toArray())
        names << v.toString();
    return names;
}

DoneMarkerSentinel::Options options(const QString& dir, double stableSeconds = 0.3, int minFrames = 1)
{
    DoneMarkerSentinel::Options o;
    o.outputDirs = {dir};
    o.stableSeconds = stableSeconds;
    o.minFrames = minFrames;
    o.scanIntervalMs = 100;
    o.historyPollIntervalMs = 150;
    return o;
}

QJsonObject node(const QString& cls, const QJsonObject& inputs)
{
    return QJsonObject{{QStringLiteral("class_type"), cls}, {QStringLiteral("inputs"), inputs}};
}

// EmptyImage straight into a core SaveImage: the shape of a workflow without the marker node.
QJsonObject saveImageGraph(const QString& prefix, int frames)
{
    return QJsonObject{
        {QStringLiteral("1"), node(QStringLiteral("EmptyImage"), {{QStringLiteral("width"), 64},
                                                                  {QStringLiteral("height"), 48},
                                                                  {QStringLiteral("batch_size"), frames},
                                                                  {QStringLiteral("color"), 255}})},
        {QStringLiteral("2"),
         node(QStringLiteral("SaveImage"), {{QStringLiteral("images"), QJsonArray{QStringLiteral("1"), 0}},
                                            {QStringLiteral("filename_prefix"), prefix}})}};
}

} // namespace

class TestDoneMarkerSentinel : public QObject
{
    Q_OBJECT

private:
    // Submits `graph` to the sandbox and returns the prompt id (empty on failure).
    QString submit(gd::comfy::ComfyClient& client, const QJsonObject& graph)
    {
        const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
        QString accepted;
        bool done = false;
        client.submit(graph, id, this, [&](const gd::comfy::SubmitResult& r) {
            accepted = r.error.isNull() ? r.promptId : QString();
            if (!r.error.isNull())
                qWarning() << r.error.toString();
            done = true;
        });
        if (!QTest::qWaitFor([&] { return done; }, 10000))
            return {};
        return accepted;
    }

private Q_SLOTS:
    void parsesFrameNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("base");
        QTest::addColumn<qint64>("counter");
        QTest::newRow("SaveImage png")
            << QStringLiteral("frame_00001_.png") << QStringLiteral("frame") << qint64(1);
        QTest::newRow("underscores in the base")
            << QStringLiteral("scene-001_a1_00012_.png") << QStringLiteral("scene-001_a1") << qint64(12);
        QTest::newRow("six-digit counter")
            << QStringLiteral("f_123456_.jpg") << QStringLiteral("f") << qint64(123456);
        QTest::newRow("webp") << QStringLiteral("clip_00003_.webp") << QStringLiteral("clip") << qint64(3);
        QTest::newRow("short counter") << QStringLiteral("frame_001_.png") << QString() << qint64(-1);
        QTest::newRow("no trailing underscore")
            << QStringLiteral("frame_00001.png") << QString() << qint64(-1);
        QTest::newRow("temp file") << QStringLiteral("frame_00001_.png.tmp") << QString() << qint64(-1);
        QTest::newRow("marker") << QStringLiteral("frame.done") << QString() << qint64(-1);
        QTest::newRow("not an image") << QStringLiteral("frame_00001_.txt") << QString() << qint64(-1);
        QTest::newRow("video") << QStringLiteral("clip_00001_.mp4") << QString() << qint64(-1);
    }
    void parsesFrameNames()
    {
        QFETCH(QString, name);
        QFETCH(QString, base);
        QFETCH(qint64, counter);
        const auto fn = DoneMarkerSentinel::parseFrameName(name);
        QCOMPARE(fn.counter, counter);
        if (counter >= 0)
            QCOMPARE(fn.base, base);
    }

    void rejectsInvalidOptions_data()
    {
        QTest::addColumn<DoneMarkerSentinel::Options>("opt");
        QTest::addColumn<QString>("mentions");
        auto o = options(QStringLiteral("/tmp"));
        auto noDirs = o;
        noDirs.outputDirs.clear();
        QTest::newRow("no output dir") << noDirs << QStringLiteral("--output-dir");
        auto negative = o;
        negative.stableSeconds = -1;
        QTest::newRow("negative stable seconds") << negative << QStringLiteral("--stable-seconds");
        auto zeroFrames = o;
        zeroFrames.minFrames = 0;
        QTest::newRow("min frames 0") << zeroFrames << QStringLiteral("--min-frames");
        auto badUrl = o;
        badUrl.comfyUrl = QUrl(QStringLiteral("ftp://host"));
        QTest::newRow("non-http url") << badUrl << QStringLiteral("--comfy-url");
    }
    void rejectsInvalidOptions()
    {
        QFETCH(DoneMarkerSentinel::Options, opt);
        QFETCH(QString, mentions);
        const QStringList errors = DoneMarkerSentinel::validate(opt);
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors.first().contains(mentions), qPrintable(errors.first()));
        DoneMarkerSentinel s(opt);
        QCOMPARE(s.start().kind, QStringLiteral("config"));
        QVERIFY(DoneMarkerSentinel::validate(options(QStringLiteral("/tmp"))).isEmpty());
    }

    void startFailsForMissingFolder()
    {
        QTemporaryDir tmp;
        DoneMarkerSentinel s(options(tmp.filePath(QStringLiteral("nope"))));
        const gd::Error e = s.start();
        QVERIFY(e.message.contains(QStringLiteral("nope")));
        QVERIFY(!s.isRunning());
    }

    void groupsByPrefixIncludingSubfolders()
    {
        QTemporaryDir tmp;
        const QString out = tmp.path();
        writeFrame(out + QStringLiteral("/a_00001_.png"));
        writeFrame(out + QStringLiteral("/a_00002_.png"));
        writeFrame(out + QStringLiteral("/b_00001_.png"));
        writeFrame(out + QStringLiteral("/jobs/x/scene-001_a1_00001_.png"));
        writeFrame(out + QStringLiteral("/jobs/x/scene-001_a1_00002_.png"));
        writeFrame(out + QStringLiteral("/jobs/x/scene-001_a1_00003_.png"));
        writeFrame(out + QStringLiteral("/loose.png")); // no counter: not a ComfyUI frame group
        QFile notes(out + QStringLiteral("/notes_00001_.txt"));
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.close();

        DoneMarkerSentinel s(options(out));
        QSignalSpy written(&s, &DoneMarkerSentinel::markerWritten);
        QCOMPARE(s.scanNow(true), 3);
        QCOMPARE(written.size(), 3);

        const QJsonObject a = readJson(out + QStringLiteral("/a.done"));
        QCOMPARE(frameNames(a),
                 (QStringList{QStringLiteral("a_00001_.png"), QStringLiteral("a_00002_.png")}));
        QCOMPARE(readJson(out + QStringLiteral("/b.done")).value(QStringLiteral("count")).toInt(), 1);
        const QJsonObject x = readJson(out + QStringLiteral("/jobs/x/scene-001_a1.done"));
        QCOMPARE(x.value(QStringLiteral("count")).toInt(), 3);
        QCOMPARE(x.value(QStringLiteral("subfolder")).toString(), QStringLiteral("jobs/x"));
        QVERIFY(!QFile::exists(out + QStringLiteral("/loose.done")));
        QVERIFY(!QFile::exists(out + QStringLiteral("/notes.done")));
        // Nothing new: a second pass writes nothing.
        QCOMPARE(s.scanNow(true), 0);
    }

    void markerContentFollowsTheSpec()
    {
        QTemporaryDir tmp;
        const QString out = tmp.path();
        // Written out of order: the marker lists frames by counter.
        writeFrame(out + QStringLiteral("/shots/frame_00003_.png"), 60, {40, 30});
        writeFrame(out + QStringLiteral("/shots/frame_00001_.png"), 60, {40, 30});
        writeFrame(out + QStringLiteral("/shots/frame_00002_.png"), 60, {40, 30});
        DoneMarkerSentinel s(options(out));
        const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-1);
        QCOMPARE(s.scanNow(true), 1);

        const QJsonObject m = readJson(out + QStringLiteral("/shots/frame.done"));
        QCOMPARE(frameNames(m),
                 (QStringList{QStringLiteral("frame_00001_.png"), QStringLiteral("frame_00002_.png"),
                              QStringLiteral("frame_00003_.png")}));
        QCOMPARE(m.value(QStringLiteral("count")).toInt(), 3);
        QCOMPARE(m.value(QStringLiteral("subfolder")).toString(), QStringLiteral("shots"));
        QCOMPARE(m.value(QStringLiteral("width")).toInt(), 40);
        QCOMPARE(m.value(QStringLiteral("height")).toInt(), 30);
        QCOMPARE(m.value(QStringLiteral("writer")).toString(), QStringLiteral("sentinel"));
        QCOMPARE(m.value(QStringLiteral("trigger")).toString(), QStringLiteral("stability"));
        // Unknown without the node or /history: empty or null, never invented.
        QCOMPARE(m.value(QStringLiteral("job_id")), QJsonValue(QString()));
        QCOMPARE(m.value(QStringLiteral("prompt_id")), QJsonValue(QString()));
        QVERIFY(m.value(QStringLiteral("fps")).isNull());
        const QDateTime finished =
            gd::telemetry::TelemetryFormat::parseIso(m.value(QStringLiteral("finished_at")).toString());
        QVERIFY(finished.isValid());
        QVERIFY(finished >= before);
    }

    void publishesAtomically()
    {
        QTemporaryDir tmp;
        const QString out = tmp.path();
        for (int i = 1; i <= 5; ++i)
            writeFrame(out + QStringLiteral("/f_%1_.png").arg(i, 5, 10, QLatin1Char('0')));
        DoneMarkerSentinel s(options(out));
        QCOMPARE(s.scanNow(true), 1);
        QStringList expected;
        for (int i = 1; i <= 5; ++i)
            expected << QStringLiteral("f_%1_.png").arg(i, 5, 10, QLatin1Char('0'));
        expected << QStringLiteral("f.done");
        expected.sort();
        // No temp file left beside the marker, and the marker parses completely.
        QCOMPARE(allFiles(out), expected);
        const QJsonObject m = readJson(out + QStringLiteral("/f.done"));
        QVERIFY(!m.contains(QStringLiteral("parseError")));
        QCOMPARE(m.value(QStringLiteral("count")).toInt(), 5);
    }

    void waitsForStabilityWhileWatching()
    {
        QTemporaryDir tmp;
        const QString out = tmp.path();
        DoneMarkerSentinel s(options(out, 0.6));
        QSignalSpy written(&s, &DoneMarkerSentinel::markerWritten);
        QVERIFY(s.start().isNull());
        // Fresh frames (mtime now): not stable yet, however often it scans right away.
        writeFrame(out + QStringLiteral("/live/f_00001_.png"), 0);
        writeFrame(out + QStringLiteral("/live/f_00002_.png"), 0);
        QCOMPARE(s.scanNow(false), 0);
        QCOMPARE(s.scanNow(false), 0);
        QVERIFY(!QFile::exists(out + QStringLiteral("/live/f.done")));
        // Watcher or periodic scan marks it once the window has passed with nothing changing.
        QTRY_COMPARE_WITH_TIMEOUT(written.size(), 1, 10000);
        QCOMPARE(written.first().at(0).toString(), out + QStringLiteral("/live/f.done"));
        QCOMPARE(written.first().at(1).toInt(), 2);
        QCOMPARE(readJson(out + QStringLiteral("/live/f.done")).value(QStringLiteral("count")).toInt(), 2);
        s.stop();
    }

    void waitsForMinimumFrames()
    {
        QTemporaryDir tmp;
        const QString out = tmp.path();
        writeFrame(out + QStringLiteral("/f_00001_.png"));
        writeFrame(out + QStringLiteral("/f_00002_.png"));
        DoneMarkerSentinel s(options(out, 0.3, 3));
        QCOMPARE(s.scanNow(true), 0);
        QVERIFY(!QFile::exists(out + QStringLiteral("/f.done")));
        writeFrame(out + QStringLiteral("/f_00003_.png"));
        QCOMPARE(s.scanNow(true), 1);
        QCOMPARE(readJson(out + QStringLiteral("/f.done")).value(QStringLiteral("count")).toInt(), 3);
    }

    void waitsForIncompleteFrame()
    {
        QTemporaryDir tmp;
        const QString out = tmp.path();
        writeFrame(out + QStringLiteral("/f_00001_.png"));
        writeFrame(out + QStringLiteral("/f_00002_.png"));
        // A PNG cut short (a writer that died mid-frame): never vouched for.
        QFile cut(out + QStringLiteral("/f_00002_.png"));
        QVERIFY(cut.open(QIODevice::ReadWrite));
        QVERIFY(cut.resize(cut.size() / 2));
        QVERIFY(
            cut.setFileTime(QDateTime::currentDateTime().addSecs(-60), QFileDevice::FileModificationTime));
        cut.close();
        DoneMarkerSentinel s(options(out));
        QSignalSpy problems(&s, &DoneMarkerSentinel::problem);
        QCOMPARE(s.scanNow(true), 0);
        QVERIFY(!QFile::exists(out + QStringLiteral("/f.done")));
        QCOMPARE(problems.size(), 1);
        QVERIFY(problems.first().first().toString().contains(QStringLiteral("f_00002_.png")));
    }

    void leavesNodeMarkersAlone_data()
    {
        QTest::addColumn<QByteArray>("marker");
        QTest::newRow("node marker") << QByteArray(R"({"job_id":"j","prompt_id":"p","node_id":"9",)"
                                                   R"("frames":["f_00001_.png"],"count":1,"subfolder":"",)"
                                                   R"("width":16,"height":12,"fps":24.0,"finished_at":"x"})");
        QTest::newRow("not JSON") << QByteArray("garbage");
    }
    void leavesNodeMarkersAlone()
    {
        QFETCH(QByteArray, marker);
        QTemporaryDir tmp;
        const QString out = tmp.path();
        writeFrame(out + QStringLiteral("/f_00001_.png"));
        QFile m(out + QStringLiteral("/f.done"));
        QVERIFY(m.open(QIODevice::WriteOnly));
        m.write(marker);
        m.close();
        // Even frames after the node's marker (a later SaveImage with the same prefix) never make the
        // sentinel replace it.
        writeFrame(out + QStringLiteral("/f_00002_.png"));
        DoneMarkerSentinel s(options(out));
        QCOMPARE(s.scanNow(true), 0);
        QCOMPARE(s.scanNow(true), 0);
        QVERIFY(m.open(QIODevice::ReadOnly));
        QCOMPARE(m.readAll(), marker);
    }

    void marksALaterBatchAfterItsOwnMarker()
    {
        QTemporaryDir tmp;
        const QString out = tmp.path();
        writeFrame(out + QStringLiteral("/f_00001_.png"));
        writeFrame(out + QStringLiteral("/f_00002_.png"));
        DoneMarkerSentinel first(options(out));
        QCOMPARE(first.scanNow(true), 1);
        // A new process (cron) reads what its marker covers from the file itself.
        writeFrame(out + QStringLiteral("/f_00003_.png"));
        writeFrame(out + QStringLiteral("/f_00004_.png"));
        DoneMarkerSentinel second(options(out));
        QCOMPARE(second.scanNow(true), 1);
        const QJsonObject m = readJson(out + QStringLiteral("/f.done"));
        QCOMPARE(frameNames(m),
                 (QStringList{QStringLiteral("f_00003_.png"), QStringLiteral("f_00004_.png")}));
        QCOMPARE(m.value(QStringLiteral("count")).toInt(), 2);
        QCOMPARE(second.scanNow(true), 0);
    }

    void marksCompletePromptsFromHistory()
    {
        QTemporaryDir tmp;
        gd::sandbox::SandboxHost host;
        gd::sandbox::SandboxConfig cfg;
        cfg.outputDir = tmp.filePath(QStringLiteral("output"));
        cfg.markerNodeInstalled = false;
        QString error;
        QVERIFY2(host.start(cfg, 0, &error), qPrintable(error));

        // A window no test waits out: only /history can mark this group.
        auto opt = options(cfg.outputDir, 3600);
        opt.comfyUrl = host.url();
        DoneMarkerSentinel s(opt);
        QSignalSpy written(&s, &DoneMarkerSentinel::markerWritten);
        QVERIFY(s.start().isNull());

        gd::comfy::ComfyClient client(host.url());
        const QString id = submit(client, saveImageGraph(QStringLiteral("jobs/p1/frame"), 3));
        QVERIFY(!id.isEmpty());
        const QString path = cfg.outputDir + QStringLiteral("/jobs/p1/frame.done");
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(path), 15000);
        const QJsonObject m = readJson(path);
        QCOMPARE(m.value(QStringLiteral("prompt_id")).toString(), id);
        QCOMPARE(m.value(QStringLiteral("node_id")).toString(), QStringLiteral("2"));
        QCOMPARE(m.value(QStringLiteral("trigger")).toString(), QStringLiteral("history"));
        QCOMPARE(m.value(QStringLiteral("writer")).toString(), QStringLiteral("sentinel"));
        QCOMPARE(frameNames(m),
                 (QStringList{QStringLiteral("frame_00001_.png"), QStringLiteral("frame_00002_.png"),
                              QStringLiteral("frame_00003_.png")}));
        QCOMPARE(m.value(QStringLiteral("subfolder")).toString(), QStringLiteral("jobs/p1"));
        const QImage frame(cfg.outputDir + QStringLiteral("/jobs/p1/frame_00001_.png"));
        QCOMPARE(m.value(QStringLiteral("width")).toInt(), frame.width());
        QCOMPARE(m.value(QStringLiteral("height")).toInt(), frame.height());
        QCOMPARE(written.size(), 1);
        QCOMPARE(written.first().at(2).toString(), QStringLiteral("history"));

        // Later polls of the same history entry write nothing more.
        QTest::qWait(500);
        QCOMPARE(written.size(), 1);
        s.stop();
        host.stop();
    }

    void refusesHostileNamesFromHistory_data()
    {
        QTest::addColumn<QString>("fault");
        QTest::newRow("filename ../../escape.png") << QStringLiteral("hostile-filename");
        QTest::newRow("absolute subfolder /etc") << QStringLiteral("hostile-subfolder::0:0");
        QTest::newRow("subfolder ../..") << QStringLiteral("hostile-subfolder::0:1");
    }
    void refusesHostileNamesFromHistory()
    {
        QFETCH(QString, fault);
        QTemporaryDir tmp;
        gd::sandbox::SandboxHost host;
        gd::sandbox::SandboxConfig cfg;
        cfg.outputDir = tmp.filePath(QStringLiteral("comfy/output"));
        cfg.markerNodeInstalled = false;
        QString error;
        const auto rule = gd::sandbox::FaultRule::parse(fault, &error);
        QVERIFY2(rule, qPrintable(error));
        cfg.faults << *rule;
        QVERIFY2(host.start(cfg, 0, &error), qPrintable(error));

        auto opt = options(cfg.outputDir, 3600);
        opt.comfyUrl = host.url();
        DoneMarkerSentinel s(opt);
        QSignalSpy problems(&s, &DoneMarkerSentinel::problem);
        QSignalSpy written(&s, &DoneMarkerSentinel::markerWritten);
        QVERIFY(s.start().isNull());
        gd::comfy::ComfyClient client(host.url());
        QVERIFY(!submit(client, saveImageGraph(QStringLiteral("jobs/evil/frame"), 2)).isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(!problems.isEmpty(), 15000);
        QVERIFY2(problems.first().first().toString().contains(QStringLiteral("Refused")),
                 qPrintable(problems.first().first().toString()));
        QTest::qWait(400);
        QCOMPARE(written.size(), 0);
        // No marker anywhere in the temp tree (inside or outside the output folder).
        for (const QString& f : allFiles(tmp.path()))
            QVERIFY2(!f.endsWith(QStringLiteral(".done")), qPrintable(f));
        s.stop();
        host.stop();
    }
};

QTEST_GUILESS_MAIN(TestDoneMarkerSentinel)
#include "tst_donemarkersentinel.moc"
