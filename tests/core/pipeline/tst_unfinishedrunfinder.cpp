#include "pipeline/UnfinishedRunFinder.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using gd::pipeline::UnfinishedRunFinder;

// The resume offer on start: which runs stopped before their end, and which scenes they finished.
class TestUnfinishedRunFinder : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_root;

    QString makeRun(const QString& name, const QStringList& sceneStatuses, bool complete)
    {
        const QString dir = m_root.filePath(name);
        QDir().mkpath(dir + QStringLiteral("/story"));
        QFile::copy(QStringLiteral(GD_SOURCE_DIR "/resources/examples/lighthouse.json"),
                    dir + QStringLiteral("/story/story.json"));
        QJsonArray scenes;
        for (int i = 0; i < sceneStatuses.size(); ++i)
            scenes.append(QJsonObject{{QStringLiteral("SceneId"), QStringLiteral("scene-00%1").arg(i + 1)},
                                      {QStringLiteral("Status"), sceneStatuses[i]}});
        QFile artifact(dir + QStringLiteral("/artifact-metadata.json"));
        artifact.open(QIODevice::WriteOnly);
        artifact.write(QJsonDocument(QJsonObject{{QStringLiteral("RunId"), name}, {QStringLiteral("Scenes"), scenes}})
                           .toJson());
        QFile summary(dir + QStringLiteral("/run-summary.txt"));
        summary.open(QIODevice::WriteOnly);
        summary.write("Story ready: lighthouse (scenes=5)\n[Scene scene-001] Telemetry: ...\n");
        if (complete)
            summary.write("Scene summary: 5/5 scenes succeeded\n## Artifact Index\nStory folder: story\n");
        return dir;
    }

private Q_SLOTS:
    void finishedRunIsNotOffered()
    {
        const QString dir = makeRun(QStringLiteral("20261130-010000"),
                                    {QStringLiteral("succeeded"), QStringLiteral("succeeded"), QStringLiteral("succeeded"),
                                     QStringLiteral("succeeded"), QStringLiteral("failed")},
                                    true);
        QVERIFY(!UnfinishedRunFinder::inspect(dir).has_value());
    }

    void crashedRunListsFinishedAndMissingScenes()
    {
        // Scene 3 was mid-render when the app died: its record says running, so it is not finished.
        const QString dir = makeRun(QStringLiteral("20261130-020000"),
                                    {QStringLiteral("succeeded"), QStringLiteral("cancelled"), QStringLiteral("running")},
                                    false);
        const auto run = UnfinishedRunFinder::inspect(dir);
        QVERIFY(run.has_value());
        QCOMPARE(run->runId, QStringLiteral("20261130-020000"));
        QCOMPARE(run->storyTitle, QStringLiteral("The Last Lighthouse"));
        QCOMPARE(run->finishedScenes, (QStringList{QStringLiteral("scene-001"), QStringLiteral("scene-002")}));
        QCOMPARE(run->unfinishedScenes, (QStringList{QStringLiteral("scene-003"), QStringLiteral("scene-004"),
                                                     QStringLiteral("scene-005")}));
        QCOMPARE(run->summary(), QStringLiteral("2 of 5 scenes finished (scene-001, scene-002); not finished: "
                                                "scene-003, scene-004, scene-005"));
    }

    void runKilledBeforeFirstSceneHasNoArtifact()
    {
        const QString dir = m_root.filePath(QStringLiteral("20261130-030000"));
        QDir().mkpath(dir + QStringLiteral("/story"));
        QFile::copy(QStringLiteral(GD_SOURCE_DIR "/resources/examples/lighthouse.json"),
                    dir + QStringLiteral("/story/story.json"));
        QFile summary(dir + QStringLiteral("/run-summary.txt"));
        summary.open(QIODevice::WriteOnly);
        summary.write("Story ready: lighthouse (scenes=5)\n");
        summary.close();
        const auto run = UnfinishedRunFinder::inspect(dir);
        QVERIFY(run.has_value());
        QVERIFY(run->finishedScenes.isEmpty());
        QCOMPARE(run->unfinishedScenes.size(), 5);
    }

    void findListsOnlyUnfinishedNewestFirst()
    {
        QTemporaryDir root;
        m_root.swap(root);
        makeRun(QStringLiteral("20261130-040000"), {QStringLiteral("succeeded")}, false);
        QTest::qWait(20);
        makeRun(QStringLiteral("20261130-050000"), {QStringLiteral("succeeded")}, true);
        QTest::qWait(20);
        makeRun(QStringLiteral("20261130-060000"), {}, false);
        QDir().mkpath(m_root.filePath(QStringLiteral("not-a-run")));
        const auto runs = UnfinishedRunFinder::find(m_root.path());
        QCOMPARE(runs.size(), 2);
        QCOMPARE(runs[0].runId, QStringLiteral("20261130-060000"));
        QCOMPARE(runs[1].runId, QStringLiteral("20261130-040000"));
        QCOMPARE(UnfinishedRunFinder::find(m_root.path(), 1).size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestUnfinishedRunFinder)
#include "tst_unfinishedrunfinder.moc"
