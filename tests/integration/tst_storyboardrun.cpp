// `gemdirect run --storyboard DIR` end to end against the sandbox: an approved storyboard's clips are
// rendered (a chained shot after the shot it continues from) and recorded; a changed character
// sheet makes exactly the dependent keyframes and clips stale (kept, not deleted), and the video pass
// renders nothing for them until their keyframes are re-rendered and approved.

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
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
