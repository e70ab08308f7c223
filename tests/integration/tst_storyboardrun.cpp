// `gemdirect run --storyboard DIR` end to end against the sandbox: an approved storyboard's clips are
// rendered (a chained shot after the shot it continues from) and recorded; a changed character
// sheet makes exactly the dependent keyframes and clips stale (kept, not deleted), and the video pass
// renders nothing for them until their keyframes are re-rendered and approved. Each pass ends with the
// quality step like `gemdirect run`: the storyboard metrics of the shots it rendered are measured in
// the run's artifact (`gemdirect kpi`), and --metrics-port serves the pass and its KPI verdicts.

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

namespace {

struct CliResult
{
    int exitCode = -1;
    QString out;
};

CliResult gemdirect(const QStringList& args, int timeoutMs = 60000)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GEMDIRECT_DB"),
               QDir::temp().filePath(QStringLiteral("tst_storyboardrun-unused.db")));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(GD_CLI_PATH), args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAll())};
}

const QStringList kSandbox{QStringLiteral("--sandbox"), QStringLiteral("--fast"),
                           QStringLiteral("--no-history"), QStringLiteral("--quiet")};

QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

QJsonObject clipOf(const QString& dir, const QString& key)
{
    for (const QJsonValue& v :
         readJson(dir + QStringLiteral("/storyboard.json")).value(QStringLiteral("shots")).toArray())
        if (v.toObject().value(QStringLiteral("key")).toString() == key)
            return v.toObject().value(QStringLiteral("clip")).toObject();
    return {};
}

QJsonObject shotJson(const QString& id, const QString& firstFrame, const QString& who,
                     const QString& continuesFrom = {})
{
    QJsonObject s{
        {QStringLiteral("id"), id},
        {QStringLiteral("description"), firstFrame},
        {QStringLiteral("firstFrame"), firstFrame},
        {QStringLiteral("camera"), QStringLiteral("slow dolly in")},
        {QStringLiteral("motion"), QStringLiteral("rain runs down the glass")},
        {QStringLiteral("visibleCharacters"), QJsonArray{QJsonObject{{QStringLiteral("name"), who}}}}};
    if (!continuesFrom.isEmpty())
        s.insert(QStringLiteral("continuesFrom"), continuesFrom);
    return s;
}

// Two scenes × two shots; Tom appears in scene-001/shot-02 only; scene-002/shot-02 continues from
// scene-002/shot-01 (its clip starts on that clip's last frame).
QByteArray storyJson()
{
    auto character = [](const QString& name, const QString& sheet) {
        return QJsonObject{{QStringLiteral("name"), name},
                           {QStringLiteral("visualDescriptor"), sheet},
                           {QStringLiteral("referencePrompt"),
                            QString(QStringLiteral("character reference sheet, ") + sheet)}};
    };
    auto scene = [](const QString& id, const QString& prompt, const QJsonArray& shots) {
        return QJsonObject{{QStringLiteral("id"), id},
                           {QStringLiteral("title"), id},
                           {QStringLiteral("prompt"), prompt},
                           {QStringLiteral("expectedFrames"), 9},
                           {QStringLiteral("shots"), shots}};
    };
    const QJsonObject story{
        {QStringLiteral("storyId"), QStringLiteral("storyboardrun")},
        {QStringLiteral("title"), QStringLiteral("The lamp")},
        {QStringLiteral("logline"), QStringLiteral("A keeper and a fisherman keep the lamp burning.")},
        {QStringLiteral("directorsVision"), QStringLiteral("Grey sea.")},
        {QStringLiteral("bible"),
         QJsonObject{
             {QStringLiteral("characters"),
              QJsonArray{
                  character(QStringLiteral("Mara Voss"), QStringLiteral("Mara Voss, orange storm coat")),
                  character(QStringLiteral("Tom Reed"), QStringLiteral("Tom Reed, green oilskin"))}}}},
        {QStringLiteral("scenes"),
         QJsonArray{
             scene(QStringLiteral("scene-001"), QStringLiteral("lamp room at night"),
                   QJsonArray{shotJson(QStringLiteral("shot-01"), QStringLiteral("Mara trims the wick"),
                                       QStringLiteral("Mara Voss")),
                              shotJson(QStringLiteral("shot-02"), QStringLiteral("Tom climbs the stairs"),
                                       QStringLiteral("Tom Reed"))}),
             scene(QStringLiteral("scene-002"), QStringLiteral("the gallery at dawn"),
                   QJsonArray{shotJson(QStringLiteral("shot-01"), QStringLiteral("Mara steps outside"),
                                       QStringLiteral("Mara Voss")),
                              shotJson(QStringLiteral("shot-02"), QStringLiteral("Mara looks at the sea"),
                                       QStringLiteral("Mara Voss"), QStringLiteral("shot-01"))})}}};
    return QJsonDocument(story).toJson();
}

const QStringList kAllShots{QStringLiteral("scene-001/shot-01"), QStringLiteral("scene-001/shot-02"),
                            QStringLiteral("scene-002/shot-01"), QStringLiteral("scene-002/shot-02")};

// Reads the process' stdout into `out` until `needle` appears; false after `timeoutMs`.
bool waitForOutput(QProcess& p, QString& out, const QRegularExpression& needle, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (!needle.match(out).hasMatch()) {
        if (clock.elapsed() > timeoutMs || p.state() == QProcess::NotRunning)
            return false;
        p.waitForReadyRead(200);
        out += QString::fromUtf8(p.readAllStandardOutput());
    }
    return true;
}

QByteArray scrape(const QUrl& url)
{
    QNetworkAccessManager nam;
    QNetworkReply* reply = nam.get(QNetworkRequest(url));
    QSignalSpy done(reply, &QNetworkReply::finished);
    done.wait(10000);
    const QByteArray body = reply->readAll();
    reply->deleteLater();
    return body;
}

// The `gemdirect kpi` table line of one KPI.
QString kpiLine(const QString& table, const QString& name)
{
    for (const QString& line : table.split(QLatin1Char('\n')))
        if (line.startsWith(name))
            return line;
    return {};
}

} // namespace

class TestStoryboardRun : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;

private Q_SLOTS:
    void clipsRenderAndGoStaleWithTheirSheet()
    {
        QVERIFY(m_tmp.isValid());
        const QString storyPath = m_tmp.filePath(QStringLiteral("story.json"));
        {
            QFile f(storyPath);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(storyJson());
        }
        const QString dir = m_tmp.filePath(QStringLiteral("board"));
        CliResult r = gemdirect({QStringLiteral("storyboard"), QStringLiteral("create"),
                                 QStringLiteral("--story"), storyPath, QStringLiteral("-o"), dir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        const QStringList sheets{QStringLiteral("--candidates"), QStringLiteral("1"),
                                 QStringLiteral("--auto-approve")};
        r = gemdirect(
            QStringList{QStringLiteral("storyboard"), QStringLiteral("all"), dir} + sheets + kSandbox, 90000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));

        // The video pass: four clips, the chained one in a second pass.
        r = gemdirect(QStringList{QStringLiteral("run"), QStringLiteral("--storyboard"), dir} + kSandbox,
                      90000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("Estimated GPU time for 4 clip(s)")), qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("Pass 2: 1 clip(s)")), qPrintable(r.out));
        QVERIFY(r.out.trimmed()
                    .section(QLatin1Char('\n'), -1)
                    .startsWith(QStringLiteral("Run directory: ") + dir + QStringLiteral("/runs/")));
        QHash<QString, QString> firstDirs;
        for (const QString& key : kAllShots) {
            const QJsonObject clip = clipOf(dir, key);
            QCOMPARE(clip.value(QStringLiteral("selected")).toInt(), 1);
            const QJsonObject v = clip.value(QStringLiteral("versions")).toArray().first().toObject();
            QCOMPARE(v.value(QStringLiteral("frames")).toInt(), 9);
            QCOMPARE(v.value(QStringLiteral("profile")).toString(), QStringLiteral("sandbox-i2v"));
            QCOMPARE(v.value(QStringLiteral("lastFrameSha256")).toString().size(), 64);
            QVERIFY(!v.value(QStringLiteral("inputHash")).toString().isEmpty());
            firstDirs.insert(key, v.value(QStringLiteral("dir")).toString());
            QCOMPARE(QDir(dir + QLatin1Char('/') + firstDirs.value(key)).entryList(QDir::Files).size(), 9);
        }
        // The chained clip starts on its predecessor's last frame.
        const QJsonObject chained = clipOf(dir, QStringLiteral("scene-002/shot-02"))
                                        .value(QStringLiteral("versions"))
                                        .toArray()
                                        .first()
                                        .toObject();
        QCOMPARE(chained.value(QStringLiteral("inputs")).toObject().value(QStringLiteral("start")).toString(),
                 clipOf(dir, QStringLiteral("scene-002/shot-01"))
                     .value(QStringLiteral("versions"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QStringLiteral("lastFrameSha256"))
                     .toString());

        // Everything is fresh: a second video pass renders nothing.
        r = gemdirect(QStringList{QStringLiteral("run"), QStringLiteral("--storyboard"), dir} + kSandbox,
                      60000);
        QVERIFY2(r.exitCode == 0 && r.out.contains(QStringLiteral("Nothing to render.")), qPrintable(r.out));

        // Tom's sheet changes (a new approved version): his keyframe and clip go stale, kept on disk.
        QImage sheet(96, 96, QImage::Format_RGB32);
        sheet.fill(QColor(200, 40, 200));
        const QString sheetPath = m_tmp.filePath(QStringLiteral("tom-new.png"));
        QVERIFY(sheet.save(sheetPath));
        r = gemdirect({QStringLiteral("storyboard"), QStringLiteral("upload"), dir,
                       QStringLiteral("character:Tom Reed#default"), sheetPath});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        r = gemdirect(QStringList{QStringLiteral("run"), QStringLiteral("--storyboard"), dir} + kSandbox,
                      60000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("skipped: scene-001/shot-02: keyframe is stale")),
                 qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("Nothing to render.")), qPrintable(r.out));
        QVERIFY(QDir(dir + QLatin1Char('/') + firstDirs.value(QStringLiteral("scene-001/shot-02"))).exists());
        for (const QString& key : kAllShots)
            QCOMPARE(clipOf(dir, key).value(QStringLiteral("versions")).toArray().size(), 1);

        // Re-render the stale keyframe (approved); then only Tom's clip renders again.
        r = gemdirect(QStringList{QStringLiteral("storyboard"), QStringLiteral("keyframes"), dir} + sheets +
                          kSandbox,
                      90000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        r = gemdirect(QStringList{QStringLiteral("run"), QStringLiteral("--storyboard"), dir} + kSandbox,
                      90000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("Pass 1: 1 clip(s)")), qPrintable(r.out));
        const QJsonObject tom = clipOf(dir, QStringLiteral("scene-001/shot-02"));
        QCOMPARE(tom.value(QStringLiteral("versions")).toArray().size(), 2);
        QCOMPARE(tom.value(QStringLiteral("selected")).toInt(), 2);
        QVERIFY(QDir(dir + QLatin1Char('/') + firstDirs.value(QStringLiteral("scene-001/shot-02"))).exists());
        for (const QString& key : kAllShots)
            if (key != QLatin1String("scene-001/shot-02"))
                QCOMPARE(clipOf(dir, key).value(QStringLiteral("versions")).toArray().size(), 1);
    }

    void videoPassesMeasureTheStoryboard()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString storyPath = tmp.filePath(QStringLiteral("story.json"));
        {
            QFile f(storyPath);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(storyJson());
        }
        const QString dir = tmp.filePath(QStringLiteral("board"));
        CliResult r = gemdirect({QStringLiteral("storyboard"), QStringLiteral("create"), QStringLiteral("--story"),
                                 storyPath, QStringLiteral("-o"), dir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        r = gemdirect(QStringList{QStringLiteral("storyboard"), QStringLiteral("all"), dir, QStringLiteral("--candidates"),
                                  QStringLiteral("1"), QStringLiteral("--auto-approve")} +
                          kSandbox,
                      90000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));

        QProcess p;
        p.setProcessChannelMode(QProcess::SeparateChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("GEMDIRECT_DB"), tmp.filePath(QStringLiteral("unused.db")));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(GD_CLI_PATH), QStringList{QStringLiteral("run"), QStringLiteral("--storyboard"), dir,
                                                         QStringLiteral("--metrics-port"), QStringLiteral("0"),
                                                         QStringLiteral("--metrics-linger"), QStringLiteral("30")} +
                                                 kSandbox);
        QString out;
        static const QRegularExpression announce(QStringLiteral("Metrics \\(OpenMetrics\\) at (\\S+)"));
        QVERIFY2(waitForOutput(p, out, announce, 30000), qPrintable(out + QString::fromUtf8(p.readAllStandardError())));
        const QUrl url(announce.match(out).captured(1));
        QVERIFY2(waitForOutput(p, out, QRegularExpression(QStringLiteral("Serving the final metrics")), 90000),
                 qPrintable(out + QString::fromUtf8(p.readAllStandardError())));
        // The last pass (the chained shot, Mara alone) with its storyboard KPI values.
        const QByteArray metrics = scrape(url);
        QVERIFY2(metrics.contains("gemdirect_kpi_value{kpi=\"character-identity\"} 4"), metrics.constData());
        QVERIFY2(metrics.contains("gemdirect_kpi_value{kpi=\"character-count-match\"} 100"), metrics.constData());
        p.terminate(); // ends the linger; the run is complete
        QVERIFY(p.waitForFinished(20000));
        out += QString::fromUtf8(p.readAllStandardOutput());
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(out.trimmed().section(QLatin1Char('\n'), -1).startsWith(QStringLiteral("Run directory: ")), qPrintable(out));

        // Pass 1 rendered three shots: every storyboard KPI measured in its artifact.
        static const QRegularExpression quality(QStringLiteral("`gemdirect kpi (\\S+)`"));
        const QString firstRun = quality.match(out).captured(1);
        QVERIFY2(!firstRun.isEmpty(), qPrintable(out));
        r = gemdirect({QStringLiteral("kpi"), firstRun});
        const QStringList rows{QStringLiteral("Prompt alignment on keyframes (judge)"),
                               QStringLiteral("Character identity (judge, 0–4)"),
                               QStringLiteral("Character count match"),
                               QStringLiteral("Sameness guard (near-identical keyframe pairs)")};
        for (const QString& row : rows) {
            const QString line = kpiLine(r.out, row);
            QVERIFY2(!line.isEmpty() && !line.contains(QStringLiteral("UNMEASURED")), qPrintable(r.out));
        }
        QVERIFY2(kpiLine(r.out, rows.at(1)).contains(QStringLiteral("4.000")), qPrintable(r.out));
        const QJsonObject artifact = readJson(firstRun + QStringLiteral("/artifact-metadata.json"));
        const QJsonObject q = artifact.value(QStringLiteral("QualityMetrics")).toObject();
        QCOMPARE(q.value(QStringLiteral("SamenessPairsJudged")).toInt(), 2);
        QCOMPARE(q.value(QStringLiteral("CharacterCountShots")).toInt(), 3);
        const QJsonObject scene1 =
            artifact.value(QStringLiteral("Scenes")).toArray().first().toObject().value(QStringLiteral("QualityMetrics")).toObject();
        QVERIFY(scene1.value(QStringLiteral("Shots")).toObject().contains(QStringLiteral("scene-001/shot-01")));
    }

    // An operator's keyframe uploaded under --sandbox, nothing rendered: `run --storyboard --sandbox`
    // judges it by the profile it was uploaded for (the upload records it), not by a default whose
    // hash differs, and renders its clip.
    void uploadedKeyframeRendersItsClip()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString storyPath = tmp.filePath(QStringLiteral("story.json"));
        {
            QFile f(storyPath);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(storyJson());
        }
        const QString dir = tmp.filePath(QStringLiteral("board"));
        CliResult r = gemdirect({QStringLiteral("storyboard"), QStringLiteral("create"), QStringLiteral("--story"),
                                 storyPath, QStringLiteral("-o"), dir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QImage frame(64, 36, QImage::Format_RGB32);
        frame.fill(Qt::darkCyan);
        const QString png = tmp.filePath(QStringLiteral("frame.png"));
        QVERIFY(frame.save(png));
        const QString shot = QStringLiteral("scene-001/shot-01");
        r = gemdirect({QStringLiteral("storyboard"), QStringLiteral("upload"), dir, shot, png, QStringLiteral("--sandbox")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));

        r = gemdirect(QStringList{QStringLiteral("run"), QStringLiteral("--storyboard"), dir, QStringLiteral("--shots"), shot,
                                  QStringLiteral("--no-quality")} +
                          kSandbox,
                      90000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QVERIFY2(!r.out.contains(QStringLiteral("stale")), qPrintable(r.out));
        QCOMPARE(clipOf(dir, shot).value(QStringLiteral("versions")).toArray().size(), 1);
    }

    void badInputIsExitTwo_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not a directory")
            << QStringList{QStringLiteral("--storyboard"), QStringLiteral("/nonexistent/board")}
            << QStringLiteral("is not a directory");
        QTest::newRow("with --story") << QStringList{QStringLiteral("--storyboard"), QStringLiteral("."),
                                                     QStringLiteral("--story"), QStringLiteral("x.json")}
                                      << QStringLiteral("exclude each other");
        QTest::newRow("--shots alone")
            << QStringList{QStringLiteral("--story"), QStringLiteral("x.json"), QStringLiteral("--shots"),
                           QStringLiteral("scene-001/shot-01")}
            << QStringLiteral("need --storyboard");
    }

    void badInputIsExitTwo()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        const CliResult r = gemdirect(QStringList{QStringLiteral("run")} + args + kSandbox);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.out.contains(expected), qPrintable(r.out));
    }

    void unknownShotKeyIsExitTwo()
    {
        const QString dir = m_tmp.filePath(QStringLiteral("board"));
        if (!QFile::exists(dir + QStringLiteral("/story.json")))
            QSKIP("needs the storyboard of the first test");
        const CliResult r =
            gemdirect(QStringList{QStringLiteral("run"), QStringLiteral("--storyboard"), dir,
                                  QStringLiteral("--shots"), QStringLiteral("scene-009/shot-01")} +
                      kSandbox);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.out.contains(QStringLiteral("the story has no shot scene-009/shot-01")),
                 qPrintable(r.out));
    }
};

QTEST_GUILESS_MAIN(TestStoryboardRun)
#include "tst_storyboardrun.moc"
