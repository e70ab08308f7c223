#include "StoryboardTestStory.h"
#include "storyboard/StoryboardState.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace gd::storyboard;

class TestStoryboardState : public QObject
{
    Q_OBJECT

private:
    static bool writeFile(const QString& path, const QByteArray& bytes)
    {
        QFile f(path);
        return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
    }

    static QByteArray readFile(const QString& path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    // A storyboard with a sheet, a judged keyframe and a clip.
    static StoryboardState sample()
    {
        StoryboardState s;
        const QString mara = StoryboardKeys::character(QStringLiteral("Mara Voss"), QStringLiteral("storm-coat"));
        ImageVersion sheet;
        sheet.inputHash = QStringLiteral("aa");
        sheet.profile = QStringLiteral("sheet-sdxl");
        sheet.profileHash = QStringLiteral("ph");
        sheet.model = QStringLiteral("sdxl");
        sheet.candidates = {Candidate{QStringLiteral("refs/mara-voss/storm-coat/v1-c1.png"), QStringLiteral("s1"), 7,
                                      1200, std::nullopt, {}},
                            Candidate{QStringLiteral("refs/mara-voss/storm-coat/v1-c2.png"), QStringLiteral("s2"), 8,
                                      std::nullopt, std::nullopt, {}}};
        s.addReferenceVersion(mara, sheet);
        s.choose(ItemKind::Reference, mara, 1, 2, ChosenBy::Operator);
        s.approve(ItemKind::Reference, mara);

        ImageVersion kf;
        kf.inputHash = QStringLiteral("bb");
        kf.inputs = QJsonObject{{QStringLiteral("prompt"), QStringLiteral("Mara at the lamp")},
                                {QStringLiteral("seed"), qint64(9007199254740993LL)}};
        JudgeVerdict j;
        j.score = 7.5;
        j.descriptionMatch = 3;
        j.characterCount = 1;
        j.identity.insert(QStringLiteral("Mara Voss"), 4);
        j.reasons = QStringLiteral("matches");
        j.model = QStringLiteral("qwen2.5-vl");
        kf.candidates = {Candidate{QStringLiteral("keyframes/scene-001/shot-01/v1-c1.png"), QStringLiteral("k1"), 1,
                                   std::nullopt, j, {}}};
        s.addKeyframeVersion(QStringLiteral("scene-001/shot-01"), kf);
        s.choose(ItemKind::Keyframe, QStringLiteral("scene-001/shot-01"), 1, 1, ChosenBy::Judge);

        ClipVersion clip;
        clip.inputHash = QStringLiteral("cc");
        clip.dir = QStringLiteral("clips/scene-001/shot-01/v1");
        clip.frames = 25;
        clip.lastFrameSha256 = QStringLiteral("last");
        clip.durationMs = 40000;
        clip.profile = QStringLiteral("wan-i2v");
        s.addClipVersion(QStringLiteral("scene-001/shot-01"), clip);
        return s;
    }

private Q_SLOTS:
    void roundTripKeepsEverythingAndUnknownKeys()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const StoryboardState original = sample();
        QVERIFY(original.save(dir.path()).isNull());

        // A newer build's keys at every level survive a load/save by this build.
        QJsonObject root = QJsonDocument::fromJson(readFile(dir.filePath(StoryboardState::fileName()))).object();
        root.insert(QStringLiteral("futureTop"), 1);
        QJsonArray refs = root.value(QStringLiteral("references")).toArray();
        QJsonObject ref = refs.at(0).toObject();
        ref.insert(QStringLiteral("futureRef"), QStringLiteral("x"));
        QJsonArray versions = ref.value(QStringLiteral("versions")).toArray();
        QJsonObject v = versions.at(0).toObject();
        v.insert(QStringLiteral("futureVersion"), true);
        QJsonArray candidates = v.value(QStringLiteral("candidates")).toArray();
        QJsonObject c = candidates.at(0).toObject();
        c.insert(QStringLiteral("futureCandidate"), 3);
        candidates.replace(0, c);
        v.insert(QStringLiteral("candidates"), candidates);
        versions.replace(0, v);
        ref.insert(QStringLiteral("versions"), versions);
        refs.replace(0, ref);
        root.insert(QStringLiteral("references"), refs);
        QVERIFY(writeFile(dir.filePath(StoryboardState::fileName()), QJsonDocument(root).toJson()));

        StoryboardState loaded;
        const gd::Error e = StoryboardState::load(dir.path(), loaded);
        QVERIFY2(e.isNull(), qPrintable(e.toString()));
        QCOMPARE(loaded.toJson(), root);

        const QString mara = StoryboardKeys::character(QStringLiteral("Mara Voss"), QStringLiteral("storm-coat"));
        const ReferenceEntry* r = loaded.findReference(mara);
        QVERIFY(r);
        QVERIFY(r->track.approved);
        QCOMPARE(r->track.selected, std::optional<int>(1));
        QCOMPARE(r->track.selectedCandidate()->sha256, QStringLiteral("s2"));
        QCOMPARE(r->track.versions.first().candidates.first().durationMs, std::optional<qint64>(1200));
        const ShotEntry* shot = loaded.findShot(QStringLiteral("scene-001/shot-01"));
        QVERIFY(shot);
        const ImageVersion& kf = shot->keyframe.versions.first();
        QCOMPARE(kf.chosenBy, ChosenBy::Judge);
        QVERIFY(kf.candidates.first().judge.has_value());
        QCOMPARE(kf.candidates.first().judge->identity.value(QStringLiteral("Mara Voss")), 4);
        QCOMPARE(kf.candidates.first().judge->score, 7.5);
        // Seeds above 2^53 stay exact.
        QCOMPARE(kf.inputs.value(QStringLiteral("seed")).toInteger(), qint64(9007199254740993LL));
        QCOMPARE(shot->clip.selectedVersion()->lastFrameSha256, QStringLiteral("last"));
        QCOMPARE(shot->clip.selectedVersion()->durationMs, std::optional<qint64>(40000));

        QFile back(dir.filePath(StoryboardState::fileName()));
        QVERIFY(back.exists());
        QVERIFY(QDir(dir.path()).entryList({QStringLiteral("*.tmp")}, QDir::Files).isEmpty());
    }

    void endKeyframeRoundTripsAndIsWrittenOnlyWhenRendered()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        StoryboardState s = sample();
        const QString shot = QStringLiteral("scene-001/shot-01");
        // No end keyframe yet: storyboard.json keeps its shape (no "endKeyframe" key).
        QVERIFY(!s.toJson().value(QStringLiteral("shots")).toArray().at(0).toObject().contains(QStringLiteral("endKeyframe")));

        ImageVersion end;
        end.inputHash = QStringLiteral("ee");
        end.inputs = QJsonObject{{QStringLiteral("kind"), QStringLiteral("endKeyframe")}, {QStringLiteral("seed"), 7}};
        end.candidates = {Candidate{QStringLiteral("keyframes/scene-001/shot-01/end/v1-c1.png"), QStringLiteral("e1"), 7,
                                    std::nullopt, std::nullopt, {}},
                          Candidate{QStringLiteral("keyframes/scene-001/shot-01/end/v1-c2.png"), QStringLiteral("e2"), 8,
                                    std::nullopt, std::nullopt, {}}};
        QCOMPARE(s.addEndKeyframeVersion(shot, end), 1);
        QVERIFY(s.choose(ItemKind::EndKeyframe, shot, 1, 2, ChosenBy::Operator).isNull());
        QVERIFY(s.approve(ItemKind::EndKeyframe, shot).isNull());
        QVERIFY(s.save(dir.path()).isNull());

        StoryboardState loaded;
        const gd::Error e = StoryboardState::load(dir.path(), loaded);
        QVERIFY2(e.isNull(), qPrintable(e.toString()));
        QCOMPARE(loaded.toJson(), s.toJson());
        const ShotEntry* entry = loaded.findShot(shot);
        QVERIFY(entry);
        QVERIFY(entry->endKeyframe.approved);
        QCOMPARE(entry->endKeyframe.selectedCandidate()->sha256, QStringLiteral("e2"));
        QCOMPARE(entry->endKeyframe.selectedVersion()->chosenBy, ChosenBy::Operator);
        // The start keyframe is its own track: untouched by the end keyframe's pick and approval.
        QCOMPARE(entry->keyframe.selectedCandidate()->sha256, QStringLiteral("k1"));
        QVERIFY(!entry->keyframe.approved);
        QCOMPARE(loaded.imageTrack(ItemKind::EndKeyframe, shot), &entry->endKeyframe);

        // Strict like the keyframe: a damaged endKeyframe is an error naming the field.
        QJsonObject root = loaded.toJson();
        QJsonArray shots = root.value(QStringLiteral("shots")).toArray();
        QJsonObject o = shots.at(0).toObject();
        QJsonObject track = o.value(QStringLiteral("endKeyframe")).toObject();
        track.insert(QStringLiteral("selected"), 5);
        o.insert(QStringLiteral("endKeyframe"), track);
        shots.replace(0, o);
        root.insert(QStringLiteral("shots"), shots);
        StoryboardState bad;
        const gd::Error corrupt = StoryboardState::fromJson(QJsonDocument(root).toJson(), QStringLiteral("sb.json"), bad);
        QCOMPARE(corrupt.kind, QStringLiteral("corruptStoryboard"));
        QVERIFY2(corrupt.message.contains(QStringLiteral("shots[0].endKeyframe.selected")), qPrintable(corrupt.message));
    }

    void missingFileIsANewStoryboard()
    {
        QTemporaryDir dir;
        StoryboardState s = sample();
        QVERIFY(StoryboardState::load(dir.path(), s).isNull());
        QVERIFY(s.references().isEmpty());
        QVERIFY(s.shots().isEmpty());
    }

    void corruptFileIsAnErrorNamingPathAndProblem_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("problem");
        QTest::newRow("truncated") << QByteArray("{\"version\": 1, \"references\": [") << QStringLiteral("corruptStoryboard")
                                   << QStringLiteral("not valid JSON");
        QTest::newRow("array") << QByteArray("[]") << QStringLiteral("corruptStoryboard")
                               << QStringLiteral("not a JSON object");
        QTest::newRow("no version") << QByteArray("{\"references\": []}") << QStringLiteral("corruptStoryboard")
                                    << QStringLiteral("storyboard.version: missing");
        QTest::newRow("newer") << QByteArray("{\"version\": 2}") << QStringLiteral("newerStoryboard")
                               << QStringLiteral("format version 2");
        QTest::newRow("references not array")
            << QByteArray("{\"version\": 1, \"references\": {}}") << QStringLiteral("corruptStoryboard")
            << QStringLiteral("storyboard.references: not an array");
        QTest::newRow("bad key") << QByteArray("{\"version\": 1, \"references\": [{\"key\": \"villain\"}]}")
                                 << QStringLiteral("corruptStoryboard")
                                 << QStringLiteral("references[0].key: 'villain' is not a reference key");
        QTest::newRow("duplicate key")
            << QByteArray("{\"version\": 1, \"references\": [{\"key\": \"style\"}, {\"key\": \"style\"}]}")
            << QStringLiteral("corruptStoryboard") << QStringLiteral("references[1].key: 'style' appears twice");
        QTest::newRow("chosen out of range")
            << QByteArray("{\"version\": 1, \"references\": [{\"key\": \"style\", \"versions\": [{\"version\": 1, "
                          "\"candidates\": [{\"file\": \"refs/_style/v1-c1.png\"}], \"chosen\": 2}]}]}")
            << QStringLiteral("corruptStoryboard")
            << QStringLiteral("references[0].versions[0].chosen: candidate 2 does not exist");
        QTest::newRow("selected missing")
            << QByteArray("{\"version\": 1, \"shots\": [{\"key\": \"scene-001/shot-01\", \"keyframe\": "
                          "{\"versions\": [], \"selected\": 3}}]}")
            << QStringLiteral("corruptStoryboard") << QStringLiteral("shots[0].keyframe.selected: version 3 does not exist");
        QTest::newRow("file escapes")
            << QByteArray("{\"version\": 1, \"references\": [{\"key\": \"style\", \"versions\": [{\"version\": 1, "
                          "\"candidates\": [{\"file\": \"../../etc/passwd\"}]}]}]}")
            << QStringLiteral("corruptStoryboard")
            << QStringLiteral("references[0].versions[0].candidates[0].file: path '../../etc/passwd' leaves");
        QTest::newRow("approved not bool")
            << QByteArray("{\"version\": 1, \"references\": [{\"key\": \"style\", \"approved\": \"yes\"}]}")
            << QStringLiteral("corruptStoryboard") << QStringLiteral("references[0].approved: not true/false");
        QTest::newRow("seed not integer")
            << QByteArray("{\"version\": 1, \"references\": [{\"key\": \"style\", \"versions\": [{\"version\": 1, "
                          "\"candidates\": [{\"file\": \"a.png\", \"seed\": 1.5}]}]}]}")
            << QStringLiteral("corruptStoryboard")
            << QStringLiteral("references[0].versions[0].candidates[0].seed: not an integer");
    }

    void corruptFileIsAnErrorNamingPathAndProblem()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, kind);
        QFETCH(QString, problem);
        QTemporaryDir dir;
        const QString path = dir.filePath(StoryboardState::fileName());
        QVERIFY(writeFile(path, json));
        StoryboardState s = sample();
        const QJsonObject before = s.toJson();
        const gd::Error e = StoryboardState::load(dir.path(), s);
        QCOMPARE(e.kind, kind);
        QVERIFY2(e.message.contains(path), qPrintable(e.message));
        QVERIFY2(e.message.contains(problem), qPrintable(e.message));
        // Never a silent reset: the caller's state is untouched and the file is left as it was.
        QCOMPARE(s.toJson(), before);
        QCOMPARE(readFile(path), json);
    }

    void uploadOfANonImageIsRefusedAndNothingStored_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("name");
        QTest::newRow("text named png") << QByteArray("this is not a picture\n") << QStringLiteral("sheet.png");
        QTest::newRow("truncated png") << QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) << QStringLiteral("cut.png");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("empty.jpg");
    }

    void uploadOfANonImageIsRefusedAndNothingStored()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, name);
        QTemporaryDir dir;
        QTemporaryDir src;
        const QString path = src.filePath(name);
        QVERIFY(writeFile(path, bytes));
        StoryboardState s;
        const QString key = StoryboardKeys::character(QStringLiteral("Mara Voss"), QStringLiteral("storm-coat"));
        const gd::Error e = s.uploadReference(dir.path(), key, path);
        QCOMPARE(e.kind, QStringLiteral("notAnImage"));
        QVERIFY2(e.message.contains(path), qPrintable(e.message));
        QVERIFY(!s.findReference(key));
        QVERIFY(!QDir(dir.filePath(QStringLiteral("refs"))).exists());
    }

    void uploadOfAnImageIsStoredSelectedAndApproved()
    {
        QTemporaryDir dir;
        QTemporaryDir src;
        QImage image(32, 24, QImage::Format_RGB32);
        image.fill(QColor(200, 80, 20));
        // Saved as JPEG under a misleading name: the format comes from the bytes, not the name.
        const QString path = src.filePath(QStringLiteral("mara.png"));
        QVERIFY(image.save(path, "JPG"));
        StoryboardState s;
        const QString key = StoryboardKeys::character(QStringLiteral("Mara Voss"), QStringLiteral("storm-coat"));
        renderSheetFirst(s, key);
        int version = 0;
        const gd::Error e = s.uploadReference(dir.path(), key, path, &version);
        QVERIFY2(e.isNull(), qPrintable(e.toString()));
        QCOMPARE(version, 2);
        const ReferenceEntry* r = s.findReference(key);
        QVERIFY(r);
        QCOMPARE(r->track.versions.size(), 2); // the rendered version is kept
        QCOMPARE(r->track.selected, std::optional<int>(2));
        QVERIFY(r->track.approved);
        const Candidate* c = r->track.selectedCandidate();
        QVERIFY(c);
        QCOMPARE(c->file, QStringLiteral("refs/mara-voss/storm-coat/v2-c1.jpg"));
        QCOMPARE(r->track.selectedVersion()->source, QStringLiteral("uploaded"));
        QString sha;
        QVERIFY(StoryboardState::sha256OfFile(path, sha).isNull());
        QCOMPARE(c->sha256, sha);
        QCOMPARE(readFile(dir.filePath(c->file)), readFile(path));
    }

    void selectingOrChoosingAnotherImageWithdrawsTheApproval()
    {
        StoryboardState s;
        const QString key = StoryboardKeys::location(QStringLiteral("Lamp room"));
        renderSheetFirst(s, key);
        renderSheetFirst(s, key);
        QCOMPARE(s.findReference(key)->track.selected, std::optional<int>(2));
        QVERIFY(!s.findReference(key)->track.approved); // a new version is not what was approved
        QVERIFY(s.approve(ItemKind::Reference, key).isNull());
        QVERIFY(s.select(ItemKind::Reference, key, 1).isNull());
        QVERIFY(!s.findReference(key)->track.approved);
        QVERIFY(s.approve(ItemKind::Reference, key).isNull());
        QVERIFY(s.choose(ItemKind::Reference, key, 1, 2, ChosenBy::Operator).isNull());
        QVERIFY(!s.findReference(key)->track.approved);
        QCOMPARE(s.findReference(key)->track.selectedVersion()->chosenBy, ChosenBy::Operator);

        QCOMPARE(s.choose(ItemKind::Reference, key, 1, 4, ChosenBy::Operator).kind, QStringLiteral("invalidArgument"));
        QCOMPARE(s.select(ItemKind::Reference, key, 9).kind, QStringLiteral("invalidArgument"));
        QCOMPARE(s.approve(ItemKind::Keyframe, QStringLiteral("scene-009/shot-01")).kind, QStringLiteral("notFound"));
    }

    void approvingNeedsAChosenCandidate()
    {
        StoryboardState s;
        const QString key = StoryboardKeys::style();
        ImageVersion v;
        v.candidates = {Candidate{QStringLiteral("refs/_style/v1-c1.png"), QStringLiteral("a"), 1, {}, {}, {}}};
        QCOMPARE(s.addReferenceVersion(key, v), 1);
        const gd::Error e = s.approve(ItemKind::Reference, key);
        QCOMPARE(e.kind, QStringLiteral("invalidArgument"));
        QVERIFY(e.message.contains(QStringLiteral("no chosen candidate")));
        QVERIFY(!s.findReference(key)->track.approved);
        QCOMPARE(s.addReferenceVersion(QStringLiteral("villain"), v), 0);
    }

private:
    static void renderSheetFirst(StoryboardState& s, const QString& key)
    {
        ImageVersion v;
        v.candidates = {Candidate{QStringLiteral("refs/a/v-c1.png"), QStringLiteral("a"), 1, {}, {}, {}},
                        Candidate{QStringLiteral("refs/a/v-c2.png"), QStringLiteral("b"), 2, {}, {}, {}}};
        const int n = s.addReferenceVersion(key, v);
        QVERIFY(s.choose(ItemKind::Reference, key, n, 1, ChosenBy::Judge).isNull());
    }
};

QTEST_GUILESS_MAIN(TestStoryboardState)
#include "tst_storyboardstate.moc"
