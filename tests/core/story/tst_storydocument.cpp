#include "story/SceneListModel.h"
#include "story/StoryDocument.h"
#include "story/StoryLoader.h"

#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using gd::story::SceneListModel;
using gd::story::StoryDocument;
using gd::story::StoryLoader;

// The GUI's editable story: dirty flag, validated atomic save, open that never loses the current
// story, unknown keys kept, edits through the scene table.
class TestStoryDocument : public QObject
{
    Q_OBJECT

    static gd::story::Story sample()
    {
        QStringList problems;
        auto s = StoryLoader::fromJson(R"({
            "storyId": "story-1", "title": "T", "logline": "A keeper relights the beacon.", "operatorKey": 7,
            "bible": {"characters": [{"name": "Mara", "role": "protagonist", "visualDescriptor": "orange coat", "age": 40}],
                      "plotOutline": "Act 1: x", "acts": ["x", "y", "z"]},
            "scenes": [{"id": "scene-001", "prompt": "wide shot", "note": "keep"},
                       {"id": "scene-002", "prompt": "close-up", "themes": ["drama"]}]})",
                                       &problems);
        if (!s)
            qFatal("%s", qPrintable(problems.join(QLatin1Char('\n'))));
        return *s;
    }

private Q_SLOTS:
    void editsMarkDirtyAndReachTheStory()
    {
        StoryDocument doc;
        QVERIFY(!doc.hasStory());
        QSignalSpy dirty(&doc, &StoryDocument::dirtyChanged);
        doc.setStory(sample());
        QVERIFY(doc.isDirty()); // a new story has no file yet
        QCOMPARE(dirty.count(), 1);
        SceneListModel* m = doc.sceneModel();
        QVERIFY(m->setData(m->indexOf(1, SceneListModel::Column::Themes),
                           QStringLiteral("drama, wonder, drama")));
        QVERIFY(m->setData(m->indexOf(0, SceneListModel::Column::ExpectedFrames), 48));
        QVERIFY(!m->setData(m->indexOf(0, SceneListModel::Column::ExpectedFrames), -3));
        QVERIFY(!m->setData(m->indexOf(0, SceneListModel::Column::Id), QStringLiteral("scene-009")));
        QVERIFY(!(m->flags(m->indexOf(0, SceneListModel::Column::Id)) & Qt::ItemIsEditable));
        const gd::story::Story s = doc.story();
        QCOMPARE(s.scenes.at(1).themes, (QStringList{QStringLiteral("drama"), QStringLiteral("wonder")}));
        QCOMPARE(s.scenes.at(0).expectedFrames, 48);
        QCOMPARE(s.scenes.at(0).id, QStringLiteral("scene-001"));
        QVERIFY(
            doc.setScenePrompts(QStringLiteral("scene-002"), QStringLiteral("new"), QStringLiteral("neg")));
        QVERIFY(
            !doc.setScenePrompts(QStringLiteral("scene-042"), QStringLiteral("new"), QStringLiteral("neg")));
        QCOMPARE(doc.story().scenes.at(1).prompt, QStringLiteral("new"));
    }

    void bibleFieldsAndCharacters()
    {
        StoryDocument doc;
        doc.setStory(sample());
        QCOMPARE(doc.field(StoryDocument::Field::Characters),
                 QStringLiteral("Mara | protagonist | orange coat"));
        doc.setField(
            StoryDocument::Field::Characters,
            QStringLiteral("Mara | keeper | orange coat | hood up\n\nIvo | rival | grey diver suit"));
        const QJsonArray chars = doc.story().bible.value(QStringLiteral("characters")).toArray();
        QCOMPARE(chars.size(), 2);
        QCOMPARE(chars.at(0).toObject().value(QStringLiteral("visualDescriptor")).toString(),
                 QStringLiteral("orange coat | hood up"));
        QCOMPARE(chars.at(0).toObject().value(QStringLiteral("age")).toInt(), 40); // unknown key kept by name
        QCOMPARE(chars.at(1).toObject().value(QStringLiteral("role")).toString(), QStringLiteral("rival"));
        // An edited outline replaces the generator's stale acts.
        doc.setField(StoryDocument::Field::PlotOutline, QStringLiteral("One act only."));
        QVERIFY(!doc.story().bible.contains(QStringLiteral("acts")));
        doc.setField(StoryDocument::Field::Logline, QStringLiteral("New logline."));
        QCOMPARE(doc.story().logline, QStringLiteral("New logline."));
    }

    void saveWritesValidatedFileAndKeepsUnknownKeys()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("story.json"));
        StoryDocument doc;
        doc.setStory(sample());
        QSignalSpy saved(&doc, &StoryDocument::saved);
        doc.saveAs(path);
        QTRY_COMPARE(saved.count(), 1);
        QVERIFY(saved.at(0).at(0).toBool());
        QVERIFY(!doc.isDirty());
        QCOMPARE(doc.path(), path);
        QStringList problems;
        const auto loaded = StoryLoader::load(path, &problems);
        QVERIFY(loaded.has_value());
        QCOMPARE(loaded->raw.value(QStringLiteral("operatorKey")).toInt(), 7);
        QCOMPARE(loaded->scenes.at(0).raw.value(QStringLiteral("note")).toString(), QStringLiteral("keep"));

        // Invalid story: nothing written, problems named, still dirty.
        doc.sceneModel()->setField(0, SceneListModel::Column::Prompt, QString());
        doc.save();
        QTRY_COMPARE(saved.count(), 2);
        QVERIFY(!saved.at(1).at(0).toBool());
        QVERIFY(saved.at(1)
                    .at(2)
                    .toStringList()
                    .join(QLatin1Char(' '))
                    .contains(QStringLiteral("scenes[0].prompt")));
        QVERIFY(doc.isDirty());
        QCOMPARE(StoryLoader::load(path, &problems)->scenes.at(0).prompt, QStringLiteral("wide shot"));
    }

    void editDuringSaveStaysDirty()
    {
        QTemporaryDir dir;
        StoryDocument doc;
        doc.setStory(sample());
        QSignalSpy saved(&doc, &StoryDocument::saved);
        doc.saveAs(dir.filePath(QStringLiteral("story.json")));
        QVERIFY(doc.isBusy());
        doc.setField(StoryDocument::Field::Title, QStringLiteral("Edited while saving"));
        QTRY_COMPARE(saved.count(), 1);
        QVERIFY(saved.at(0).at(0).toBool());
        QVERIFY(doc.isDirty()); // the edit is not in the file yet
    }

    void failedOpenLeavesTheStory()
    {
        QTemporaryDir dir;
        const QString bad = dir.filePath(QStringLiteral("bad.json"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"storyId": "x", "scenes": []})");
        f.close();
        StoryDocument doc;
        doc.setStory(sample());
        const QJsonObject before = StoryLoader::toJson(doc.story());
        QSignalSpy opened(&doc, &StoryDocument::opened);
        QSignalSpy replaced(&doc, &StoryDocument::storyReplaced);
        doc.open(bad);
        QTRY_COMPARE(opened.count(), 1);
        QVERIFY(!opened.at(0).at(0).toBool());
        const QString problems = opened.at(0).at(2).toStringList().join(QLatin1Char('\n'));
        QVERIFY2(problems.contains(QStringLiteral("logline: required")), qPrintable(problems));
        QVERIFY2(problems.contains(QStringLiteral("scenes: must contain at least one scene")),
                 qPrintable(problems));
        QCOMPARE(replaced.count(), 0);
        QCOMPARE(StoryLoader::toJson(doc.story()), before);
        QVERIFY(doc.isDirty());
    }
};

QTEST_GUILESS_MAIN(TestStoryDocument)
#include "tst_storydocument.moc"
