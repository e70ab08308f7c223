#include "RunHarness.h"

#include "pipeline/RunJournal.h"

#include <QFile>
#include <QJsonDocument>
#include <QTest>

using gd::pipeline::RunController;
using gd::pipeline::RunJournal;

namespace {

// "<Type> <Scene>" per journal line: what a resumed run reads, without the times and ids.
QStringList journalShape(const QString& runDir)
{
    QStringList out;
    for (const QJsonObject& o : RunJournal::read(runDir).entries)
        out << QString(o.value(QStringLiteral("Type")).toString() + QLatin1Char(' ') +
                       o.value(QStringLiteral("Scene")).toString())
                   .trimmed();
    return out;
}

QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

} // namespace

// The desktop app's RunController writes its artifacts, scene files and journal syncs on a writer
// thread (RunOptions::backgroundWrites). The run must leave exactly what the command line's inline
// writes leave: the same journal, complete artifacts the moment finished() is emitted, and a
// cancelled run that still records every scene.
class TestBackgroundWrites : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void theRunLeavesWhatInlineWritesLeave()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        QStringList shapes[2];
        for (const bool background : {false, true}) {
            h.backgroundWrites = background;
            QJsonObject artifactAtFinish;
            QStringList filesAtFinish;
            auto hook = [&](RunController* c) {
                QObject::connect(c, &RunController::finished, c, [&, c] {
                    // Nothing may still be queued when the run says it is over (the CLI exits here).
                    artifactAtFinish = readJson(QDir(c->runDir()).filePath(QStringLiteral("artifact-metadata.json")));
                    for (const QString& scene : {QStringLiteral("scene-001"), QStringLiteral("scene-002"),
                                                 QStringLiteral("scene-003")})
                        for (const QString& f : {QStringLiteral("scene.json"), QStringLiteral("history.json")})
                            if (QFile::exists(QDir(c->runDir()).filePath(scene + QLatin1Char('/') + f)))
                                filesAtFinish << scene + QLatin1Char('/') + f;
                });
            };
            const RunOutcome o = h.run(makeStory(3, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000, hook);
            QCOMPARE(o.exitCode, 0);
            const QJsonArray scenes = artifactAtFinish.value(QStringLiteral("Scenes")).toArray();
            QCOMPARE(scenes.size(), 3);
            for (const QJsonValue v : scenes) {
                QCOMPARE(v.toObject().value(QStringLiteral("Status")).toString(), QStringLiteral("succeeded"));
                QCOMPARE(v.toObject().value(QStringLiteral("HistoryPath")).toString(),
                         v.toObject().value(QStringLiteral("SceneId")).toString() + QStringLiteral("/history.json"));
            }
            QCOMPARE(filesAtFinish.size(), 6);
            QVERIFY(QFile::exists(QDir(o.runDir).filePath(QStringLiteral("story/story.json"))));
            shapes[background ? 1 : 0] = journalShape(o.runDir);
            QCOMPARE(shapes[background ? 1 : 0].last(), QStringLiteral("finished"));
        }
        QCOMPARE(shapes[1], shapes[0]);
    }

    void cancelAllStillRecordsEveryScene()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        h.backgroundWrites = true;
        int finishedSignals = 0;
        auto hook = [&](RunController* c) {
            QObject::connect(c, &RunController::finished, c, [&] { ++finishedSignals; });
            QObject::connect(c, &RunController::sceneFinished, c, [c](const gd::telemetry::SceneRecord& s) {
                if (s.sceneId == QLatin1String("scene-001"))
                    c->cancel();
            });
        };
        const RunOutcome o = h.run(makeStory(4, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000, hook);
        QCOMPARE(o.exitCode, 130);
        QCOMPARE(finishedSignals, 1);
        QCOMPARE(o.record.scenes.at(0).status, QStringLiteral("succeeded"));
        for (int i = 1; i < 4; ++i)
            QCOMPARE(o.record.scenes.at(i).status, QStringLiteral("cancelled"));
        // Every scene has its final entry, in queue order, and the journal ends the run.
        QStringList finals;
        const QStringList shape = journalShape(o.runDir);
        for (const QString& line : shape)
            if (line.startsWith(RunJournal::finalState() + QLatin1Char(' ')))
                finals << line.section(QLatin1Char(' '), 1);
        QCOMPARE(finals, (QStringList{QStringLiteral("scene-001"), QStringLiteral("scene-002"),
                                      QStringLiteral("scene-003"), QStringLiteral("scene-004")}));
        QCOMPARE(shape.last(), QStringLiteral("finished"));
        const QJsonObject artifact = readJson(QDir(o.runDir).filePath(QStringLiteral("artifact-metadata.json")));
        QCOMPARE(artifact.value(QStringLiteral("Scenes")).toArray().last().toObject().value(QStringLiteral("Status")).toString(),
                 QStringLiteral("cancelled"));
    }

    void cancellingAQueuedSceneWhileTheFirstIsRecorded()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        h.backgroundWrites = true;
        QStringList cancelled;
        auto hook = [&](RunController* c) {
            QObject::connect(c, &RunController::sceneCancelled, c, [&](const QString& id) { cancelled << id; });
            QObject::connect(c, &RunController::sceneFinished, c, [c](const gd::telemetry::SceneRecord& s) {
                if (s.sceneId == QLatin1String("scene-001"))
                    QVERIFY(c->cancelScene(QStringLiteral("scene-002")));
            });
        };
        const RunOutcome o = h.run(makeStory(3, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000, hook);
        QCOMPARE(o.exitCode, 1); // one scene cancelled: not every scene succeeded
        QCOMPARE(cancelled, QStringList{QStringLiteral("scene-002")});
        QCOMPARE(o.record.scenes.at(0).status, QStringLiteral("succeeded"));
        QCOMPARE(o.record.scenes.at(1).status, QStringLiteral("cancelled"));
        QCOMPARE(o.record.scenes.at(2).status, QStringLiteral("succeeded"));
    }
};

QTEST_MAIN(TestBackgroundWrites)
#include "tst_backgroundwrites.moc"
