// `gemdirect storyboard` end to end against the sandbox stand-ins (ComfyUI image profiles and the
// LLM with its vision model): the headless flow an operator scripts, and each failure row of issue 8.

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

namespace {

struct CliResult
{
    int exitCode = -1;
    QString out;
};

CliResult cli(const QStringList& args, int timeoutMs = 60000)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GEMDIRECT_DB"), QDir::temp().filePath(QStringLiteral("tst_storyboardflow-unused.db")));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(GD_CLI_PATH), QStringList{QStringLiteral("storyboard")} + args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAll())};
}

QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

QJsonObject shotEntry(const QJsonObject& state, const QString& key)
{
    for (const QJsonValue& v : state.value(QStringLiteral("shots")).toArray())
        if (v.toObject().value(QStringLiteral("key")).toString() == key)
            return v.toObject();
    return {};
}

// Render options every storyboard render of these tests uses: sandbox, fast policy, two candidates.
const QStringList kRender{QStringLiteral("--sandbox"), QStringLiteral("--fast"), QStringLiteral("--no-history"),
                          QStringLiteral("--quiet"), QStringLiteral("--candidates"), QStringLiteral("2")};

const QString kStory = QStringLiteral(GD_TEST_DATA_DIR "/storyboardflow/story.json");
const QString kMara = QStringLiteral("character:Mara Voss#default");

} // namespace

class TestStoryboardFlow : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;

    QString create(const QString& name)
    {
        const QString dir = m_tmp.filePath(name);
        const CliResult r = cli({QStringLiteral("create"), QStringLiteral("--story"), kStory, QStringLiteral("-o"), dir});
        if (r.exitCode != 0)
            qWarning("%s", qPrintable(r.out));
        return r.exitCode == 0 ? dir : QString();
    }

private Q_SLOTS:
    void ideaToApprovedStoryboardWithJudgeScores()
    {
        const QString dir = m_tmp.filePath(QStringLiteral("idea"));
        CliResult r = cli({QStringLiteral("create"), QStringLiteral("--sandbox"), QStringLiteral("--idea"),
                           QStringLiteral("a keeper and her brother save the lamp"), QStringLiteral("--scenes"),
                           QStringLiteral("1"), QStringLiteral("--quiet"), QStringLiteral("-o"), dir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        r = cli(QStringList{QStringLiteral("all"), dir, QStringLiteral("--auto-approve")} + kRender, 85000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("estimated GPU time")), qPrintable(r.out));

        const QJsonObject state = readJson(dir + QStringLiteral("/storyboard.json"));
        const QJsonArray refs = state.value(QStringLiteral("references")).toArray();
        QVERIFY(!refs.isEmpty());
        for (const QJsonValue& v : refs) {
            QVERIFY(v.toObject().value(QStringLiteral("approved")).toBool());
            const QJsonObject ver = v.toObject().value(QStringLiteral("versions")).toArray().first().toObject();
            QCOMPARE(ver.value(QStringLiteral("candidates")).toArray().size(), 2);
            QVERIFY(QFile::exists(dir + QLatin1Char('/') +
                                  ver.value(QStringLiteral("candidates")).toArray().first().toObject().value(QStringLiteral("file")).toString()));
        }
        const QJsonArray shots = state.value(QStringLiteral("shots")).toArray();
        QVERIFY(!shots.isEmpty());
        const QString first = shots.first().toObject().value(QStringLiteral("key")).toString();
        for (const QJsonValue& v : shots) {
            const QJsonObject kf = v.toObject().value(QStringLiteral("keyframe")).toObject();
            QVERIFY(kf.value(QStringLiteral("approved")).toBool());
            const QJsonObject ver = kf.value(QStringLiteral("versions")).toArray().first().toObject();
            QCOMPARE(ver.value(QStringLiteral("chosenBy")).toString(), QStringLiteral("judge"));
            for (const QJsonValue& c : ver.value(QStringLiteral("candidates")).toArray())
                QVERIFY(c.toObject().value(QStringLiteral("judge")).toObject().contains(QStringLiteral("score")));
        }
        const QJsonObject metrics = readJson(dir + QStringLiteral("/storyboard-metrics.json"));
        QVERIFY(!metrics.value(QStringLiteral("shots")).toObject().isEmpty());

        // The operator overrides the judge's pick: candidate 2, chosen by the operator, approved.
        r = cli({QStringLiteral("approve"), dir, first, QStringLiteral("--candidate"), QStringLiteral("2")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        const QJsonObject kf = shotEntry(readJson(dir + QStringLiteral("/storyboard.json")), first)
                                   .value(QStringLiteral("keyframe"))
                                   .toObject();
        const QJsonObject ver = kf.value(QStringLiteral("versions")).toArray().first().toObject();
        QCOMPARE(ver.value(QStringLiteral("chosen")).toInt(), 2);
        QCOMPARE(ver.value(QStringLiteral("chosenBy")).toString(), QStringLiteral("operator"));
        QVERIFY(kf.value(QStringLiteral("approved")).toBool());

        r = cli({QStringLiteral("status"), dir, QStringLiteral("--sandbox")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains(first) && r.out.contains(QStringLiteral("c2 operator")), qPrintable(r.out));
        // Without --sandbox (so without the sandbox profile defaults) the storyboard keeps the
        // profiles it was rendered with: nothing reads "stale: profile changed".
        r = cli({QStringLiteral("status"), dir});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(!r.out.contains(QStringLiteral("profile changed")) && r.out.contains(QStringLiteral("fresh")),
                 qPrintable(r.out));
    }

    void shotWithoutApprovedSheetIsBlockedUnlessTextOnly()
    {
        const QString dir = create(QStringLiteral("blocked"));
        QVERIFY(!dir.isEmpty());
        CliResult r = cli(QStringList{QStringLiteral("keyframes"), dir, QStringLiteral("--chain-cap"), QStringLiteral("1")} + kRender);
        QVERIFY2(r.out.contains(QStringLiteral("blocked: keyframe scene-001/shot-01: shot names Mara Voss, who has no "
                                               "approved sheet")),
                 qPrintable(r.out));
        // The chain cap: shot-03 continues from shot-02, which already continues from shot-01.
        QVERIFY2(r.out.contains(QStringLiteral("scene-001/shot-03: chain cap 1 reached")), qPrintable(r.out));
        QVERIFY(shotEntry(readJson(dir + QStringLiteral("/storyboard.json")), QStringLiteral("scene-001/shot-01")).isEmpty());

        r = cli(QStringList{QStringLiteral("keyframes"), dir, QStringLiteral("--allow-text-only"), QStringLiteral("--auto-approve")} + kRender);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        const QJsonObject kf = shotEntry(readJson(dir + QStringLiteral("/storyboard.json")), QStringLiteral("scene-001/shot-01"))
                                   .value(QStringLiteral("keyframe"))
                                   .toObject();
        const QJsonObject ver = kf.value(QStringLiteral("versions")).toArray().first().toObject();
        QVERIFY(ver.value(QStringLiteral("textOnly")).toBool());
        QVERIFY(ver.value(QStringLiteral("inputs")).toObject().value(QStringLiteral("textOnly")).toBool());
    }

    // A bookend shot on the command line: status lists its end keyframe as SCENE/SHOT#end, and
    // reroll / approve take that key.
    void bookendShotEndKeyframeByKey()
    {
        QJsonObject story = readJson(kStory);
        QJsonArray scenes = story.value(QStringLiteral("scenes")).toArray();
        QJsonObject scene = scenes.at(0).toObject();
        QJsonArray shots = scene.value(QStringLiteral("shots")).toArray();
        QJsonObject first = shots.at(0).toObject();
        first.insert(QStringLiteral("lastFrame"), QStringLiteral("Mara Voss lets the great lamp go dark"));
        shots = QJsonArray{first};
        scene.insert(QStringLiteral("shots"), shots);
        scenes = QJsonArray{scene};
        story.insert(QStringLiteral("scenes"), scenes);
        const QString storyFile = m_tmp.filePath(QStringLiteral("bookend-story.json"));
        {
            QFile f(storyFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QJsonDocument(story).toJson());
        }
        const QString dir = m_tmp.filePath(QStringLiteral("bookend"));
        CliResult r = cli({QStringLiteral("create"), QStringLiteral("--story"), storyFile, QStringLiteral("-o"), dir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        r = cli(QStringList{QStringLiteral("all"), dir, QStringLiteral("--auto-approve")} + kRender, 120000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("end keyframe scene-001/shot-01 v1:")), qPrintable(r.out));

        r = cli({QStringLiteral("status"), dir, QStringLiteral("--sandbox")});
        QVERIFY2(r.out.contains(QRegularExpression(QStringLiteral("end-frame +scene-001/shot-01#end +v1 .* yes +fresh"))),
                 qPrintable(r.out));

        r = cli(QStringList{QStringLiteral("reroll"), dir, QStringLiteral("scene-001/shot-01#end")} + kRender, 120000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QJsonObject end = shotEntry(readJson(dir + QStringLiteral("/storyboard.json")), QStringLiteral("scene-001/shot-01"))
                              .value(QStringLiteral("endKeyframe"))
                              .toObject();
        QCOMPARE(end.value(QStringLiteral("versions")).toArray().size(), 2);
        QCOMPARE(end.value(QStringLiteral("selected")).toInt(), 2);
        QVERIFY(!end.value(QStringLiteral("approved")).toBool());
        // The keyframe was not re-rolled.
        QCOMPARE(shotEntry(readJson(dir + QStringLiteral("/storyboard.json")), QStringLiteral("scene-001/shot-01"))
                     .value(QStringLiteral("keyframe"))
                     .toObject()
                     .value(QStringLiteral("versions"))
                     .toArray()
                     .size(),
                 1);

        r = cli({QStringLiteral("approve"), dir, QStringLiteral("scene-001/shot-01#end"), QStringLiteral("--candidate"),
                 QStringLiteral("2")});
        QVERIFY2(r.exitCode == 0 && r.out.contains(QStringLiteral("scene-001/shot-01#end: approved")), qPrintable(r.out));
        end = shotEntry(readJson(dir + QStringLiteral("/storyboard.json")), QStringLiteral("scene-001/shot-01"))
                  .value(QStringLiteral("endKeyframe"))
                  .toObject();
        QVERIFY(end.value(QStringLiteral("approved")).toBool());
        QCOMPARE(end.value(QStringLiteral("versions")).toArray().at(1).toObject().value(QStringLiteral("chosen")).toInt(), 2);

        // A shot without a lastFrame has no end keyframe.
        r = cli({QStringLiteral("approve"), dir, QStringLiteral("scene-001/shot-02#end")});
        QCOMPARE(r.exitCode, 2);
    }

    void uploadOfANonImageIsRefused()
    {
        const QString dir = create(QStringLiteral("upload"));
        QVERIFY(!dir.isEmpty());
        const QString fake = m_tmp.filePath(QStringLiteral("sheet.png"));
        QFile f(fake);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("plain text, not a picture");
        f.close();
        const CliResult r = cli({QStringLiteral("upload"), dir, kMara, fake});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.out.contains(QStringLiteral("not an image")), qPrintable(r.out));
        QVERIFY(readJson(dir + QStringLiteral("/storyboard.json")).value(QStringLiteral("references")).toArray().isEmpty());
        QVERIFY(!QDir(dir + QStringLiteral("/refs")).exists());
    }

    // `storyboard upload DIR SHOT FILE`: the operator's image becomes the shot's approved keyframe (a
    // non-image is refused, naming the file); status shows it fresh.
    void uploadOfAShotKeyframe()
    {
        const QString dir = create(QStringLiteral("upload-shot"));
        QVERIFY(!dir.isEmpty());
        const QString shot = QStringLiteral("scene-001/shot-01");
        const QString fake = m_tmp.filePath(QStringLiteral("frame.txt"));
        QFile f(fake);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("no pixels here");
        f.close();
        CliResult r = cli({QStringLiteral("upload"), dir, shot, fake});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.out.contains(fake) && r.out.contains(QStringLiteral("not an image")), qPrintable(r.out));
        QVERIFY(!QDir(dir + QStringLiteral("/keyframes")).exists());

        QImage frame(64, 36, QImage::Format_RGB32);
        frame.fill(Qt::darkGreen);
        const QString png = m_tmp.filePath(QStringLiteral("frame.png"));
        QVERIFY(frame.save(png));
        r = cli({QStringLiteral("upload"), dir, shot, png});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("as the approved keyframe of scene-001/shot-01")), qPrintable(r.out));
        const QJsonObject kf = shotEntry(readJson(dir + QStringLiteral("/storyboard.json")), shot)
                                   .value(QStringLiteral("keyframe"))
                                   .toObject();
        QVERIFY(kf.value(QStringLiteral("approved")).toBool());
        const QJsonObject ver = kf.value(QStringLiteral("versions")).toArray().first().toObject();
        QCOMPARE(ver.value(QStringLiteral("source")).toString(), QStringLiteral("uploaded"));
        QVERIFY(!ver.value(QStringLiteral("inputs")).toObject().isEmpty());
        r = cli({QStringLiteral("status"), dir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        const QStringList lines = r.out.split(QLatin1Char('\n'));
        const auto row = std::find_if(lines.cbegin(), lines.cend(), [&](const QString& l) {
            return l.startsWith(QStringLiteral("keyframe")) && l.contains(shot);
        });
        QVERIFY2(row != lines.cend() && row->contains(QStringLiteral("fresh")), qPrintable(r.out));
        QVERIFY(cli({QStringLiteral("--help")}).out.contains(QStringLiteral("SCENE/SHOT#end")));
    }

    void keyframeProfileWithoutCharacterReferenceIsNamed()
    {
        const QString dir = create(QStringLiteral("profile"));
        QVERIFY(!dir.isEmpty());
        QImage sheet(32, 32, QImage::Format_RGB32);
        sheet.fill(Qt::red);
        const QString png = m_tmp.filePath(QStringLiteral("mara.png"));
        QVERIFY(sheet.save(png));
        QCOMPARE(cli({QStringLiteral("upload"), dir, kMara, png}).exitCode, 0);
        const CliResult r = cli(QStringList{QStringLiteral("keyframes"), dir, QStringLiteral("--keyframe-profile"),
                                            QStringLiteral(GD_TEST_DATA_DIR "/storyboardflow/keyframe-no-refs.json")} +
                                kRender);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.out.contains(QStringLiteral("keyframe profile 'keyframe-no-refs'")) &&
                     r.out.contains(QStringLiteral("character_reference_image[0]")),
                 qPrintable(r.out));
    }

    void withoutAVisionModelNothingIsChosen()
    {
        const QString dir = create(QStringLiteral("novision"));
        QVERIFY(!dir.isEmpty());
        QImage sheet(32, 32, QImage::Format_RGB32);
        sheet.fill(Qt::blue);
        const QString png = m_tmp.filePath(QStringLiteral("mara-blue.png"));
        QVERIFY(sheet.save(png));
        QCOMPARE(cli({QStringLiteral("upload"), dir, kMara, png}).exitCode, 0);
        const CliResult r = cli(QStringList{QStringLiteral("keyframes"), dir, QStringLiteral("--sandbox-no-vision")} + kRender);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("no vision model: choose the keyframes yourself")), qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("waiting for approval: 3 item(s)")), qPrintable(r.out));
        const QJsonObject kf = shotEntry(readJson(dir + QStringLiteral("/storyboard.json")), QStringLiteral("scene-001/shot-01"))
                                   .value(QStringLiteral("keyframe"))
                                   .toObject();
        const QJsonObject ver = kf.value(QStringLiteral("versions")).toArray().first().toObject();
        QVERIFY(ver.value(QStringLiteral("chosen")).isNull() || !ver.contains(QStringLiteral("chosen")));
        // The model files the keyframe profile's graph loads are recorded and hashed with the inputs.
        QCOMPARE(ver.value(QStringLiteral("model")).toString(), QStringLiteral("v1-5-pruned-emaonly.safetensors"));
        QCOMPARE(ver.value(QStringLiteral("inputs")).toObject().value(QStringLiteral("model")).toString(),
                 QStringLiteral("v1-5-pruned-emaonly.safetensors"));
        QVERIFY(!kf.value(QStringLiteral("approved")).toBool());
        // shot-01 is anchored on Mara's sheet; shot-02 shows no one: the text keyframe profile.
        QCOMPARE(ver.value(QStringLiteral("profile")).toString(), QStringLiteral("sandbox-keyframe"));
        const QJsonObject empty = shotEntry(readJson(dir + QStringLiteral("/storyboard.json")), QStringLiteral("scene-001/shot-02"))
                                      .value(QStringLiteral("keyframe"))
                                      .toObject();
        QCOMPARE(empty.value(QStringLiteral("versions")).toArray().first().toObject().value(QStringLiteral("profile")).toString(),
                 QStringLiteral("sandbox-keyframe-text"));
        const QJsonArray unmeasured = readJson(dir + QStringLiteral("/storyboard-metrics.json")).value(QStringLiteral("unmeasured")).toArray();
        QVERIFY(!unmeasured.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestStoryboardFlow)
#include "tst_storyboardflow.moc"
